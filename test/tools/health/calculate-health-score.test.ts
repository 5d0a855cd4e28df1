import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_healthscore";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);
const at = (offset: number) => `${day(offset)}T12:00:00.000Z`;

/** Usage rollups for the last 60 complete days: `recent` for days 1–30 back, `prior` for 31–60. */
function usage(account: string, recent: { events: number; users: number }, prior: { events: number; users: number }) {
  return env.DB.prepare(
    `WITH RECURSIVE d(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM d WHERE n < 60)
     INSERT INTO usage_daily (workspace_id, account_id, day, events, active_users, sessions)
     SELECT ?1, ?2, date(?3, '-' || n || ' days'), CASE WHEN n <= 30 THEN ?4 ELSE ?6 END,
            CASE WHEN n <= 30 THEN ?5 ELSE ?7 END, 1 FROM d`,
  ).bind(WS, account, today, recent.events, recent.users, prior.events, prior.users);
}

interface Explanation {
  score: number;
  band: string;
  components: {
    component: string;
    normalized: number | null;
    weight_effective: number;
    contribution: number;
    measures: { name: string; raw: number | null; score: number | null }[];
  }[];
  dropped: { component: string; reason: string }[];
  evidence: Record<string, unknown>;
  trend_7d: number | null;
  next_band_up: { component: string; normalized_points: number } | null;
  alert: { created: boolean; slack_queued: boolean; task_id: string } | null;
}

interface ScoreAnswer {
  preset: string;
  weights: Record<string, number>;
  explanation: Explanation | null;
  accounts: { account_id: string; score: number; band: string; alert: string | null }[];
  alerts_created: number;
  next_cursor: string | null;
}

let client: Client;
const sends: unknown[] = [];

