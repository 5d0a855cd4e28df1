import { z } from "zod";
import { queueAlerts } from "../../alerts/slack";
import { addDays, isoDay } from "../../platform/lib/time";
import type { CronJob } from "../../platform/queue/cron";
import { defineJob } from "../../platform/queue/jobs";
import { loadWorkspaceSettings } from "../../records/workspace-settings";
import { afterHealthChunk } from "./after-health";
import {
  type AlertCandidate,
  alertCandidates,
  type HealthRunConfig,
  type HealthRunSummary,
  scoreAccounts,
  storedScores,
} from "./domain/health-run";
import {
  healthAlertTaskStatements,
  healthInputs,
  openHealthAlerts,
  storeHealthStatements,
} from "./queries/health-aggregates";
import {
  activeAccountsAfter,
  countRecalcChunkDone,
  cronRunId,
  HEALTH_RECALC_JOB,
  setRecalcChunksTotal,
  startRecalcProgress,
} from "./queries/recalc-runs";

/**
 * Most account ids one health computation (and one `health_recalc_chunk` message) covers: large
 * enough that a workspace's nightly run is a few dozen set-based passes, small enough that one
 * pass stays far inside a Worker invocation's CPU and memory limits.
 */
export const HEALTH_CHUNK_SIZE = 500;

/** The `cs-jobs` message that computes the health of a chunk of accounts for one day. */
export const healthRecalcChunkMessage = z.object({
  type: z.literal("health_recalc_chunk"),
  workspaceId: z.string(),
  /** The cron run whose progress this chunk counts in; empty when not started by a cron run. */
  runId: z.string(),
  /** The UTC day the scores are stored for. */
  day: z.iso.date(),
  accountIds: z.array(z.string()).min(1).max(HEALTH_CHUNK_SIZE),
});
export type HealthRecalcChunkMessage = z.infer<typeof healthRecalcChunkMessage>;

/** Most messages one `sendBatch` call carries. */
const SEND_BATCH_SIZE = 100;
/** Account ids read per listing query of the nightly job. */
const LIST_PAGE_SIZE = 5000;

/** The model configuration stored in a workspace's settings. */
export async function loadHealthConfig(env: Env, workspaceId: string): Promise<HealthRunConfig> {
  const settings = await loadWorkspaceSettings(env, workspaceId);
  return {
    preset: settings.health.preset,
    weights: settings.health.weights,
    bands: settings.health.bands,
    alert_drop: settings.health.alert_drop,
    timezone: settings.timezone,
    scorecards: settings.health.scorecards,
  };
}

/**
 * Computes, stores and alerts on the health of up to {@link HEALTH_CHUNK_SIZE} accounts of one
 * workspace for `day` (UTC): a fixed handful of GROUP BY queries over the id list, then one
 * batch that overwrites the day's `health_scores` rows and the accounts' denormalized score. A
 * repeat for the same day writes the same values and creates no second alert.
 */
export async function computeHealth(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  day: string,
): Promise<HealthRunSummary> {
  if (accountIds.length > HEALTH_CHUNK_SIZE) throw new Error(`at most ${HEALTH_CHUNK_SIZE} accounts per computation`);
  const config = await loadHealthConfig(env, workspaceId);
  const inputs = await healthInputs(env.DB, workspaceId, { accountIds, day });
  const { computed, notScored } = scoreAccounts(inputs, config, day);
  const writes = storeHealthStatements(env.DB, workspaceId, { day, scores: storedScores(computed) });

  // Alerts: a fall into a lower band than the latest score before today, or a drop of more
  // than alert_drop points against 7 days earlier. The task id is fixed per account and day,
  // and an open health_alert task for the same crossing suppresses a new one.
  const candidates = alertCandidates(computed, config.alert_drop, day);
  if (candidates.length > 0) writes.push(...(await alertTaskStatements(env.DB, workspaceId, candidates, day)));
  const results = writes.length > 0 ? await env.DB.batch(writes) : [];
  const createdTasks = new Set(
    results.flatMap((r) => ((r.results ?? []) as { id?: string }[]).map((row) => row.id ?? "")).filter(Boolean),
  );
  const raised = computed.filter((a) => a.alert && createdTasks.has(a.alert.task_id));
  const { queued } = await queueAlerts(
    env,
    workspaceId,
    raised.map((a) => ({
      idempotencyKey: `health:${a.account_id}:${day}`,
      text: `Health alert for ${a.account_name}: ${a.alert?.reason}.`,
    })),
  );
  for (const a of raised) {
    if (!a.alert) continue;
    a.alert.created = true;
    a.alert.slack_queued = queued;
  }
  const alertsCreated = raised.length;
  return { accounts: computed, stored: computed.length, not_scored: notScored, alerts_created: alertsCreated };
}

