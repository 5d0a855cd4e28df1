import { env } from "cloudflare:workers";
import { getAgentByName } from "agents";
import { describe, expect, it } from "vitest";
import { clock } from "../../src/platform/lib/clock";
import { addDays, isoDay } from "../../src/platform/lib/time";
import { purgeExpiredDetail } from "../../src/records/purge";

const WS = "ws_usage_rollups";

function featureRow(ws: string, account: string, day: string, feature: string, events: number): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO usage_feature_daily (workspace_id, account_id, day, feature, events, active_users)
     VALUES (?1, ?2, ?3, ?4, ?5, 1)
     ON CONFLICT (workspace_id, account_id, day, feature) DO UPDATE SET events = excluded.events`,
  ).bind(ws, account, day, feature, events);
}

function dailyRow(ws: string, account: string, day: string, events: number, users: number, sessions: number) {
  return env.DB.prepare(
    `INSERT INTO usage_daily (workspace_id, account_id, day, events, active_users, sessions) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET
       events = excluded.events, active_users = excluded.active_users, sessions = excluded.sessions`,
  ).bind(ws, account, day, events, users, sessions);
}

async function firstUses(ws: string) {
  const rows = await env.DB.prepare(
    "SELECT account_id, feature, first_day FROM feature_first_use WHERE workspace_id = ?1 ORDER BY account_id, feature",
  )
    .bind(ws)
    .all();
  return rows.results;
}

async function running(ws: string) {
  const rows = await env.DB.prepare(
    `SELECT account_id, feature, day, events, events_to_date, days_to_date FROM usage_feature_running
      WHERE workspace_id = ?1 ORDER BY account_id, feature, day`,
  )
    .bind(ws)
    .all();
  return rows.results;
}

async function workspaceDays(ws: string) {
  const rows = await env.DB.prepare(
    "SELECT day, account_days, events, active_users, sessions FROM usage_workspace_daily WHERE workspace_id = ?1 ORDER BY day",
  )
    .bind(ws)
    .all();
  return rows.results;
}

describe("feature first use", () => {
  it("is written by the account agent's flush, keeps the first day after later writes and after the purge", async () => {
    const today = isoDay(clock.now());
    const yesterday = addDays(today, -1);
    const agent = await getAgentByName(env.ACCOUNT_AGENT, `${WS}:acc_first`);
    await agent.ingest([
      { id: "e1", occurredAt: `${yesterday}T10:00:00.000Z`, feature: "exports", userRef: "u1" },
      { id: "e2", occurredAt: `${today}T08:00:00.000Z`, feature: "reports", userRef: "u1" },
    ]);
    await agent.flush();
    expect(await firstUses(WS)).toEqual([
      { account_id: "acc_first", feature: "exports", first_day: yesterday },
      { account_id: "acc_first", feature: "reports", first_day: today },
    ]);
    // A later day's use, and today's row rewritten with a new absolute value, move nothing.
    await agent.ingest([
      { id: "e3", occurredAt: `${today}T09:00:00.000Z`, feature: "exports", userRef: "u2" },
      { id: "e4", occurredAt: `${today}T09:30:00.000Z`, feature: "reports", userRef: "u2" },
    ]);
    await agent.flush();
    expect(await firstUses(WS)).toEqual([
      { account_id: "acc_first", feature: "exports", first_day: yesterday },
      { account_id: "acc_first", feature: "reports", first_day: today },
    ]);
    // The purge with today as its cutoff deletes yesterday's rollup; the first use stays.
    const retention = Number(env.USAGE_FEATURE_RETENTION_DAYS || 400);
    const purged = await purgeExpiredDetail.run(env, new Date(`${addDays(today, retention)}T03:00:00Z`));
    expect(purged.usage_feature_cutoff).toBe(today);
    // Rollup rows deleted, not counting the running-total row the trigger deleted with it.
    expect(purged.usage_feature_days_deleted).toBe(1);
    const left = await env.DB.prepare(
      "SELECT day, feature FROM usage_feature_daily WHERE workspace_id = ?1 AND account_id = 'acc_first' ORDER BY feature",
    )
      .bind(WS)
      .all();
    expect(left.results).toEqual([
      { day: today, feature: "exports" },
      { day: today, feature: "reports" },
    ]);
    expect(await firstUses(WS)).toEqual([
      { account_id: "acc_first", feature: "exports", first_day: yesterday },
      { account_id: "acc_first", feature: "reports", first_day: today },
    ]);
    // Running totals follow the rollups: the purged day is gone, today's rows hold their own events.
    expect(await running(WS)).toEqual([
      { account_id: "acc_first", feature: "exports", day: today, events: 1, events_to_date: 2, days_to_date: 2 },
      { account_id: "acc_first", feature: "reports", day: today, events: 2, events_to_date: 2, days_to_date: 1 },
    ]);
  });

  it("moves to an earlier day written late, ignores days without events, and recovers when the first day loses its events", async () => {
    const ws = "ws_usage_rollups_late";
    await env.DB.batch([
      featureRow(ws, "a1", "2026-03-10", "sso", 2),
      featureRow(ws, "a1", "2026-03-05", "sso", 0), // no use
      featureRow(ws, "a1", "2026-03-07", "sso", 1), // late, earlier
    ]);
    expect(await firstUses(ws)).toEqual([{ account_id: "a1", feature: "sso", first_day: "2026-03-07" }]);
    await featureRow(ws, "a1", "2026-03-07", "sso", 0).run();
    expect(await firstUses(ws)).toEqual([{ account_id: "a1", feature: "sso", first_day: "2026-03-10" }]);
    await featureRow(ws, "a1", "2026-03-10", "sso", 0).run();
    expect(await firstUses(ws)).toEqual([]);
  });
});

describe("running totals of feature rollups", () => {
  it("stay consistent with the rollups through late inserts, rewrites, zeroed days and deletes", async () => {
    const ws = "ws_usage_rollups_running";
    await env.DB.batch([
      featureRow(ws, "a1", "2026-03-03", "api", 4),
      featureRow(ws, "a1", "2026-03-05", "api", 3),
      featureRow(ws, "a1", "2026-03-01", "api", 1), // before both
      featureRow(ws, "a1", "2026-03-04", "api", 10), // between
      featureRow(ws, "a1", "2026-03-04", "api", 20), // rewritten
      featureRow(ws, "a1", "2026-03-03", "api", 0), // loses its events
      featureRow(ws, "a1", "2026-03-02", "api", 0), // no use
      featureRow(ws, "a2", "2026-03-04", "api", 6),
    ]);
    // Days with events: 03-01 (1), 03-04 (20), 03-05 (3).
    expect(await running(ws)).toEqual([
      { account_id: "a1", feature: "api", day: "2026-03-01", events: 1, events_to_date: 1, days_to_date: 1 },
      { account_id: "a1", feature: "api", day: "2026-03-04", events: 20, events_to_date: 21, days_to_date: 2 },
      { account_id: "a1", feature: "api", day: "2026-03-05", events: 3, events_to_date: 24, days_to_date: 3 },
      { account_id: "a2", feature: "api", day: "2026-03-04", events: 6, events_to_date: 6, days_to_date: 1 },
    ]);
    // Deleting a middle day shifts the later totals; deleting the oldest day shifts nothing.
    await env.DB.prepare("DELETE FROM usage_feature_daily WHERE workspace_id = ?1 AND account_id = 'a1' AND day = ?2")
      .bind(ws, "2026-03-04")
      .run();
    await env.DB.prepare("DELETE FROM usage_feature_daily WHERE workspace_id = ?1 AND account_id = 'a1' AND day = ?2")
      .bind(ws, "2026-03-01")
      .run();
    expect(await running(ws)).toEqual([
      { account_id: "a1", feature: "api", day: "2026-03-05", events: 3, events_to_date: 4, days_to_date: 2 },
      { account_id: "a2", feature: "api", day: "2026-03-04", events: 6, events_to_date: 6, days_to_date: 1 },
    ]);
  });
});

describe("workspace-day usage totals", () => {
  it("sum every account's day through inserts, rewrites and deletes", async () => {
    const ws = "ws_usage_rollups_days";
    await env.DB.batch([
      dailyRow(ws, "a1", "2026-03-01", 10, 2, 3),
      dailyRow(ws, "a2", "2026-03-01", 5, 1, 1),
      dailyRow(ws, "a1", "2026-03-02", 7, 3, 2),
      dailyRow(ws, "a1", "2026-03-01", 12, 4, 5), // rewritten with absolute values
    ]);
    expect(await workspaceDays(ws)).toEqual([
      { day: "2026-03-01", account_days: 2, events: 17, active_users: 5, sessions: 6 },
      { day: "2026-03-02", account_days: 1, events: 7, active_users: 3, sessions: 2 },
    ]);
    await env.DB.prepare("DELETE FROM usage_daily WHERE workspace_id = ?1 AND account_id = 'a1' AND day = '2026-03-02'")
      .bind(ws)
      .run();
    expect(await workspaceDays(ws)).toEqual([
      { day: "2026-03-01", account_days: 2, events: 17, active_users: 5, sessions: 6 },
      { day: "2026-03-02", account_days: 0, events: 0, active_users: 0, sessions: 0 },
    ]);
  });
});

describe("migration backfill", () => {
  it("fills the three tables exactly from rollups written before it", async () => {
    const ws = "ws_usage_rollups_backfill";
    await env.DB.batch([
      dailyRow(ws, "a1", "2026-03-01", 10, 2, 3),
      dailyRow(ws, "a2", "2026-03-01", 5, 1, 1),
      dailyRow(ws, "a1", "2026-03-02", 7, 3, 2),
      featureRow(ws, "a1", "2026-03-01", "api", 0),
      featureRow(ws, "a1", "2026-03-02", "api", 4),
      featureRow(ws, "a1", "2026-03-04", "api", 2),
      featureRow(ws, "a2", "2026-03-03", "sso", 5),
    ]);
    // Forget what the triggers wrote, then run the migration's fill statements.
    const fills = (env.TEST_MIGRATIONS.find((m) => m.name === "0004_usage_rollups.sql")?.queries ?? [])
      .map((sql) => sql.replace(/^--.*$/gm, "").trim())
      .filter((sql) => sql.startsWith("INSERT INTO"));
    expect(fills).toHaveLength(3);
    await env.DB.batch([
      env.DB.prepare("DELETE FROM feature_first_use"),
      env.DB.prepare("DELETE FROM usage_feature_running"),
      env.DB.prepare("DELETE FROM usage_workspace_daily"),
      ...fills.map((sql) => env.DB.prepare(sql)),
    ]);
    expect(await firstUses(ws)).toEqual([
      { account_id: "a1", feature: "api", first_day: "2026-03-02" },
      { account_id: "a2", feature: "sso", first_day: "2026-03-03" },
    ]);
    expect(await running(ws)).toEqual([
      { account_id: "a1", feature: "api", day: "2026-03-02", events: 4, events_to_date: 4, days_to_date: 1 },
      { account_id: "a1", feature: "api", day: "2026-03-04", events: 2, events_to_date: 6, days_to_date: 2 },
      { account_id: "a2", feature: "sso", day: "2026-03-03", events: 5, events_to_date: 5, days_to_date: 1 },
    ]);
    expect(await workspaceDays(ws)).toEqual([
      { day: "2026-03-01", account_days: 2, events: 15, active_users: 3, sessions: 4 },
      { day: "2026-03-02", account_days: 1, events: 7, active_users: 3, sessions: 2 },
    ]);
  });
});