beforeAll(async () => {
  const { key } = await createWorkspace("healthscore", "csm");
  await env.DB.batch([
    insert("accounts", {
      id: "acc_hs_a",
      workspace_id: WS,
      external_id: "ext-a",
      name: "Alpha",
      segment: "enterprise",
      renewal_date: day(200),
    }),
    insert("accounts", { id: "acc_hs_b", workspace_id: WS, name: "Beta", health_score: 75, health_band: "green" }),
    insert("products", { id: "prd_hs_plan", workspace_id: WS, name: "Plan", kind: "plan" }),
    insert("products", { id: "prd_hs_addon", workspace_id: WS, name: "Add-on", kind: "add_on" }),
    insert("contracts", {
      id: "ctr_hs_a",
      workspace_id: WS,
      account_id: "acc_hs_a",
      start_date: day(-165),
      end_date: day(200),
      status: "active",
    }),
    // 20 licensed seats: the plan item; the add-on's 50 seats license nobody.
    insert("contract_items", {
      id: "cti_hs_1",
      workspace_id: WS,
      contract_id: "ctr_hs_a",
      product_id: "prd_hs_plan",
      seats: 20,
    }),
    insert("contract_items", {
      id: "cti_hs_2",
      workspace_id: WS,
      contract_id: "ctr_hs_a",
      product_id: "prd_hs_addon",
      seats: 50,
    }),
    usage("acc_hs_a", { events: 12, users: 9 }, { events: 10, users: 9 }),
    insert("activities", {
      id: "act_hs_1",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "call",
      subject: "c",
      occurred_at: at(-3),
    }),
    insert("activities", {
      id: "act_hs_2",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "meeting",
      subject: "m",
      occurred_at: at(-20),
    }),
    insert("activities", {
      id: "act_hs_old",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "note",
      subject: "n",
      occurred_at: at(-40),
    }),
    insert("outbox_messages", {
      id: "out_hs_1",
      workspace_id: WS,
      idempotency_key: "hs-1",
      account_id: "acc_hs_a",
      to_email: "x@alpha.test",
      subject: "s",
      body_text: "b",
      status: "opened",
      opened_at: at(-4),
      created_at: at(-5),
    }),
    insert("tickets", {
      id: "tkt_hs_urgent",
      workspace_id: WS,
      account_id: "acc_hs_a",
      subject: "u",
      priority: "urgent",
      status: "open",
      created_at: at(-60),
      updated_at: at(-60),
    }),
    insert("tickets", {
      id: "tkt_hs_high",
      workspace_id: WS,
      account_id: "acc_hs_a",
      subject: "h",
      priority: "high",
      status: "solved",
      created_at: at(-10),
      updated_at: at(-9),
    }),
    ...[1, 2, 3].map((n) =>
      insert("tickets", {
        id: `tkt_hs_n${n}`,
        workspace_id: WS,
        account_id: "acc_hs_a",
        subject: "n",
        priority: "normal",
        status: "open",
        created_at: at(-5),
        updated_at: at(-5),
      }),
    ),
    insert("survey_responses", {
      id: "srv_hs_nps_old",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "nps",
      score: 5,
      responded_at: at(-100),
    }),
    insert("survey_responses", {
      id: "srv_hs_nps",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "nps",
      score: 8,
      responded_at: at(-10),
    }),
    insert("survey_responses", {
      id: "srv_hs_c1",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "csat",
      score: 3,
      responded_at: at(-30),
    }),
    insert("survey_responses", {
      id: "srv_hs_c2",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "csat",
      score: 5,
      responded_at: at(-60),
    }),
    insert("survey_responses", {
      id: "srv_hs_c_old",
      workspace_id: WS,
      account_id: "acc_hs_a",
      kind: "csat",
      score: 1,
      responded_at: at(-120),
    }),
    insert("payments", {
      id: "pay_hs_1",
      workspace_id: WS,
      account_id: "acc_hs_a",
      external_id: "in_1",
      status: "paid",
      amount: 100,
      created_at: at(-20),
    }),
    // Beta: green yesterday and 80 a week ago.
    insert("health_scores", { workspace_id: WS, account_id: "acc_hs_b", day: day(-1), score: 75, band: "green" }),
    insert("health_scores", { workspace_id: WS, account_id: "acc_hs_b", day: day(-7), score: 80, band: "green" }),
    // Gamma (churned, so outside "all"): yellow yesterday, 65 a week ago.
    insert("accounts", { id: "acc_hs_c", workspace_id: WS, name: "Gamma", status: "churned" }),
    insert("health_scores", { workspace_id: WS, account_id: "acc_hs_c", day: day(-1), score: 45, band: "yellow" }),
    insert("health_scores", { workspace_id: WS, account_id: "acc_hs_c", day: day(-7), score: 65, band: "yellow" }),
    // A Slack destination, so alerts are queued.
    insert("integrations", {
      id: "int_hs_slack",
      workspace_id: WS,
      provider: "slack",
      name: "Slack",
      secret_ciphertext: "x",
    }),
  ]);
  client = await connectClient(key, "?toolsets=health");
});

afterEach(() => {
  vi.restoreAllMocks();
  sends.length = 0;
});

