/**
 * The SQL of the audit log review: pages of `audit_log` newest first within a time window, with
 * the actor's email, and the values present in a window (to say what exists when a filter
 * matches nothing). Every read is bounded by the window on `audit_ws_time`.
 */
import { SqlParams } from "../../../platform/db/sql-params";

/** One audit row with its actor's email. */
export interface AuditLogRow {
  id: string;
  created_at: string;
  actor_user_id: string | null;
  user_email: string | null;
  actor_key_id: string | null;
  tool: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string | null;
  request_id: string;
}

/** A page's filters; `from` and `to` are ISO instants (from inclusive, to exclusive). */
export interface AuditLogQuery {
  from: string;
  to: string;
  /** Lower-cased email, or a user or key id. */
  user?: string | undefined;
  tool?: string | undefined;
  action?: string | undefined;
  targetId?: string | undefined;
  /** The last row of the previous page. */
  after?: { createdAt: string; id: string } | undefined;
  limit: number;
}

/** Up to `limit` audit rows of the window matching the filters, newest first (ties by id, descending). */
export async function listAuditLog(db: D1Database, workspaceId: string, query: AuditLogQuery): Promise<AuditLogRow[]> {
  const params = new SqlParams();
  params.add(workspaceId);
  const user = query.user;
  const conditions = [
    `a.created_at >= ${params.add(query.from)}`,
    `a.created_at < ${params.add(query.to)}`,
    user?.includes("@")
      ? `a.actor_user_id IN (SELECT id FROM users WHERE workspace_id = ?1 AND lower(email) = ${params.add(user)})`
      : user
        ? `(a.actor_user_id = ${params.add(user)} OR a.actor_key_id = ?${params.values.length})`
        : null,
    query.tool ? `a.tool = ${params.add(query.tool)}` : null,
    query.action ? `a.action = ${params.add(query.action)}` : null,
    query.targetId ? `a.target_id = ${params.add(query.targetId)}` : null,
    query.after
      ? `(a.created_at < ${params.add(query.after.createdAt)} OR (a.created_at = ?${params.values.length} AND a.id < ${params.add(query.after.id)}))`
      : null,
  ].filter((condition): condition is string => condition !== null);
  const { results } = await db
    .prepare(
      `SELECT a.id, a.created_at, a.actor_user_id, u.email AS user_email, a.actor_key_id, a.tool, a.action,
              a.target_type, a.target_id, a.details, a.request_id
         FROM audit_log a LEFT JOIN users u ON u.workspace_id = a.workspace_id AND u.id = a.actor_user_id
        WHERE a.workspace_id = ?1 AND ${conditions.join(" AND ")}
        ORDER BY a.created_at DESC, a.id DESC LIMIT ${params.add(query.limit)}`,
    )
    .bind(...params.values)
    .all<AuditLogRow>();
  return results;
}

/** The users, tools and actions present in a window, most frequent first. */
export interface AuditLogValues {
  users: string[];
  tools: string[];
  actions: string[];
}

/** Values listed per kind at most. */
const VALUES_PER_KIND = 30;

/**
 * The distinct actors (email, else user id, else `key <id>`), tools and actions of the window's
 * audit rows, each most frequent first.
 */
export async function auditLogValues(
  db: D1Database,
  workspaceId: string,
  window: { from: string; to: string },
): Promise<AuditLogValues> {
  const { results } = await db
    .prepare(
      // MATERIALIZED: the window is read once and grouped three ways, not read once per grouping.
      `WITH w AS MATERIALIZED (
         SELECT coalesce(u.email, a.actor_user_id, 'key ' || a.actor_key_id, 'admin command') AS user, a.tool, a.action
           FROM audit_log a LEFT JOIN users u ON u.workspace_id = a.workspace_id AND u.id = a.actor_user_id
          WHERE a.workspace_id = ?1 AND a.created_at >= ?2 AND a.created_at < ?3)
       SELECT kind, value FROM (
         SELECT 'users' AS kind, user AS value, count(*) AS n FROM w GROUP BY user
         UNION ALL SELECT 'tools', tool, count(*) FROM w GROUP BY tool
         UNION ALL SELECT 'actions', action, count(*) FROM w GROUP BY action)
        ORDER BY kind, n DESC, value`,
    )
    .bind(workspaceId, window.from, window.to)
    .all<{ kind: keyof AuditLogValues; value: string }>();
  const values: AuditLogValues = { users: [], tools: [], actions: [] };
  for (const row of results) if (values[row.kind].length < VALUES_PER_KIND) values[row.kind].push(row.value);
  return values;
}
