import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import {
  lossByGroup,
  ruleOutcome,
  signalPresent,
  tenureBand,
  usageBetween,
  usageDeclineFiring,
  usageSeries,
} from "../../../src/tools/retention/domain/postmortem";
import { callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_retpm";
const OTHER_WS = "ws_retpm-other";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);
// Churn days of P1, P2, P3 and renewal days of R1, R2, R3.
const C1 = day(-30);
const C2 = day(-100);
const C3 = day(-200);
const R1 = day(-50);
const R2 = day(-60);
const R3 = day(-10);

let contractNumber = 0;
const contract = (
  accountId: string,
  outcome: string,
  outcomeDay: string,
  arr: number,
  reason: string | null = null,
  start: string = addDays(outcomeDay, -365),
  workspace = WS,
) =>
  insert("contracts", {
    id: `ctr_pm_${++contractNumber}`,
    workspace_id: workspace,
    account_id: accountId,
    start_date: start,
    end_date: outcomeDay,
    status: "ended",
    arr,
    outcome,
    outcome_date: outcomeDay,
    outcome_reason: reason,
  });
const health = (accountId: string, d: string, score: number, band: string) =>
  insert("health_scores", { workspace_id: WS, account_id: accountId, day: d, score, band });
const usage = (accountId: string, from: string, days: number, events: number) =>
  Array.from({ length: days }, (_, i) =>
    insert("usage_daily", { workspace_id: WS, account_id: accountId, day: addDays(from, i), events }),
  );
const ticket = (id: string, accountId: string, d: string, priority: string) =>
  insert("tickets", {
    id,
    workspace_id: WS,
    account_id: accountId,
    subject: "Problem",
    priority,
    created_at: `${d}T09:00:00Z`,
    updated_at: `${d}T09:00:00Z`,
  });
const nps = (id: string, accountId: string, d: string, score: number) =>
  insert("survey_responses", {
    id,
    workspace_id: WS,
    account_id: accountId,
    kind: "nps",
    score,
    responded_at: `${d}T09:00:00Z`,
  });

describe("post-mortem arithmetic (pure)", () => {
  it("bands tenure, groups loss and scores a rule's catches and false alarms", () => {
    expect([tenureBand(null), tenureBand(364), tenureBand(365), tenureBand(729), tenureBand(730)]).toEqual([
      "unknown",
      "<1y",
      "1–2y",
      "1–2y",
      "2y+",
    ]);
    expect(
      lossByGroup(
        [
          { r: "a", lost_arr: 5 },
          { r: "b", lost_arr: 7 },
          { r: "a", lost_arr: 3 },
        ],
        (e) => e.r,
      ),
    ).toEqual([
      { group: "a", accounts: 2, lost_arr: 8 },
      { group: "b", accounts: 1, lost_arr: 7 },
    ]);
    const churned = [
      { account_id: "x", event_day: "2026-06-30" },
      { account_id: "y", event_day: "2026-06-30" },
      { account_id: "z", event_day: "2026-06-30" },
    ];
    const renewed = [
      { account_id: "r", event_day: "2026-06-30" },
      { account_id: "s", event_day: "2026-06-30" },
    ];
    const firings = new Map([
      ["x|2026-06-30", { first_day: "2026-06-20", last_day: "2026-06-25" }],
      ["y|2026-06-30", { first_day: "2026-05-31", last_day: "2026-05-31" }],
      // r fired 91 days before its renewal (not a false alarm), s exactly 90 days before (one).
      ["r|2026-06-30", { first_day: "2026-03-31", last_day: "2026-03-31" }],
      ["s|2026-06-30", { first_day: "2026-01-10", last_day: "2026-04-01" }],
    ]);
    expect(ruleOutcome(churned, renewed, firings)).toEqual({
      caught: 2,
      share: 0.6667,
      median_lead_days: 20,
      renewed_counted: 2,
      renewed_flagged: 1,
      false_alarm_rate: 0.5,
    });
    expect(signalPresent("health_red", churned[1]!, firings.get("y|2026-06-30"))).toBe(true);
    expect(signalPresent("usage_decline_30pct", churned[0]!, firings.get("x|2026-06-30"))).toBe(false);
  });

  it("reads a usage series and finds the checkpoints where usage fell 30% or more", () => {
    // Event on day 1000 of the count: 10 events a day 60–31 days before it, 7 a day 30–1 days before it.
    const pairs = Array.from({ length: 60 }, (_, i) => `${940 + i}:${i < 30 ? 10 : 7}`).join(",");
    const series = usageSeries(pairs, 1000);
    expect([usageBetween(series, 61, 90), usageBetween(series, 31, 60), usageBetween(series, 1, 30)]).toEqual([
      0, 300, 210,
    ]);
    expect(usageSeries("940:1.5,939:2", 1000).slice(60, 62)).toEqual([1.5, 2]);
    // At the event day 210 ≤ 0.7 × 300; a day earlier 7 × 29 + 10 = 213 > 0.7 × 290, and so on further back.
    expect(usageDeclineFiring(series, "2026-06-30")).toEqual({ first_day: "2026-06-30", last_day: "2026-06-30" });
    expect(usageDeclineFiring(usageSeries(null, 1000), "2026-06-30")).toBeUndefined();
  });
});

