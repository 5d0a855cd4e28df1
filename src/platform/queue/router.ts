import { newId } from "../lib/ids";
import {
  type DeadLetter,
  markDeadLetterStatement,
  recoveredDeadLetterStatement,
  retryingDeadLetterStatement,
  unrecordedDeadLetterStatement,
} from "./queries";

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
      return retryingDeadLetterStatement(env.DB, deadLetter(batch.queue, message), error);
    }),
    ...recovered.map((message) => recoveredDeadLetterStatement(env.DB, batch.queue, message.id)),
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
      markDeadLetterStatement(env.DB, sourceQueue, message.id, JSON.stringify(message.body)),
    ),
  );
  const unrecorded = batch.messages.filter((_, i) => (marked[i]?.meta.changes ?? 0) === 0);
  if (unrecorded.length > 0) {
    await env.DB.batch(
      unrecorded.map((message) => unrecordedDeadLetterStatement(env.DB, deadLetter(sourceQueue, message))),
    );
  }
  batch.ackAll();
}

/** A message as its dead-letter row of `queue` records it, under a new row id. */
function deadLetter(queue: string, message: Message<unknown>): DeadLetter {
  return {
    id: newId("dlq"),
    workspaceId: workspaceOf(message.body),
    queue,
    messageId: message.id,
    body: JSON.stringify(message.body),
    attempts: message.attempts,
  };
}

function workspaceOf(body: unknown): string | null {
  return typeof body === "object" && body !== null && "workspaceId" in body && typeof body.workspaceId === "string"
    ? body.workspaceId
    : null;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}
