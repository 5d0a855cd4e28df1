import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jsonChunks } from "../../../src/platform/db/json-chunks";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, daysBetween } from "../../../src/platform/lib/time";
import { trainRiskModel } from "../../../src/tools/retention/domain/risk-model";
import { buildExamples, latestRiskModel, trainAndStore } from "../../../src/tools/retention/risk-scoring";

const TODAY = "2026-06-01";
const at = (day: string) => `${day}T12:00:00.000Z`;

/** Inserts rows into a table with one statement per JSON chunk. */
async function insertRows(table: string, rows: Record<string, string | number | null>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as object);
  const statements = jsonChunks(rows).map((chunk) =>
    env.DB.prepare(
      `INSERT INTO ${table} (${columns.join(", ")}) SELECT ${columns.map((c) => `value ->> '$.${c}'`).join(", ")} FROM json_each(?1)`,
    ).bind(chunk),
  );
  await env.DB.batch(statements);
}

/** Mulberry32: a small fixed-seed PRNG, so the fixtures are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One renewal point per account: usage trend, latest NPS and a departed champion as they stood
 * at the cut-off. `churn` decides each outcome from those; `afterCutoff` adds records dated after
 * the cut-off (before the renewal) that a leaking model would learn from.
 */
async function seedHistory(
  workspaceId: string,
  accounts: number,
  seed: number,
  churn: (features: { trend: number; nps: number; champion: boolean }, rng: () => number) => boolean,
  afterCutoff = false,
): Promise<void> {
  const rng = prng(seed);
  const rows = {
    accounts: [] as Record<string, string | number | null>[],
    contracts: [] as Record<string, string | number | null>[],
    usage_daily: [] as Record<string, string | number | null>[],
    survey_responses: [] as Record<string, string | number | null>[],
    contacts: [] as Record<string, string | number | null>[],
    payments: [] as Record<string, string | number | null>[],
  };
  for (let i = 0; i < accounts; i++) {
    const id = `${workspaceId}_acc_${i}`;
    const point = addDays("2026-05-01", -Math.floor(rng() * 900));
    const cutoff = addDays(point, -90);
    const trend = -0.6 + rng();
    const nps = Math.floor(rng() * 11);
    const champion = rng() < 0.2;
    const churned = churn({ trend, nps, champion }, rng);
    const arr = 5000 + Math.floor(rng() * 95_000);
    rows.accounts.push({ id, workspace_id: workspaceId, name: `Account ${i}`, arr: churned ? 0 : arr });
    rows.contracts.push({
      id: `${id}_ctr`,
      workspace_id: workspaceId,
      account_id: id,
      start_date: addDays(point, -365),
      end_date: point,
      status: "ended",
      arr,
      outcome: churned ? "churned" : "renewed",
      outcome_date: point,
    });
    rows.usage_daily.push(
      { workspace_id: workspaceId, account_id: id, day: addDays(cutoff, -10), events: Math.round(100 * (1 + trend)) },
      { workspace_id: workspaceId, account_id: id, day: addDays(cutoff, -40), events: 100 },
    );
    rows.survey_responses.push({
      id: `${id}_nps`,
      workspace_id: workspaceId,
      account_id: id,
      kind: "nps",
      score: nps,
      responded_at: at(addDays(cutoff, -5)),
    });
    rows.contacts.push({
      id: `${id}_champ`,
      workspace_id: workspaceId,
      account_id: id,
      name: "Champion",
      is_champion: 1,
      left_at: champion ? at(addDays(cutoff, -20)) : afterCutoff && churned ? at(addDays(cutoff, 3)) : null,
    });
    if (afterCutoff) {
      // Outcome-revealing records between the cut-off and the renewal.
      rows.survey_responses.push({
        id: `${id}_nps_late`,
        workspace_id: workspaceId,
        account_id: id,
        kind: "nps",
        score: churned ? 0 : 10,
        responded_at: at(addDays(cutoff, 10)),
      });
      rows.usage_daily.push({
        workspace_id: workspaceId,
        account_id: id,
        day: addDays(cutoff, 5),
        events: churned ? 0 : 500,
      });
      if (churned) {
        rows.payments.push({
          id: `${id}_pay`,
          workspace_id: workspaceId,
          account_id: id,
          external_id: `${id}_pay`,
          status: "failed",
          failed_at: at(addDays(cutoff, 5)),
          created_at: at(addDays(cutoff, 5)),
        });
      }
    }
  }
  await env.DB.prepare("INSERT INTO workspaces (id, slug, name) VALUES (?1, ?1, ?1)").bind(workspaceId).run();
  for (const [table, list] of Object.entries(rows)) await insertRows(table, list);
}

