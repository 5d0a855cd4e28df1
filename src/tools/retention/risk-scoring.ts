import { z } from "zod";
import { jsonChunks } from "../../platform/db/json-chunks";
import { clock } from "../../platform/lib/clock";
import { newId } from "../../platform/lib/ids";
import { addDays, daysBetween } from "../../platform/lib/time";
import type { CronJob } from "../../platform/queue/cron";
import { defineJob } from "../../platform/queue/jobs";
import { RISK_FACTORS, type RiskFactorName, type StoredRiskFactor } from "./domain/risk-factor-names";
import { emptyValues, type FactorValues, type Intervention, suggestIntervention } from "./domain/risk-library";
import {
  type AccountRisk,
  DEFAULT_HORIZON_DAYS,
  type ModelFeature,
  type ModelMetrics,
  type RiskModelSpec,
  type StoredRiskModel,
  scoreAccount,
  type TrainingExample,
  trainRiskModel,
} from "./domain/risk-model";

/** Points (example or account at a cut-off) whose factors one statement computes. */
export const RISK_FEATURE_CHUNK = 500;
/** The weekly retrain cron of wrangler.toml `[triggers]`. */
export const RISK_RETRAIN_CRON = "0 4 * * 1";
/** Most messages one `sendBatch` call carries. */
const SEND_BATCH_SIZE = 100;

/** One account (or past example) at a cut-off day: its factors use records dated strictly before it. */
export interface FactorPoint {
  /** Key of the point in the answer (an example id, or the account id). */
  id: string;
  account_id: string;
  /** `YYYY-MM-DD`; nothing dated on or after this day enters. */
  cutoff: string;
}

interface UsageRow {
  e: string;
  events_30: number;
  events_prior_30: number;
  events_90: number;
  events_prior_90: number;
  active_user_days_30: number;
  days_30: number;
}
interface ContractRow {
  e: string;
  arr: number;
  renewal: string | null;
  seats: number;
}
interface StateRow {
  e: string;
  customer_since: string | null;
  first_start: string | null;
  health_now: number | null;
  health_30: number | null;
  nps: number | null;
  csat: number | null;
  champions_gone: number;
}
interface CountRow {
  e: string;
  n: number;
  urgent?: number;
}

/**
 * The points of one statement, with their window bounds computed once per point: materialized,
 * because an inlined CTE would evaluate each `date()` once per joined row (six times per usage day).
 */
const POINTS = `WITH ex AS MATERIALIZED (
  SELECT value ->> '$.e' AS e, value ->> '$.a' AS a, value ->> '$.c' AS c,
         date(value ->> '$.c', '-30 days') AS d30, date(value ->> '$.c', '-60 days') AS d60,
         date(value ->> '$.c', '-90 days') AS d90, date(value ->> '$.c', '-180 days') AS d180
    FROM json_each(?2))`;

/**
 * Computes every factor of many points set-based: per chunk of {@link RISK_FEATURE_CHUNK}
 * points, one batch of six statements (usage, contracts in force, latest state, tickets,
 * escalations, payments) over a json_each list of (id, account, cut-off), each reading only
 * records dated strictly before its point's cut-off. Contracts in force at a cut-off: started
 * before it, ending on or after it, and not recorded as churned before it (a renewal signed
 * early leaves the term in force until its end).
 */
