import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import { DEFAULT_TOOLSETS, TOOLSET_NAMES } from "../src/mcp/toolsets";
import { ALL_TOOLS } from "../src/tools";
import { connectClient, createWorkspace } from "./helpers";

describe("tools/list", () => {
  it("matches the committed snapshot of every tool's schema", async () => {
    const { key } = await createWorkspace("snapshot", "admin");
    const client = await connectClient(key, "?toolsets=all");
    const { tools } = await client.listTools();
    expect(tools.length).toBe(ALL_TOOLS.length);
    const sorted = [...tools].sort((a, b) => a.name.localeCompare(b.name));
    await expect(`${JSON.stringify(sorted, null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/tools-list.json");
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
    const expectedDefault = ALL_TOOLS.filter((t) => DEFAULT_TOOLSETS.includes(t.toolset));
    expect(defaults.tools.length).toBe(expectedDefault.length);
    expect(defaults.tools.length).toBeLessThanOrEqual(40);
    for (const toolset of TOOLSET_NAMES) {
      const { tools } = await (await connectClient(key, `?toolsets=${toolset}`)).listTools();
      const expected = ALL_TOOLS.filter((t) => t.toolset === toolset || t.toolset === "core").map((t) => t.name);
      expect(tools.map((t) => t.name).sort(), toolset).toEqual(expected.sort());
    }
  });

  it("lists only read-only tools in a read-only session", async () => {
    const { key } = await createWorkspace("readonly-list", "admin");
    const { tools } = await (await connectClient(key, "?toolsets=all&readonly=1")).listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ALL_TOOLS.filter((t) => t.annotations.readOnlyHint)
        .map((t) => t.name)
        .sort(),
    );
  });

  it("refuses an unknown toolset name with a clear 400", async () => {
    const { key } = await createWorkspace("badset", "admin");
    await expect(connectClient(key, "?toolsets=core,helth")).rejects.toThrow(/helth/);
  });

  it("documents exactly the registered tools in the README table", () => {
    const section = readme.split("<!-- tools:start -->")[1]?.split("<!-- tools:end -->")[0] ?? "";
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
  });
});
