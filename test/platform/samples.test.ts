/**
 * Every tool's sample calls on a generated demo workspace, in registry order (writes included):
 * each answers without an error and within its output schema (the client checks
 * `structuredContent` against the listed one), every read tool and read action has one, and no
 * row they (or the demo's nightly jobs) wrote carries a time later than the pinned clock.
 */
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../src/platform/lib/clock";
import { exampleArgs } from "../../src/platform/mcp/examples";
import * as schema from "../../src/schema";
import { REGISTRY } from "../../src/toolsets";
import { type DemoWorkspace, loadDemoWorkspace } from "../helpers/demo-workspace";
import { connectClient } from "../helpers/mcp";
import { readCalls } from "../helpers/read-calls";

let demo: DemoWorkspace;
let client: Client;

beforeAll(async () => {
  demo = await loadDemoWorkspace("samples", { accounts: 30 });
  client = await connectClient(demo.adminKey, "?toolsets=all");
}, 180_000);

describe("sample calls", () => {
  it("every tool has a sample call, and every read tool and read action one of its own", () => {
    expect(REGISTRY.tools.filter((tool) => tool.examples.length === 0).map((tool) => tool.name)).toEqual([]);
    const missing = readCalls(REGISTRY.tools).filter(
      ({ tool, action }) =>
        !REGISTRY.toolByName.get(tool)?.examples.some((example) => example.args(demo.ids).action === action),
    );
    expect(missing.map((call) => call.key)).toEqual([]);
  });

  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name answers each of its sample calls",
    async ({ tool }) => {
      for (const example of tool.examples) {
        const args = exampleArgs(example, demo.ids);
        expect(args, `${tool.name}: ${example.title} names a record the demo lacks`).not.toBeNull();
        const result = await client.callTool({ name: tool.name, arguments: args ?? {} });
        expect(result.isError, `${tool.name} ${example.title}: ${JSON.stringify(result.content)}`).toBeFalsy();
        expect(result.structuredContent, `${tool.name} ${example.title}`).toBeDefined();
      }
    },
    60_000,
  );

  it("stamps every row it wrote with the clock's time, never the database's", async () => {
    // Runs after the sample calls (writes included); the suite's clock is pinned at TEST_NOW.
    const latest = clock.now().toISOString();
    const stamped = Object.values(schema as Record<string, unknown>)
      .filter((value): value is SQLiteTable => is(value, SQLiteTable))
      .map((table) => getTableConfig(table))
      .flatMap(({ name, columns }) =>
        columns.filter((c) => c.name === "created_at" || c.name === "updated_at").map((c) => ({ name, col: c.name })),
      );
    const late: string[] = [];
    for (const { name, col } of stamped) {
      const row = await env.DB.prepare(`SELECT count(*) AS n, max(${col}) AS last FROM ${name} WHERE ${col} > ?1`)
        .bind(latest)
        .first<{ n: number; last: string | null }>();
      if (row && row.n > 0) late.push(`${name}.${col}: ${row.n} after ${latest} (latest ${row.last})`);
    }
    expect(late).toEqual([]);
  });
});
