import type { z } from "zod";
import type { QueueConsumer } from "./router";

/**
 * The handler of one `cs-jobs` message type: the schema a message body must match (its `type`
 * literal included) and the batch handler, given every valid message of that type in the batch
 * with its queue message id. It returns the error of each message that failed, by message id.
 */
export interface JobHandler<T extends { type: string } = { type: string }> {
  schema: z.ZodType<T>;
  handleBatch(env: Env, jobs: (T & { messageId: string })[]): Promise<Map<string, unknown>>;
}

/** Job handlers by message type. */
export type JobTable = Record<string, JobHandler>;

/** Declares a job handler with the message type inferred from its schema. */
export function defineJob<T extends { type: string }>(handler: JobHandler<T>): JobHandler {
  return handler as unknown as JobHandler;
}

/**
 * The `cs-jobs` consumer over a table of handlers: each message is validated against its type's
 * schema and handed to that type's batch handler, all types in parallel. A message of no known
 * type or that does not validate fails (and ends as a dead letter with the reason) rather than
 * being dropped.
 */
export function jobsConsumer(handlers: JobTable): QueueConsumer {
  return async (messages, env) => {
    const failures = new Map<string, unknown>();
    const byType = new Map<string, ({ type: string } & { messageId: string })[]>();
    for (const message of messages) {
      const type = (message.body as { type?: unknown } | null)?.type;
      const handler = typeof type === "string" && Object.hasOwn(handlers, type) ? handlers[type] : undefined;
      if (!handler) {
        const expected = Object.keys(handlers)
          .map((name) => `'${name}'`)
          .join(" | ");
        failures.set(
          message.id,
          new Error(`not a valid cs-jobs message (type: Invalid discriminator value. Expected ${expected})`),
        );
        continue;
      }
      const parsed = handler.schema.safeParse(message.body);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
        failures.set(message.id, new Error(`not a valid cs-jobs message (${problems.join("; ")})`));
        continue;
      }
      const jobs = byType.get(parsed.data.type) ?? [];
      jobs.push({ ...parsed.data, messageId: message.id });
      byType.set(parsed.data.type, jobs);
    }
    const handled = await Promise.all(
      [...byType].map(([type, jobs]) => (handlers[type] as JobHandler).handleBatch(env, jobs)),
    );
    for (const result of handled) for (const [id, error] of result) failures.set(id, error);
    return failures;
  };
}
