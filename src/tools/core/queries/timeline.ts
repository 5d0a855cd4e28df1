import { SqlParams } from "../../../platform/db/sql-params";
import { isoWeekMonday } from "../../../platform/lib/iso-week";
import { addDays } from "../../../platform/lib/time";
import type { TimelineKind } from "../domain/timeline";

/** One timeline entry as stored: when, its kind, the record id and its fields as a JSON object. */
export interface TimelineRow {
  at: string;
  kind: TimelineKind;
  ref_id: string;
  detail: string;
}

/** One branch of the UNION ALL: rows of one kind, newest first, at most one page plus one. */
interface Branch {
  kind: TimelineKind;
  /** SQL for the branch given the bound conditions on its time column. */
  sql(bounds: (at: string, id: string) => string, p: BranchParams): string;
}

interface BranchParams {
  ws: string;
  account: string;
  rows: string;
  /** Extra placeholders a branch may need (usage weeks). */
  add(value: string | number): string;
}

/** Time-ordered branches. Every one filters on workspace and account through an index on (workspace_id, account_id, …). */
const BRANCHES: Branch[] = [
  {
    kind: "ticket_opened",
    sql: (b, p) => `SELECT created_at AS at, 'ticket_opened' AS kind, id AS ref_id,
        json_object('subject', subject, 'status', status, 'priority', priority, 'category', category) AS detail
      FROM tickets WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("created_at", "id")}
      ORDER BY created_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "ticket_solved",
    sql: (b, p) => `SELECT solved_at AS at, 'ticket_solved' AS kind, id AS ref_id,
        json_object('subject', subject, 'priority', priority, 'csat_score', csat_score, 'created_at', created_at) AS detail
      FROM tickets WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND solved_at IS NOT NULL
        AND ${b("solved_at", "id")}
      ORDER BY solved_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "survey_response",
    sql: (b, p) => `SELECT responded_at AS at, 'survey_response' AS kind, id AS ref_id,
        json_object('survey', kind, 'score', score, 'comment', comment, 'contact_id', contact_id) AS detail
      FROM survey_responses WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("responded_at", "id")}
      ORDER BY responded_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "feedback",
    sql: (b, p) => `SELECT created_at AS at, 'feedback' AS kind, id AS ref_id,
        json_object('feedback_kind', kind, 'title', title, 'feature', feature, 'status', status, 'source', source) AS detail
      FROM feedback_items WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("created_at", "id")}
      ORDER BY created_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "activity",
    sql: (b, p) => `SELECT occurred_at AS at, 'activity' AS kind, id AS ref_id,
        json_object('activity_kind', kind, 'direction', direction, 'subject', subject, 'user_id', user_id,
                    'contact_id', contact_id) AS detail
      FROM activities WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("occurred_at", "id")}
      ORDER BY occurred_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "email",
    sql: (b, p) => `SELECT created_at AS at, 'email' AS kind, id AS ref_id,
        json_object('subject', subject, 'to_email', to_email, 'status', status, 'sent_at', sent_at) AS detail
      FROM outbox_messages WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("created_at", "id")}
      ORDER BY created_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "stage_change",
    sql: (b, p) => `SELECT changed_at AS at, 'stage_change' AS kind, id AS ref_id,
        json_object('from_stage', from_stage, 'to_stage', to_stage, 'reason', reason) AS detail
      FROM account_stage_history WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("changed_at", "id")}
      ORDER BY changed_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    // Walks the score history newest first and keeps days whose band differs from the day before;
    // the first stored score counts as a change from none.
    kind: "health_band_change",
    sql: (b, p) => `SELECT at, 'health_band_change' AS kind, at AS ref_id,
        json_object('band', band, 'previous_band', previous_band, 'score', score) AS detail
      FROM (SELECT h.day AS at, h.band, h.score,
                   (SELECT prev.band FROM health_scores prev
                     WHERE prev.workspace_id = h.workspace_id AND prev.account_id = h.account_id AND prev.day < h.day
                     ORDER BY prev.day DESC LIMIT 1) AS previous_band
              FROM health_scores h
             WHERE h.workspace_id = ${p.ws} AND h.account_id = ${p.account} AND ${b("h.day", "h.day")}
             ORDER BY h.day DESC)
      WHERE previous_band IS NULL OR previous_band <> band
      ORDER BY at DESC LIMIT ${p.rows}`,
  },
  {
    kind: "contract_started",
    sql: (b, p) => `SELECT start_date AS at, 'contract_started' AS kind, id AS ref_id,
        json_object('arr', arr, 'end_date', end_date, 'auto_renew', auto_renew, 'previous_contract_id', previous_contract_id) AS detail
      FROM contracts WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("start_date", "id")}
      ORDER BY start_date DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "contract_ended",
    sql: (b, p) => `SELECT coalesce(outcome_date, end_date) AS at, 'contract_ended' AS kind, id AS ref_id,
        json_object('status', status, 'outcome', outcome, 'reason', outcome_reason, 'arr', arr, 'end_date', end_date) AS detail
      FROM contracts WHERE workspace_id = ${p.ws} AND account_id = ${p.account}
        AND (status <> 'active' OR outcome IS NOT NULL) AND ${b("coalesce(outcome_date, end_date)", "id")}
      ORDER BY at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "task_created",
    sql: (b, p) => `SELECT created_at AS at, 'task_created' AS kind, id AS ref_id,
        json_object('title', title, 'priority', priority, 'due_date', due_date, 'source', source,
                    'owner_user_id', owner_user_id) AS detail
      FROM tasks WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND ${b("created_at", "id")}
      ORDER BY created_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    kind: "task_completed",
    sql: (b, p) => `SELECT completed_at AS at, 'task_completed' AS kind, id AS ref_id,
        json_object('title', title, 'status', status, 'owner_user_id', owner_user_id) AS detail
      FROM tasks WHERE workspace_id = ${p.ws} AND account_id = ${p.account} AND completed_at IS NOT NULL
        AND ${b("completed_at", "id")}
      ORDER BY completed_at DESC, id DESC LIMIT ${p.rows}`,
  },
  {
    // CROSS JOIN fixes the join order: the account's plans first, then their milestones.
    kind: "milestone_completed",
    sql: (b, p) => `SELECT m.completed_at AS at, 'milestone_completed' AS kind, m.id AS ref_id,
        json_object('milestone', m.name, 'plan', pl.name, 'plan_id', pl.id, 'due_date', m.due_date) AS detail
      FROM onboarding_plans pl
      CROSS JOIN onboarding_milestones m ON m.workspace_id = pl.workspace_id AND m.plan_id = pl.id
     WHERE pl.workspace_id = ${p.ws} AND pl.account_id = ${p.account} AND m.completed_at IS NOT NULL
       AND ${b("m.completed_at", "m.id")}
     ORDER BY m.completed_at DESC, m.id DESC LIMIT ${p.rows}`,
  },
];

