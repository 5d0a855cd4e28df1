import { z } from "zod";
import { clock } from "../../platform/lib/clock";
import { round } from "../../platform/lib/stats";
import { addDays } from "../../platform/lib/time";
import type { CronJob } from "../../platform/queue/cron";
import { defineJob } from "../../platform/queue/jobs";
import type { ActiveModel } from "./domain/risk-display";
import { type FactorPoint, factorValuesAt } from "./domain/risk-factor-values";
import { emptyValues, type FactorValues, type Intervention, suggestIntervention } from "./domain/risk-library";
import {
  type AccountRisk,
  DEFAULT_HORIZON_DAYS,
  priorModel,
  type RiskModelSpec,
  type StoredRiskModel,
  scoreAccount,
  type TrainingExample,
  trainRiskModel,
} from "./domain/risk-model";
import { storeRiskScoreStatements } from "./queries/risk";
import { accountArrs, pointFacts, renewalPoints } from "./queries/risk-factors";
import {
  findLatestRiskModel,
  hasModelTrainedBy,
  insertNextRiskModel,
  workspacesWithAccounts,
  workspacesWithoutRiskModel,
} from "./queries/risk-models";

export type { FactorPoint } from "./domain/risk-factor-values";

/** Points (example or account at a cut-off) whose factors one statement computes. */
export const RISK_FEATURE_CHUNK = 500;
/** The weekly retrain cron of wrangler.toml `[triggers]`. */
export const RISK_RETRAIN_CRON = "0 4 * * 1";
/** Most messages one `sendBatch` call carries. */
const SEND_BATCH_SIZE = 100;

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
    const facts = await pointFacts(env.DB, workspaceId, chunk);
    for (const point of chunk) out.set(point.id, factorValuesAt(point.cutoff, facts.get(point.id) ?? {}));
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
  const points = await renewalPoints(env.DB, workspaceId, day);
  const examples = points.map((r) => ({
    id: `${r.account_id}@${r.point}`,
    account_id: r.account_id,
    point: r.point,
    cutoff: addDays(r.point, -horizonDays),
    churned: (r.churned ? 1 : 0) as 0 | 1,
  }));
  const values = await computeFactorValues(env, workspaceId, examples);
  return examples.map((e) => ({ ...e, values: values.get(e.id) ?? emptyValues() }));
}

/** The workspace's latest stored model, or null before the first. */
export async function latestRiskModel(env: Env, workspaceId: string): Promise<StoredRiskModel | null> {
  return findLatestRiskModel(env.DB, workspaceId);
}

/** The workspace's latest stored model, or the documented prior while none is stored. */
export async function activeRiskModel(env: Env, workspaceId: string): Promise<ActiveModel> {
  const stored = await latestRiskModel(env, workspaceId);
  if (stored) return stored;
  const prior = priorModel({ n: 0, churned: 0, renewed: 0, from: null, to: null });
  return {
    ...prior,
    metrics: {
      ...prior.metrics,
      basis:
        "no model stored yet: the documented prior is used until the first nightly scoring or score_risk_factors action train stores one",
    },
  };
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
  const model = { spec, trainedAt: options.trainedAt.toISOString(), trainedBy: options.trainedBy };
  const stored =
    (await insertNextRiskModel(env.DB, workspaceId, { ...model, onlyIfNone })) ||
    (!onlyIfNone && (await insertNextRiskModel(env.DB, workspaceId, { ...model, onlyIfNone: false })));
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
    const rows = await accountArrs(env.DB, workspaceId, accountIds.slice(i, i + RISK_FEATURE_CHUNK));
    for (const r of rows) arr.set(r.id, r.arr);
  }
  return accountIds
    .filter((id) => arr.has(id))
    .map((id) => {
      const risk = scoreAccount(model, values.get(id) ?? emptyValues());
      const accountArr = arr.get(id) ?? 0;
      return {
        account_id: id,
        arr: accountArr,
        arr_at_risk: round(risk.probability * accountArr),
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
  const writes = storeRiskScoreStatements(env.DB, workspaceId, {
    day,
    modelId: model.id,
    scores: scored.map((s) => ({
      accountId: s.account_id,
      probability: s.probability,
      arrAtRisk: s.arr_at_risk,
      factors: s.factors,
      intervention: s.intervention?.playbook ?? null,
    })),
  });
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
    const workspaces = await workspacesWithAccounts(env.DB);
    const messages: RiskRetrainMessage[] = workspaces.map((workspaceId) => ({
      type: "risk_retrain",
      workspaceId,
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
    const workspaces = await workspacesWithoutRiskModel(env.DB);
    for (const workspaceId of workspaces) {
      await trainAndStore(env, workspaceId, {
        day: scheduledTime.toISOString().slice(0, 10),
        trainedAt: clock.now(),
        trainedBy: "first nightly run",
        onlyIfNone: true,
      });
    }
    return { workspaces_trained: workspaces.length };
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
      if (!(await hasModelTrainedBy(env.DB, job.workspaceId, trainer))) {
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
