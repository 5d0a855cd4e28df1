import { SCALES, SURVEY_KINDS, type SurveyKind } from "../domain/satisfaction-scores";

/** Task ids of follow-ups are fixed per response, so creating them twice is a no-op. */
const FOLLOW_UP_TASK_PREFIX = "tsk_followup_";

/** SQL condition: the response needs a follow-up (NPS 0–6, CSAT 1–2, CES 1–3). */
const NEGATIVE_SQL = `(${SURVEY_KINDS.map((kind) => `(r.kind = '${kind}' AND r.score <= ${SCALES[kind].negativeMax})`).join(" OR ")})`;

/** The kinds asked for as a JSON list, so `kind IN (json_each)` keeps the (workspace, kind, time) index in use. */
const kindsParam = (kind: SurveyKind | undefined) => JSON.stringify(kind ? [kind] : SURVEY_KINDS);

/** Responses read: of one kind or all, responded at in [from, endExclusive) (ISO instants). */
export interface ResponseWindow {
  from: string;
  endExclusive: string;
  kind: SurveyKind | undefined;
}

/** How many responses of one kind gave one score in one month (YYYY-MM) and account segment. */
export interface HistogramRow {
  kind: SurveyKind;
  score: number;
  month: string;
  segment: string | null;
  n: number;
}

/** A survey first sent in the window with its invitations sent and answered. */
export interface SurveyRateRow {
  survey_id: string;
  name: string;
  kind: SurveyKind;
  sent_at: string | null;
  invitations_sent: number;
  responded: number;
}

/**
 * The window's responses counted by (kind, score, month, account segment), and the first
 * `surveyLimit` surveys first sent in the window (newest first) with their invitations sent and
 * answered.
 */
export async function scoresInWindow(
  db: D1Database,
  workspaceId: string,
  window: ResponseWindow,
  surveyLimit: number,
): Promise<{ histogram: HistogramRow[]; surveys: SurveyRateRow[] }> {
  const [histogram, surveyRates] = await db.batch([
    // "+a.workspace_id": each response's account is found by its key alone, one row read rather than two.
    db
      .prepare(
        `SELECT r.kind AS kind, r.score AS score, substr(r.responded_at, 1, 7) AS month, a.segment AS segment, count(*) AS n
         FROM survey_responses r
         LEFT JOIN accounts a ON +a.workspace_id = ?1 AND a.id = r.account_id
        WHERE r.workspace_id = ?1 AND r.responded_at >= ?2 AND r.responded_at < ?3 AND r.kind IN (SELECT value FROM json_each(?4))
        GROUP BY r.kind, r.score, month, segment`,
      )
      .bind(workspaceId, window.from, window.endExclusive, kindsParam(window.kind)),
    db
      .prepare(
        `SELECT s.id AS survey_id, s.name AS name, s.kind AS kind, s.sent_at AS sent_at,
              coalesce(sum(i.sent_at IS NOT NULL), 0) AS invitations_sent,
              coalesce(sum(i.sent_at IS NOT NULL AND i.responded_at IS NOT NULL), 0) AS responded
         FROM surveys s
         LEFT JOIN survey_invitations i ON i.workspace_id = ?1 AND i.survey_id = s.id
        WHERE s.workspace_id = ?1 AND s.sent_at >= ?2 AND s.sent_at < ?3 AND (?4 IS NULL OR s.kind = ?4)
        GROUP BY s.id
        ORDER BY s.sent_at DESC, s.id
        LIMIT ?5`,
      )
      .bind(workspaceId, window.from, window.endExclusive, window.kind ?? null, surveyLimit),
  ]);
  return {
    histogram: (histogram?.results ?? []) as HistogramRow[],
    surveys: (surveyRates?.results ?? []) as SurveyRateRow[],
  };
}

/** A response needing follow-up, with its contact, account and follow-up task. */
export interface DetractorRow {
  response_id: string;
  kind: SurveyKind;
  score: number;
  responded_at: string;
  survey_id: string | null;
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  account_id: string | null;
  account_name: string | null;
  arr: number | null;
  customer_text: string | null;
  follow_up_task_id: string | null;
  follow_up_task_status: string | null;
}

/**
 * Up to `limit` of the window's responses needing follow-up, newest first (responded_at, id),
 * after the position when given; with the count of all of them and of those without a follow-up task.
 */