export async function computeFactorValues(
  env: Env,
  workspaceId: string,
  points: readonly FactorPoint[],
): Promise<Map<string, FactorValues>> {
  const out = new Map<string, FactorValues>();
  for (let i = 0; i < points.length; i += RISK_FEATURE_CHUNK) {
    const chunk = points.slice(i, i + RISK_FEATURE_CHUNK);
    const list = JSON.stringify(chunk.map((p) => ({ e: p.id, a: p.account_id, c: p.cutoff })));
    const [usageRes, contractRes, stateRes, ticketRes, escalationRes, paymentRes] = await env.DB.batch([
      env.DB.prepare(
        `${POINTS}
         SELECT ex.e,
                sum(CASE WHEN u.day >= ex.d30 THEN u.events ELSE 0 END) AS events_30,
                sum(CASE WHEN u.day >= ex.d60 AND u.day < ex.d30 THEN u.events ELSE 0 END) AS events_prior_30,
                sum(CASE WHEN u.day >= ex.d90 THEN u.events ELSE 0 END) AS events_90,
                sum(CASE WHEN u.day < ex.d90 THEN u.events ELSE 0 END) AS events_prior_90,
                sum(CASE WHEN u.day >= ex.d30 THEN u.active_users ELSE 0 END) AS active_user_days_30,
                sum(CASE WHEN u.day >= ex.d30 THEN 1 ELSE 0 END) AS days_30
           FROM ex CROSS JOIN usage_daily u
             ON u.workspace_id = ?1 AND u.account_id = ex.a AND u.day >= ex.d180 AND u.day < ex.c
          GROUP BY ex.e`,
      ).bind(workspaceId, list),
      // Seats per contract as LICENSED_SEATS_SQL defines them: plan items, else the largest item.
      env.DB.prepare(
        `${POINTS}
         SELECT e, sum(arr) AS arr, min(end_date) AS renewal, coalesce(sum(seats), 0) AS seats FROM (
           SELECT ex.e, c.arr, c.end_date,
                  (SELECT CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
                               ELSE max(ci.seats) END
                     FROM contract_items ci
                     LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
                    WHERE ci.workspace_id = ?1 AND ci.contract_id = c.id) AS seats
             FROM ex CROSS JOIN contracts c
               ON c.workspace_id = ?1 AND c.account_id = ex.a AND c.start_date < ex.c AND c.end_date >= ex.c
              AND (c.outcome IS NOT 'churned' OR c.outcome_date IS NULL OR substr(c.outcome_date, 1, 10) >= ex.c)
              AND NOT (c.status = 'cancelled' AND c.outcome_date IS NULL))
          GROUP BY e`,
      ).bind(workspaceId, list),
      env.DB.prepare(
        `${POINTS}
         SELECT ex.e, CASE WHEN a.customer_since < ex.c THEN a.customer_since END AS customer_since,
                (SELECT min(c.start_date) FROM contracts c
                  WHERE c.workspace_id = ?1 AND c.account_id = ex.a AND c.start_date < ex.c) AS first_start,
                (SELECT h.score FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = ex.a AND h.day < ex.c
                  ORDER BY h.day DESC LIMIT 1) AS health_now,
                (SELECT h.score FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = ex.a AND h.day < ex.d30
                  ORDER BY h.day DESC LIMIT 1) AS health_30,
                (SELECT s.score FROM survey_responses s WHERE s.workspace_id = ?1 AND s.account_id = ex.a AND s.responded_at < ex.c
                    AND +s.kind = 'nps' ORDER BY s.responded_at DESC, s.id DESC LIMIT 1) AS nps,
                (SELECT s.score FROM survey_responses s WHERE s.workspace_id = ?1 AND s.account_id = ex.a AND s.responded_at < ex.c
                    AND +s.kind = 'csat' ORDER BY s.responded_at DESC, s.id DESC LIMIT 1) AS csat,
                (SELECT count(*) FROM contacts k WHERE k.workspace_id = ?1 AND k.account_id = ex.a
                    AND (k.is_champion = 1 OR k.is_decision_maker = 1) AND k.left_at < ex.c) AS champions_gone
           FROM ex LEFT JOIN accounts a ON +a.workspace_id = ?1 AND a.id = ex.a`,
      ).bind(workspaceId, list),
      env.DB.prepare(
        `${POINTS}
         SELECT ex.e, count(*) AS n, sum(t.priority IN ('urgent', 'high')) AS urgent
           FROM ex CROSS JOIN tickets t
             ON t.workspace_id = ?1 AND t.account_id = ex.a AND t.created_at >= ex.d90 AND t.created_at < ex.c
          GROUP BY ex.e`,
      ).bind(workspaceId, list),
      env.DB.prepare(
        `${POINTS}
         SELECT ex.e, count(*) AS n
           FROM ex CROSS JOIN escalations x
             ON x.workspace_id = ?1 AND x.account_id = ex.a AND x.opened_at >= ex.d90 AND x.opened_at < ex.c
          GROUP BY ex.e`,
      ).bind(workspaceId, list),
      env.DB.prepare(
        `${POINTS}
         SELECT e, count(*) AS n FROM (
           SELECT ex.e, ex.c, ex.d90, coalesce(p.failed_at, CASE WHEN p.status = 'failed' THEN p.created_at END) AS failed
             FROM ex CROSS JOIN payments p ON p.workspace_id = ?1 AND p.account_id = ex.a AND p.created_at < ex.c)
          WHERE failed >= d90 AND failed < c
          GROUP BY e`,
      ).bind(workspaceId, list),
    ]);
    const rows = <T extends { e: string }>(res: D1Result<unknown> | undefined) =>
      new Map(((res?.results ?? []) as T[]).map((r) => [r.e, r]));
    const usage = rows<UsageRow>(usageRes);
    const contracts = rows<ContractRow>(contractRes);
    const state = rows<StateRow>(stateRes);
    const tickets = rows<CountRow>(ticketRes);
    const escalations = rows<CountRow>(escalationRes);
    const payments = rows<CountRow>(paymentRes);
    for (const point of chunk) {
      const u = usage.get(point.id);
      const c = contracts.get(point.id);
      const s = state.get(point.id);
      const t = tickets.get(point.id);
      const values = emptyValues();
      if (u && u.events_prior_30 > 0) values.usage_trend_30d = u.events_30 / u.events_prior_30 - 1;
      if (u && u.events_prior_90 > 0) values.usage_trend_90d = u.events_90 / u.events_prior_90 - 1;
      if (u && u.days_30 > 0 && c && c.seats > 0)
        values.license_utilization = u.active_user_days_30 / u.days_30 / c.seats;
      values.health_score = s?.health_now ?? null;
      if (s && s.health_now !== null && s.health_30 !== null) values.health_trend_30d = s.health_now - s.health_30;
      values.tickets_90d = t?.n ?? 0;
      values.escalations_90d = (t?.urgent ?? 0) + (escalations.get(point.id)?.n ?? 0);
      values.latest_nps = s?.nps ?? null;
      values.latest_csat = s?.csat ?? null;
      values.champion_gone = (s?.champions_gone ?? 0) > 0 ? 1 : 0;
      values.payment_failures_90d = payments.get(point.id)?.n ?? 0;
      const starts = [s?.customer_since, s?.first_start].filter((d): d is string => Boolean(d)).sort();
      if (starts[0]) values.tenure_days = daysBetween(starts[0], point.cutoff);
      if (c?.renewal) values.days_to_renewal = daysBetween(point.cutoff, c.renewal);
      if (c && c.arr > 0) values.arr_band = Math.log10(c.arr);
      out.set(point.id, values);
    }
  }
  return out;
}