/**
 * The task inserts of the candidates without an open health_alert task of the same title, and
 * each candidate's alert on its account (not yet created: the batch's returned ids tell).
 */
async function alertTaskStatements(
  db: D1Database,
  workspaceId: string,
  candidates: readonly AlertCandidate[],
  day: string,
): Promise<D1PreparedStatement[]> {
  const open = await openHealthAlerts(
    db,
    workspaceId,
    candidates.map((c) => c.account.account_id),
  );
  const existing = new Set(open.map((r) => `${r.account_id}:${r.title}`));
  const fresh = candidates.filter((c) => !existing.has(`${c.account.account_id}:${c.title}`));
  const statements = healthAlertTaskStatements(db, workspaceId, {
    dueDate: addDays(day, 2),
    tasks: fresh.map((c) => ({ id: c.taskId, account: c.account.account_id, title: c.title, reason: c.reason })),
  });
  for (const c of candidates) {
    c.account.alert = { reason: c.reason, task_id: c.taskId, created: false, slack_queued: false };
  }
  return statements;
}

/**
 * Nightly: lists every workspace's active accounts in id order (in pages by primary key) and queues them as
 * `health_recalc_chunk` messages of at most {@link HEALTH_CHUNK_SIZE} ids; it never computes.
 * The chunk handlers record progress in this run's `job_runs` detail.
 */
export const healthRecalc: CronJob = {
  name: HEALTH_RECALC_JOB,
  order: 30,
  async run(env, scheduledTime) {
    const day = isoDay(scheduledTime);
    const runId = (await cronRunId(env.DB, scheduledTime.toISOString())) ?? "";
    // Progress first, so a chunk finishing early finds the counters; the total follows once all are queued.
    await startRecalcProgress(env.DB, runId, day);
    const chunk = (workspaceId: string, accountIds: string[]): HealthRecalcChunkMessage => ({
      type: "health_recalc_chunk",
      workspaceId,
      runId,
      day,
      accountIds,
    });
    // Accounts are read in pages by primary key; each workspace fills its own chunk in id order.
    const filling = new Map<string, string[]>();
    const ready: HealthRecalcChunkMessage[] = [];
    let listed = 0;
    let queued = 0;
    const send = async (all: boolean) => {
      while (ready.length >= SEND_BATCH_SIZE || (all && ready.length > 0)) {
        const batch = ready.splice(0, SEND_BATCH_SIZE);
        await env.JOBS_QUEUE.sendBatch(batch.map((body) => ({ body })));
        queued += batch.length;
      }
    };
    let after = "";
    for (;;) {
      const page = await activeAccountsAfter(env.DB, { after, limit: LIST_PAGE_SIZE });
      for (const row of page) {
        const ids = filling.get(row.workspace_id) ?? [];
        ids.push(row.id);
        if (ids.length === HEALTH_CHUNK_SIZE) {
          ready.push(chunk(row.workspace_id, ids));
          filling.delete(row.workspace_id);
        } else {
          filling.set(row.workspace_id, ids);
        }
      }
      listed += page.length;
      await send(false);
      const last = page.at(-1);
      if (!last || page.length < LIST_PAGE_SIZE) break;
      after = last.id;
    }
    for (const [workspaceId, ids] of filling) ready.push(chunk(workspaceId, ids));
    await send(true);
    await setRecalcChunksTotal(env.DB, runId, queued);
    return { day, accounts_listed: listed, chunks_queued: queued };
  },
};

/** One `health_recalc_chunk` queue message. */
export interface HealthRecalcJob {
  messageId: string;
  workspaceId: string;
  runId: string;
  day: string;
  accountIds: string[];
}

/**
 * Runs queued chunks: the same computation as the tool, then one atomic progress update on the
 * cron run's detail. Returns the error of each chunk that failed, by message id.
 */
export async function handleHealthChunks(env: Env, jobs: readonly HealthRecalcJob[]): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  for (const job of jobs) {
    try {
      const started = performance.now();
      const summary = await computeHealth(env, job.workspaceId, job.accountIds, job.day);
      const healthMs = Math.round(performance.now() - started);
      const after = await afterHealthChunk(env, job.workspaceId, job.accountIds, job.day);
      console.log(
        JSON.stringify({
          job: HEALTH_RECALC_JOB,
          workspaceId: job.workspaceId,
          accounts: job.accountIds.length,
          stored: summary.stored,
          ms: Math.round(performance.now() - started),
          health_ms: healthMs,
          ...after,
        }),
      );
      if (job.runId) await countRecalcChunkDone(env.DB, job.runId, summary.stored);
    } catch (error) {
      failures.set(job.messageId, error);
    }
  }
  return failures;
}

/** Computes queued health chunks. */
export const healthRecalcChunkJob = defineJob({ schema: healthRecalcChunkMessage, handleBatch: handleHealthChunks });