/** Where a timeline page continues: after the entry at (at, kind, ref_id). */
export interface TimelinePosition {
  at: string;
  kind: TimelineKind;
  id: string;
}

/**
 * Up to `limit` timeline entries of one account (`limit + 1` rows tell whether another page
 * exists), newest first by (at, kind, ref_id), of the kinds included, between since and until
 * (days, inclusive) and after `position`; null when the workspace has no such account. The account
 * check and the page are read in one round trip.
 */
export async function readTimelinePage(
  db: D1Database,
  workspaceId: string,
  page: {
    accountId: string;
    kinds: readonly TimelineKind[];
    since: string | undefined;
    until: string | undefined;
    limit: number;
    position: TimelinePosition | null;
  },
): Promise<TimelineRow[] | null> {
  const { kinds: included, since, until, limit, position } = page;
  const p = new SqlParams();
  const params: BranchParams = {
    ws: p.add(workspaceId),
    account: p.add(page.accountId),
    rows: p.add(limit + 1),
    add: (value) => p.add(value),
  };
  const sinceParam = since ? p.add(since) : null;
  const untilParam = until ? p.add(addDays(until, 1)) : null;
  const cursorAt = position ? p.add(position.at) : null;
  const cursorId = position ? p.add(position.id) : null;

  /** Conditions on a branch's time column: the since/until window and the keyset position. */
  const boundsFor = (kind: TimelineKind) => (at: string, id: string) => {
    const conditions: string[] = [];
    if (sinceParam) conditions.push(`${at} >= ${sinceParam}`);
    if (untilParam) conditions.push(`${at} < ${untilParam}`);
    if (position && cursorAt && cursorId) {
      if (kind < position.kind) conditions.push(`${at} <= ${cursorAt}`);
      else if (kind > position.kind) conditions.push(`${at} < ${cursorAt}`);
      else conditions.push(`${at} <= ${cursorAt} AND (${at} < ${cursorAt} OR ${id} < ${cursorId})`);
    }
    return conditions.length ? `(${conditions.join(" AND ")})` : "1 = 1";
  };

  const arms = BRANCHES.filter((branch) => included.includes(branch.kind)).map(
    (branch) => `SELECT at, kind, ref_id, detail FROM (${branch.sql(boundsFor(branch.kind), params)})`,
  );
  if (included.includes("usage_week")) {
    arms.push(usageWeekArm(boundsFor("usage_week"), params, { limit, since, until, cursorAt: position?.at }));
  }
  const union = db.prepare(`${unionAll(arms, params.rows)}\n${PAGE_ORDER} LIMIT ${params.rows}`).bind(...p.values);
  const accountCheck = db
    .prepare("SELECT 1 AS found FROM accounts WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, page.accountId);
  const [found, timeline] = await db.batch([accountCheck, union]);
  if (found!.results.length === 0) return null;
  return timeline!.results as TimelineRow[];
}

/** D1 allows at most this many terms in one compound SELECT. */
const MAX_COMPOUND_TERMS = 5;
const PAGE_ORDER = "ORDER BY at DESC, kind DESC, ref_id DESC";

/**
 * Joins arms with UNION ALL within D1's compound-SELECT limit: larger sets are grouped into
 * sub-selects (each keeps its own newest rows, in page order) that are unioned in turn.
 */
function unionAll(arms: string[], rows: string): string {
  if (arms.length <= MAX_COMPOUND_TERMS) return arms.join("\nUNION ALL\n");
  const groups: string[] = [];
  for (let i = 0; i < arms.length; i += MAX_COMPOUND_TERMS) {
    const group = arms.slice(i, i + MAX_COMPOUND_TERMS);
    groups.push(`SELECT at, kind, ref_id, detail FROM (${group.join("\nUNION ALL\n")}\n${PAGE_ORDER} LIMIT ${rows})`);
  }
  return unionAll(groups, rows);
}

/**
 * Weekly usage rollups as one UNION arm, dated on each ISO week's Monday. It reads only the
 * latest 7 × (limit + 3) daily rows below the page's upper bound: the newest limit + 1 weeks
 * are then complete even when the cursor's own week and a partial week before `since` are
 * filtered out after grouping, so the rows read stay proportional to the page size.
 */
function usageWeekArm(
  bounds: (at: string, id: string) => string,
  p: BranchParams,
  window: { limit: number; since: string | undefined; until: string | undefined; cursorAt: string | undefined },
): string {
  const upperCandidates = [window.cursorAt, window.until]
    .filter((day): day is string => day !== undefined)
    .map((day) => addDays(isoWeekMonday(day), 7));
  const upperDay = upperCandidates.sort()[0];
  const dayConditions = [`workspace_id = ${p.ws}`, `account_id = ${p.account}`];
  if (upperDay) dayConditions.push(`day < ${p.add(upperDay)}`);
  if (window.since) dayConditions.push(`day >= ${p.add(window.since)}`);
  const week = "date(day, 'weekday 0', '-6 days')";
  return `SELECT at, kind, ref_id, detail FROM (
      SELECT week AS at, 'usage_week' AS kind, week AS ref_id,
             json_object('events', events, 'sessions', sessions, 'active_user_days', active_user_days, 'days', days) AS detail
        FROM (SELECT ${week} AS week, sum(events) AS events, sum(sessions) AS sessions,
                     sum(active_users) AS active_user_days, count(*) AS days
                FROM (SELECT day, events, sessions, active_users FROM usage_daily
                       WHERE ${dayConditions.join(" AND ")}
                       ORDER BY day DESC LIMIT ${p.add(7 * (window.limit + 3))})
               GROUP BY week)
       WHERE ${bounds("week", "week")}
       ORDER BY week DESC LIMIT ${p.rows})`;
}
