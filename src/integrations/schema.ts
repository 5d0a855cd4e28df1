/**
 * Integrations (webhook sources and their secrets) and the verified webhook receipts.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt } from "../platform/db/schema";

export const integrations = sqliteTable(
  "integrations",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    provider: text("provider").notNull(),
    name: text("name").notNull(),
    /** AES-GCM ciphertext of the signing secret under the Worker secret `ENCRYPTION_KEY`. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    status: text("status", { enum: ["active", "disabled"] })
      .notNull()
      .default("active"),
    lastReceivedAt: text("last_received_at"),
    acceptedCount: integer("accepted_count").notNull().default(0),
    rejectedCount: integer("rejected_count").notNull().default(0),
    failedCount: integer("failed_count").notNull().default(0),
    rotatedAt: text("rotated_at"),
    createdAt: createdAt(),
  },
  (t) => [index("integrations_ws").on(t.workspaceId, t.provider)],
);

export const webhookReceipts = sqliteTable(
  "webhook_receipts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    integrationId: text("integration_id").notNull(),
    provider: text("provider").notNull(),
    eventId: text("event_id").notNull(),
    /** Provider event type (e.g. `invoice.payment_failed`), for status views. */
    eventType: text("event_type"),
    /** The verified raw body, kept until the consumer has processed it (queue messages carry only the id). */
    payload: text("payload"),
    status: text("status", { enum: ["queued", "processed", "failed"] })
      .notNull()
      .default("queued"),
    receivedAt: text("received_at").notNull(),
    /** Set when the stale-receipt sweep enqueued it again (a crash between storing and enqueueing). */
    requeuedAt: text("requeued_at"),
    processedAt: text("processed_at"),
    error: text("error"),
  },
  (t) => [
    uniqueIndex("webhook_receipts_event").on(t.integrationId, t.eventId),
    index("webhook_receipts_ws_time").on(t.workspaceId, t.receivedAt),
    index("webhook_receipts_status_time").on(t.status, t.receivedAt),
  ],
);
