import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Db } from "../../../platform/db/client";
import { newestFirstAfter } from "../../../platform/db/keyset";
import { addDays } from "../../../platform/lib/time";
import { outboxMessages } from "../../../schema";

const summaryColumns = {
  id: outboxMessages.id,
  to_email: outboxMessages.toEmail,
  subject: outboxMessages.subject,
  status: outboxMessages.status,
  provider: outboxMessages.provider,
  origin: outboxMessages.origin,
  account_id: outboxMessages.accountId,
  contact_id: outboxMessages.contactId,
  attempts: outboxMessages.attempts,
  error: outboxMessages.error,
  provider_message_id: outboxMessages.providerMessageId,
  created_at: outboxMessages.createdAt,
  sent_at: outboxMessages.sentAt,
  opened_at: outboxMessages.openedAt,
  clicked_at: outboxMessages.clickedAt,
};

/** An outbox message without its bodies. */
export interface OutboxMessageRow {
  id: string;
  to_email: string;
  subject: string;
  status: (typeof outboxMessages.$inferSelect)["status"];
  provider: string;
  origin: string;
  account_id: string | null;
  contact_id: string | null;
  attempts: number;
  error: string | null;
  provider_message_id: string | null;
  created_at: string;
  sent_at: string | null;
  opened_at: string | null;
  clicked_at: string | null;
}

/** An outbox message with its rendered bodies. */
export interface OutboxMessageDetailRow extends OutboxMessageRow {
  body_text: string;
  body_html: string | null;
}

/** Filters of an outbox listing; each one given narrows it. */
export interface OutboxFilters {
  status?: OutboxMessageRow["status"];
  account_id?: string;
  contact_id?: string;
  origin?: string;
  /** First created day (UTC), inclusive. */
  since?: string;
  /** Last created day (UTC), inclusive. */
  until?: string;
}

/**
 * Up to `limit` outbox messages of the workspace matching the filters, newest first (created_at,
 * id), after the cursor's position when one is given (a malformed cursor is refused).
 */
export async function listOutboxMessages(
  db: Db,
  workspaceId: string,
  filters: OutboxFilters,
  page: { limit: number; cursor?: string; fingerprint: string },
): Promise<OutboxMessageRow[]> {
  const where: SQL[] = [eq(outboxMessages.workspaceId, workspaceId)];
  if (filters.status) where.push(eq(outboxMessages.status, filters.status));
  if (filters.account_id) where.push(eq(outboxMessages.accountId, filters.account_id));
  if (filters.contact_id) where.push(eq(outboxMessages.contactId, filters.contact_id));
  if (filters.origin) where.push(eq(outboxMessages.origin, filters.origin));
  if (filters.since) where.push(gte(outboxMessages.createdAt, `${filters.since}T00:00:00.000Z`));
  if (filters.until) where.push(lt(outboxMessages.createdAt, `${addDays(filters.until, 1)}T00:00:00.000Z`));
  if (page.cursor) {
    where.push(newestFirstAfter(page.cursor, page.fingerprint, outboxMessages.createdAt, outboxMessages.id));
  }
  return db
    .select(summaryColumns)
    .from(outboxMessages)
    .where(and(...where))
    .orderBy(desc(outboxMessages.createdAt), desc(outboxMessages.id))
    .limit(page.limit);
}

/** One outbox message of the workspace with its bodies, or null. */
export async function findOutboxMessage(
  db: Db,
  workspaceId: string,
  messageId: string,
): Promise<OutboxMessageDetailRow | null> {
  const [row] = await db
    .select({ ...summaryColumns, body_text: outboxMessages.bodyText, body_html: outboxMessages.bodyHtml })
    .from(outboxMessages)
    .where(and(eq(outboxMessages.workspaceId, workspaceId), eq(outboxMessages.id, messageId)));
  return row ?? null;
}
