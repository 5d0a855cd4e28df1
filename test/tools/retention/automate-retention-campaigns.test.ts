import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { afterHealthChunk } from "../../../src/tools/health/after-health";
import { runCampaignsForChunk } from "../../../src/tools/retention/campaign-runs";
import { type CampaignStep, dueStepIndexes, orderSteps } from "../../../src/tools/retention/domain/campaign-rules";
import { historicalRuleSql } from "../../../src/tools/retention/queries/triggers";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_retcmp";
const REPORT_WS = "ws_retcmp-report";
const CASEY = "usr_retcmp_casey";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);
const ACCOUNTS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"];

function captureJobs(): unknown[] {
  const sent: unknown[] = [];
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async (body: unknown) => {
    sent.push(body);
    return { metadata: { metrics: { backlogCount: sent.length, backlogBytes: 0 } } };
  });
  return sent;
}

const health = (ws: string, account: string, d: string, score: number, band: string) =>
  insert("health_scores", { workspace_id: ws, account_id: account, day: d, score, band });

async function count(sql: string, ...params: string[]) {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

interface Campaign {
  id: string;
  status: string;
  trigger_text: string[];
  steps: CampaignStep[];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("campaign steps (pure)", () => {
  it("orders steps by day offset and finds every due step from the next one", () => {
    const task = (day_offset: number, title: string): CampaignStep => ({ kind: "task", day_offset, title });
    const steps = orderSteps([task(7, "c"), task(0, "a"), task(3, "b"), task(0, "a2")]);
    expect(steps.map((s) => (s.kind === "task" ? s.title : ""))).toEqual(["a", "a2", "b", "c"]);
    expect(dueStepIndexes(steps, 0, 0)).toEqual([0, 1]);
    expect(dueStepIndexes(steps, 2, 2)).toEqual([]);
    expect(dueStepIndexes(steps, 2, 10)).toEqual([2, 3]);
    expect(dueStepIndexes(steps, 4, 10)).toEqual([]);
  });
});

describe("automate_retention_campaigns", () => {
  let csm: Client;
  let viewer: Client;
  let reportViewer: Client;

  beforeAll(async () => {
    const c = await createWorkspace("retcmp", "csm");
    const v = await createWorkspace("retcmp", "viewer");
    const r = await createWorkspace("retcmp-report", "viewer");
    csm = await connectClient(c.key, "?toolsets=retention");
    viewer = await connectClient(v.key, "?toolsets=retention");
    reportViewer = await connectClient(r.key, "?toolsets=retention");
    const account = (id: string, extra: Record<string, string | number | null>) =>
      insert("accounts", { id, workspace_id: WS, name: `Acct ${id}`, owner_user_id: CASEY, arr: 1000, ...extra });
    const champion = (id: string, accountId: string, extra: Record<string, number> = { is_champion: 1 }) =>
      insert("contacts", {
        id,
        workspace_id: WS,
        account_id: accountId,
        name: `Person ${id}`,
        email: `${id}@cust.test`,
        ...extra,
      });
    const factors = JSON.stringify([
      { factor: "champion_gone", value: 1, standardized: 2, coefficient: 0.5, contribution: 1, flagged: true },
      { factor: "tickets_90d", value: 9, standardized: 2, coefficient: 0.5, contribution: 1, flagged: false },
    ]);
    await env.DB.batch([
      env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1").bind(
        WS,
        JSON.stringify({ email_sender: { name: "Vendor CS", email: "cs@vendor.test" } }),
      ),
      insert("users", { id: CASEY, workspace_id: WS, email: "casey@vendor.test", name: "Casey Morgan", role: "csm" }),
      // c1 fell yellow → red today; c2 has churn probability 0.8; c3's latest risk score flags champion_gone;
      // c4 lost 10 points since 7 days ago; c5 is red but churned; c6 matches nothing; c7 fell green → yellow.
      account("c1", { health_band: "red", churn_probability: 0.2 }),
      account("c2", { health_band: "green", churn_probability: 0.8 }),
      account("c3", { health_band: "yellow", churn_probability: 0.1 }),
      account("c4", { health_band: "green", churn_probability: 0.1 }),
      account("c5", { health_band: "red", churn_probability: 0.9, status: "churned" }),
      account("c6", { health_band: "green", churn_probability: 0.1 }),
      account("c7", { health_band: "yellow", churn_probability: 0.1 }),
      health(WS, "c1", day(-1), 50, "yellow"),
      health(WS, "c1", day(0), 35, "red"),
      health(WS, "c4", day(-7), 80, "green"),
      health(WS, "c4", day(0), 70, "green"),
      health(WS, "c5", day(-1), 50, "yellow"),
      health(WS, "c5", day(0), 30, "red"),
      health(WS, "c7", day(-1), 75, "green"),
      health(WS, "c7", day(0), 60, "yellow"),
      insert("risk_scores", {
        workspace_id: WS,
        account_id: "c3",
        day: day(-1),
        model_id: "rm_1",
        probability: 0.1,
        factors,
      }),
      insert("risk_scores", {
        workspace_id: WS,
        account_id: "c6",
        day: day(-1),
        model_id: "rm_1",
        probability: 0.1,
        factors: factors.replace('"flagged":true', '"flagged":false'),
      }),
      champion("k1", "c1"),
      // c2's champion left; its decision maker is the recipient.
      champion("k2a", "c2", { is_champion: 1 }),
      champion("k2b", "c2", { is_decision_maker: 1 }),
      env.DB.prepare("UPDATE contacts SET left_at = ?2 WHERE id = ?1").bind("k2a", day(-30)),
      champion("k3", "c3"),
      champion("k4", "c4"),
    ]);
  });

  beforeEach(() => {
    captureJobs();
  });

  const create = (args: Record<string, unknown>) =>
    callOk<{ campaign: Campaign }>(csm, "automate_retention_campaigns", { action: "create", ...args });

  it("enrolls once per account and campaign and runs each step once, only after confirmed activation", async () => {
    const { campaign } = await create({
      name: "Red alert",
      trigger: [
        { rule: "band_fell_to", band: "red" },
        { rule: "churn_probability_at_least", value: 0.7 },
      ],
      steps: [
        { day_offset: 7, kind: "task", title: "Review the save plan" },
        {
          day_offset: 0,
          kind: "email",
          subject: "{{account.name}}: can we help?",
          body: "Hi {{contact.name}}, {{csm.name}} here.",
        },
        { day_offset: 0, kind: "task", title: "Call {{contact.name}} of {{account.name}} ({{sender.name}})" },
        { day_offset: 3, kind: "email", subject: "Checking in, {{contact.name}}", body: "Any news? {{csm.name}}" },
      ],
    });
    const id = campaign.id;
    expect(campaign.status).toBe("paused");
    expect(campaign.trigger_text).toEqual(["health band fell to red", "churn probability ≥ 0.7"]);
    expect(campaign.steps.map((s) => s.day_offset)).toEqual([0, 0, 3, 7]);

    // Paused: the nightly chunk enrolls nobody.
    await runCampaignsForChunk(env, WS, ACCOUNTS, today);
    expect(await count("SELECT count(*) AS n FROM campaign_enrollments WHERE workspace_id = ?1", WS)).toBe(0);

    // Activation needs the token of a dry run.
    expect(
      await callError(csm, "automate_retention_campaigns", { action: "activate", campaign_id: id, dry_run: false }),
    ).toContain("confirmation_token");
    const preview = await callOk<{
      preview: {
        matching_accounts: number;
        emails_today: number;
        tasks_today: number;
        accounts_without_recipient: number;
        accounts: { account_id: string; matched: Record<string, unknown> }[];
      };
      confirmation: { token: string };
    }>(csm, "automate_retention_campaigns", { action: "activate", campaign_id: id });
    expect(preview.preview).toEqual({
      matching_accounts: 2,
      emails_today: 2,
      tasks_today: 2,
      accounts_without_recipient: 0,
      accounts: [
        {
          account_id: "c1",
          name: "Acct c1",
          matched: { rule: "band_fell_to", band_before: "yellow", band_today: "red" },
        },
        {
          account_id: "c2",
          name: "Acct c2",
          matched: { rule: "churn_probability_at_least", threshold: 0.7, churn_probability: 0.8 },
        },
      ],
    });
    expect(
      (await callOk<{ campaign: Campaign }>(csm, "automate_retention_campaigns", { action: "get", campaign_id: id }))
        .campaign.status,
    ).toBe("paused");
    expect(await count("SELECT count(*) AS n FROM outbox_messages WHERE workspace_id = ?1", WS)).toBe(0);

    const activated = await callOk<{
      campaign: Campaign;
      enrolled: { new_enrollments: number }[];
      steps_run: { emails_queued: number; tasks_created: number }[];
    }>(csm, "automate_retention_campaigns", {
      action: "activate",
      campaign_id: id,
      confirmation_token: preview.confirmation.token,
    });
    expect(activated.campaign.status).toBe("active");
    expect(activated.enrolled).toEqual([{ campaign_id: id, new_enrollments: 2 }]);
    expect(activated.steps_run[0]).toMatchObject({ emails_queued: 2, tasks_created: 2, emails_without_recipient: 0 });

    const { results: emails } = await env.DB.prepare(
      "SELECT account_id, to_email, subject, body_text, origin, idempotency_key FROM outbox_messages WHERE workspace_id = ?1 ORDER BY account_id",
    )
      .bind(WS)
      .all();
    expect(emails).toEqual([
      {
        account_id: "c1",
        to_email: "k1@cust.test",
        subject: "Acct c1: can we help?",
        body_text: "Hi Person k1, Casey Morgan here.",
        origin: `campaign:${id}`,
        idempotency_key: `campaign:enr_${id}_c1:0`,
      },
      {
        account_id: "c2",
        to_email: "k2b@cust.test",
        subject: "Acct c2: can we help?",
        body_text: "Hi Person k2b, Casey Morgan here.",
        origin: `campaign:${id}`,
        idempotency_key: `campaign:enr_${id}_c2:0`,
      },
    ]);
    // Task titles are filled per account; a variable without a value says so instead of staying a placeholder.
    const { results: titles } = await env.DB.prepare(
      "SELECT account_id, title FROM tasks WHERE workspace_id = ?1 AND source = ?2 ORDER BY account_id",
    )
      .bind(WS, `campaign:${id}`)
      .all();
    expect(titles).toEqual([
      { account_id: "c1", title: "Call Person k1 of Acct c1 ([no sender.name])" },
      { account_id: "c2", title: "Call Person k2b of Acct c2 ([no sender.name])" },
    ]);
    expect(
      await callError(csm, "automate_retention_campaigns", {
        action: "create",
        name: "Typo",
        trigger: [{ rule: "band_fell_to", band: "red" }],
        steps: [{ day_offset: 0, kind: "task", title: "Call {{account.nmae}}" }],
      }),
    ).toMatch(/^Step 1 title uses unknown template variable\(s\) \{\{account\.nmae\}\}/);
    const snapshot = await env.DB.prepare(
      "SELECT trigger_snapshot, next_step, status FROM campaign_enrollments WHERE workspace_id = ?1 AND account_id = 'c1'",
    )
      .bind(WS)
      .first<{ trigger_snapshot: string; next_step: number; status: string }>();
    expect(JSON.parse(snapshot?.trigger_snapshot ?? "{}")).toEqual({
      rule: "band_fell_to",
      band_before: "yellow",
      band_today: "red",
      day: today,
    });
    expect(snapshot).toMatchObject({ next_step: 2, status: "active" });

    // A redelivered chunk, a second run and an evaluation change nothing.
    await runCampaignsForChunk(env, WS, ACCOUNTS, today);
    await runCampaignsForChunk(env, WS, ACCOUNTS, today);
    const evaluated = await callOk<{ enrolled: { new_enrollments: number }[]; steps_run: Record<string, number>[] }>(
      csm,
      "automate_retention_campaigns",
      { action: "evaluate" },
    );
    expect(evaluated.enrolled).toEqual([{ campaign_id: id, new_enrollments: 0 }]);
    // Only enrollments with a step due are read: the next steps are 3 days out.
    expect(evaluated.steps_run[0]).toMatchObject({ enrollments_checked: 0, emails_queued: 0, tasks_created: 0 });
    const enrollments = () =>
      count("SELECT count(*) AS n FROM campaign_enrollments WHERE workspace_id = ?1 AND campaign_id = ?2", WS, id);
    const outbox = () => count("SELECT count(*) AS n FROM outbox_messages WHERE workspace_id = ?1", WS);
    const tasks = () =>
      count("SELECT count(*) AS n FROM tasks WHERE workspace_id = ?1 AND source = ?2", WS, `campaign:${id}`);
    expect([await enrollments(), await outbox(), await tasks()]).toEqual([2, 2, 2]);

    // Day 3: the second email, once; day 7: the last task, then the enrollment is complete.
    await runCampaignsForChunk(env, WS, ACCOUNTS, day(3));
    await runCampaignsForChunk(env, WS, ACCOUNTS, day(3));
    expect([await enrollments(), await outbox(), await tasks()]).toEqual([2, 4, 2]);
    await runCampaignsForChunk(env, WS, ACCOUNTS, day(7));
    await runCampaignsForChunk(env, WS, ACCOUNTS, day(7));
    expect([await enrollments(), await outbox(), await tasks()]).toEqual([2, 4, 4]);
    const { results: states } = await env.DB.prepare(
      "SELECT account_id, next_step, status FROM campaign_enrollments WHERE workspace_id = ?1 AND campaign_id = ?2 ORDER BY account_id",
    )
      .bind(WS, id)
      .all();
    expect(states).toEqual([
      { account_id: "c1", next_step: 4, status: "completed" },
      { account_id: "c2", next_step: 4, status: "completed" },
    ]);
  });

  it("keeps a paused campaign from enrolling and binds the token to the trigger and steps", async () => {
    const { campaign } = await create({
      name: "Champion watch",
      trigger: [
        { rule: "factor_flagged", factor: "champion_gone" },
        { rule: "health_drop_at_least", points: 10 },
      ],
      steps: [{ day_offset: 0, kind: "task", title: "Find a new champion" }],
    });
    const id = campaign.id;
    await runCampaignsForChunk(env, WS, ACCOUNTS, today);
    await callOk(csm, "automate_retention_campaigns", { action: "evaluate" });
    expect(await count("SELECT count(*) AS n FROM campaign_enrollments WHERE campaign_id = ?1", id)).toBe(0);

    const first = await callOk<{ confirmation: { token: string } }>(csm, "automate_retention_campaigns", {
      action: "activate",
      campaign_id: id,
    });
    // Changing the steps after the dry run makes its token refuse.
    await callOk(csm, "automate_retention_campaigns", {
      action: "update",
      campaign_id: id,
      steps: [{ day_offset: 1, kind: "task", title: "Find a new champion" }],
    });
    expect(
      await callError(csm, "automate_retention_campaigns", {
        action: "activate",
        campaign_id: id,
        confirmation_token: first.confirmation.token,
      }),
    ).toContain("does not match this payload");
    const second = await callOk<{
      preview: { accounts: { account_id: string; matched: unknown }[]; tasks_today: number };
    }>(csm, "automate_retention_campaigns", { action: "activate", campaign_id: id });
    expect(second.preview.tasks_today).toBe(0);
    expect(second.preview.accounts).toEqual([
      { account_id: "c3", name: "Acct c3", matched: { rule: "factor_flagged", factor: "champion_gone", value: 1 } },
      {
        account_id: "c4",
        name: "Acct c4",
        matched: { rule: "health_drop_at_least", points: 10, score_7d_ago: 80, score_today: 70 },
      },
    ]);
    await callOk(csm, "automate_retention_campaigns", {
      action: "activate",
      campaign_id: id,
      confirmation_token: (
        await callOk<{ confirmation: { token: string } }>(csm, "automate_retention_campaigns", {
          action: "activate",
          campaign_id: id,
        })
      ).confirmation.token,
    });
    expect(await count("SELECT count(*) AS n FROM campaign_enrollments WHERE campaign_id = ?1", id)).toBe(2);

    // Updating the steps of an active campaign pauses it; paused, it enrolls nobody new.
    const updated = await callOk<{ campaign: Campaign }>(csm, "automate_retention_campaigns", {
      action: "update",
      campaign_id: id,
      trigger: [{ rule: "band_is", band: "yellow" }],
    });
    expect(updated.campaign.status).toBe("paused");
    await runCampaignsForChunk(env, WS, ACCOUNTS, today);
    expect(await count("SELECT count(*) AS n FROM campaign_enrollments WHERE campaign_id = ?1", id)).toBe(2);

    expect(
      await callError(csm, "automate_retention_campaigns", {
        action: "create",
        name: "Bad",
        trigger: [{ rule: "band_is", band: "red" }],
        steps: [{ day_offset: 0, kind: "email", subject: "Hi {{contact.nickname}}", body: "x" }],
      }),
    ).toContain("{{contact.nickname}}");
    await expect(
      viewer.callTool({ name: "automate_retention_campaigns", arguments: { action: "evaluate" } }),
    ).rejects.toMatchObject({ code: 403 });
    const list = await callOk<{ campaigns: Campaign[] }>(viewer, "automate_retention_campaigns", { action: "list" });
    expect(list.campaigns.map((c) => c.id)).toContain(id);
  });

  it("runs from the nightly hook after risk scoring, idempotently", async () => {
    const WIRE = "ws_retcmp-wire";
    await createWorkspace("retcmp-wire");
    await env.DB.batch([
      insert("accounts", { id: "w1", workspace_id: WIRE, name: "Wired", health_band: "red" }),
      insert("accounts", { id: "w2", workspace_id: WIRE, name: "Fine", health_band: "green" }),
      insert("retention_campaigns", {
        id: "cmp_wire",
        workspace_id: WIRE,
        name: "Red accounts",
        status: "active",
        trigger: '[{"rule":"band_is","band":"red"}]',
        steps: '[{"day_offset":0,"kind":"task","title":"Call them"}]',
      }),
    ]);
    await afterHealthChunk(env, WIRE, ["w1", "w2"], today);
    await afterHealthChunk(env, WIRE, ["w1", "w2"], today);
    const { results } = await env.DB.prepare(
      "SELECT e.account_id, e.status, t.id AS task_id, t.title FROM campaign_enrollments e LEFT JOIN tasks t ON t.workspace_id = e.workspace_id AND t.account_id = e.account_id WHERE e.workspace_id = ?1",
    )
      .bind(WIRE)
      .all();
    expect(results).toEqual([
      { account_id: "w1", status: "completed", task_id: "tsk_cmp_enr_cmp_wire_w1_0", title: "Call them" },
    ]);
  });

  it("enrolls accounts that use the product but not a feature, and finds when that began in history", async () => {
    const ADOPT = "ws_retcmp-adopt";
    await createWorkspace("retcmp-adopt");
    const used = (account: string, offset: number, feature?: string) =>
      feature
        ? insert("usage_feature_daily", {
            workspace_id: ADOPT,
            account_id: account,
            day: day(offset),
            feature,
            events: 3,
            active_users: 1,
          })
        : insert("usage_daily", {
            workspace_id: ADOPT,
            account_id: account,
            day: day(offset),
            events: 5,
            active_users: 2,
          });
    await env.DB.batch([
      // a1 uses the product, never reports; a2 used reports 10 days ago; a3 has no usage in 90 days;
      // a4 used reports 120 days ago only.
      ...["a1", "a2", "a3", "a4"].map((id) => insert("accounts", { id, workspace_id: ADOPT, name: `Acct ${id}` })),
      used("a1", -5),
      used("a2", -5),
      used("a2", -10, "reports"),
      used("a3", -200),
      used("a4", -5),
      used("a4", -120, "reports"),
      insert("retention_campaigns", {
        id: "cmp_adopt",
        workspace_id: ADOPT,
        name: "Reports adoption",
        status: "active",
        trigger: '[{"rule":"feature_not_adopted","feature":"reports","days":90}]',
        steps: '[{"day_offset":0,"kind":"task","title":"Show them reports"}]',
      }),
    ]);
    await afterHealthChunk(env, ADOPT, ["a1", "a2", "a3", "a4"], today);
    const { results } = await env.DB.prepare(
      "SELECT account_id, trigger_snapshot FROM campaign_enrollments WHERE workspace_id = ?1 ORDER BY account_id",
    )
      .bind(ADOPT)
      .all<{ account_id: string; trigger_snapshot: string }>();
    expect(results.map((r) => [r.account_id, JSON.parse(r.trigger_snapshot)])).toEqual([
      ["a1", { rule: "feature_not_adopted", feature: "reports", days: 90, day: today }],
      ["a4", { rule: "feature_not_adopted", feature: "reports", days: 90, day: today }],
    ]);
    const { sql, value } = historicalRuleSql({ rule: "feature_not_adopted", feature: "reports", days: 90 });
    const events = JSON.stringify(["a1", "a2", "a4"].map((a) => ({ a, d: today })));
    const history = await env.DB.prepare(
      `WITH ev(account_id, event_day) AS (SELECT value ->> '$.a', value ->> '$.d' FROM json_each(?2)) ${sql} ORDER BY 1`,
    )
      .bind(ADOPT, events, 180, value)
      .all();
    // a1 never used it: held through the 180-day lookback; a4's last use 120 days ago + 90 days.
    expect(history.results).toEqual([
      { account_id: "a1", event_day: today, first_day: day(-180), last_day: today },
      { account_id: "a4", event_day: today, first_day: day(-30), last_day: today },
    ]);
  });

  it("reports enrollments, emails, responses and retention against comparable accounts exactly", async () => {
    const CMP = "cmp_report";
    const account = (id: string, churned: number | null) =>
      insert("accounts", {
        id,
        workspace_id: REPORT_WS,
        name: `Acct ${id}`,
        status: churned === null ? "active" : "churned",
        churned_at: churned === null ? null : `${day(churned)}T12:00:00.000Z`,
      });
    const enrollment = (accountId: string, enrolled: number, status: string) =>
      insert("campaign_enrollments", {
        id: `enr_${CMP}_${accountId}`,
        workspace_id: REPORT_WS,
        campaign_id: CMP,
        account_id: accountId,
        enrolled_at: `${day(enrolled)}T03:00:00.000Z`,
        trigger_snapshot: "{}",
        status,
        next_step: 1,
      });
    const email = (id: string, accountId: string, status: string, origin: string, opened: boolean, clicked: boolean) =>
      insert("outbox_messages", {
        id,
        workspace_id: REPORT_WS,
        idempotency_key: id,
        account_id: accountId,
        to_email: "x@cust.test",
        subject: "s",
        body_text: "b",
        status,
        origin,
        opened_at: opened ? `${day(-5)}T00:00:00Z` : null,
        clicked_at: clicked ? `${day(-5)}T00:00:00Z` : null,
      });
    await env.DB.batch([
      insert("retention_campaigns", {
        id: CMP,
        workspace_id: REPORT_WS,
        name: "Report me",
        status: "active",
        trigger: '[{"rule":"band_is","band":"red"}]',
        steps: '[{"day_offset":0,"kind":"task","title":"t"}]',
      }),
      // Enrolled: r1 (red, churned 60 days after enrolling), r2 (red, stays), r3 (yellow, churned 95 days after), r4 (too recent).
      account("r1", -60),
      account("r2", null),
      account("r3", -5),
      account("r4", null),
      enrollment("r1", -120, "completed"),
      enrollment("r2", -120, "completed"),
      enrollment("r3", -100, "active"),
      enrollment("r4", -10, "active"),
      health(REPORT_WS, "r1", day(-120), 30, "red"),
      health(REPORT_WS, "r2", day(-120), 35, "red"),
      health(REPORT_WS, "r3", day(-100), 50, "yellow"),
      health(REPORT_WS, "r4", day(-10), 20, "red"),
      // Comparable: n1 (red on day −120, churned 20 days later), n2 (red, stays), n3 (yellow on −100, stays),
      // n7 (yellow on −100, churned 50 days later). Not comparable: n4 (green), n5 (churned before), n6 (only a recent day).
      account("n1", -100),
      account("n2", null),
      account("n3", null),
      account("n4", null),
      account("n5", -130),
      account("n6", null),
      account("n7", -50),
      health(REPORT_WS, "n1", day(-120), 30, "red"),
      health(REPORT_WS, "n2", day(-120), 30, "red"),
      health(REPORT_WS, "n2", day(-100), 30, "red"),
      health(REPORT_WS, "n3", day(-100), 55, "yellow"),
      health(REPORT_WS, "n4", day(-120), 90, "green"),
      health(REPORT_WS, "n5", day(-120), 30, "red"),
      health(REPORT_WS, "n6", day(-10), 30, "red"),
      health(REPORT_WS, "n7", day(-100), 45, "yellow"),
      email("o1", "r1", "opened", `campaign:${CMP}`, true, false),
      email("o2", "r2", "clicked", `campaign:${CMP}`, true, true),
      email("o3", "r3", "queued", `campaign:${CMP}`, false, false),
      email("o4", "r4", "bounced", `campaign:${CMP}`, false, false),
      email("o5", "r1", "opened", "manual", true, false),
      email("o6", "r4", "opened", "campaign:cmp_other", true, false),
      insert("activities", {
        id: "v1",
        workspace_id: REPORT_WS,
        account_id: "r3",
        kind: "call",
        direction: "inbound",
        subject: "Call",
        occurred_at: `${day(-90)}T10:00:00Z`,
      }),
      insert("activities", {
        id: "v2",
        workspace_id: REPORT_WS,
        account_id: "r4",
        kind: "call",
        direction: "inbound",
        subject: "Call",
        occurred_at: `${day(-20)}T10:00:00Z`,
      }),
      // The CSM's own call after r4 enrolled is not the customer responding (r4's inbound call came before).
      insert("activities", {
        id: "v3",
        workspace_id: REPORT_WS,
        account_id: "r4",
        kind: "call",
        direction: "outbound",
        subject: "Call",
        occurred_at: `${day(-5)}T10:00:00Z`,
      }),
    ]);
    const { report } = await callOk<{ report: unknown[] }>(reportViewer, "automate_retention_campaigns", {
      action: "report",
    });
    expect(report).toEqual([
      {
        campaign_id: CMP,
        name: "Report me",
        status: "active",
        enrolled: 4,
        active: 2,
        completed: 2,
        emails: { total: 4, queued: 1, sent: 2, opened: 2, clicked: 1, not_delivered: 1 },
        responses: 3,
        response_rate: 0.75,
        retention: {
          retention_days: 90,
          enrolled_on_or_before: day(-90),
          enrolled: { n: 3, retained: 2, retention_rate: 0.6667 },
          comparison: { n: 4, retained: 2, retention_rate: 0.5 },
        },
      },
    ]);
  });
});