/**
 * The workspace's past renewal points up to `day`: per account and point (a contract's
 * outcome_date, else its end_date), churned when a contract churned there (churned = 1;
 * renewed, expanded and contracted = 0), with the factors as they stood `horizonDays` before.
 */
export async function buildExamples(
  env: Env,
  workspaceId: string,
  day: string,
  horizonDays = DEFAULT_HORIZON_DAYS,
): Promise<TrainingExample[]> {
  const points = await env.DB.prepare(
    `SELECT account_id, point, max(outcome = 'churned') AS churned FROM (
       SELECT account_id, outcome, substr(coalesce(outcome_date, end_date), 1, 10) AS point
         FROM contracts WHERE workspace_id = ?1 AND outcome IS NOT NULL)
      WHERE point <= ?2
      GROUP BY account_id, point
      ORDER BY point, account_id`,
  )
    .bind(workspaceId, day)
    .all<{ account_id: string; point: string; churned: number }>();
  const examples = points.results.map((r) => ({
    id: `${r.account_id}@${r.point}`,
    account_id: r.account_id,
    point: r.point,
    cutoff: addDays(r.point, -horizonDays),
    churned: (r.churned ? 1 : 0) as 0 | 1,
  }));
  const values = await computeFactorValues(env, workspaceId, examples);
  return examples.map((e) => ({ ...e, values: values.get(e.id) ?? emptyValues() }));
}

