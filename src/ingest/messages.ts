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
