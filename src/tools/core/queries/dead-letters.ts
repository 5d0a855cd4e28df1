import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../../platform/db/client";
import { newestFirstAfter } from "../../../platform/db/keyset";
import { deadLetters } from "../../../schema";

const summaryColumns = {
  id: deadLetters.id,
  queue: deadLetters.queue,
  message_id: deadLetters.messageId,
  message_type: sql<string | null>`json_extract(${deadLetters.body}, '$.type')`,
  status: deadLetters.status,
  attempts: deadLetters.attempts,
  error: deadLetters.error,
  created_at: deadLetters.createdAt,
  updated_at: deadLetters.updatedAt,
  replayed_at: deadLetters.replayedAt,
};

/** A dead letter without its body; message_type is the body's `type`. */
export interface DeadLetterRow {
  id: string;
  queue: string;
  message_id: string;
  message_type: string | null;
  status: (typeof deadLetters.$inferSelect)["status"];
  attempts: number;
  error: string | null;
  created_at: string;
  updated_at: string;
  replayed_at: string | null;
}

/** A dead letter with the message body as it was queued. */
export interface DeadLetterDetailRow extends DeadLetterRow {
  body: unknown;
}

/**
 * Up to `limit` dead letters of the workspace, newest first (created_at, id), with the given
 * status (all when omitted) and queue, after the cursor's position when one is given.
 */
export async function listDeadLetters(
  db: Db,
  workspaceId: string,
  filters: { status?: DeadLetterRow["status"]; queue?: string },
  page: { limit: number; cursor?: string; fingerprint: string },
): Promise<DeadLetterRow[]> {
  const where: SQL[] = [eq(deadLetters.workspaceId, workspaceId)];
  if (filters.status) where.push(eq(deadLetters.status, filters.status));
  if (filters.queue) where.push(eq(deadLetters.queue, filters.queue));
  if (page.cursor) where.push(newestFirstAfter(page.cursor, page.fingerprint, deadLetters.createdAt, deadLetters.id));
  return db
    .select(summaryColumns)
    .from(deadLetters)
    .where(and(...where))
    .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
    .limit(page.limit);
}

/** One dead letter of the workspace with its body, or null. */
export async function findDeadLetter(db: Db, workspaceId: string, id: string): Promise<DeadLetterDetailRow | null> {
  const [row] = await db
    .select({ ...summaryColumns, body: deadLetters.body })
    .from(deadLetters)
    .where(and(eq(deadLetters.workspaceId, workspaceId), eq(deadLetters.id, id)));
  return row ?? null;
}

/**
 * Marks a dead letter replayed at `replayedAt` if it is still dead; whether this call claimed it
 * (false when another call got there first).
 */
export async function claimDeadLetter(db: Db, workspaceId: string, id: string, replayedAt: string): Promise<boolean> {
  const claimed = await db
    .update(deadLetters)
    .set({ status: "replayed", replayedAt, updatedAt: replayedAt })
    .where(and(ownedBy(workspaceId, id), eq(deadLetters.status, "dead")))
    .returning({ id: deadLetters.id });
  return claimed.length > 0;
}

/** Undoes a claim whose send failed: the dead letter is dead again with its former `updatedAt`. */
export async function releaseDeadLetter(db: Db, workspaceId: string, id: string, updatedAt: string): Promise<void> {
  await db
    .update(deadLetters)
    .set({ status: "dead", replayedAt: null, updatedAt })
    .where(and(ownedBy(workspaceId, id), eq(deadLetters.status, "replayed")));
}

function ownedBy(workspaceId: string, id: string): SQL | undefined {
  return and(eq(deadLetters.workspaceId, workspaceId), eq(deadLetters.id, id));
}
