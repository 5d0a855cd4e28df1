/**
 * Every statement the read tools run, planned by SQLite on a generated demo workspace: no plan may
 * read a table that grows with usage whole, neither across workspaces (a scan) nor across the
 * workspace's whole history (a search on the workspace alone). Plans are taken without ANALYZE,
 * as production D1 has no sqlite_stat1. Each read call is planned with the tool's sample calls (a
 * read tool, or each read action, needs at least one), and a later page (next_cursor) of each.
 */
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { D1Meter } from "../../src/platform/db/metered";
import { clock } from "../../src/platform/lib/clock";
import { isoDay } from "../../src/platform/lib/time";
import type { AnyTool } from "../../src/platform/mcp/define-tool";
import { type DemoIds, exampleArgs } from "../../src/platform/mcp/examples";
import { D1_META_KEY } from "../../src/platform/mcp/server";
import { REGISTRY } from "../../src/toolsets";
import { type DemoWorkspace, loadDemoWorkspace } from "../helpers/demo-workspace";
import { connectClient } from "../helpers/mcp";
import { formatPlan, GROWING_TABLES, type PlanRow, unboundedReadsOfGrowingTables } from "../helpers/query-plan-scans";
import { readCalls } from "../helpers/read-calls";

/** Sample calls of a read call, with the demo's ids filled in. */
function argsOf(tool: AnyTool, action: string | undefined, ids: DemoIds): Args[] {
  return tool.examples
    .map((example) => exampleArgs(example, ids))
    .filter((args): args is Args => args !== null && args.action === action);
}

type Args = Record<string, unknown>;

/**
 * Unbounded reads accepted, each with its reason. An entry matches a read of `table` in a
 * statement of that call whose SQL contains `sql`.
 */
const EXPECTED_UNBOUNDED: { call: string; table: string; sql: string; reason: string }[] = [
  {
    call: "get_workspace_overview",
    table: "tickets",
    sql: "(SELECT count(*) FROM tickets WHERE workspace_id = ?1) AS tickets",
    reason: "a workspace total: counting every ticket is the figure (from a covering index)",
  },
  {
    call: "get_workspace_overview",
    table: "survey_responses",
    sql: "(SELECT count(*) FROM survey_responses WHERE workspace_id = ?1) AS survey_responses",
    reason: "a workspace total: counting every response is the figure (from a covering index)",
  },
  {
    call: "get_workspace_overview",
    table: "usage_daily",
    sql: "(SELECT max(day) FROM usage_daily WHERE workspace_id = ?1)",
    reason: "max() on usage_daily_ws_day (workspace_id, day) reads one index entry; plans do not show it",
  },
  {
    call: "get_workspace_overview",
    table: "tickets",
    sql: "(SELECT max(created_at) FROM tickets WHERE workspace_id = ?1)",
    reason: "max() on tickets_ws_created (workspace_id, created_at) reads one index entry; plans do not show it",
  },
  {
    call: "get_workspace_overview",
    table: "survey_responses",
    sql: "(SELECT max(responded_at) FROM survey_responses WHERE workspace_id = ?1)",
    reason:
      "needs index survey_responses(workspace_id, responded_at): responses without an account rule out a per-account max",
  },
  {
    call: "get_workspace_overview",
    table: "health_scores",
    sql: "(SELECT max(day) FROM health_scores WHERE workspace_id = ?1)",
    reason: "max() on health_scores_ws_day (workspace_id, day) reads one index entry; plans do not show it",
  },
];

let demo: DemoWorkspace;
let WS: string;
const TODAY = isoDay(clock.now());
let client: Client;
const checkedPerCall = new Map<string, number>();
const allowanceUsed = new Set<number>();

beforeAll(async () => {
  demo = await loadDemoWorkspace("qplan");
  WS = demo.workspaceId;
  client = await connectClient(demo.adminKey, "?toolsets=all", { "X-Debug-D1": "sql" });
}, 180_000);

afterAll(() => {
  const lines = [...checkedPerCall].map(([call, n]) => `${call}: ${n}`);
  console.log(`Query plans checked per read call (statements):\n${lines.join("\n")}`);
});

