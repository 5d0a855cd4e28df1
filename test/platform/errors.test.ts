import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SCOPES } from "../../src/platform/auth/principal";
import { defineTool, READ_ONLY } from "../../src/platform/mcp/define-tool";
import { exampleArgs } from "../../src/platform/mcp/examples";
import { runTool } from "../../src/platform/mcp/server";
import { REGISTRY } from "../../src/toolsets";
import { type DemoWorkspace, loadDemoWorkspace } from "../helpers/demo-workspace";
import { callError, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";

/** A value of the wrong JSON type for a field of this JSON schema type. */
function wrongTypeFor(schema: { type?: string | string[] }): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "string") return 12345;
  if (type === "number" || type === "integer" || type === "boolean") return "not-a-value";
  if (type === "array") return "not-a-list";
  return 7;
}

/** No stack frame, SQL or storage detail in a message shown to the client. */
const INTERNALS = /\bat .*\.ts:\d+|\bSELECT |\bINSERT |sqlite|D1_ERROR/i;

describe("bad input gets an actionable isError, never an HTTP 500", () => {
  let demo: DemoWorkspace;
  let client: Client;

  beforeAll(async () => {
    demo = await loadDemoWorkspace("errors", { accounts: 12 });
    client = await connectClient(demo.adminKey, "?toolsets=all");
  }, 180_000);

  // Every tool of the registry, from its first sample call: an unknown field, then each field of
  // its input given a value of the wrong type, is refused with a message naming the field.
  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name refuses an unknown field, each field of the wrong type and days that do not exist",
    async ({ tool }) => {
      const [first] = tool.examples;
      const base = (first && exampleArgs(first, demo.ids)) ?? {};
      const unknown = await callError(client, tool.name, { ...base, no_such_field: 1 });
      expect(unknown, tool.name).toMatch(/no_such_field/);
      expect(unknown, tool.name).not.toMatch(INTERNALS);
      const properties = (
        z.toJSONSchema(z.object(tool.input)) as {
          properties: Record<string, { type?: string; format?: string; description?: string }>;
        }
      ).properties;
      for (const [field, schema] of Object.entries(properties)) {
        const message = await callError(client, tool.name, { ...base, [field]: wrongTypeFor(schema) });
        expect(message, `${tool.name}.${field}`).toContain(field);
        expect(message, `${tool.name}.${field}`).not.toMatch(INTERNALS);
        // A day that only looks like one (month 13, 30 February, month 0) is refused, not computed with.
        if (schema.format !== "date" && !schema.description?.includes("YYYY-MM-DD")) continue;
        for (const day of ["2026-13-01", "2026-02-30", "2026-00-10"]) {
          const refused = await callError(client, tool.name, { ...base, [field]: day });
          expect(refused, `${tool.name}.${field} = ${day}`).toContain(field);
          expect(refused, `${tool.name}.${field} = ${day}`).not.toMatch(INTERNALS);
        }
      }
    },
    60_000,
  );

  it("explains limits, cursors, actions and malformed CSV", async () => {
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
        principal: { workspaceId, userId, keyId, role: "admin", scopes: SCOPES, workspaceSlug: "errors-crash" },
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
