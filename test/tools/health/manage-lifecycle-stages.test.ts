import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { median } from "../../../src/platform/lib/stats";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { readSettings } from "../../../src/records/settings";
import { computeStage, ruleMatches, stageSpans } from "../../../src/tools/health/domain/lifecycle";
import { PLAYBOOK_LIBRARY } from "../../../src/tools/retention/domain/playbooks";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";
import { lifecycleBook } from "./lifecycle-fixture";

const WS = "ws_healthlife";
const OTHER_WS = "ws_healthlife-other";
// Every date is relative to the day the test runs, as the tools count to the current UTC day.
const T = isoDay(clock.now());
const d = (days: number) => addDays(T, days);

let client: Client;
let viewerClient: Client;

function change(id: string, accountId: string, from: string | null, to: string, daysAgo: number) {
  return insert("account_stage_history", {
    id,
    workspace_id: WS,
    account_id: accountId,
    from_stage: from,
    to_stage: to,
    reason: "seed",
    changed_at: `${d(-daysAgo)}T00:00:00.000Z`,
  });
}

const rules = readSettings({}).lifecycle_rules;

describe("lifecycle rules (pure)", () => {
  const base = { status: "active", customerSince: "2026-01-01", renewalDate: null, healthBand: null };
  it("evaluates each rule kind", () => {
    // 2026-01-01 → 2026-03-01 = 59 days.
    expect(ruleMatches(base, { stage: "x", when: "contract_age_days_below", value: 60 }, "2026-03-01")).toBe(true);
    expect(ruleMatches(base, { stage: "x", when: "contract_age_days_below", value: 59 }, "2026-03-01")).toBe(false);
    const renewing = { ...base, renewalDate: "2026-03-31" }; // 30 days ahead of 2026-03-01
    expect(ruleMatches(renewing, { stage: "x", when: "renewal_within_days", value: 30 }, "2026-03-01")).toBe(true);
    expect(ruleMatches(renewing, { stage: "x", when: "renewal_within_days", value: 29 }, "2026-03-01")).toBe(false);
    expect(
      ruleMatches({ ...base, healthBand: "red" }, { stage: "x", when: "health_band_is", value: "red" }, "2026-03-01"),
    ).toBe(true);
    expect(ruleMatches(base, { stage: "x", when: "status_is", value: "churned" }, "2026-03-01")).toBe(false);
  });
  it("takes the first matching rule", () => {
    // Churned and 59 days old: rule 1 (status churned) wins over rule 2 (age < 90).
    expect(computeStage({ ...base, status: "churned" }, rules, "2026-03-01")).toEqual({ stage: "churned", rule: 1 });
    expect(computeStage(base, rules, "2026-03-01")).toEqual({ stage: "onboarding", rule: 2 });
    expect(computeStage({ ...base, status: "prospect", customerSince: null }, rules, "2026-03-01")).toBeNull();
  });
  it("computes spans and medians", () => {
    const spans = stageSpans(
      [
        { from_stage: null, to_stage: "onboarding", reason: null, changed_at: "2026-01-01T10:00:00Z" },
        { from_stage: "onboarding", to_stage: "adoption", reason: "r", changed_at: "2026-02-10T00:00:00Z" },
      ],
      "2026-03-01",
    );
    expect(spans.map((s) => [s.days_in_stage, s.current])).toEqual([
      [40, false],
      [19, true],
    ]);
    expect(median([30, 200, 30])).toBe(30);
    expect(median([1, 2, 3, 10])).toBe(2.5);
  });
});

beforeAll(async () => {
  const { key } = await createWorkspace("healthlife", "csm");
  const viewer = await createWorkspace("healthlife", "viewer");
  await createWorkspace("healthlife-other");
  await env.DB.batch([
    ...lifecycleBook(WS, OTHER_WS),
    change("h1", "c4", null, "onboarding", 200),
    change("h2", "c4", "onboarding", "at_risk", 70),
    change("h3", "c6", "adoption", "mature", 100),
  ]);
  client = await connectClient(key, "?toolsets=health");
  viewerClient = await connectClient(viewer.key, "?toolsets=health");
});

interface Evaluated {
  account_id: string;
  stored_stage: string;
  computed_stage: string | null;
  rule: number | null;
  differs: boolean;
}