describe("unbounded-read detection", () => {
  const planOf = async (sql: string, ...params: unknown[]) =>
    (
      await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<PlanRow>()
    ).results;
  const readsOf = async (sql: string, ...params: unknown[]) =>
    unboundedReadsOfGrowingTables(sql, await planOf(sql, ...params)).map((r) => `${r.kind} ${r.table}`);

  it("reports scans of growing tables, aliased or through an index, and workspace-only searches", async () => {
    expect(await readsOf("SELECT count(*) AS n FROM usage_daily WHERE events > 5")).toEqual(["full scan usage_daily"]);
    expect(
      await readsOf("SELECT t.id FROM accounts a JOIN tickets t ON t.account_id = a.id WHERE a.workspace_id = ?1", WS),
    ).toEqual(["full scan tickets"]);
    expect(await readsOf("SELECT workspace_id, day FROM health_scores ORDER BY workspace_id, account_id, day")).toEqual(
      ["full scan health_scores"],
    );
    expect(await readsOf("SELECT max(probability) FROM risk_scores r WHERE r.workspace_id = ?1", WS)).toEqual([
      "whole workspace risk_scores",
    ]);
  });

  it("leaves reads bounded by an account or a range alone", async () => {
    const byAccount = `SELECT u.day, e.value FROM json_each(?2) e CROSS JOIN usage_daily u
      ON u.workspace_id = ?1 AND u.account_id = e.value WHERE u.day >= '2026-01-01'`;
    expect(await readsOf(byAccount, WS, "[]")).toEqual([]);
    expect(
      await readsOf("SELECT count(*) FROM tickets WHERE workspace_id = ?1 AND created_at >= ?2", WS, TODAY),
    ).toEqual([]);
  });
});

describe("query plans of read tools", () => {
  const calls = readCalls(REGISTRY.tools);

  it("runs on a fixture holding rows in every growing table", async () => {
    const counts = await env.DB.batch<{ n: number }>(
      [...GROWING_TABLES].map((table) =>
        env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE workspace_id = ?1`).bind(WS),
      ),
    );
    const empty = [...GROWING_TABLES].filter((_, i) => !counts[i]?.results[0]?.n);
    expect(empty).toEqual([]);
  });

  it.each(calls)(
    "$key reads no growing table whole",
    async ({ key, tool, action }) => {
      const argSets = argsOf(REGISTRY.toolByName.get(tool)!, action, demo.ids);
      expect(argSets.length, `no arguments for ${key}`).toBeGreaterThan(0);
      const problems: string[] = [];
      let checked = 0;
      const check = async (args: Args) => {
        const result = await client.callTool({ name: tool, arguments: args });
        expect(result.isError, `${key} ${JSON.stringify(args)}: ${JSON.stringify(result.content)}`).toBeFalsy();
        const statements = (result._meta?.[D1_META_KEY] as D1Meter | undefined)?.sql ?? [];
        expect(statements.length, `${key} recorded no statements`).toBeGreaterThan(0);
        for (const { sql, params } of statements) {
          const { results: plan } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .bind(...params)
            .all<PlanRow>();
          checked++;
          for (const read of unboundedReadsOfGrowingTables(sql, plan)) {
            const allowance = EXPECTED_UNBOUNDED.findIndex(
              (e) => e.call === key && e.table === read.table && sql.includes(e.sql),
            );
            if (allowance >= 0) {
              allowanceUsed.add(allowance);
              continue;
            }
            problems.push(
              `${tool}${action ? ` action ${action}` : ""} reads ${read.table} whole (${read.kind}: ${read.detail})\n` +
                `SQL: ${sql.replace(/\s+/g, " ").slice(0, 200)}\nplan:\n${formatPlan(plan)}`,
            );
          }
        }
        return (result.structuredContent as { next_cursor?: unknown } | undefined)?.next_cursor;
      };
      for (const args of argSets) {
        const cursor = await check(args);
        // A later page runs its own keyset SQL.
        if (typeof cursor === "string") await check({ ...args, cursor });
      }
      checkedPerCall.set(key, checked);
      expect(problems, problems.join("\n\n")).toEqual([]);
    },
    // Some tools run dozens of statements; a loaded machine needs more than the default 5 s.
    60_000,
  );

  it("uses every accepted read (an unused entry is stale and must go)", () => {
    expect(EXPECTED_UNBOUNDED.filter((_, i) => !allowanceUsed.has(i))).toEqual([]);
  });

  it("reports the latest health day per account as the latest stored score", async () => {
    const overview = await client.callTool({ name: "get_workspace_overview", arguments: {} });
    const { freshness } = overview.structuredContent as { freshness: { source: string; latest: string | null }[] };
    const stored = await env.DB.prepare("SELECT max(day) AS day FROM health_scores WHERE workspace_id = ?1")
      .bind(WS)
      .first<{ day: string }>();
    expect(stored?.day).toBe(TODAY);
    expect(freshness.find((f) => f.source === "health scores (latest day)")?.latest).toBe(TODAY);
  });
});
