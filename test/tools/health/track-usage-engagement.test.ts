import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { summarizeUsage, type UsageDay } from "../../../src/tools/health/domain/usage-metrics";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";
import { usageFixtures } from "../../helpers/usage-fixtures";

const WS = "ws_healthusage";
const OTHER_WS = "ws_healthusage-other";

let client: Client;
const { account, usage, feature } = usageFixtures(WS);

interface Metrics {
  days_with_data: number;
  dau: number | null;
  wau: number | null;
  mau: number | null;
  stickiness: number | null;
  events: number;
  sessions: number;
  feature_breadth: number;
  licensed_seats: number;
  license_utilization: number | null;
  prior_dau: number | null;
  prior_events: number;
  prior_sessions: number;
  dau_change_pct: number | null;
  events_change_pct: number | null;
  sessions_change_pct: number | null;
}

interface UsageOut {
  scope: string;
  window: { from: string; to: string; days: number };
  prior_window: { from: string; to: string; days: number };
  accounts_in_scope: number;
  accounts_counted: number;
  totals: Metrics;
  accounts: (Metrics & { account_id: string })[];
  next_cursor: string | null;
}

// Window: 14 days ending Sunday 2026-03-08 → 2026-02-23 (Mon) .. 2026-03-08, two ISO weeks;
// prior window 2026-02-09 .. 2026-02-22.
const TO = "2026-03-08";

beforeAll(async () => {
  const { key } = await createWorkspace("healthusage", "viewer");
  await createWorkspace("healthusage-other");
  await env.DB.batch([
    account("acc_a", "smb"),
    account("acc_b", "smb"),
    account("acc_c", "ent"),
    account("acc_d", "smb", "churned"),
    account("acc_x", "smb", "active", {}, OTHER_WS),
    // acc_a current window: users 4, 6 | 10, 8 → DAU 28/4 = 7, MAU 10, WAU (6 + 10)/2 = 8, events 280, sessions 50.
    usage("acc_a", "2026-02-23", 4, 40, 8),
    usage("acc_a", "2026-02-25", 6, 60, 10),
    usage("acc_a", "2026-03-03", 10, 100, 20),
    usage("acc_a", "2026-03-05", 8, 80, 12),
    // acc_a prior window: DAU 5, events 200, sessions 25.
    usage("acc_a", "2026-02-10", 5, 100, 10),
    usage("acc_a", "2026-02-20", 5, 100, 15),
    // Outside both windows.
    usage("acc_a", "2026-02-08", 50, 999, 99),
    usage("acc_a", "2026-03-09", 99, 999, 99),
    // acc_b: users 2 | 4 → DAU 3, MAU 4, WAU 3.
    usage("acc_b", "2026-02-23", 2, 10, 2),
    usage("acc_b", "2026-03-07", 4, 30, 3),
    // Churned: outside the segment scope.
    usage("acc_d", "2026-02-23", 100, 1000, 100),
    feature("acc_a", "2026-02-23", "reports", 5),
    feature("acc_a", "2026-03-03", "reports", 3),
    feature("acc_a", "2026-03-05", "export", 2),
    feature("acc_a", "2026-02-20", "api", 7),
    feature("acc_b", "2026-03-07", "api", 1),
    insert("products", { id: "prd_plan", workspace_id: WS, name: "Plan", kind: "plan" }),
    insert("products", { id: "prd_addon", workspace_id: WS, name: "Addon", kind: "add_on" }),
    insert("products", { id: "prd_svc", workspace_id: WS, name: "Service", kind: "service" }),
    // acc_a seats: contract 1 plan 10 (add-on 5 ignored) + contract 2 without plan max(3, 4) = 4 → 14; cancelled ignored.
    insert("contracts", {
      id: "ctr_1",
      workspace_id: WS,
      account_id: "acc_a",
      start_date: "2026-01-01",
      end_date: "2027-01-01",
      status: "active",
    }),
    insert("contracts", {
      id: "ctr_2",
      workspace_id: WS,
      account_id: "acc_a",
      start_date: "2026-01-01",
      end_date: "2027-01-01",
      status: "active",
    }),
    insert("contracts", {
      id: "ctr_3",
      workspace_id: WS,
      account_id: "acc_a",
      start_date: "2025-01-01",
      end_date: "2026-01-01",
      status: "cancelled",
    }),
    insert("contract_items", { id: "ci_1", workspace_id: WS, contract_id: "ctr_1", product_id: "prd_plan", seats: 10 }),
    insert("contract_items", { id: "ci_2", workspace_id: WS, contract_id: "ctr_1", product_id: "prd_addon", seats: 5 }),
    insert("contract_items", { id: "ci_3", workspace_id: WS, contract_id: "ctr_2", product_id: "prd_addon", seats: 3 }),
    insert("contract_items", { id: "ci_4", workspace_id: WS, contract_id: "ctr_2", product_id: "prd_svc", seats: 4 }),
    insert("contract_items", {
      id: "ci_5",
      workspace_id: WS,
      contract_id: "ctr_3",
      product_id: "prd_plan",
      seats: 100,
    }),
  ]);
  client = await connectClient(key, "?toolsets=health");
});