describe("manage_lifecycle_stages", () => {
  it("evaluates stages against the stored ones without writing", async () => {
    const out = await callOk<{ accounts: Evaluated[] }>(client, "manage_lifecycle_stages", { action: "evaluate" });
    expect(out.accounts.map((a) => [a.account_id, a.computed_stage, a.rule, a.differs])).toEqual([
      ["c1", "churned", 1, true],
      ["c2", "onboarding", 2, false],
      ["c3", "renewal", 3, true],
      ["c4", "at_risk", 4, false],
      ["c5", "adoption", 5, true],
      ["c6", "mature", 6, false],
      ["c7", null, null, false],
    ]);
    const page = await callOk<{ accounts: Evaluated[]; next_cursor: string | null }>(
      client,
      "manage_lifecycle_stages",
      {
        action: "evaluate",
        limit: 4,
      },
    );
    expect(page.accounts).toHaveLength(4);
    const rest = await callOk<{ accounts: Evaluated[]; next_cursor: string | null }>(
      client,
      "manage_lifecycle_stages",
      {
        action: "evaluate",
        limit: 4,
        cursor: page.next_cursor,
      },
    );
    expect(rest.accounts.map((a) => a.account_id)).toEqual(["c5", "c6", "c7"]);
    expect(rest.next_cursor).toBeNull();
  });

  it("lists stages with counts, ARR and days in stage", async () => {
    const out = await callOk<{ stages: Record<string, unknown>[] }>(client, "manage_lifecycle_stages", {
      action: "list",
    });
    expect(out.stages).toEqual([
      // c3 from customer_since 200 days ago.
      {
        stage: "adoption",
        accounts: 1,
        arr: 300,
        median_days_in_stage: 200,
        mean_days_in_stage: 200,
        accounts_counted: 1,
        counted_from_customer_since: 1,
      },
      // c4 from its latest history row, 70 days ago.
      {
        stage: "at_risk",
        accounts: 1,
        arr: 400,
        median_days_in_stage: 70,
        mean_days_in_stage: 70,
        accounts_counted: 1,
        counted_from_customer_since: 0,
      },
      {
        stage: "mature",
        accounts: 1,
        arr: 600,
        median_days_in_stage: 100,
        mean_days_in_stage: 100,
        accounts_counted: 1,
        counted_from_customer_since: 0,
      },
      // c1 30, c2 30, c5 200 (c7 has no customer_since): median 30, mean 260 / 3 = 86.7; ARR 100+200+500+0.
      {
        stage: "onboarding",
        accounts: 4,
        arr: 800,
        median_days_in_stage: 30,
        mean_days_in_stage: 86.7,
        accounts_counted: 3,
        counted_from_customer_since: 3,
      },
    ]);
  });

  it("lists stuck accounts by default and overridden thresholds", async () => {
    const out = await callOk<{ stuck: { account_id: string; days_in_stage: number; threshold_days: number }[] }>(
      client,
      "manage_lifecycle_stages",
      { action: "stuck" },
    );
    // c3 adoption 200 > 180, c5 onboarding 200 > 90, c4 at_risk 70 > 60; c1/c2 30 ≤ 90; mature has no threshold.
    expect(out.stuck.map((s) => [s.account_id, s.days_in_stage, s.threshold_days])).toEqual([
      ["c3", 200, 180],
      ["c5", 200, 90],
      ["c4", 70, 60],
    ]);
    const relaxed = await callOk<{ stuck: { account_id: string }[] }>(client, "manage_lifecycle_stages", {
      action: "stuck",
      thresholds: { at_risk: 80 },
    });
    expect(relaxed.stuck.map((s) => s.account_id)).toEqual(["c3", "c5"]);
  });

  it("shows one account's history with durations", async () => {
    const out = await callOk<{ history: { to_stage: string; days_in_stage: number; current: boolean }[] }>(
      client,
      "manage_lifecycle_stages",
      { action: "history", account_id: "c4" },
    );
    // onboarding from T-200 to T-70 = 130 days; at_risk from T-70 to today = 70.
    expect(out.history.map((h) => [h.to_stage, h.days_in_stage, h.current])).toEqual([
      ["onboarding", 130, false],
      ["at_risk", 70, true],
    ]);
  });

  it("moves one account, then applies the rules once", async () => {
    const one = await callOk<{ moved_count: number }>(client, "manage_lifecycle_stages", {
      action: "move",
      account_id: "c2",
      stage: "adoption",
      reason: "kickoff done",
    });
    expect(one.moved_count).toBe(1);
    const applied = await callOk<{
      moved: { account_id: string; from_stage: string; to_stage: string; reason: string }[];
    }>(client, "manage_lifecycle_stages", { action: "move", apply_rules: true });
    const expected = [
      { account_id: "c1", from_stage: "onboarding", to_stage: "churned", reason: "rule:1" },
      { account_id: "c2", from_stage: "adoption", to_stage: "onboarding", reason: "rule:2" },
      { account_id: "c3", from_stage: "adoption", to_stage: "renewal", reason: "rule:3" },
      { account_id: "c5", from_stage: "onboarding", to_stage: "adoption", reason: "rule:5" },
    ];
    expect(applied.moved).toEqual(expected);
    const { results } = await env.DB.prepare(
      `SELECT account_id, from_stage, to_stage, reason FROM account_stage_history
        WHERE workspace_id = ?1 AND reason <> 'seed' ORDER BY reason = 'kickoff done' DESC, account_id`,
    )
      .bind(WS)
      .all();
    expect(results).toEqual([
      { account_id: "c2", from_stage: "onboarding", to_stage: "adoption", reason: "kickoff done" },
      ...expected,
    ]);
    const stored = await env.DB.prepare("SELECT id, lifecycle_stage FROM accounts WHERE workspace_id = ?1 ORDER BY id")
      .bind(WS)
      .all();
    expect(stored.results.map((r) => r.lifecycle_stage)).toEqual([
      "churned",
      "onboarding",
      "renewal",
      "at_risk",
      "adoption",
      "mature",
      "onboarding",
    ]);
    const again = await callOk<{ moved_count: number }>(client, "manage_lifecycle_stages", {
      action: "move",
      apply_rules: true,
    });
    expect(again.moved_count).toBe(0);
    const audit = await env.DB.prepare(
      "SELECT tool, action, target_id FROM audit_log WHERE workspace_id = ?1 ORDER BY rowid",
    )
      .bind(WS)
      .all();
    expect(audit.results).toEqual([
      { tool: "manage_lifecycle_stages", action: "move_stage", target_id: "c2" },
      { tool: "manage_lifecycle_stages", action: "apply_stage_rules", target_id: null },
      { tool: "manage_lifecycle_stages", action: "apply_stage_rules", target_id: null },
    ]);
    expect(
      await callError(client, "manage_lifecycle_stages", { action: "move", apply_rules: true, thresholds: { x: 1 } }),
    ).toContain("thresholds does not apply to action move");
  });

  it("opens the stage's playbook intervention when an account enters a stage that has one", async () => {
    await env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1")
      .bind(WS, JSON.stringify({ lifecycle_playbooks: { renewal: "renewal_rescue" } }))
      .run();
    const moved = await callOk<{ moved_count: number; interventions_opened: number }>(
      client,
      "manage_lifecycle_stages",
      { action: "move", account_id: "c6", stage: "renewal", reason: "renewal talks start" },
    );
    expect(moved).toMatchObject({ moved_count: 1, interventions_opened: 1 });
    const opened = await env.DB.prepare(
      "SELECT id, playbook, arr_at_open, status, reason FROM interventions WHERE workspace_id = ?1 AND account_id = 'c6'",
    )
      .bind(WS)
      .all<{ id: string; playbook: string; arr_at_open: number; status: string; reason: string }>();
    expect(opened.results.map(({ id: _, ...rest }) => rest)).toEqual([
      { playbook: "renewal_rescue", arr_at_open: 600, status: "open", reason: "entered stage renewal" },
    ]);
    const steps = PLAYBOOK_LIBRARY.renewal_rescue.steps;
    const stored = await env.DB.prepare(
      `SELECT s.position, s.kind, s.title, s.task_id IS NOT NULL AS has_task,
              (SELECT count(*) FROM tasks t WHERE t.id = s.task_id AND t.source = 'intervention') AS tasks
         FROM intervention_steps s WHERE s.intervention_id = ?1 ORDER BY s.position`,
    )
      .bind(opened.results[0]?.id)
      .all();
    expect(stored.results).toEqual(
      steps.map((step, i) => ({
        position: i + 1,
        kind: step.kind,
        title: step.title,
        has_task: step.kind === "task" ? 1 : 0,
        tasks: step.kind === "task" ? 1 : 0,
      })),
    );
    const back = await callOk<{ moved_count: number; interventions_opened: number }>(
      client,
      "manage_lifecycle_stages",
      {
        action: "move",
        account_id: "c6",
        stage: "mature",
        reason: "renewed",
      },
    );
    expect(back).toMatchObject({ moved_count: 1, interventions_opened: 0 });
    await env.DB.prepare("UPDATE workspaces SET settings = '{}' WHERE id = ?1").bind(WS).run();
  });

  it("refuses a viewer's move with 403 and reads other workspaces' accounts as missing", async () => {
    await expect(
      viewerClient.callTool({
        name: "manage_lifecycle_stages",
        arguments: { action: "move", account_id: "c2", stage: "x", reason: "y" },
      }),
    ).rejects.toMatchObject({ code: 403 });
    expect(await callError(client, "manage_lifecycle_stages", { action: "history", account_id: "cx" })).toContain("cx");
    expect(
      await callError(client, "manage_lifecycle_stages", { action: "move", account_id: "cx", stage: "x", reason: "y" }),
    ).toContain("cx");
  });
});
