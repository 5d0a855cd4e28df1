import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { readOnlyActions } from "../../src/platform/mcp/define-tool";
import { REGISTRY } from "../../src/toolsets";
import { connectClient, createWorkspace } from "../helpers/mcp";

describe("tools/list", () => {
  it("matches each tool's committed schema snapshot", async () => {
    const { key } = await createWorkspace("snapshot", "admin");
    const client = await connectClient(key, "?toolsets=all");
    const { tools } = await client.listTools();
    expect(tools.length).toBe(REGISTRY.tools.length);
    // One snapshot per tool (test/__toolsnaps__/<tool>.json), and none left over for a removed tool.
    for (const tool of tools) {
      await expect(`${JSON.stringify(tool, null, 2)}\n`).toMatchFileSnapshot(`../__toolsnaps__/${tool.name}.json`);
    }
    const snapshots = Object.keys(import.meta.glob("../__toolsnaps__/*.json")).map((path) =>
      path.replace(/^.*\/(.+)\.json$/, "$1"),
    );
    expect(snapshots.sort()).toEqual(tools.map((tool) => tool.name).sort());
  });

  it("gives every tool a title, all four annotations, an output schema and described inputs", async () => {
    const { key } = await createWorkspace("shape", "admin");
    const client = await connectClient(key, "?toolsets=all");
    const { tools } = await client.listTools();
    for (const tool of tools) {
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.description?.length, tool.name).toBeGreaterThan(40);
      expect(tool.outputSchema, tool.name).toBeDefined();
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof tool.annotations?.[hint], `${tool.name}.${hint}`).toBe("boolean");
      }
      const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(properties)) {
        expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
      }
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
    }
  });

  it("keeps the default toolsets at or under 40 tools and honours ?toolsets and the header", async () => {
    const { key } = await createWorkspace("toolsets", "admin");
    const defaults = await (await connectClient(key)).listTools();
    const expectedDefault = REGISTRY.tools.filter((t) => REGISTRY.defaultToolsets.includes(t.toolset));
    expect(defaults.tools.length).toBe(expectedDefault.length);
    expect(defaults.tools.length).toBeLessThanOrEqual(40);
    for (const toolset of REGISTRY.toolsetNames) {
      const { tools } = await (await connectClient(key, `?toolsets=${toolset}`)).listTools();
      const expected = REGISTRY.tools.filter((t) => t.toolset === toolset || t.toolset === "core").map((t) => t.name);
      expect(tools.map((t) => t.name).sort(), toolset).toEqual(expected.sort());
    }
  });

  it("lists every tool with a read action in a read-only session, a mixed tool with its reads only", async () => {
    const { key } = await createWorkspace("readonly-list", "admin");
    const client = await connectClient(key, "?toolsets=all&readonly=1");
    const { tools } = await client.listTools();
    const expected = REGISTRY.tools.filter((t) => readOnlyActions(t) !== null);
    expect(tools.map((t) => t.name).sort()).toEqual(expected.map((t) => t.name).sort());
    // Only these write without any read action.
    expect(REGISTRY.tools.filter((t) => !expected.includes(t)).map((t) => t.name)).toEqual([
      "import_records",
      "log_activity",
      "calculate_health_score",
    ]);
    for (const listed of tools) {
      expect(listed.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      expect(Object.keys(listed.inputSchema.properties ?? {})).not.toContain("idempotency_key");
    }
    const satisfaction = tools.find((t) => t.name === "monitor_satisfaction");
    const action = satisfaction?.inputSchema.properties?.action as { enum: string[] } | undefined;
    expect(action?.enum).toEqual(["scores", "detractors"]);

    const scores = await client.callTool({ name: "monitor_satisfaction", arguments: { action: "scores" } });
    expect(scores.isError).toBeFalsy();
    const send = await client.callTool({ name: "monitor_satisfaction", arguments: { action: "create", kind: "nps" } });
    expect(send.isError).toBe(true);
    expect((send.content as { text: string }[])[0]?.text).toBe(
      'In this read-only session (readonly=1) monitor_satisfaction offers its read actions only (scores, detractors); action "create" is not one of them. Reconnect without readonly to use the others.',
    );
  });

  it("refuses an unknown toolset name with a clear 400", async () => {
    const { key } = await createWorkspace("badset", "admin");
    await expect(connectClient(key, "?toolsets=core,helth")).rejects.toThrow(/helth/);
  });

  it("documents exactly the registered tools in the README table", () => {
    const section = readme.split("<!-- tools:start -->")[1]?.split("<!-- tools:end -->")[0] ?? "";
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(REGISTRY.tools.map((t) => t.name).sort());
  });
});
