import { clock } from "../lib/clock";
import { newId } from "../lib/ids";
import { healthRecalc } from "./health-recalc";
import { renewalReminders } from "./renewal-reminders";
import { requeueStaleReceipts } from "./requeue";
import { purgeExpiredDetail } from "./retention";
import { firstRiskModels, riskRetrain } from "./risk";

/** One unit of scheduled work; returns figures recorded with the run. */
export interface CronJob {
  name: string;
  run(env: Env, scheduledTime: Date): Promise<Record<string, number | string>>;
}

/** Jobs per cron expression of wrangler.toml `[triggers]`. */
export const CRON_JOBS: Record<string, CronJob[]> = {
  "0 3 * * *": [purgeExpiredDetail, firstRiskModels, healthRecalc, renewalReminders],
  "*/10 * * * *": [requeueStaleReceipts],
  "0 4 * * 1": [riskRetrain],
};

/** What a scheduled fire did. */
export type CronOutcome =
  | { status: "duplicate"; cron: string; scheduledTime: string }
  | {
      status: "succeeded" | "failed";
      cron: string;
      scheduledTime: string;
      runId: string;
      detail: Record<string, unknown>;
    };

/**
 * Runs the jobs of one cron fire exactly once: the run row is keyed by (cron, scheduled time),
 * so a repeated delivery of the same fire finds the row and does nothing.
 */
export async function runScheduled(env: Env, cron: string, scheduledTime: Date): Promise<CronOutcome> {
  const scheduled = scheduledTime.toISOString();
  const runId = newId("run");
  const claimed = await env.DB.prepare(
    `INSERT INTO job_runs (id, cron, scheduled_time, status, started_at) VALUES (?1, ?2, ?3, 'running', ?4)
     ON CONFLICT (cron, scheduled_time) DO NOTHING RETURNING id`,
  )
    .bind(runId, cron, scheduled, clock.now().toISOString())
    .first<{ id: string }>();
  if (!claimed) return { status: "duplicate", cron, scheduledTime: scheduled };

  const detail: Record<string, unknown> = {};
  let status: "succeeded" | "failed" = "succeeded";
  for (const job of CRON_JOBS[cron] ?? []) {
    try {
      detail[job.name] = await job.run(env, scheduledTime);
    } catch (error) {
      status = "failed";
      detail[job.name] = { error: error instanceof Error ? error.message : String(error) };
      console.error(JSON.stringify({ cron, job: job.name, error: String(error) }));
    }
  }
  if (!(cron in CRON_JOBS)) {
    status = "failed";
    detail.error = `no jobs are registered for cron "${cron}"`;
  }
  // Merged, not replaced: queued work may already have recorded its progress in the detail.
  await env.DB.prepare(
    "UPDATE job_runs SET status = ?2, detail = json_patch(coalesce(detail, '{}'), ?3), finished_at = ?4 WHERE id = ?1",
  )
    .bind(runId, status, JSON.stringify(detail), clock.now().toISOString())
    .run();
  return { status, cron, scheduledTime: scheduled, runId, detail };
}
