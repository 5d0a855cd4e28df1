import { jsonChunks } from "../../../platform/db/json-chunks";
import { clock } from "../../../platform/lib/clock";

/** A renewal reminder as the renewal tools show it. */
export interface ReminderRow {
  id: string;
  contract_id: string;
  offset_days: number;
  due_day: string;
  status: "queued" | "sent" | "acknowledged" | "skipped";
  sent_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  note: string | null;
}

/** The statement reading the reminders made for `contractIds`, by contract then largest offset first. */
export function remindersOfContractsStatement(
  db: D1Database,
  workspaceId: string,
  contractIds: readonly string[],
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT id, contract_id, offset_days, due_day, status, sent_at, acknowledged_at, acknowledged_by, note
               FROM renewal_reminders WHERE workspace_id = ?1 AND contract_id IN (SELECT value FROM json_each(?2))
              ORDER BY contract_id, offset_days DESC`,
    )
    .bind(workspaceId, JSON.stringify(contractIds));
}

/**
 * Marks a sent reminder acknowledged at `at` by `by` (a reminder in any other status is left
 * alone) and reads it back in the same batch: the reminder as stored now, or null when absent.
 */
export async function acknowledgeReminder(
  db: D1Database,
  workspaceId: string,
  acknowledgement: { reminderId: string; at: string; by: string },
): Promise<ReminderRow | null> {
  const { reminderId, at, by } = acknowledgement;
  const [, readRes] = await db.batch([
    db
      .prepare(
        `UPDATE renewal_reminders SET status = 'acknowledged', acknowledged_at = ?3, acknowledged_by = ?4
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'sent'`,
      )
      .bind(workspaceId, reminderId, at, by),
    db
      .prepare(
        `SELECT id, contract_id, offset_days, due_day, status, sent_at, acknowledged_at, acknowledged_by, note
         FROM renewal_reminders WHERE workspace_id = ?1 AND id = ?2`,
      )
      .bind(workspaceId, reminderId),
  ]);
  return (readRes?.results[0] as ReminderRow | undefined) ?? null;
}

/** A workspace the daily reminder run visits, with its stored settings (JSON). */
export interface ReminderWorkspaceRow {
  id: string;
  settings: string | null;
}

/**
 * Every workspace, by id, with an active contract ending after `day` and on or before `until`,
 * or with a reminder still queued.
 */
export async function workspacesWithRenewalsDue(
  db: D1Database,
  day: string,
  until: string,
): Promise<ReminderWorkspaceRow[]> {
  const workspaces = await db
    .prepare(
      `SELECT w.id, w.settings FROM workspaces w
        WHERE EXISTS (SELECT 1 FROM contracts c WHERE c.workspace_id = w.id AND c.status = 'active'
                         AND c.end_date > ?1 AND c.end_date <= ?2)
           OR EXISTS (SELECT 1 FROM renewal_reminders r WHERE r.workspace_id = w.id AND r.status = 'queued')
        ORDER BY w.id`,
    )
    .bind(day, until)
    .all<ReminderWorkspaceRow>();
  return workspaces.results;
}

/** An open renewal with a crossed offset not yet reminded. */
export interface ReminderCandidateRow {
  contract_id: string;
  account_id: string;
  end_date: string;
  tier: string | null;
  owner_user_id: string | null;
  /** JSON array of the offsets already reminded. */
  reminded: string;
}

/**
 * One page of open renewals (contract active without an outcome, account not churned, renewal
 * date after `day` and on or before `until`) with an offset of `schedule` crossed by `day` and not
 * yet reminded, in the order of the (workspace, status, end date) index after the keyset position
 * `after`, up to `pageSize` rows. `schedule` holds (tier, offset) pairs, '' standing for every
 * account whose tier is not among `tiers`.
 */
export async function reminderCandidates(
  db: D1Database,
  workspaceId: string,
  scan: {
    day: string;
    schedule: readonly { t: string; o: number }[];
    until: string;
    tiers: readonly string[];
    after: { endDate: string; id: string };
    pageSize: number;
  },
): Promise<ReminderCandidateRow[]> {
  const page = await db
    .prepare(
      `WITH sched AS (SELECT value ->> '$.t' AS t, value ->> '$.o' AS o FROM json_each(?3))
       SELECT c.id AS contract_id, c.account_id, c.end_date, a.tier, a.owner_user_id,
              (SELECT json_group_array(r.offset_days) FROM renewal_reminders r
                WHERE r.workspace_id = ?1 AND r.contract_id = c.id) AS reminded
         FROM contracts c
         JOIN accounts a ON +a.workspace_id = ?1 AND a.id = c.account_id
        WHERE c.workspace_id = ?1 AND c.status = 'active' AND c.end_date > ?2 AND c.end_date <= ?4
          AND c.outcome IS NULL AND a.status <> 'churned' AND (c.end_date, c.id) > (?5, ?8)
          AND EXISTS (
            SELECT 1 FROM sched s
             WHERE s.t = CASE WHEN a.tier IN (SELECT value FROM json_each(?6)) THEN a.tier ELSE '' END
               AND date(c.end_date, '-' || s.o || ' days') <= ?2
               AND NOT EXISTS (SELECT 1 FROM renewal_reminders r
                                WHERE r.workspace_id = ?1 AND r.contract_id = c.id AND r.offset_days = s.o))
        ORDER BY c.end_date, c.id
        LIMIT ?7`,
    )
    .bind(
      workspaceId,
      scan.day,
      JSON.stringify(scan.schedule),
      scan.until,
      scan.after.endDate,
      JSON.stringify(scan.tiers),
      scan.pageSize,
      scan.after.id,
    )
    .all<ReminderCandidateRow>();
  return page.results;
}

/** A reminder row to create: contract, account, offset, status, note, due day and renewal date. */
export interface NewReminder {
  id: string;
  /** Contract, account, renewal date and owner user. */
  c: string;
  a: string;
  rd: string;
  u: string | null;
  /** Offset in days, status (queued or skipped) and why it was skipped. */
  o: number;
  s: string;
  n: string | null;
  due: string;
}

/**
 * Inserts the reminders, skipping any (workspace, contract, offset) that exists: the statuses of
 * the rows inserted.
 */
export async function insertReminders(
  db: D1Database,
  workspaceId: string,
  reminders: NewReminder[],
): Promise<string[]> {
  const statuses: string[] = [];
  const createdAt = clock.now().toISOString();
  for (const chunk of jsonChunks(reminders)) {
    const inserted = await db
      .prepare(
        `INSERT INTO renewal_reminders (id, workspace_id, contract_id, account_id, offset_days, due_day, renewal_date,
                                        status, owner_user_id, note, created_at)
         SELECT value ->> '$.id', ?1, value ->> '$.c', value ->> '$.a', value ->> '$.o', value ->> '$.due',
                value ->> '$.rd', value ->> '$.s', value ->> '$.u', value ->> '$.n', ?3
           FROM json_each(?2) WHERE true
         ON CONFLICT (workspace_id, contract_id, offset_days) DO NOTHING RETURNING status`,
      )
      .bind(workspaceId, chunk, createdAt)
      .all<{ status: string }>();
    for (const row of inserted.results) statuses.push(row.status);
  }
  return statuses;
}

/** A queued reminder with what sending it needs: its contract, account and the owner's active user. */
export interface DispatchRow {
  id: string;
  contract_id: string;
  account_id: string;
  offset_days: number;
  renewal_date: string;
  contract_status: string | null;
  outcome: string | null;
  arr: number | null;
  auto_renew: number | null;
  account_name: string | null;
  account_status: string | null;
  health_score: number | null;
  health_band: string | null;
  churn_probability: number | null;
  owner_user_id: string | null;
  owner_email: string | null;
  owner_name: string | null;
}

/** The reminders of `reminderIds` still queued, by id, with their contract, account and owner. */
export async function queuedRemindersToSend(
  db: D1Database,
  workspaceId: string,
  reminderIds: readonly string[],
): Promise<DispatchRow[]> {
  const page = await db
    .prepare(
      `SELECT r.id, r.contract_id, r.account_id, r.offset_days, r.renewal_date,
            c.status AS contract_status, c.outcome, c.arr, c.auto_renew,
            a.name AS account_name, a.status AS account_status, a.health_score, a.health_band, a.churn_probability,
            a.owner_user_id, u.email AS owner_email, u.name AS owner_name
       FROM renewal_reminders r
       LEFT JOIN contracts c ON +c.workspace_id = r.workspace_id AND c.id = r.contract_id
       LEFT JOIN accounts a ON +a.workspace_id = r.workspace_id AND a.id = r.account_id
       LEFT JOIN users u ON +u.workspace_id = r.workspace_id AND u.id = a.owner_user_id AND u.disabled_at IS NULL
      WHERE +r.workspace_id = ?1 AND r.id IN (SELECT value FROM json_each(?2)) AND r.status = 'queued'
      ORDER BY r.id`,
    )
    .bind(workspaceId, JSON.stringify(reminderIds))
    .all<DispatchRow>();
  return page.results;
}

/** An owner task a reminder opens: id, account, title, description, priority, owner and due date. */
export interface ReminderTask {
  id: string;
  a: string;
  title: string;
  d: string;
  p: string;
  u: string | null;
  due: string;
}

/** The statements opening the reminders' owner tasks (a task id that exists is skipped), each returning the ids created. */
export function reminderTaskStatements(
  db: D1Database,
  workspaceId: string,
  tasks: ReminderTask[],
): D1PreparedStatement[] {
  const taskWrites: D1PreparedStatement[] = [];
  const createdAt = clock.now().toISOString();
  for (const chunk of jsonChunks(tasks)) {
    taskWrites.push(
      db
        .prepare(
          `INSERT INTO tasks (id, workspace_id, account_id, title, description, owner_user_id, due_date, priority, status,
                            source, created_by, created_at)
         SELECT value ->> '$.id', ?1, value ->> '$.a', value ->> '$.title', value ->> '$.d', value ->> '$.u',
                value ->> '$.due', value ->> '$.p', 'open', 'renewal_reminder', 'renewal_reminder', ?3
           FROM json_each(?2) WHERE true
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        )
        .bind(workspaceId, chunk, createdAt),
    );
  }
  return taskWrites;
}

