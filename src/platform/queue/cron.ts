import { clock } from "../lib/clock";
import { newId } from "../lib/ids";
import { claimJobRun, finishJobRun } from "./queries";

/** One unit of scheduled work; returns figures recorded with the run. */
export interface CronJob {
  name: string;
  /**
   * Where it runs among the jobs of the same fire, lowest first (default 50): e.g. the first risk
   * models are trained before the health run queues the chunks that score against them.
   */
  order?: number;
  run(env: Env, scheduledTime: Date): Promise<Record<string, number | string>>;
}

/** Scheduled work by cron expression; each expression must be one of wrangler.toml's `[triggers]`. */
export type CronTable = Record<string, readonly CronJob[]>;

/** Merges cron tables into one, each expression's jobs sorted by `order` (stable). */
export function mergeCronTables(tables: readonly CronTable[]): CronTable {
  const merged: Record<string, CronJob[]> = {};
  for (const table of tables) {
    for (const [cron, jobs] of Object.entries(table)) merged[cron] = [...(merged[cron] ?? []), ...jobs];
  }
  for (const jobs of Object.values(merged)) jobs.sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
  return merged;
}

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
export async function runScheduled(
  env: Env,
  cronJobs: CronTable,
  cron: string,
  scheduledTime: Date,
): Promise<CronOutcome> {
  const scheduled = scheduledTime.toISOString();
  const runId = newId("run");
  const claimed = await claimJobRun(env.DB, {
    runId,
    cron,
    scheduledTime: scheduled,
    startedAt: clock.now().toISOString(),
  });
  if (!claimed) return { status: "duplicate", cron, scheduledTime: scheduled };

  const detail: Record<string, unknown> = {};
  let status: "succeeded" | "failed" = "succeeded";
  for (const job of cronJobs[cron] ?? []) {
    try {
      detail[job.name] = await job.run(env, scheduledTime);
    } catch (error) {
      status = "failed";
      detail[job.name] = { error: error instanceof Error ? error.message : String(error) };
      console.error(JSON.stringify({ cron, job: job.name, error: String(error) }));
    }
  }
  if (!(cron in cronJobs)) {
    status = "failed";
    detail.error = `no jobs are registered for cron "${cron}"`;
  }
  // Merged, not replaced: queued work may already have recorded its progress in the detail.
  await finishJobRun(env.DB, runId, status, JSON.stringify(detail), clock.now().toISOString());
  return { status, cron, scheduledTime: scheduled, runId, detail };
}