describe("analyze_churn_postmortem", () => {
  let client: Client;

  beforeAll(async () => {
    const { key } = await createWorkspace("retpm", "viewer");
    await createWorkspace("retpm-other");
    client = await connectClient(key, "?toolsets=retention");
    const account = (id: string, segment: string | null, customerSince: string | null) =>
      insert("accounts", {
        id,
        workspace_id: WS,
        name: `Acct ${id}`,
        segment,
        customer_since: customerSince,
        status: id.startsWith("p") ? "churned" : "active",
      });
    const campaign = (id: string, name: string, status: string, trigger: unknown) =>
      insert("retention_campaigns", {
        id,
        workspace_id: WS,
        name,
        status,
        trigger: JSON.stringify(trigger),
        steps: '[{"day_offset":0,"kind":"task","title":"t"}]',
      });
    await env.DB.batch([
      account("p1", "SMB", addDays(C1, -200)),
      account("p2", "Enterprise", addDays(C2, -500)),
      account("p3", null, null),
      account("p4", "SMB", null),
      account("r1", null, null),
      account("r2", null, null),
      account("r3", null, null),
      // P1 renewed once before churning (so it is no renewal), P2 churned an earlier contract too (the latest counts).
      contract("p1", "renewed", day(-300), 9000),
      contract("p1", "churned", C1, 10000, "Price"),
      contract("p2", "churned", day(-250), 999, "Budget"),
      contract("p2", "churned", C2, 50000, "Price"),
      contract("p3", "churned", C3, 20000, null, addDays(C3, -1000)),
      contract("p4", "churned", day(-400), 7000, "Outside the window"),
      contract("r1", "renewed", R1, 1000),
      contract("r2", "expanded", R2, 1000),
      contract("r3", "contracted", R3, 1000),
      contract("o1", "churned", day(-5), 123456, "Another workspace", day(-400), OTHER_WS),
      // P1: green → yellow → red; usage 10/day in days 60–31 before churn, none after; tickets; an old detractor.
      health("p1", addDays(C1, -100), 80, "green"),
      health("p1", addDays(C1, -60), 50, "yellow"),
      health("p1", addDays(C1, -20), 30, "red"),
      ...usage("p1", addDays(C1, -60), 30, 10),
      ticket("t1", "p1", addDays(C1, -100), "urgent"),
      ticket("t2", "p1", addDays(C1, -40), "high"),
      ticket("t3", "p1", addDays(C1, -10), "normal"),
      nps("n1", "p1", addDays(C1, -150), 5),
      // P2: steady usage, champion left, a failed payment.
      health("p2", addDays(C2, -95), 60, "yellow"),
      health("p2", addDays(C2, -10), 45, "yellow"),
      ...usage("p2", addDays(C2, -90), 90, 5),
      insert("contacts", {
        id: "k_p2",
        workspace_id: WS,
        account_id: "p2",
        name: "Champ",
        is_champion: 1,
        left_at: `${addDays(C2, -50)}T00:00:00Z`,
      }),
      insert("payments", {
        id: "pay_p2",
        workspace_id: WS,
        account_id: "p2",
        external_id: "in_1",
        status: "failed",
        failed_at: `${addDays(C2, -10)}T00:00:00Z`,
      }),
      // R1: red long ago, then yellow → red 35 days before renewal, an urgent ticket 30 days before.
      health("r1", addDays(R1, -200), 20, "red"),
      health("r1", addDays(R1, -40), 55, "yellow"),
      health("r1", addDays(R1, -35), 35, "red"),
      ticket("t4", "r1", addDays(R1, -30), "urgent"),
      // R2: green → red 120 days before renewal; a detractor 10 days before.
      health("r2", addDays(R2, -130), 75, "green"),
      health("r2", addDays(R2, -120), 30, "red"),
      nps("n2", "r2", addDays(R2, -10), 6),
      campaign("cmp_pm_1", "Red watch", "active", [{ rule: "band_is", band: "red" }]),
      campaign("cmp_pm_2", "Fall watch", "paused", [
        { rule: "health_drop_at_least", points: 20 },
        { rule: "band_fell_to", band: "red" },
      ]),
      campaign("cmp_pm_3", "Archived yellow", "archived", [{ rule: "band_is", band: "yellow" }]),
    ]);
  });

  it("computes reasons, patterns, trajectory, signals and prevention rules exactly", async () => {
    const result = await callOk<
      Record<string, unknown> & { accounts: { account_id: string }[]; next_cursor: string | null }
    >(client, "analyze_churn_postmortem", { limit: 2 });
    expect(result.window).toEqual({ from: day(-365), to: today, window_days: 365 });
    expect(result.churned_accounts).toBe(3);
    expect(result.lost_arr).toBe(80000);
    expect(result.renewed_accounts).toBe(3);
    expect(result.reasons).toEqual([
      { group: "Price", accounts: 2, lost_arr: 60000 },
      { group: "unspecified", accounts: 1, lost_arr: 20000 },
    ]);
    expect(result.by_segment).toEqual([
      { group: "Enterprise", accounts: 1, lost_arr: 50000 },
      { group: "unsegmented", accounts: 1, lost_arr: 20000 },
      { group: "SMB", accounts: 1, lost_arr: 10000 },
    ]);
    expect(result.by_tenure).toEqual([
      { group: "1–2y", accounts: 1, lost_arr: 50000 },
      { group: "2y+", accounts: 1, lost_arr: 20000 },
      { group: "<1y", accounts: 1, lost_arr: 10000 },
    ]);
    expect(result.trajectory).toEqual({
      health: [
        { days_before: 90, mean_score: 70, accounts_with_data: 2 },
        { days_before: 60, mean_score: 55, accounts_with_data: 2 },
        { days_before: 30, mean_score: 55, accounts_with_data: 2 },
        { days_before: 0, mean_score: 37.5, accounts_with_data: 2 },
      ],
      usage: [
        { days_before: "90–61", mean_events: 50, accounts: 3 },
        { days_before: "60–31", mean_events: 150, accounts: 3 },
        { days_before: "30–1", mean_events: 50, accounts: 3 },
      ],
    });
    const signalCounts = (result.signals as { signal: string; accounts: number; share: number | null }[]).map((s) => [
      s.signal,
      s.accounts,
      s.share,
    ]);
    expect(signalCounts).toEqual([
      ["urgent_high_ticket", 1, 0.3333],
      ["detractor_nps", 0, 0],
      ["champion_left", 1, 0.3333],
      ["payment_failure", 1, 0.3333],
      ["usage_decline_30pct", 1, 0.3333],
      ["health_red", 1, 0.3333],
    ]);
    const rules = (result.rules as Record<string, unknown>[]).map(({ description: _, ...rest }) => rest);
    const rule = (name: string, source: string, lead: number, flagged: number) => ({
      rule: name,
      source,
      caught: 1,
      share: 0.3333,
      median_lead_days: lead,
      renewed_counted: 3,
      renewed_flagged: flagged,
      false_alarm_rate: Math.round((flagged / 3) * 10_000) / 10_000,
    });
    expect(rules).toEqual([
      rule("urgent_high_ticket", "fixed", 100, 1),
      rule("detractor_nps", "fixed", 150, 1),
      rule("champion_left", "fixed", 50, 0),
      rule("payment_failure", "fixed", 10, 0),
      rule("usage_decline_30pct", "fixed", 12, 0),
      rule("health_red", "fixed", 20, 1),
      rule("Red watch", "cmp_pm_1", 20, 1),
      rule("Fall watch", "cmp_pm_2", 60, 1),
    ]);
    expect(result.accounts).toEqual([
      {
        account_id: "p1",
        name: "Acct p1",
        churn_day: C1,
        lost_arr: 10000,
        reason: "Price",
        segment: "SMB",
        tenure_days: 200,
        tenure_band: "<1y",
        health: { d90: 80, d60: 50, d30: 50, d0: 30 },
        usage_events: { d90_61: 0, d60_31: 300, d30_1: 0 },
        signals: ["urgent_high_ticket", "usage_decline_30pct", "health_red"],
      },
      {
        account_id: "p2",
        name: "Acct p2",
        churn_day: C2,
        lost_arr: 50000,
        reason: "Price",
        segment: "Enterprise",
        tenure_days: 500,
        tenure_band: "1–2y",
        health: { d90: 60, d60: 60, d30: 60, d0: 45 },
        usage_events: { d90_61: 150, d60_31: 150, d30_1: 150 },
        signals: ["champion_left", "payment_failure"],
      },
    ]);
    const next = await callOk<{ accounts: Record<string, unknown>[]; next_cursor: string | null }>(
      client,
      "analyze_churn_postmortem",
      { limit: 2, cursor: result.next_cursor },
    );
    expect(next.accounts).toEqual([
      {
        account_id: "p3",
        name: "Acct p3",
        churn_day: C3,
        lost_arr: 20000,
        reason: null,
        segment: null,
        tenure_days: 1000,
        tenure_band: "2y+",
        health: { d90: null, d60: null, d30: null, d0: null },
        usage_events: { d90_61: 0, d60_31: 0, d30_1: 0 },
        signals: [],
      },
    ]);
    expect(next.next_cursor).toBeNull();
  });

  it("answers an empty window with zero counts", async () => {
    const result = await callOk<{ churned_accounts: number; rules: { caught: number; share: number | null }[] }>(
      client,
      "analyze_churn_postmortem",
      { window_days: 5 },
    );
    expect(result.churned_accounts).toBe(0);
    expect(result.rules.every((r) => r.caught === 0 && r.share === null)).toBe(true);
  });
});