export async function detractorPage(
  db: D1Database,
  workspaceId: string,
  window: ResponseWindow,
  page: { after: { respondedAt: string; id: string } | null; limit: number },
): Promise<{ rows: DetractorRow[]; total: number; without_follow_up: number }> {
  const after = page.after ? [page.after.respondedAt, page.after.id] : [null, null];
  const filter = `r.workspace_id = ?1 AND r.responded_at >= ?2 AND r.responded_at < ?3 AND r.kind IN (SELECT value FROM json_each(?4)) AND ${NEGATIVE_SQL}`;
  const kinds = kindsParam(window.kind);
  const [rows, totals] = await db.batch([
    db
      .prepare(
        `SELECT r.id AS response_id, r.kind, r.score, r.responded_at, r.survey_id, r.contact_id,
              c.name AS contact_name, c.email AS contact_email, r.account_id, a.name AS account_name, a.arr,
              r.comment AS customer_text, t.id AS follow_up_task_id, t.status AS follow_up_task_status
         FROM survey_responses r
         LEFT JOIN contacts c ON c.workspace_id = ?1 AND c.id = r.contact_id
         LEFT JOIN accounts a ON a.workspace_id = ?1 AND a.id = r.account_id
         LEFT JOIN tasks t ON t.workspace_id = ?1 AND t.id = '${FOLLOW_UP_TASK_PREFIX}' || r.id
        WHERE ${filter} AND (?5 IS NULL OR (r.responded_at, r.id) < (?5, ?6))
        ORDER BY r.responded_at DESC, r.id DESC
        LIMIT ?7`,
      )
      .bind(workspaceId, window.from, window.endExclusive, kinds, after[0], after[1], page.limit),
    db
      .prepare(
        `SELECT count(*) AS total, coalesce(sum(t.id IS NULL), 0) AS without_follow_up
         FROM survey_responses r
         LEFT JOIN tasks t ON t.workspace_id = ?1 AND t.id = '${FOLLOW_UP_TASK_PREFIX}' || r.id
        WHERE ${filter}`,
      )
      .bind(workspaceId, window.from, window.endExclusive, kinds),
  ]);
  const total = (totals?.results[0] ?? { total: 0, without_follow_up: 0 }) as {
    total: number;
    without_follow_up: number;
  };
  return {
    rows: (rows?.results ?? []) as DetractorRow[],
    total: total.total,
    without_follow_up: total.without_follow_up,
  };
}

/**
 * Creates one open high-priority task (id tsk_followup_<response id>, owned by the account owner,
 * due `dueDate`) per response of the window needing follow-up that has none; returns the ids created.
 */
export async function createFollowUpTasks(
  db: D1Database,
  workspaceId: string,
  window: ResponseWindow,
  task: { dueDate: string; createdBy: string | null; createdAt: string },
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `INSERT INTO tasks (id, workspace_id, account_id, title, description, owner_user_id, due_date, priority, status,
                        source, created_by, created_at)
     SELECT '${FOLLOW_UP_TASK_PREFIX}' || r.id, ?1, r.account_id,
            'Follow up on ' || upper(r.kind) || ' ' || r.score || ' from ' || coalesce(c.name, a.name, 'a respondent'),
            'Survey response ' || r.id || ' (' || upper(r.kind) || ' ' || r.score || ' on ' || substr(r.responded_at, 1, 10)
              || '). Read the comment with monitor_satisfaction action detractors.',
            a.owner_user_id, ?5, 'high', 'open', 'survey_follow_up', ?6, ?7
       FROM survey_responses r
       LEFT JOIN contacts c ON c.workspace_id = ?1 AND c.id = r.contact_id
       LEFT JOIN accounts a ON a.workspace_id = ?1 AND a.id = r.account_id
      WHERE r.workspace_id = ?1 AND r.responded_at >= ?2 AND r.responded_at < ?3 AND r.kind IN (SELECT value FROM json_each(?4))
        AND ${NEGATIVE_SQL}
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    )
    .bind(
      workspaceId,
      window.from,
      window.endExclusive,
      kindsParam(window.kind),
      task.dueDate,
      task.createdBy,
      task.createdAt,
    )
    .all<{ id: string }>();
  return results.map((r) => r.id);
}
