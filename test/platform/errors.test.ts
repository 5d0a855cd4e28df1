import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, READ_ONLY } from "../../src/platform/mcp/define-tool";
import { runTool } from "../../src/platform/mcp/server";
import { REGISTRY } from "../../src/toolsets";
import { callError, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";

describe("bad input gets an actionable isError, never an HTTP 500", () => {
  it("refuses unknown fields and wrong types on every core tool", async () => {
    const { key } = await createWorkspace("errors-input", "admin");
    const client = await connectClient(key);
    for (const tool of REGISTRY.tools.filter((t) => t.toolset === "core")) {
      const unknown = await callError(client, tool.name, { no_such_field: 1 });
      expect(unknown, tool.name).toMatch(/Invalid arguments for tool|no_such_field/);
      expect(unknown, tool.name).not.toMatch(/\bat .*\.ts:\d+|SELECT |sqlite/i);
    }
    expect(await callError(client, "list_accounts", { limit: "ten" })).toMatch(/limit/);
    expect(await callError(client, "list_accounts", { limit: 500 })).toMatch(/limit.*200|200.*limit/s);
    expect(await callError(client, "list_accounts", { limit: 0 })).toMatch(/limit/);
    expect(await callError(client, "list_accounts", { cursor: "not-a-cursor" })).toBe(
      "Malformed `cursor`: pass the `next_cursor` value from the previous page unchanged, or omit it.",
    );
    expect(await callError(client, "manage_tasks", { action: "explode" })).toMatch(/action/);
    expect(
      await callError(client, "import_records", { entity: "accounts", csv: 'external_id,name\n"unterminated' }),
    ).toMatch(/line|row|quote/i);
  });

  it("answers an unknown tool with a JSON-RPC error, not a 500", async () => {
    const { key } = await createWorkspace("errors-unknown", "admin");
    const response = await workerFetch("/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "no_such_tool", arguments: {} },
      }),
    });
    expect(response.status).toBeLessThan(500);
    expect(await response.text()).toMatch(/no_such_tool/);
  });

  it("turns an unexpected failure into a clean message with a request id and no stack", async () => {
    const { workspaceId, userId, keyId } = await createWorkspace("errors-crash", "admin");
    const crashing = defineTool({
      name: "crashing_tool",
      title: "Crashing tool",
      description: "Fails with an internal error whose message must not reach the client.",
      toolset: "core",
      input: {},
      output: { ok: z.boolean() },
      examples: [{ title: "Crash", args: () => ({}) }],
      annotations: READ_ONLY,
      async handler() {
        throw new Error("SELECT secret FROM vault -- internal detail");
      },
    });
    const result = await runTool(
      crashing,
      {},
      {
        env,
        principal: { workspaceId, userId, keyId, role: "admin", workspaceSlug: "errors-crash" },
        session: { toolsets: [...REGISTRY.defaultToolsets], readOnly: false },
        requestId: "req_test123",
        origin: "http://localhost",
        catalog: new Map(),
      },
    );
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toBe(
      "Internal error in crashing_tool (request id req_test123). It was logged; retry, or report the request id.",
    );
  });
});
