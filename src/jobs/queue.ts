import { newId } from "../lib/ids";

/** Dead-letter queues, by the queue whose failures they receive. */
export const DEAD_LETTER_QUEUES: Record<string, string> = {
  "cs-events-dlq": "cs-events",
  "cs-jobs-dlq": "cs-jobs",
};

/** A consumer for one main queue; throws to retry a message (after max_retries it goes to the DLQ). */
export type QueueConsumer = (message: Message<unknown>, env: Env) => Promise<void>;

/**
 * Routes a batch to its consumer. Each message is acked or retried on its own, so one poison
 * message never holds back the rest of its batch; dead letters are recorded in D1.
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
  for (const message of batch.messages) {
    try {
      if (!consume) throw new Error(`no consumer is registered for queue "${batch.queue}"`);
      await consume(message, env);
      message.ack();
    } catch (error) {
      console.error(
        JSON.stringify({ queue: batch.queue, messageId: message.id, attempts: message.attempts, error: String(error) }),
      );
      message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts * 5) });
    }
  }
}

/** Stores every dead-lettered message with its body (idempotent on queue + message id). */
async function recordDeadLetters(batch: MessageBatch<unknown>, env: Env, sourceQueue: string): Promise<void> {
  const statements = batch.messages.map((message) => {
    const body = message.body;
    const workspaceId =
      typeof body === "object" && body !== null && "workspaceId" in body && typeof body.workspaceId === "string"
        ? body.workspaceId
        : null;
    return env.DB.prepare(
      `INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (queue, message_id) DO NOTHING`,
    ).bind(
      newId("dlq"),
      workspaceId,
      sourceQueue,
      message.id,
      JSON.stringify(body),
      `retries exhausted after ${message.attempts} attempt(s)`,
      message.attempts,
    );
  });
  if (statements.length > 0) await env.DB.batch(statements);
  batch.ackAll();
}
