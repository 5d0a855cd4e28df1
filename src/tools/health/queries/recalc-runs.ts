/**
 * The nightly health recalculation's bookkeeping: its cron run's progress in `job_runs.detail`
 * and the listing of every workspace's active accounts it queues.
 */

/** The cron job's name, also the key of its progress in the run's detail. */
export const HEALTH_RECALC_JOB = "health_recalc";

/** The id of the `0 3 * * *` cron run scheduled at `scheduledTime` (ISO), or null when none is recorded. */
export async function cronRunId(db: D1Database, scheduledTime: string): Promise<string | null> {
  const run = await db
    .prepare("SELECT id FROM job_runs WHERE cron = '0 3 * * *' AND scheduled_time = ?1")
    .bind(scheduledTime)
    .first<{ id: string }>();
  return run?.id ?? null;
}

/** Sets the run's progress for `day` to nothing done yet, with no total (set once every chunk is queued). */
export async function startRecalcProgress(db: D1Database, runId: string, day: string): Promise<void> {
  await db
    .prepare(
      `UPDATE job_runs SET detail = json_set(coalesce(detail, '{}'), '$.${HEALTH_RECALC_JOB}_progress',
         json_object('day', ?2, 'chunks_total', NULL, 'chunks_done', 0, 'accounts_done', 0)) WHERE id = ?1`,
    )
    .bind(runId, day)
    .run();
}

/** Active accounts of every workspace by id after `after`, at most `limit` (one page by primary key). */
export async function activeAccountsAfter(
  db: D1Database,
  options: { after: string; limit: number },
): Promise<{ workspace_id: string; id: string }[]> {
  const page = await db
    .prepare("SELECT workspace_id, id FROM accounts WHERE id > ?1 AND status = 'active' ORDER BY id LIMIT ?2")
    .bind(options.after, options.limit)
    .all<{ workspace_id: string; id: string }>();
  return page.results;
}

/** Sets the number of chunks queued on the run's progress (when the progress was started). */
export async function setRecalcChunksTotal(db: D1Database, runId: string, total: number): Promise<void> {
  await db
    .prepare(
      `UPDATE job_runs SET detail = json_set(detail, '$.${HEALTH_RECALC_JOB}_progress.chunks_total', ?2)
        WHERE id = ?1 AND json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress') IS NOT NULL`,
    )
    .bind(runId, total)
    .run();
}

/** Counts one more chunk done and its stored accounts on the run's progress, in one atomic update. */
export async function countRecalcChunkDone(db: D1Database, runId: string, accounts: number): Promise<void> {
  await db
    .prepare(
      `UPDATE job_runs SET detail = json_set(detail,
             '$.${HEALTH_RECALC_JOB}_progress.chunks_done', json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress.chunks_done') + 1,
             '$.${HEALTH_RECALC_JOB}_progress.accounts_done', json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress.accounts_done') + ?2)
           WHERE id = ?1 AND json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress') IS NOT NULL`,
    )
    .bind(runId, accounts)
    .run();
}
