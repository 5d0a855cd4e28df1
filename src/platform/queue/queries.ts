/**
 * The SQL of scheduled runs (`job_runs`, one row per cron fire) and of the dead-letter record
 * (`dead_letters`, one row per queue message that failed).
 */
import { clock } from "../lib/clock";

/** What a cron run row records when it starts. */
export interface JobRunStart {
  runId: string;
  cron: string;
  /** ISO scheduled time of the fire. */
  scheduledTime: string;
  /** ISO time the run started. */
  startedAt: string;
}

/** Records a run of one cron fire as `running`; false when a run of that (cron, scheduled time) exists already. */
export async function claimJobRun(db: D1Database, run: JobRunStart): Promise<boolean> {
  const claimed = await db
    .prepare(
      `INSERT INTO job_runs (id, cron, scheduled_time, status, started_at) VALUES (?1, ?2, ?3, 'running', ?4)
     ON CONFLICT (cron, scheduled_time) DO NOTHING RETURNING id`,
    )
    .bind(run.runId, run.cron, run.scheduledTime, run.startedAt)
    .first<{ id: string }>();
  return claimed !== null;
}

/** Records a run's outcome, merging `detail` (JSON text) into what queued work already recorded. */
export async function finishJobRun(
  db: D1Database,
  runId: string,
  status: "succeeded" | "failed",
  detail: string,
  finishedAt: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE job_runs SET status = ?2, detail = json_patch(coalesce(detail, '{}'), ?3), finished_at = ?4 WHERE id = ?1",
    )
    .bind(runId, status, detail, finishedAt)
    .run();
}

/** One queue message as the dead-letter record stores it. */
export interface DeadLetter {
  id: string;
  workspaceId: string | null;
  queue: string;
  messageId: string;
  /** The message body as JSON text. */
  body: string;
  attempts: number;
}

/** The statement that records a failed message as `retrying` with its latest error (inserted or updated). */
export function retryingDeadLetterStatement(db: D1Database, letter: DeadLetter, error: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'retrying', ?8, ?8)
         ON CONFLICT (queue, message_id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts,
           status = 'retrying', updated_at = ?8`,
    )
    .bind(
      letter.id,
      letter.workspaceId,
      letter.queue,
      letter.messageId,
      letter.body,
      error,
      letter.attempts,
      clock.now().toISOString(),
    );
}

/** The statement that drops the `retrying` record of a message that has now succeeded. */
export function recoveredDeadLetterStatement(db: D1Database, queue: string, messageId: string): D1PreparedStatement {
  return db
    .prepare("DELETE FROM dead_letters WHERE queue = ?1 AND message_id = ?2 AND status = 'retrying'")
    .bind(queue, messageId);
}

/** The statement that marks a message's `retrying` record `dead`, matched by message id or by body. */
export function markDeadLetterStatement(
  db: D1Database,
  queue: string,
  messageId: string,
  body: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE dead_letters SET status = 'dead', updated_at = ?4
          WHERE queue = ?1 AND status = 'retrying' AND (message_id = ?2 OR body = ?3)`,
    )
    .bind(queue, messageId, body, clock.now().toISOString());
}

/** The statement that records a dead message that had no `retrying` record (kept when one appeared meanwhile). */
export function unrecordedDeadLetterStatement(db: D1Database, letter: DeadLetter): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts, status, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, 'retries exhausted (no error was recorded)', ?6, 'dead', ?7, ?7)
           ON CONFLICT (queue, message_id) DO NOTHING`,
    )
    .bind(
      letter.id,
      letter.workspaceId,
      letter.queue,
      letter.messageId,
      letter.body,
      letter.attempts,
      clock.now().toISOString(),
    );
}
