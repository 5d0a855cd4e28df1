import { and, eq } from "drizzle-orm";
import type { Principal } from "../auth/principal";
import type { Db } from "../db/client";
import { auditLog, idempotencyKeys } from "../db/schema";
import { newId } from "../lib/ids";
import type { AuditEntry } from "./define-tool";

/** The first call made with this idempotency key in the workspace: its request hash and response, or undefined. */
export async function findIdempotentCall(
  db: Db,
  workspaceId: string,
  key: string,
): Promise<{ requestHash: string; response: unknown } | undefined> {
  const [previous] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.workspaceId, workspaceId), eq(idempotencyKeys.key, key)));
  return previous;
}

/** The audit row of one successful write call, stamped `at` (the call's time). */
export function auditStatement(
  db: Db,
  principal: Principal,
  tool: string,
  entry: AuditEntry,
  requestId: string,
  at: Date,
) {
  return db.insert(auditLog).values({
    id: newId("aud"),
    workspaceId: principal.workspaceId,
    actorUserId: principal.userId,
    actorKeyId: principal.keyId,
    tool,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    details: entry.details ?? null,
    requestId,
    createdAt: at.toISOString(),
  });
}

/** Keeps a write call's response under its idempotency key, stamped `at`; a key already kept stays as it was. */
export function rememberCallStatement(
  db: Db,
  call: { workspaceId: string; key: string; tool: string; requestHash: string; response: unknown; at: Date },
) {
  return db
    .insert(idempotencyKeys)
    .values({
      workspaceId: call.workspaceId,
      key: call.key,
      tool: call.tool,
      requestHash: call.requestHash,
      response: call.response,
      createdAt: call.at.toISOString(),
    })
    .onConflictDoNothing();
}

/**
 * Counts one more call of `kind` in the workspace's window, unless the window already holds
 * `limit`: atomic, so concurrent calls never pass the quota. Returns whether it was counted.
 */
export async function reserveQuota(
  db: D1Database,
  workspaceId: string,
  quota: { kind: "writes" | "sends"; windowStart: string; limit: number },
): Promise<boolean> {
  const row = await db
    .prepare(
      `INSERT INTO quota_counters (workspace_id, kind, window_start, count) VALUES (?1, ?2, ?3, 1)
       ON CONFLICT (workspace_id, kind, window_start) DO UPDATE SET count = count + 1 WHERE count < ?4
       RETURNING count`,
    )
    .bind(workspaceId, quota.kind, quota.windowStart, quota.limit)
    .first<{ count: number }>();
  return row !== null;
}

/** Gives back a reserved call (the call failed, so it does not count). */
export async function releaseQuota(
  db: D1Database,
  workspaceId: string,
  quota: { kind: "writes" | "sends"; windowStart: string },
): Promise<void> {
  await db
    .prepare(
      "UPDATE quota_counters SET count = count - 1 WHERE workspace_id = ?1 AND kind = ?2 AND window_start = ?3 AND count > 0",
    )
    .bind(workspaceId, quota.kind, quota.windowStart)
    .run();
}
