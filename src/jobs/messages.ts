import { z } from "zod";

/** Providers whose webhooks the server receives. */
export const WEBHOOK_PROVIDERS = [
  "segment",
  "zendesk",
  "intercom",
  "hubspot",
  "stripe",
  "sendgrid",
  "generic",
] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** Receipts one `cs-events` message refers to at most: ids only, so a message stays a few KB. */
export const RECEIPTS_PER_MESSAGE = 100;

/**
 * Messages on the `cs-events` queue. A webhook message is a reference to the receipts of one
 * delivery (one webhook request): the verified raw bodies stay in `webhook_receipts.payload`, so
 * a message is far below the 128 KB queue limit, and a batched delivery costs one message, not
 * one per event.
 */
export const eventMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("webhook"),
    workspaceId: z.string(),
    integrationId: z.string(),
    provider: z.enum(WEBHOOK_PROVIDERS),
    receiptIds: z.array(z.string()).min(1).max(RECEIPTS_PER_MESSAGE),
  }),
]);
export type EventMessage = z.infer<typeof eventMessageSchema>;

/** The `cs-events` messages for receipts of one integration: their ids, {@link RECEIPTS_PER_MESSAGE} to a message. */
export function webhookMessages(
  workspaceId: string,
  integrationId: string,
  provider: WebhookProvider,
  receiptIds: readonly string[],
): EventMessage[] {
  const messages: EventMessage[] = [];
  for (let i = 0; i < receiptIds.length; i += RECEIPTS_PER_MESSAGE) {
    messages.push({
      type: "webhook",
      workspaceId,
      integrationId,
      provider,
      receiptIds: receiptIds.slice(i, i + RECEIPTS_PER_MESSAGE),
    });
  }
  return messages;
}

/**
 * Most account ids one health computation (and one `health_recalc_chunk` message) covers: large
 * enough that a workspace's nightly run is a few dozen set-based passes, small enough that one
 * pass stays far inside a Worker invocation's CPU and memory limits.
 */
export const HEALTH_CHUNK_SIZE = 500;

/** Messages on the `cs-jobs` queue. */
export const jobMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("send_email"),
    workspaceId: z.string(),
    /** The outbox row holding the rendered message. */
    outboxId: z.string(),
  }),
  z.object({
    type: z.literal("slack_alert"),
    workspaceId: z.string(),
    /** Deduplicates repeated deliveries of one alert. */
    idempotencyKey: z.string(),
    text: z.string().max(3000),
  }),
  z.object({
    type: z.literal("health_recalc_chunk"),
    workspaceId: z.string(),
    /** The cron run whose progress this chunk counts in; empty when not started by a cron run. */
    runId: z.string(),
    /** The UTC day the scores are stored for. */
    day: z.iso.date(),
    accountIds: z.array(z.string()).min(1).max(HEALTH_CHUNK_SIZE),
  }),
  z.object({
    type: z.literal("risk_retrain"),
    workspaceId: z.string(),
    /** The weekly cron fire it belongs to: a model already trained for it is not trained again. */
    scheduledTime: z.iso.datetime(),
  }),
  z.object({
    type: z.literal("renewal_reminders"),
    workspaceId: z.string(),
    /** The UTC day of the cron run that queued them. */
    day: z.iso.date(),
    /** Reminder rows to send; those no longer queued are left alone. */
    reminderIds: z.array(z.string()).min(1).max(100),
  }),
]);
export type JobMessage = z.infer<typeof jobMessageSchema>;