describe("track_usage_engagement", () => {
  it("computes one account's DAU/WAU/MAU, stickiness, utilization and change", async () => {
    const out = await callOk<UsageOut>(client, "track_usage_engagement", { account_id: "acc_a", days: 14, to: TO });
    expect(out.scope).toBe("account");
    expect(out.window).toEqual({ from: "2026-02-23", to: TO, days: 14 });
    expect(out.prior_window).toEqual({ from: "2026-02-09", to: "2026-02-22", days: 14 });
    const expected = {
      days_with_data: 4,
      dau: 7,
      wau: 8,
      mau: 10,
      stickiness: 0.7, // 7 / 10
      events: 280,
      sessions: 50,
      feature_breadth: 2, // reports, export (api only in the prior window)
      licensed_seats: 14,
      license_utilization: 0.5, // 7 / 14
      prior_dau: 5,
      prior_events: 200,
      prior_sessions: 25,
      dau_change_pct: 40, // (7 − 5) / 5
      events_change_pct: 40, // (280 − 200) / 200
      sessions_change_pct: 100, // (50 − 25) / 25
    };
    expect(out.totals).toEqual(expected);
    expect(out.accounts).toHaveLength(1);
    expect(out.accounts[0]).toMatchObject({ account_id: "acc_a", ...expected });
    expect(out.accounts_counted).toBe(1);
  });

  it("aggregates a segment's active accounts per day and lists each account", async () => {
    const out = await callOk<UsageOut>(client, "track_usage_engagement", { segment: "smb", days: 14, to: TO });
    expect(out.accounts_in_scope).toBe(2); // acc_a, acc_b (acc_d churned)
    expect(out.accounts_counted).toBe(2);
    // Daily sums: 02-23 4+2=6, 02-25 6, 03-03 10, 03-05 8, 03-07 4 → DAU 34/5 = 6.8, MAU 10,
    // WAU (max(6,6) + max(10,8,4))/2 = 8; utilization 6.8 / 14 = 0.48571 → 0.4857.
    expect(out.totals).toEqual({
      days_with_data: 5,
      dau: 6.8,
      wau: 8,
      mau: 10,
      stickiness: 0.68,
      events: 320,
      sessions: 55,
      feature_breadth: 3,
      licensed_seats: 14,
      license_utilization: 0.4857,
      prior_dau: 5,
      prior_events: 200,
      prior_sessions: 25,
      dau_change_pct: 36, // (6.8 − 5) / 5
      events_change_pct: 60, // (320 − 200) / 200
      sessions_change_pct: 120, // (55 − 25) / 25
    });
    const b = out.accounts.find((a) => a.account_id === "acc_b");
    // acc_b: DAU (2+4)/2 = 3, MAU 4, stickiness 0.75, no seats, no prior window.
    expect(b).toMatchObject({
      dau: 3,
      wau: 3,
      mau: 4,
      stickiness: 0.75,
      licensed_seats: 0,
      license_utilization: null,
      feature_breadth: 1,
      prior_dau: null,
      events_change_pct: null,
    });
  });

  it("pages through all active accounts by id", async () => {
    const first = await callOk<UsageOut>(client, "track_usage_engagement", { days: 14, to: TO, limit: 2 });
    expect(first.accounts_in_scope).toBe(3);
    expect(first.accounts.map((a) => a.account_id)).toEqual(["acc_a", "acc_b"]);
    expect(first.totals.events).toBe(320);
    const second = await callOk<UsageOut>(client, "track_usage_engagement", {
      days: 14,
      to: TO,
      limit: 2,
      cursor: first.next_cursor,
    });
    expect(second.accounts.map((a) => a.account_id)).toEqual(["acc_c"]);
    expect(second.accounts[0]?.days_with_data).toBe(0);
    expect(second.next_cursor).toBeNull();
  });

  it("reads another workspace's account as missing and refuses bad input", async () => {
    expect(await callError(client, "track_usage_engagement", { account_id: "acc_x" })).toContain("No account");
    await callError(client, "track_usage_engagement", { days: 0 });
    await callError(client, "track_usage_engagement", { days: 366 });
    await callError(client, "track_usage_engagement", { to: "March 8" });
    await callError(client, "track_usage_engagement", { account_id: "acc_a", segment: "smb" });
  });

  it("gives scope-wide totals equal to the account-day rollups summed directly over the scope", async () => {
    // The plain reading of the basis: every in-scope account-day row of the window, summed per day.
    const direct = async (segment: string | null, from: string, to: string) => {
      const inScope = `account_id IN (SELECT id FROM accounts WHERE workspace_id = ?1 AND status = 'active'${segment ? " AND segment = ?4" : ""})`;
      const binds = segment ? [WS, from, to, segment] : [WS, from, to];
      const [series, breadth] = await env.DB.batch([
        env.DB.prepare(
          `SELECT day, sum(active_users) AS active_users, sum(events) AS events, sum(sessions) AS sessions
             FROM usage_daily WHERE workspace_id = ?1 AND day BETWEEN ?2 AND ?3 AND ${inScope} GROUP BY day`,
        ).bind(...binds),
        env.DB.prepare(
          `SELECT count(DISTINCT feature) AS n FROM usage_feature_daily
            WHERE workspace_id = ?1 AND day BETWEEN ?2 AND ?3 AND ${inScope} AND events > 0`,
        ).bind(...binds),
      ]);
      return {
        ...summarizeUsage(series!.results as unknown as UsageDay[]),
        feature_breadth: (breadth!.results[0] as { n: number }).n,
      };
    };
    const windows = [
      { days: 14, to: TO },
      { days: 30, to: TO },
      { days: 7, to: "2026-02-25" },
      { days: 1, to: "2026-02-23" },
    ];
    let compared = 0;
    for (const segment of [null, "smb", "ent"]) {
      for (const window of windows) {
        const out = await callOk<UsageOut>(client, "track_usage_engagement", {
          ...window,
          ...(segment ? { segment } : {}),
        });
        const want = await direct(segment, out.window.from, out.window.to);
        const round2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
        expect(out.totals).toMatchObject({
          days_with_data: want.days_with_data,
          events: want.events,
          sessions: want.sessions,
          dau: round2(want.dau),
          wau: round2(want.wau),
          mau: want.mau,
          feature_breadth: want.feature_breadth,
        });
        const prior = await direct(segment, out.prior_window.from, out.prior_window.to);
        expect(out.totals).toMatchObject({ prior_events: prior.events, prior_sessions: prior.sessions });
        compared++;
      }
    }
    expect(compared).toBe(12);
    // The churned account's 1,000 events on 2026-02-23 stay out of the all-accounts day.
    const day = await callOk<UsageOut>(client, "track_usage_engagement", { days: 1, to: "2026-02-23" });
    expect(day.totals).toMatchObject({ days_with_data: 1, events: 50, dau: 6, feature_breadth: 1 });
  });
});
