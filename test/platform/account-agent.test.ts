import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getAgentByName } from "agents";
import { describe, expect, it } from "vitest";
import type { AccountAgent } from "../../src/agents/account-agent";
import { clock } from "../../src/platform/lib/clock";
import { addDays, isoDay } from "../../src/platform/lib/time";

const WS = "ws_agent_test";
const today = isoDay(clock.now());
const yesterday = addDays(today, -1);

function agentFor(accountId: string) {
  return getAgentByName(env.ACCOUNT_AGENT, `${WS}:${accountId}`);
}

async function d1Rows(accountId: string) {
  const daily = await env.DB.prepare(
    "SELECT day, events, active_users, sessions FROM usage_daily WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY day",
  )
    .bind(WS, accountId)
    .all();
  const features = await env.DB.prepare(
    "SELECT day, feature, events, active_users FROM usage_feature_daily WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY day, feature",
  )
    .bind(WS, accountId)
    .all();
  return { daily: daily.results, features: features.results };
}

describe("AccountAgent", () => {
  it("dedupes events by id, counts per day and feature with distinct users, and tracks last seen", async () => {
    const agent = await agentFor("acc_counts");
    const first = await agent.ingest([
      { id: "r1", occurredAt: `${today}T08:00:00.000Z`, feature: "reports", userRef: "u1" },
      { id: "r2", occurredAt: `${today}T08:05:00.000Z`, feature: "reports", userRef: "u2" },
      { id: "r3", occurredAt: `${today}T08:10:00.000Z`, feature: "reports", userRef: "u1" },
      { id: "r4", occurredAt: `${today}T07:00:00.000Z`, feature: "dashboards", userRef: "u1" },
      { id: "r1", occurredAt: `${today}T08:00:00.000Z`, feature: "reports", userRef: "u1" },
      { id: "r5", occurredAt: `${yesterday}T23:00:00.000Z`, feature: "dashboards", userRef: null },
    ]);
    expect(first).toEqual({ accepted: 5, duplicates: 1, expired: 0 });
    const again = await agent.ingest([
      { id: "r2", occurredAt: `${today}T08:05:00.000Z`, feature: "reports", userRef: "u2" },
      { id: "r4", occurredAt: `${today}T07:00:00.000Z`, feature: "dashboards", userRef: "u1" },
    ]);
    expect(again).toEqual({ accepted: 0, duplicates: 2, expired: 0 });
    expect(await agent.snapshot()).toEqual({
      day: today,
      eventsToday: 4,
      activeUsersToday: 2,
      featuresToday: [
        { feature: "reports", events: 3, activeUsers: 2 },
        { feature: "dashboards", events: 1, activeUsers: 1 },
      ],
      lastSeenAt: `${today}T08:10:00.000Z`,
      unflushed: { days: 2, events: 5 },
    });
  });

  it("refuses events older than the retention window", async () => {
    const agent = await agentFor("acc_old");
    const result = await agent.ingest([
      { id: "old", occurredAt: `${addDays(today, -15)}T12:00:00.000Z`, feature: "reports", userRef: "u1" },
      { id: "edge", occurredAt: `${addDays(today, -14)}T12:00:00.000Z`, feature: "reports", userRef: "u1" },
    ]);
    expect(result).toEqual({ accepted: 1, duplicates: 0, expired: 1 });
  });

  it("keeps one pending flush however many batches arrive", async () => {
    const agent = await agentFor("acc_schedule");
    await agent.ingest([{ id: "s1", occurredAt: `${today}T01:00:00.000Z`, feature: "reports", userRef: "u1" }]);
    await agent.ingest([{ id: "s2", occurredAt: `${today}T02:00:00.000Z`, feature: "reports", userRef: "u2" }]);
    await agent.ingest([{ id: "s2", occurredAt: `${today}T02:00:00.000Z`, feature: "reports", userRef: "u2" }]);
    const schedules = await runInDurableObject(agent, async (instance: AccountAgent) => instance.listSchedules());
    expect(schedules.map((s) => [s.callback, s.type])).toEqual([["flush", "delayed"]]);
  });

  it("flushes absolute day and feature rollups to D1, idempotently, and rewrites a day that changed", async () => {
    const agent = await agentFor("acc_flush");
    await agent.ingest([
      { id: "f1", occurredAt: `${today}T08:00:00.000Z`, feature: "reports", userRef: "u1" },
      { id: "f2", occurredAt: `${today}T09:00:00.000Z`, feature: "reports", userRef: "u2" },
      { id: "f3", occurredAt: `${today}T10:00:00.000Z`, feature: "exports", userRef: "u1" },
      { id: "f4", occurredAt: `${yesterday}T10:00:00.000Z`, feature: "exports", userRef: "u3" },
    ]);
    // An imported sessions count for the day is kept: the flush writes events and users only.
    await env.DB.prepare(
      "INSERT INTO usage_daily (workspace_id, account_id, day, events, active_users, sessions) VALUES (?1, 'acc_flush', ?2, 99, 9, 7)",
    )
      .bind(WS, yesterday)
      .run();
    expect(await agent.flush()).toEqual({ days: [yesterday, today], featureRows: 3, prunedEvents: 0 });
    const expected = {
      daily: [
        { day: yesterday, events: 1, active_users: 1, sessions: 7 },
        { day: today, events: 3, active_users: 2, sessions: 0 },
      ],
      features: [
        { day: yesterday, feature: "exports", events: 1, active_users: 1 },
        { day: today, feature: "exports", events: 1, active_users: 1 },
        { day: today, feature: "reports", events: 2, active_users: 2 },
      ],
    };
    expect(await d1Rows("acc_flush")).toEqual(expected);
    expect((await agent.snapshot()).unflushed).toEqual({ days: 0, events: 0 });

    expect(await agent.flush()).toEqual({ days: [], featureRows: 0, prunedEvents: 0 });
    expect(await d1Rows("acc_flush")).toEqual(expected);

    await agent.ingest([
      { id: "f5", occurredAt: `${today}T11:00:00.000Z`, feature: "reports", userRef: "u3" },
      { id: "f1", occurredAt: `${today}T08:00:00.000Z`, feature: "reports", userRef: "u1" },
    ]);
    expect((await agent.snapshot()).unflushed).toEqual({ days: 1, events: 1 });
    expect(await agent.flush()).toEqual({ days: [today], featureRows: 2, prunedEvents: 0 });
    expect(await d1Rows("acc_flush")).toEqual({
      daily: [expected.daily[0], { day: today, events: 4, active_users: 3, sessions: 0 }],
      features: [
        expected.features[0],
        expected.features[1],
        { day: today, feature: "reports", events: 3, active_users: 3 },
      ],
    });
  });

  it("prunes raw events and flushed counters older than the retention window", async () => {
    const agent = await agentFor("acc_prune");
    const old = addDays(today, -20);
    await runInDurableObject(agent, async (instance: AccountAgent, state) => {
      await instance.snapshot();
      state.storage.sql.exec(
        "INSERT INTO usage_events (id, day, occurred_at, feature, user_ref) VALUES ('p0', ?, ?, 'reports', 'u1')",
        old,
        `${old}T10:00:00.000Z`,
      );
      state.storage.sql.exec("INSERT INTO usage_days (day, events, changes, flushed_changes) VALUES (?, 1, 1, 1)", old);
      state.storage.sql.exec("INSERT INTO usage_day_users (day, user_ref) VALUES (?, 'u1')", old);
    });
    await agent.ingest([{ id: "p1", occurredAt: `${today}T10:00:00.000Z`, feature: "reports", userRef: "u1" }]);
    expect(await agent.flush()).toEqual({ days: [today], featureRows: 1, prunedEvents: 1 });
    const left = await runInDurableObject(agent, async (_instance: AccountAgent, state) => ({
      events: state.storage.sql.exec("SELECT id FROM usage_events ORDER BY id").toArray(),
      days: state.storage.sql.exec("SELECT day FROM usage_days ORDER BY day").toArray(),
      users: state.storage.sql.exec("SELECT day FROM usage_day_users ORDER BY day").toArray(),
    }));
    expect(left).toEqual({ events: [{ id: "p1" }], days: [{ day: today }], users: [{ day: today }] });
  });
});
