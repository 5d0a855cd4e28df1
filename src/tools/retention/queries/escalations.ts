import { jsonChunks } from "../../../platform/db/json-chunks";
import { SqlParams } from "../../../platform/db/sql-params";
import type { AccountWindow, EscalationFacts, Severity } from "../domain/escalation-sla";

/** Escalation statuses as stored. */
export type EscalationStatus = "open" | "in_progress" | "resolved";

/** An escalation with its account and owner names and the start of its SLA window. */
export interface EscalationRow {
  id: string;
  account_id: string;
  account_name: string | null;
  ticket_id: string | null;
  title: string;
  description: string | null;
  severity: Severity;
  status: EscalationStatus;
  owner_user_id: string | null;
  owner_name: string | null;
  opened_at: string;
  window_start: string;
  sla_due_at: string;
  resolved_at: string | null;
  root_cause: string | null;
  resolution: string | null;
  reopen_count: number;
}

/** Escalations with account and owner names and the start of their SLA window (latest reopening, else opening). */
const SELECT_ESCALATIONS = `SELECT e.id, e.account_id, a.name AS account_name, e.ticket_id, e.title, e.description, e.severity,
       e.status, e.owner_user_id, u.name AS owner_name, e.opened_at, e.sla_due_at, e.resolved_at, e.root_cause,
       e.resolution, e.reopen_count,
       coalesce((SELECT max(v.at) FROM escalation_events v
                  WHERE v.workspace_id = ?1 AND v.escalation_id = e.id AND v.kind = 'reopened'), e.opened_at) AS window_start
  FROM escalations e
  LEFT JOIN accounts a ON a.workspace_id = ?1 AND a.id = e.account_id
  LEFT JOIN users u ON u.workspace_id = ?1 AND u.id = e.owner_user_id`;

/** One escalation of the workspace by id, or null. */
export async function findEscalation(
  db: D1Database,
  workspaceId: string,
  escalationId: string,
): Promise<EscalationRow | null> {
  return db
    .prepare(`${SELECT_ESCALATIONS} WHERE e.workspace_id = ?1 AND e.id = ?2`)
    .bind(workspaceId, escalationId)
    .first<EscalationRow>();
}

/** A user of the workspace as an owner reference names it. */
export interface OwnerUserRow {
  id: string;
  email: string;
  disabled_at: string | null;
}

/** The workspace's user with this id, or with this email (case-insensitive) when `byEmail`; null when none. */
export async function findUserByReference(
  db: D1Database,
  workspaceId: string,
  reference: { value: string | null; byEmail: boolean },
): Promise<OwnerUserRow | null> {
  return db
    .prepare(
      `SELECT id, email, disabled_at FROM users
      WHERE workspace_id = ?1 AND (CASE WHEN ?3 = 1 THEN lower(email) = lower(?2) ELSE id = ?2 END)`,
    )
    .bind(workspaceId, reference.value, reference.byEmail ? 1 : 0)
    .first<OwnerUserRow>();
}

/** True when the workspace has a ticket with this id. */
export async function ticketExists(db: D1Database, workspaceId: string, ticketId: string): Promise<boolean> {
  const ticket = await db
    .prepare("SELECT id FROM tickets WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, ticketId)
    .first();
  return ticket !== null;
}

/** A new escalation as stored by open (status open). */
export interface NewEscalation {
  id: string;
  accountId: string;
  ticketId: string | null;
  title: string;
  description: string | null;
  severity: Severity;
  ownerUserId: string | null;
  slaDueAt: string;
  openedAt: string;
  createdBy: string | null;
}

/** The statement that stores a new open escalation. */
export function insertEscalationStatement(db: D1Database, workspaceId: string, e: NewEscalation): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO escalations (id, workspace_id, account_id, ticket_id, title, description, severity, status, owner_user_id,
                                sla_due_at, opened_at, created_by)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?10, ?11)`,
    )
    .bind(
      e.id,
      workspaceId,
      e.accountId,
      e.ticketId,
      e.title,
      e.description,
      e.severity,
      e.ownerUserId,
      e.slaDueAt,
      e.openedAt,
      e.createdBy,
    );
}

/** The escalation state a timeline event needs at write time: any, unresolved, or resolved. */
export type EventGuard = "any" | "unresolved" | "resolved";

const EVENT_GUARD_SQL: Record<EventGuard, string> = {
  any: "true",
  unresolved: "e.status <> 'resolved'",
  resolved: "e.status = 'resolved'",
};

/** One timeline event to write. */
export interface EscalationEvent {
  id: string;
  escalationId: string;
  at: string;
  kind: string;
  actorUserId: string | null;
  note: string | null;
}

/**
 * The statement that writes one timeline event, only while the escalation is in the state
 * `guard` names (its changes are 0 otherwise), so it can run in the same batch as the change.
 */
export function escalationEventStatement(
  db: D1Database,
  workspaceId: string,
  event: EscalationEvent,
  guard: EventGuard,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO escalation_events (id, workspace_id, escalation_id, at, kind, actor_user_id, note)
     SELECT ?3, ?1, e.id, ?4, ?5, ?6, ?7 FROM escalations e WHERE e.workspace_id = ?1 AND e.id = ?2 AND ${EVENT_GUARD_SQL[guard]}`,
    )
    .bind(workspaceId, event.escalationId, event.id, event.at, event.kind, event.actorUserId, event.note);
}