interface ModelRow {
  id: string;
  version: number;
  kind: "logistic" | "prior";
  calibrated: number;
  horizon_days: number;
  features: string;
  coefficients: string;
  intercept: number;
  metrics: string;
  trained_at: string;
  trained_by: string | null;
}

function parseModel(row: ModelRow): StoredRiskModel {
  const coefficients = JSON.parse(row.coefficients) as Partial<Record<RiskFactorName, number>>;
  return {
    id: row.id,
    version: row.version,
    kind: row.kind,
    calibrated: Boolean(row.calibrated),
    horizon_days: row.horizon_days,
    features: JSON.parse(row.features) as ModelFeature[],
    coefficients: Object.fromEntries(RISK_FACTORS.map((f) => [f, coefficients[f] ?? 0])) as Record<
      RiskFactorName,
      number
    >,
    intercept: row.intercept,
    metrics: JSON.parse(row.metrics) as ModelMetrics,
    trained_at: row.trained_at,
    trained_by: row.trained_by,
  };
}

/** The workspace's latest stored model, or null before the first. */
export async function latestRiskModel(env: Env, workspaceId: string): Promise<StoredRiskModel | null> {
  const row = await env.DB.prepare("SELECT * FROM risk_models WHERE workspace_id = ?1 ORDER BY version DESC LIMIT 1")
    .bind(workspaceId)
    .first<ModelRow>();
  return row ? parseModel(row) : null;
}

/** Stores a model as the next version; with `onlyIfNone`, only when the workspace has none yet. */
async function storeModel(
  env: Env,
  workspaceId: string,
  spec: RiskModelSpec,
  trainedAt: string,
  trainedBy: string | null,
  onlyIfNone: boolean,
): Promise<boolean> {
  const inserted = await env.DB.prepare(
    `INSERT INTO risk_models (id, workspace_id, version, kind, calibrated, horizon_days, features, coefficients,
                              intercept, metrics, trained_at, trained_by)
     SELECT ?2, ?1, latest + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11
       FROM (SELECT coalesce(max(version), 0) AS latest FROM risk_models WHERE workspace_id = ?1)
      WHERE ?12 = 0 OR latest = 0
     ON CONFLICT (workspace_id, version) DO NOTHING RETURNING version`,
  )
    .bind(
      workspaceId,
      newId("rsm"),
      spec.kind,
      spec.calibrated ? 1 : 0,
      spec.horizon_days,
      JSON.stringify(spec.features),
      JSON.stringify(spec.coefficients),
      spec.intercept,
      JSON.stringify(spec.metrics),
      trainedAt,
      trainedBy,
      onlyIfNone ? 1 : 0,
    )
    .first<{ version: number }>();
  return inserted !== null;
}

/**
 * Trains the workspace's model on its renewal points up to `day` and stores it as the next version
 * (the prior when the history is too short). A concurrent training that took the same version
 * number makes this one retry once on the next.
 */
