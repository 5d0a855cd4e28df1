import { newId } from "../lib/ids";

/** Dead-letter queues, by the queue whose failures they receive. */
export const DEAD_LETTER_QUEUES: Record<string, string> = {
  "cs-events-dlq": "cs-events",
  "cs-jobs-dlq": "cs-jobs",
};

/**
 * A consumer for one main queue. It handles the whole batch (so it can write to D1 in one
 * batch) and returns the error of each message that failed, by message id; those are retried
 * and, after max_retries, land in the dead-letter queue. Throwing fails the whole batch.
 */
export type QueueConsumer = (messages: readonly Message<unknown>[], env: Env) => Promise<Map<string, unknown>>;

/** Seconds before the next attempt: 10 s, 20 s, 40 s … capped at 10 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Routes a batch to its consumer, acks what succeeded and retries what failed with backoff,
 * keeping each failure's latest error in `dead_letters` (status `retrying`) so the dead letter
 * says why. One poison message never holds back the rest of its batch.
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  consumers: Record<string, QueueConsumer>,
): Promise<void> {
  const source = DEAD_LETTER_QUEUES[batch.queue];
  if (source) {
    await recordDeadLetters(batch, env, source);
    return;
  }
  const consume = consumers[batch.queue];
  let failures: Map<string, unknown>;
  try {
    if (!consume) throw new Error(`no consumer is registered for queue "${batch.queue}"`);
    failures = await consume(batch.messages, env);
  } catch (error) {
    failures = new Map(batch.messages.map((message) => [message.id, error]));
  }
  const failed = batch.messages.filter((message) => failures.has(message.id));
  for (const message of batch.messages) {
    if (failures.has(message.id)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
  const recovered = batch.messages.filter((message) => message.attempts > 1 && !failures.has(message.id));
  const statements = [
    ...failed.map((message) => {
      const error = errorText(failures.get(message.id));
      console.error(JSON.stringify({ queue: batch.queue, messageId: message.id, attempts: message.attempts, error }));
      return env.DB.prepare(
        `INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'retrying')
         ON CONFLICT (queue, message_id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts,
           status = 'retrying', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
      ).bind(
        newId("dlq"),
        workspaceOf(message.body),
        batch.queue,
        message.id,
        JSON.stringify(message.body),
        error,
        message.attempts,
      );
    }),
    ...recovered.map((message) =>
      env.DB.prepare("DELETE FROM dead_letters WHERE queue = ?1 AND message_id = ?2 AND status = 'retrying'").bind(
        batch.queue,
        message.id,
      ),
    ),
  ];
  if (statements.length > 0) await env.DB.batch(statements);
}

/**
 * Marks every dead-lettered message `dead`, keeping the latest error recorded while it was
 * retried. The row is matched by message id or, should the dead-letter queue assign new ids,
 * by queue and body; a message with no such row is recorded as it is.
 */
async function recordDeadLetters(batch: MessageBatch<unknown>, env: Env, sourceQueue: string): Promise<void> {
  const marked = await env.DB.batch(
    batch.messages.map((message) =>
      env.DB.prepare(
        `UPDATE dead_letters SET status = 'dead', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
          WHERE queue = ?1 AND status = 'retrying' AND (message_id = ?2 OR body = ?3)`,
      ).bind(sourceQueue, message.id, JSON.stringify(message.body)),
    ),
  );
  const unrecorded = batch.messages.filter((_, i) => (marked[i]?.meta.changes ?? 0) === 0);
  if (unrecorded.length > 0) {
    await env.DB.batch(
      unrecorded.map((message) =>
        env.DB.prepare(
          `INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts, status)
           VALUES (?1, ?2, ?3, ?4, ?5, 'retries exhausted (no error was recorded)', ?6, 'dead')
           ON CONFLICT (queue, message_id) DO NOTHING`,
        ).bind(
          newId("dlq"),
          workspaceOf(message.body),
          sourceQueue,
          message.id,
          JSON.stringify(message.body),
          message.attempts,
        ),
      ),
    );
  }
  batch.ackAll();
}

function workspaceOf(body: unknown): string | null {
  return typeof body === "object" && body !== null && "workspaceId" in body && typeof body.workspaceId === "string"
    ? body.workspaceId
    : null;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}