describe("training on a workspace's renewal history", () => {
  it("finds planted churn drivers: holdout AUC above 0.8", async () => {
    const ws = "ws_riskplanted";
    await seedHistory(ws, 450, 20261127, ({ trend, nps, champion }, rng) => {
      const logit = -2.5 - 6 * trend - 0.6 * (nps - 7) + 2 * (champion ? 1 : 0);
      return rng() < 1 / (1 + Math.exp(-logit));
    });
    const examples = await buildExamples(env, ws, TODAY);
    expect(examples).toHaveLength(450);
    const model = trainRiskModel(examples);
    const holdout = model.metrics.holdout;
    expect(model.kind).toBe("logistic");
    expect(holdout?.auc).toBeGreaterThan(0.8);
    expect(holdout?.train.n).toBe(337);
    expect(holdout?.test.n).toBe(113);
    expect((holdout?.train.to ?? "") <= (holdout?.test.from ?? "")).toBe(true);
    // The drivers carry the expected signs; factors without variation are left out.
    expect(model.coefficients.usage_trend_30d).toBeLessThan(0);
    expect(model.coefficients.latest_nps).toBeLessThan(0);
    expect(model.coefficients.champion_gone).toBeGreaterThan(0);
    expect(model.features.find((f) => f.factor === "tickets_90d")?.used).toBe(false);
    for (const bin of holdout?.calibration ?? []) {
      expect(bin.mean_predicted).toBeGreaterThanOrEqual(0);
      expect(bin.mean_predicted).toBeLessThanOrEqual(1);
    }
    expect(holdout?.calibration.reduce((n, b) => n + b.n, 0)).toBe(113);
  });

  it("learns nothing from outcome-revealing records after the cut-off: holdout AUC near 0.5", async () => {
    const ws = "ws_riskrandom";
    await seedHistory(ws, 450, 7, (_features, rng) => rng() < 0.4, true);
    const examples = await buildExamples(env, ws, TODAY);
    const model = trainRiskModel(examples);
    expect(model.kind).toBe("logistic");
    const value = model.metrics.holdout?.auc ?? 0;
    expect(value).toBeGreaterThan(0.35);
    expect(value).toBeLessThan(0.65);
    // The late payment failures never entered: the factor has no variation.
    expect(examples.every((e) => e.values.payment_failures_90d === 0)).toBe(true);
  });

  it("stores each training as the next version", async () => {
    const ws = "ws_riskplanted";
    const first = await trainAndStore(env, ws, { day: TODAY, trainedAt: new Date(at(TODAY)), trainedBy: "usr_x" });
    const second = await trainAndStore(env, ws, { day: TODAY, trainedAt: new Date(at(TODAY)), trainedBy: "usr_x" });
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(second).toMatchObject({ kind: "logistic", calibrated: true, horizon_days: 90, trained_by: "usr_x" });
    expect((await latestRiskModel(env, ws))?.id).toBe(second.id);
    // With a model stored, "only if none" stores nothing.
    const kept = await trainAndStore(env, ws, { day: TODAY, trainedAt: clock.now(), trainedBy: "x", onlyIfNone: true });
    expect(kept.version).toBe(2);
  });
});