const BY_ID = "WHERE workspace_id = ?1 AND id = ?2";

/** The statement that sets an escalation's owner. */
export function assignEscalationStatement(
  db: D1Database,
  workspaceId: string,
  escalationId: string,
  ownerUserId: string,
): D1PreparedStatement {
  return db.prepare(`UPDATE escalations SET owner_user_id = ?3 ${BY_ID}`).bind(workspaceId, escalationId, ownerUserId);
}

/** The statement that moves an unresolved escalation to in_progress. */
export function markInProgressStatement(
  db: D1Database,
  workspaceId: string,
  escalationId: string,
): D1PreparedStatement {
  return db
    .prepare(`UPDATE escalations SET status = 'in_progress' ${BY_ID} AND status <> 'resolved'`)
    .bind(workspaceId, escalationId);
}

/** The statement that resolves an unresolved escalation with its root cause and resolution. */
export function resolveEscalationStatement(
  db: D1Database,
  workspaceId: string,
  escalationId: string,
  resolution: { resolvedAt: string; rootCause: string; resolution: string | null },
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE escalations SET status = 'resolved', resolved_at = ?3, root_cause = ?4, resolution = ?5 ${BY_ID} AND status <> 'resolved'`,
    )
    .bind(workspaceId, escalationId, resolution.resolvedAt, resolution.rootCause, resolution.resolution);
}

/** The statement that reopens a resolved escalation with a new SLA due time (reopen_count + 1). */
export function reopenEscalationStatement(
  db: D1Database,
  workspaceId: string,
  escalationId: string,
  slaDueAt: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE escalations SET status = 'open', reopen_count = reopen_count + 1, sla_due_at = ?3, resolved_at = NULL,
                root_cause = NULL, resolution = NULL ${BY_ID} AND status = 'resolved'`,
    )
    .bind(workspaceId, escalationId, slaDueAt);
}

/** One timeline event as read. */
export interface EscalationEventRow {
  id: string;
  at: string;
  kind: "opened" | "assigned" | "updated" | "notified" | "resolved" | "reopened";
  actor_user_id: string | null;
  note: string | null;
}

