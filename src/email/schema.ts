/**
 * Outbound email: the outbox and the suppression list.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt } from "../platform/db/schema";

export const outboxMessages = sqliteTable(
  "outbox_messages",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    accountId: text("account_id"),
    contactId: text("contact_id"),
    toEmail: text("to_email").notNull(),
    subject: text("subject").notNull(),
    bodyText: text("body_text").notNull(),
    bodyHtml: text("body_html"),
    provider: text("provider").notNull().default("outbox"),
    status: text("status", {
      enum: ["queued", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed"],
    })
      .notNull()
      .default("queued"),
    providerMessageId: text("provider_message_id"),
    /** What made it: `manual`, `reminder`, `campaign:<id>`, ... */
    origin: text("origin").notNull().default("manual"),
    attempts: integer("attempts").notNull().default(0),
    openedAt: text("opened_at"),
    clickedAt: text("clicked_at"),
    error: text("error"),
    createdAt: createdAt(),
    sentAt: text("sent_at"),
  },
  (t) => [
    uniqueIndex("outbox_ws_key").on(t.workspaceId, t.idempotencyKey),
    index("outbox_ws_created").on(t.workspaceId, t.createdAt),
    index("outbox_provider_message").on(t.providerMessageId),
    index("outbox_ws_account").on(t.workspaceId, t.accountId, t.createdAt),
    index("outbox_ws_status").on(t.workspaceId, t.status, t.createdAt),
    index("outbox_ws_origin_account").on(t.workspaceId, t.origin, t.accountId),
  ],
);

/** Addresses never to email again in a workspace (bounce, spam report, unsubscribe), from provider events or by hand. */
export const emailSuppressions = sqliteTable(
  "email_suppressions",
  {
    workspaceId: text("workspace_id").notNull(),
    email: text("email").notNull(),
    reason: text("reason", { enum: ["bounce", "spam_report", "unsubscribe", "manual"] }).notNull(),
    source: text("source"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.email] })],
);