function captureSends() {
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async (body: unknown) => {
    sends.push(body);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
}

describe("calculate_health_score", () => {
  it("explains one account: every measure, component, weight and contribution", async () => {
    captureSends();
    const answer = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "ext-a" });
    expect(answer.preset).toBe("balanced");
    expect(answer.weights).toEqual({ usage: 30, engagement: 20, support: 15, satisfaction: 20, financial: 15 });
    const e = answer.explanation as Explanation;
    const measures = Object.fromEntries(e.components.flatMap((c) => c.measures.map((m) => [m.name, [m.raw, m.score]])));
    expect(measures).toEqual({
      // 9 active users a day × 30 / 30 days / 20 seats = 0.45 → (0.45 − 0.1)/0.7 × 100 = 50
      license_utilization: [0.45, 50],
      // 360 events vs 300 → +0.2 → 100
      events_trend: [0.2, 100],
      // 2 activities in 30 days + 1 opened email = 3 → grid 50
      touchpoints: [3, 50],
      // the open urgent ticket (60 days old) → 50; 4 tickets created in 30 days → 70
      open_urgent_high_tickets: [1, 50],
      tickets_created: [4, 70],
      // latest NPS 8 → 80; CSAT (3 + 5)/2 = 4 over 90 days → 75
      latest_nps: [8, 80],
      csat_mean: [4, 75],
      // one paid payment → 0 problems → 100; renewal in 200 days → 100
      problem_payments: [0, 100],
      days_to_renewal: [200, 100],
    });
    expect(e.components.map((c) => [c.component, c.normalized, c.contribution])).toEqual([
      ["usage", 65, 19.5],
      ["engagement", 50, 10],
      ["support", 58, 8.7],
      ["satisfaction", 77.5, 15.5],
      ["financial", 100, 15],
    ]);
    expect(e.score).toBe(68.7);
    expect(e.band).toBe("yellow");
    expect(e.dropped).toEqual([]);
    expect(e.evidence).toMatchObject({
      licensed_seats: 20,
      usage_days_with_data_30d: 30,
      events_30d: 360,
      events_prior_30d: 300,
      activity_ids_30d: ["act_hs_1", "act_hs_2"],
      email_opens_30d: 1,
      open_urgent_high_ticket_ids: ["tkt_hs_urgent"],
      tickets_created_30d: 4,
      latest_nps_response_id: "srv_hs_nps",
      csat_responses_90d: 2,
      payments_90d: 1,
      problem_payment_ids_90d: [],
    });
    // 70 − 68.7 = 1.3 points: usage +4.33 normalized points
    expect(e.next_band_up).toMatchObject({ component: "usage", normalized_points: 4.33 });
    expect(e.alert).toBeNull();
    const stored = await env.DB.prepare(
      "SELECT score, band, components FROM health_scores WHERE workspace_id = ?1 AND account_id = 'acc_hs_a' AND day = ?2",
    )
      .bind(WS, today)
      .first<{ score: number; band: string; components: string }>();
    expect([stored?.score, stored?.band]).toEqual([68.7, "yellow"]);
    // Stored as an array of components, the shape get_account_overview reads back.
    const components = JSON.parse(stored?.components ?? "null") as { component: string; contribution: number }[];
    expect(components.map((c) => [c.component, c.contribution])).toEqual([
      ["usage", 19.5],
      ["engagement", 10],
      ["support", 8.7],
      ["satisfaction", 15.5],
      ["financial", 15],
    ]);
    const account = await env.DB.prepare(
      "SELECT health_score, health_band FROM accounts WHERE id = 'acc_hs_a'",
    ).first();
    expect(account).toEqual({ health_score: 68.7, health_band: "yellow" });
  });

  it("drops components without data and raises one alert across two runs the same day", async () => {
    captureSends();
    const first = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "acc_hs_b" });
    const e = first.explanation as Explanation;
    expect(e.dropped.map((d) => d.component)).toEqual(["usage", "satisfaction", "financial"]);
    // engagement 0 touchpoints → 0, support no tickets → 100; (0 × 20 + 100 × 15) / 35 = 42.857
    expect(e.components.map((c) => c.weight_effective)).toEqual([0, 57.14, 42.86, 0, 0]);
    expect(e.score).toBe(42.86);
    expect(e.band).toBe("yellow");
    // 42.86 − 80 = −37.14 over 7 days
    expect(e.trend_7d).toBe(-37.14);
    expect(e.alert).toMatchObject({ created: true, slack_queued: true, task_id: `tsk_health_acc_hs_b_${today}` });
    const second = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "acc_hs_b" });
    expect(second.explanation?.alert).toMatchObject({ created: false, slack_queued: false });
    const tasks = await env.DB.prepare(
      "SELECT title FROM tasks WHERE workspace_id = ?1 AND account_id = 'acc_hs_b' AND source = 'health_alert'",
    )
      .bind(WS)
      .all();
    expect(tasks.results).toEqual([{ title: "Health fell green → yellow: Beta" }]);
    expect(sends).toEqual([
      {
        type: "slack_alert",
        workspaceId: WS,
        idempotencyKey: `health:acc_hs_b:${today}`,
        text: `Health alert for Beta: band green (75 on ${day(-1)}) → yellow (42.86).`,
      },
    ]);
  });

  it("alerts on a drop of more than alert_drop points in 7 days without a band change", async () => {
    captureSends();
    const answer = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "acc_hs_c" });
    // No data beyond engagement 0 and support 100: 42.86, still yellow; 42.86 − 65 = −22.14 < −15
    expect([answer.explanation?.score, answer.explanation?.band, answer.explanation?.trend_7d]).toEqual([
      42.86,
      "yellow",
      -22.14,
    ]);
    expect(answer.alerts_created).toBe(1);
    const task = await env.DB.prepare("SELECT title, description FROM tasks WHERE account_id = 'acc_hs_c'").first();
    expect(task).toEqual({
      title: "Health dropped 22.14 points in 7 days: Gamma",
      description: "Health alert: score 65 → 42.86 in 7 days (alert drop 15)",
    });
    expect(sends).toHaveLength(1);
  });

  it("filters many accounts by segment and refuses an ambiguous selection", async () => {
    captureSends();
    const answer = await callOk<ScoreAnswer>(client, "calculate_health_score", { segment: "enterprise" });
    expect(answer.accounts.map((a) => [a.account_id, a.score, a.band])).toEqual([["acc_hs_a", 68.7, "yellow"]]);
    expect(answer.explanation).toBeNull();
    expect(await callError(client, "calculate_health_score", { account_id: "acc_hs_a", all: true })).toBe(
      "Give exactly one of: account_id, a filter (segment and/or owner), or all=true.",
    );
    expect(await callError(client, "calculate_health_score", { account_id: "acc_nope" })).toContain(
      'No account with id "acc_nope"',
    );
  });

  it("recalculating many accounts twice stores identical rows", async () => {
    captureSends();
    const read = () =>
      env.DB.prepare(
        "SELECT account_id, day, score, band, components, model_version, created_at FROM health_scores WHERE workspace_id = ?1 ORDER BY account_id, day",
      )
        .bind(WS)
        .all();
    const first = await callOk<ScoreAnswer>(client, "calculate_health_score", { all: true, limit: 1 });
    expect(first.accounts.map((a) => a.account_id)).toEqual(["acc_hs_a"]);
    expect(first.next_cursor).not.toBeNull();
    const rest = await callOk<ScoreAnswer>(client, "calculate_health_score", { all: true, cursor: first.next_cursor });
    expect(rest.accounts.map((a) => [a.account_id, a.score, a.band])).toEqual([["acc_hs_b", 42.86, "yellow"]]);
    const before = await read();
    await callOk<ScoreAnswer>(client, "calculate_health_score", { all: true });
    expect((await read()).results).toEqual(before.results);
    expect(sends).toEqual([]);
  });
  it("scores with the preset of the workspace settings and says so", async () => {
    captureSends();
    await env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1")
      .bind(WS, JSON.stringify({ health: { preset: "totango_style" } }))
      .run();
    const answer = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "acc_hs_a" });
    expect(answer.preset).toBe("totango_style");
    // usage 60 × 0.7 + 100 × 0.3 = 72; engagement, support, satisfaction 60; financial 100 → 69.6
    expect(answer.explanation?.components.map((c) => c.normalized)).toEqual([72, 60, 60, 60, 100]);
    expect(answer.explanation?.score).toBe(69.6);
  });

  it("scores an account with its segment's scorecard and the others with the workspace model", async () => {
    captureSends();
    const usageOnly = { usage: 100, engagement: 0, support: 0, satisfaction: 0, financial: 0 };
    await env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1")
      .bind(
        WS,
        JSON.stringify({
          health: {
            scorecards: [{ segment: "enterprise", weights: usageOnly, bands: { red_below: 50, green_from: 60 } }],
          },
        }),
      )
      .run();
    const a = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "acc_hs_a" });
    // Only usage carries weight: its normalized 65 is the score, green from 60 on this scorecard.
    expect(a.explanation).toMatchObject({
      scorecard: "enterprise",
      preset: "balanced",
      bands: { red_below: 50, green_from: 60 },
      score: 65,
      band: "green",
    });
    expect(a.explanation?.components.map((c) => c.weight_effective)).toEqual([100, 0, 0, 0, 0]);
    const b = await callOk<ScoreAnswer>(client, "calculate_health_score", { account_id: "acc_hs_b" });
    expect(b.explanation).toMatchObject({ scorecard: null, score: 42.86, band: "yellow" });
    await env.DB.prepare("UPDATE workspaces SET settings = '{}' WHERE id = ?1").bind(WS).run();
  });
});