/** The first `limit` timeline events of an escalation, oldest first. */
export async function escalationTimeline(
  db: D1Database,
  workspaceId: string,
  escalationId: string,
  limit: number,
): Promise<EscalationEventRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, at, kind, actor_user_id, note FROM escalation_events
      WHERE workspace_id = ?1 AND escalation_id = ?2 ORDER BY at, rowid LIMIT ?3`,
    )
    .bind(workspaceId, escalationId, limit)
    .all<EscalationEventRow>();
  return results;
}

/** Filters and position of one page of escalations. */
export interface EscalationPageQuery {
  statuses: readonly EscalationStatus[];
  accountId?: string;
  severity?: Severity;
  ownerUserId?: string;
  /** The last row of the previous page, when this is a later page. */
  after: { slaDueAt: string; id: string } | null;
  /** Rows to read (the page size + 1 to know whether more follow). */
  limit: number;
  /** The instant past-due is judged at. */
  now: string;
}

/**
 * Up to `limit` escalations matching the filters in (sla_due_at, id) order after the position,
 * with the count of all that match and of those unresolved and past due at `now`.
 */
export async function escalationPage(
  db: D1Database,
  workspaceId: string,
  query: EscalationPageQuery,
): Promise<{ rows: EscalationRow[]; matching: number; breached: number }> {
  // Only the filters given are in the SQL, so an unfiltered count reads the status index alone.
  const params = new SqlParams();
  params.add(workspaceId);
  const given = [
    query.accountId === undefined ? null : `e.account_id = ${params.add(query.accountId)}`,
    query.severity === undefined ? null : `e.severity = ${params.add(query.severity)}`,
    query.ownerUserId ? `e.owner_user_id = ${params.add(query.ownerUserId)}` : null,
  ].flatMap((c) => (c ? [` AND ${c}`] : []));
  const filter = `e.workspace_id = ?1${given.join("")}`;
  const totalsSql = `SELECT count(*) AS matching, coalesce(sum(e.status <> 'resolved' AND e.sla_due_at < ?${params.values.length + 1}), 0) AS breached
      FROM escalations e WHERE ${filter} AND e.status IN (SELECT value FROM json_each(?${params.values.length + 2}))`;
  const totalsParams = [...params.values, query.now, JSON.stringify(query.statuses)];
  const after = query.after
    ? ` AND (e.sla_due_at, e.id) > (${params.add(query.after.slaDueAt)}, ${params.add(query.after.id)})`
    : "";
  const pageSize = params.add(query.limit);
  // Each status is read in (sla_due_at, id) order up to the page size; the page is the first of their union.
  const byStatus = query.statuses.map(
    (status) => `SELECT * FROM (SELECT e.id, e.sla_due_at FROM escalations e
       WHERE ${filter} AND e.status = ${params.add(status)}${after} ORDER BY e.sla_due_at, e.id LIMIT ${pageSize})`,
  );
  const [page, totals] = await db.batch([
    db
      .prepare(
        // "+e.workspace_id" has the page's ids looked up by key rather than the workspace's escalations scanned.
        `${SELECT_ESCALATIONS} WHERE +e.workspace_id = ?1 AND e.id IN (
         SELECT id FROM (${byStatus.join(" UNION ALL ")}) ORDER BY sla_due_at, id LIMIT ${pageSize})
        ORDER BY e.sla_due_at, e.id`,
      )
      .bind(...params.values),
    db.prepare(totalsSql).bind(...totalsParams),
  ]);
  const total = (totals?.results[0] ?? { matching: 0, breached: 0 }) as { matching: number; breached: number };
  return { rows: (page?.results ?? []) as EscalationRow[], matching: total.matching, breached: total.breached };
}

/** An escalation as the statistics read it, with its id and account. */
export interface EscalationStatsRow extends EscalationFacts {
  id: string;
  account_id: string;
}

/** The escalations opened in [from, endExclusive) (opened_at, ISO instants). */
export async function escalationsOpenedIn(
  db: D1Database,
  workspaceId: string,
  window: { from: string; endExclusive: string },
): Promise<EscalationStatsRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, account_id, severity, status, opened_at, resolved_at, sla_due_at, reopen_count FROM escalations
      WHERE workspace_id = ?1 AND opened_at >= ?2 AND opened_at < ?3`,
    )
    .bind(workspaceId, window.from, window.endExclusive)
    .all<EscalationStatsRow>();
  return results;
}

/**
 * The count and score sum of CSAT answers of each window's account responded within its window
 * (after, until]; windows of one account must not overlap (see `mergeAccountWindows`), so each
 * answer counts once. Nothing is read for no windows.
 */
export async function csatInAccountWindows(
  db: D1Database,
  workspaceId: string,
  windows: readonly AccountWindow[],
): Promise<{ answered: number; scoreSum: number }> {
  const chunks = jsonChunks(windows.map((w) => ({ a: w.account_id, r: w.after, u: w.until })));
  let answered = 0;
  let scoreSum = 0;
  if (chunks.length === 0) return { answered, scoreSum };
  const batches = await db.batch<{ n: number; total: number | null }>(
    chunks.map((chunk) =>
      db
        .prepare(
          // CROSS JOIN drives from the windows, so each reads its account's (workspace, account, time)
          // index range; "+r.kind" keeps that index in use rather than scanning all CSAT.
          `SELECT count(*) AS n, sum(r.score) AS total FROM json_each(?2) j
             CROSS JOIN survey_responses r ON r.workspace_id = ?1 AND r.account_id = j.value ->> '$.a'
              AND r.responded_at > j.value ->> '$.r' AND r.responded_at <= j.value ->> '$.u'
            WHERE +r.kind = 'csat'`,
        )
        .bind(workspaceId, chunk),
    ),
  );
  for (const batch of batches) {
    answered += batch.results[0]?.n ?? 0;
    scoreSum += batch.results[0]?.total ?? 0;
  }
  return { answered, scoreSum };
}