/** How a reminder leaves `queued`: status, task, outbox id, Slack queued (1/0), note and owner. */
export interface ReminderOutcome {
  id: string;
  s: "sent" | "skipped";
  t: string | null;
  e: string | null;
  k: number;
  n: string | null;
  u: string | null;
}

/** The statements moving the reminders still queued to their outcome (`sent_at` = `sentAt` for the sent ones). */
export function reminderOutcomeStatements(
  db: D1Database,
  workspaceId: string,
  outcomes: ReminderOutcome[],
  sentAt: string,
): D1PreparedStatement[] {
  const updateWrites: D1PreparedStatement[] = [];
  for (const chunk of jsonChunks(outcomes)) {
    updateWrites.push(
      db
        .prepare(
          `UPDATE renewal_reminders
            SET status = j.s, task_id = j.t, outbox_id = j.e, slack_queued = j.k, note = j.n,
                owner_user_id = j.u, sent_at = CASE WHEN j.s = 'sent' THEN ?3 END
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.s' AS s, value ->> '$.t' AS t, value ->> '$.e' AS e,
                        value ->> '$.k' AS k, value ->> '$.n' AS n, value ->> '$.u' AS u FROM json_each(?2)) AS j
          WHERE +renewal_reminders.workspace_id = ?1 AND renewal_reminders.id = j.id
            AND renewal_reminders.status = 'queued'`,
        )
        .bind(workspaceId, chunk, sentAt),
    );
  }
  return updateWrites;
}

/**
 * One page of the workspace's queued reminders due on or before `day`, in the order of the
 * (workspace, status, due day) index after the keyset position `after`, up to `limit` rows.
 */
export async function queuedRemindersDue(
  db: D1Database,
  workspaceId: string,
  page: { day: string; after: { dueDay: string; id: string }; limit: number },
): Promise<{ id: string; due_day: string }[]> {
  const result = await db
    .prepare(
      `SELECT id, due_day FROM renewal_reminders
        WHERE workspace_id = ?1 AND status = 'queued' AND due_day <= ?2 AND (due_day, id) > (?3, ?4)
        ORDER BY due_day, id
        LIMIT ?5`,
    )
    .bind(workspaceId, page.day, page.after.dueDay, page.after.id, page.limit)
    .all<{ id: string; due_day: string }>();
  return result.results;
}
