import { beforeAll, describe, expect, it } from "vitest";
import { callError, connectClient } from "../../helpers/mcp";
import { admin, adminClient, csm, other, query, setUpWorkspaces, viewer, WRITE_TOOLS } from "./write-fixture";

beforeAll(setUpWorkspaces);

describe("roles and read-only sessions", () => {
  it("keeps configure_workspace to admins: a csm key gets HTTP 403", async () => {
    const client = await connectClient(csm.key);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(["import_records", "log_activity", "manage_tasks"]));
    expect(names).not.toContain("configure_workspace");
    await expect(client.callTool({ name: "configure_workspace", arguments: { action: "get" } })).rejects.toMatchObject({
      code: 403,
      message: expect.stringContaining("Forbidden: configure_workspace needs the admin role; this credential has csm."),
    });
  });

  it("refuses write tools to a viewer key with HTTP 403", async () => {
    const client = await connectClient(viewer.key);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    for (const tool of WRITE_TOOLS) expect(names).not.toContain(tool);
    const [account] = await query<{ id: string }>(
      "SELECT id FROM accounts WHERE workspace_id = ?1 LIMIT 1",
      other.workspaceId,
    );
    await expect(
      client.callTool({
        name: "log_activity",
        arguments: { account_id: account!.id, kind: "note", subject: "Hello" },
      }),
    ).rejects.toMatchObject({ code: 403, message: expect.stringContaining("log_activity needs the csm role") });
    await expect(
      client.callTool({ name: "manage_tasks", arguments: { action: "create", title: "Hello" } }),
    ).rejects.toMatchObject({ code: 403, message: expect.stringContaining("manage_tasks needs the csm role") });
  });

  it("hides write tools in a read-only session and refuses a direct call", async () => {
    const client = await connectClient(admin.key, "?readonly=1");
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    // Tools that only write are hidden; a tool that also reads stays with its read actions.
    expect(names).not.toContain("log_activity");
    expect(names).not.toContain("import_records");
    expect(names).toContain("manage_tasks");
    expect(names).toContain("configure_workspace");
    expect(names).toContain("get_workspace_overview");
    expect(await callError(client, "log_activity", { account_id: "acc_x", kind: "note", subject: "Hi" })).toBe(
      "log_activity writes data, and this session is read-only (readonly=1). Reconnect without readonly to use it.",
    );
  });

  it("describes every input field of the four tools and marks them as writes", async () => {
    const { tools } = await adminClient.listTools();
    for (const name of WRITE_TOOLS) {
      const tool = tools.find((candidate) => candidate.name === name);
      expect(tool?.annotations?.readOnlyHint, name).toBe(false);
      expect(tool?.annotations?.openWorldHint, name).toBe(false);
      const properties = (tool?.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(properties)) {
        expect(schema.description, `${name}.${field}`).toBeTruthy();
      }
    }
  });
});