export async function trainAndStore(
  env: Env,
  workspaceId: string,
  options: { day: string; trainedAt: Date; trainedBy: string | null; onlyIfNone?: boolean },
): Promise<StoredRiskModel> {
  const examples = await buildExamples(env, workspaceId, options.day);
  const spec = trainRiskModel(examples);
  const onlyIfNone = options.onlyIfNone ?? false;
  const at = options.trainedAt.toISOString();
  const stored =
    (await storeModel(env, workspaceId, spec, at, options.trainedBy, onlyIfNone)) ||
    (!onlyIfNone && (await storeModel(env, workspaceId, spec, at, options.trainedBy, false)));
  const latest = await latestRiskModel(env, workspaceId);
  if (!latest) throw new Error(stored ? "stored model not found" : "risk model could not be stored");
  return latest;
}

/** One account's score with what the tools show about it. */
export interface ScoredAccount extends AccountRisk {
  account_id: string;
  arr: number;
  arr_at_risk: number;
  intervention: Intervention | null;
}

/**
 * Scores accounts as of `day` (records before it) under a model, without storing: factors
 * set-based for all of them, then the model per account. ARR at risk = probability × the
 * account's current ARR.
 */
export async function scoreAccounts(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  day: string,
  model: Pick<RiskModelSpec, "features" | "coefficients" | "intercept">,
): Promise<ScoredAccount[]> {
  if (accountIds.length === 0) return [];
  const values = await computeFactorValues(
    env,
    workspaceId,
    accountIds.map((id) => ({ id, account_id: id, cutoff: day })),
  );
  const arr = new Map<string, number>();
  for (let i = 0; i < accountIds.length; i += RISK_FEATURE_CHUNK) {
    const rows = await env.DB.prepare(
      "SELECT id, arr FROM accounts WHERE +workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
    )
      .bind(workspaceId, JSON.stringify(accountIds.slice(i, i + RISK_FEATURE_CHUNK)))
      .all<{ id: string; arr: number }>();
    for (const r of rows.results) arr.set(r.id, r.arr);
  }
  return accountIds
    .filter((id) => arr.has(id))
    .map((id) => {
      const risk = scoreAccount(model, values.get(id) ?? emptyValues());
      const accountArr = arr.get(id) ?? 0;
      return {
        account_id: id,
        arr: accountArr,
        arr_at_risk: Math.round(risk.probability * accountArr * 100) / 100,
        intervention: suggestIntervention(risk.factors),
        ...risk,
      };
    });
}

/**
 * Scores a chunk of accounts for `day` with the workspace's latest model (training one first
 * when there is none) and stores the scores: one `risk_scores` row per account and day
 * (overwritten by a repeat) and `accounts.churn_probability`, in batched multi-row statements.
 */
export async function scoreAndStoreRisk(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  day: string,
): Promise<{ model: StoredRiskModel; scored: ScoredAccount[] }> {
  const model =
    (await latestRiskModel(env, workspaceId)) ??
    (await trainAndStore(env, workspaceId, {
      day,
      trainedAt: clock.now(),
      trainedBy: "first scoring",
      onlyIfNone: true,
    }));
  const scored = await scoreAccounts(env, workspaceId, accountIds, day, model);
  const writes: D1PreparedStatement[] = [];
  const rows = scored.map((s) => ({
    id: s.account_id,
    p: s.probability,
    r: s.arr_at_risk,
    f: s.factors satisfies StoredRiskFactor[],
    i: s.intervention?.playbook ?? null,
  }));
  for (const chunk of jsonChunks(rows)) {
    writes.push(
      env.DB.prepare(
        `INSERT INTO risk_scores (workspace_id, account_id, day, model_id, probability, arr_at_risk, factors, intervention)
         SELECT ?1, value ->> '$.id', ?2, ?3, value ->> '$.p', value ->> '$.r', json(value -> '$.f'), value ->> '$.i'
           FROM json_each(?4) WHERE true
         ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET model_id = excluded.model_id,
           probability = excluded.probability, arr_at_risk = excluded.arr_at_risk, factors = excluded.factors,
           intervention = excluded.intervention`,
      ).bind(workspaceId, day, model.id, chunk),
      env.DB.prepare(
        // By primary key from the id list (`+workspace_id`), not once per account of the workspace.
        `UPDATE accounts SET churn_probability = v.p
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.p' AS p FROM json_each(?2)) AS v
          WHERE +accounts.workspace_id = ?1 AND accounts.id = v.id`,
      ).bind(workspaceId, chunk),
    );
  }
  if (writes.length > 0) await env.DB.batch(writes);
  return { model, scored };
}

