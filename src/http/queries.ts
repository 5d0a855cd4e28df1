/**
 * The SQL of the public pages: the survey response page (an invitation found by its link
 * token's hash, the answer recorded once) and the local outbox view (one workspace's messages).
 */
import type { SurveyKind } from "../tools/retention/domain/satisfaction-scores";

/** A survey invitation with its survey, workspace settings and the template values of its email. */
export interface InvitationRow {
  id: string;
  workspace_id: string;
  survey_id: string;
  responded_at: string | null;
  kind: SurveyKind;
  question: string;
  status: string;
  settings: string | null;
  contact_name: string | null;
  contact_email: string | null;
  contact_title: string | null;
  account_name: string | null;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
}

/** The invitation whose link token has this SHA-256 (hex), or null. */
export async function findInvitationByTokenHash(db: D1Database, tokenHash: string): Promise<InvitationRow | null> {
  return db
    .prepare(
      `SELECT i.id, i.workspace_id, i.survey_id, i.responded_at, s.kind, s.question, s.status, w.settings,
            c.name AS contact_name, c.email AS contact_email, c.title AS contact_title,
            a.name AS account_name, a.domain AS account_domain, u.name AS csm_name, u.email AS csm_email
       FROM survey_invitations i
       JOIN surveys s ON s.workspace_id = i.workspace_id AND s.id = i.survey_id
       JOIN workspaces w ON w.id = i.workspace_id
       LEFT JOIN contacts c ON c.workspace_id = i.workspace_id AND c.id = i.contact_id
       LEFT JOIN accounts a ON a.workspace_id = i.workspace_id AND a.id = i.account_id
       LEFT JOIN users u ON u.workspace_id = i.workspace_id AND u.id = a.owner_user_id
      WHERE i.token_hash = ?1`,
    )
    .bind(tokenHash)
    .first<InvitationRow>();
}

/** One answer to an invitation. */
export interface SurveyAnswer {
  invitationId: string;
  /** The id of the new `survey_responses` row. */
  responseId: string;
  kind: SurveyKind;
  score: number;
  comment: string | null;
  /** ISO time of the answer. */
  respondedAt: string;
}

/**
 * Claims the invitation, then inserts the response only if this claim holds, in one transaction,
 * so two submissions can never both count. True when this answer was recorded.
 */
export async function recordSurveyAnswer(db: D1Database, answer: SurveyAnswer): Promise<boolean> {
  const [, inserted] = await db.batch([
    db
      .prepare(
        "UPDATE survey_invitations SET responded_at = ?2, response_id = ?3 WHERE id = ?1 AND responded_at IS NULL",
      )
      .bind(answer.invitationId, answer.respondedAt, answer.responseId),
    db
      .prepare(
        `INSERT INTO survey_responses (id, workspace_id, account_id, contact_id, kind, score, survey_id, comment, responded_at)
       SELECT ?2, i.workspace_id, i.account_id, i.contact_id, ?3, ?4, i.survey_id, ?5, ?6
         FROM survey_invitations i WHERE i.id = ?1 AND i.response_id = ?2`,
      )
      .bind(answer.invitationId, answer.responseId, answer.kind, answer.score, answer.comment, answer.respondedAt),
  ]);
  return Boolean(inserted?.meta.changes);
}

/** One outbox message as the outbox list shows it. */
export interface OutboxSummaryRow {
  id: string;
  to_email: string;
  subject: string;
  status: string;
  provider: string;
  origin: string;
  created_at: string;
  sent_at: string | null;
}

/** One outbox message with its rendered parts and delivery state. */
export interface OutboxMessageRow extends OutboxSummaryRow {
  account_id: string | null;
  contact_id: string | null;
  body_text: string;
  body_html: string | null;
  provider_message_id: string | null;
  attempts: number;
  error: string | null;
}

/**
 * Up to `limit` of the workspace's outbox messages, newest first (by creation time, then id),
 * older than the message `before` when given.
 */
export async function listOutboxMessages(
  db: D1Database,
  workspaceId: string,
  before: string | null,
  limit: number,
): Promise<OutboxSummaryRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, to_email, subject, status, provider, origin, created_at, sent_at FROM outbox_messages
      WHERE workspace_id = ?1
        AND (?2 IS NULL OR (created_at, id) < (SELECT created_at, id FROM outbox_messages WHERE workspace_id = ?1 AND id = ?2))
      ORDER BY created_at DESC, id DESC LIMIT ?3`,
    )
    .bind(workspaceId, before, limit)
    .all<OutboxSummaryRow>();
  return results;
}

/** The workspace's outbox message with this id, or null. */
export async function findOutboxMessage(
  db: D1Database,
  workspaceId: string,
  id: string,
): Promise<OutboxMessageRow | null> {
  return db
    .prepare(
      `SELECT id, to_email, subject, status, provider, origin, created_at, sent_at, account_id, contact_id, body_text,
            body_html, provider_message_id, attempts, error
       FROM outbox_messages WHERE workspace_id = ?1 AND id = ?2`,
    )
    .bind(workspaceId, id)
    .first<OutboxMessageRow>();
}