describe("features as they stood at the cut-off", () => {
  const ws = "ws_riskleak";
  const account = "acc_rl_1";
  const point = "2026-01-01";
  const cutoff = addDays(point, -90);
  const daysBefore = (days: number) => at(addDays(cutoff, -days));

  it("uses only records dated strictly before the cut-off", async () => {
    await env.DB.prepare("INSERT INTO workspaces (id, slug, name) VALUES (?1, ?1, ?1)").bind(ws).run();
    await insertRows("accounts", [
      { id: account, workspace_id: ws, name: "Leak Test", arr: 20000, customer_since: "2024-06-01" },
    ]);
    await insertRows("products", [{ id: "prd_rl", workspace_id: ws, name: "Plan", kind: "plan" }]);
    await insertRows("contracts", [
      {
        id: "ctr_rl_1",
        workspace_id: ws,
        account_id: account,
        start_date: "2025-01-01",
        end_date: point,
        status: "ended",
        arr: 20000,
        outcome: "churned",
        outcome_date: point,
      },
    ]);
    await insertRows("contract_items", [
      { id: "cti_rl_1", workspace_id: ws, contract_id: "ctr_rl_1", product_id: "prd_rl", seats: 10 },
    ]);
    await insertRows("usage_daily", [
      { workspace_id: ws, account_id: account, day: addDays(cutoff, -10), events: 50, active_users: 4 },
      { workspace_id: ws, account_id: account, day: addDays(cutoff, -40), events: 100, active_users: 4 },
    ]);
    await insertRows("survey_responses", [
      { id: "sr_rl_nps", workspace_id: ws, account_id: account, kind: "nps", score: 9, responded_at: daysBefore(30) },
      { id: "sr_rl_csat", workspace_id: ws, account_id: account, kind: "csat", score: 4, responded_at: daysBefore(20) },
    ]);
    await insertRows("tickets", [
      {
        id: "tkt_rl_1",
        workspace_id: ws,
        account_id: account,
        subject: "s",
        priority: "urgent",
        created_at: daysBefore(15),
        updated_at: daysBefore(15),
      },
    ]);
    await insertRows("escalations", [
      {
        id: "esc_rl_1",
        workspace_id: ws,
        account_id: account,
        title: "t",
        severity: "high",
        sla_due_at: daysBefore(59),
        opened_at: daysBefore(60),
      },
    ]);
    await insertRows("health_scores", [
      { workspace_id: ws, account_id: account, day: addDays(cutoff, -1), score: 55, band: "yellow" },
      { workspace_id: ws, account_id: account, day: addDays(cutoff, -35), score: 70, band: "green" },
    ]);
    await insertRows("payments", [
      {
        id: "pay_rl_1",
        workspace_id: ws,
        account_id: account,
        external_id: "in_1",
        status: "failed",
        failed_at: daysBefore(20),
        created_at: daysBefore(20),
      },
    ]);
    await insertRows("contacts", [
      { id: "con_rl_1", workspace_id: ws, account_id: account, name: "Champ", is_champion: 1, left_at: null },
    ]);

    const [example] = await buildExamples(env, ws, TODAY);
    const expected = {
      usage_trend_30d: -0.5,
      usage_trend_90d: null,
      license_utilization: 0.4,
      health_score: 55,
      health_trend_30d: -15,
      tickets_90d: 1,
      escalations_90d: 2,
      latest_nps: 9,
      latest_csat: 4,
      champion_gone: 0,
      payment_failures_90d: 1,
      tenure_days: daysBetween("2024-06-01", cutoff),
      days_to_renewal: 90,
      arr_band: Math.log10(20000),
    };
    expect(example).toMatchObject({ id: `${account}@${point}`, point, cutoff, churned: 1 });
    expect(example?.values).toEqual(expected);

    // Between the cut-off (inclusive) and the renewal: a detractor NPS, payment failures (one
    // created before the cut-off but failing after it), a ticket, an escalation, a health score,
    // usage, a departed champion and a new contract.
    const on = (days: number) => at(addDays(cutoff, days));
    await insertRows("survey_responses", [
      {
        id: "sr_rl_late0",
        workspace_id: ws,
        account_id: account,
        kind: "nps",
        score: 0,
        responded_at: `${cutoff}T00:00:00.000Z`,
      },
      { id: "sr_rl_late1", workspace_id: ws, account_id: account, kind: "nps", score: 1, responded_at: on(10) },
      { id: "sr_rl_late2", workspace_id: ws, account_id: account, kind: "csat", score: 1, responded_at: on(11) },
    ]);
    await insertRows("payments", [
      {
        id: "pay_rl_2",
        workspace_id: ws,
        account_id: account,
        external_id: "in_2",
        status: "failed",
        failed_at: on(5),
        created_at: on(5),
      },
      {
        id: "pay_rl_3",
        workspace_id: ws,
        account_id: account,
        external_id: "in_3",
        status: "paid",
        failed_at: on(2),
        created_at: daysBefore(5),
      },
    ]);
    await insertRows("tickets", [
      {
        id: "tkt_rl_2",
        workspace_id: ws,
        account_id: account,
        subject: "s",
        priority: "high",
        created_at: on(0),
        updated_at: on(0),
      },
    ]);
    await insertRows("escalations", [
      {
        id: "esc_rl_2",
        workspace_id: ws,
        account_id: account,
        title: "t",
        severity: "critical",
        sla_due_at: on(2),
        opened_at: on(1),
      },
    ]);
    await insertRows("health_scores", [{ workspace_id: ws, account_id: account, day: cutoff, score: 10, band: "red" }]);
    await insertRows("usage_daily", [
      { workspace_id: ws, account_id: account, day: cutoff, events: 1000, active_users: 10 },
    ]);
    await insertRows("contacts", [
      { id: "con_rl_2", workspace_id: ws, account_id: account, name: "DM", is_decision_maker: 1, left_at: on(1) },
    ]);
    await insertRows("contracts", [
      {
        id: "ctr_rl_2",
        workspace_id: ws,
        account_id: account,
        start_date: addDays(cutoff, 1),
        end_date: "2027-01-01",
        status: "active",
        arr: 50000,
      },
    ]);
    const [again] = await buildExamples(env, ws, TODAY);
    expect(again?.values).toEqual(expected);

    // The day before the cut-off does count: the same check sees a change there.
    await insertRows("survey_responses", [
      {
        id: "sr_rl_edge",
        workspace_id: ws,
        account_id: account,
        kind: "nps",
        score: 2,
        responded_at: `${addDays(cutoff, -1)}T23:59:59.000Z`,
      },
    ]);
    await insertRows("contacts", [
      {
        id: "con_rl_3",
        workspace_id: ws,
        account_id: account,
        name: "Old champ",
        is_champion: 1,
        left_at: daysBefore(1),
      },
    ]);
    const [edge] = await buildExamples(env, ws, TODAY);
    expect(edge?.values).toEqual({ ...expected, latest_nps: 2, champion_gone: 1 });
  });
});