/** Who trained a model for a weekly cron fire; a repeated message finds it and trains nothing. */
export const weeklyTrainer = (scheduledTime: string) => `weekly retrain ${scheduledTime}`;

/**
 * Weekly: queues one `risk_retrain` message per workspace that has accounts; each message
 * retrains that workspace's model. It never trains itself.
 */
export const riskRetrain: CronJob = {
  name: "risk_retrain",
  async run(env, scheduledTime) {
    const workspaces = await env.DB.prepare(
      "SELECT w.id FROM workspaces w WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.workspace_id = w.id) ORDER BY w.id",
    ).all<{ id: string }>();
    const messages: RiskRetrainMessage[] = workspaces.results.map((w) => ({
      type: "risk_retrain",
      workspaceId: w.id,
      scheduledTime: scheduledTime.toISOString(),
    }));
    for (let i = 0; i < messages.length; i += SEND_BATCH_SIZE) {
      await env.JOBS_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH_SIZE).map((body) => ({ body })));
    }
    return { workspaces_queued: messages.length };
  },
};

/**
 * Nightly, before health is fanned out: trains a first model for each workspace with active
 * accounts and none yet, so the health chunks that score churn risk in parallel all find one
 * instead of each training its own.
 */
export const firstRiskModels: CronJob = {
  name: "first_risk_models",
  order: 20,
  async run(env, scheduledTime) {
    const { results } = await env.DB.prepare(
      `SELECT w.id FROM workspaces w
        WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.workspace_id = w.id AND a.status = 'active')
          AND NOT EXISTS (SELECT 1 FROM risk_models r WHERE r.workspace_id = w.id)
        ORDER BY w.id`,
    ).all<{ id: string }>();
    for (const workspace of results) {
      await trainAndStore(env, workspace.id, {
        day: scheduledTime.toISOString().slice(0, 10),
        trainedAt: clock.now(),
        trainedBy: "first nightly run",
        onlyIfNone: true,
      });
    }
    return { workspaces_trained: results.length };
  },
};

/** One `risk_retrain` queue message. */
export interface RiskRetrainJob {
  messageId: string;
  workspaceId: string;
  scheduledTime: string;
}

/** Retrains each message's workspace once per cron fire; returns the error of each that failed. */
export async function handleRiskRetrains(env: Env, jobs: readonly RiskRetrainJob[]): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  for (const job of jobs) {
    try {
      const trainer = weeklyTrainer(job.scheduledTime);
      const done = await env.DB.prepare("SELECT 1 AS done FROM risk_models WHERE workspace_id = ?1 AND trained_by = ?2")
        .bind(job.workspaceId, trainer)
        .first();
      if (!done) {
        await trainAndStore(env, job.workspaceId, {
          day: job.scheduledTime.slice(0, 10),
          trainedAt: clock.now(),
          trainedBy: trainer,
        });
      }
    } catch (error) {
      failures.set(job.messageId, error);
    }
  }
  return failures;
}

/** The `cs-jobs` message that retrains one workspace's churn model for a weekly fire. */
export const riskRetrainMessage = z.object({
  type: z.literal("risk_retrain"),
  workspaceId: z.string(),
  /** The weekly cron fire it belongs to: a model already trained for it is not trained again. */
  scheduledTime: z.iso.datetime(),
});
export type RiskRetrainMessage = z.infer<typeof riskRetrainMessage>;

/** Retrains queued workspaces' churn models. */
export const riskRetrainJob = defineJob({ schema: riskRetrainMessage, handleBatch: handleRiskRetrains });
