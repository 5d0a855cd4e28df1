import { jsonChunks } from "../../../platform/db/json-chunks";
import type { SurveyKind } from "../domain/satisfaction-scores";
import type { Audience } from "../domain/survey-audience";

/** A contact a survey goes to, with the facts its invitation email's templates read. */
export interface SurveyRecipient {
  contact_id: string;
  contact_name: string;
  contact_email: string;
  contact_title: string | null;
  account_id: string;
  account_name: string;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
}

/**
 * The first `limit` contacts an audience resolves to now, by contact id: reachable contacts (an
 * email, not unsubscribed, bounced, spam-reporting or gone) of the audience's accounts, less those
 * who answered the same kind at or after `answeredSince` (none left out when null).
 */
export async function audienceRecipients(
  db: D1Database,
  workspaceId: string,
  query: { kind: SurveyKind; audience: Audience; answeredSince: string | null; limit: number },
): Promise<SurveyRecipient[]> {
  const { audience } = query;
  // CROSS JOIN fixes the join order: the audience's accounts drive, their contacts are read by account.
  const accountSource =
    audience.mode === "accounts"
      ? "json_each(?4) AS j CROSS JOIN accounts a ON a.id = j.value AND a.workspace_id = ?1"
      : "accounts a";
  const accountFilter =
    audience.mode === "accounts"
      ? "true"
      : audience.mode === "segment"
        ? "a.workspace_id = ?1 AND a.status = 'active' AND a.segment = ?4"
        : "a.workspace_id = ?1 AND a.status = 'active' AND ?4 IS NULL";
  const parameter =
    audience.mode === "accounts"
      ? JSON.stringify(audience.account_ids ?? [])
      : audience.mode === "segment"
        ? (audience.segment ?? "")
        : null;
  const { results } = await db
    .prepare(
      `SELECT c.id AS contact_id, c.name AS contact_name, c.email AS contact_email, c.title AS contact_title,
            a.id AS account_id, a.name AS account_name, a.domain AS account_domain,
            u.name AS csm_name, u.email AS csm_email
       FROM ${accountSource}
       CROSS JOIN contacts c ON c.workspace_id = ?1 AND c.account_id = a.id
       LEFT JOIN users u ON u.workspace_id = ?1 AND u.id = a.owner_user_id
      WHERE ${accountFilter}
        AND trim(c.email) <> '' AND c.unsubscribed = 0 AND c.bounced = 0
        AND c.spam_reported = 0 AND c.left_at IS NULL
        -- "+r.kind" keeps the (workspace, account, time) index for this per-contact check.
        AND (?3 IS NULL OR NOT EXISTS (
              SELECT 1 FROM survey_responses r
               WHERE r.workspace_id = ?1 AND r.account_id = a.id AND r.responded_at >= ?3
                 AND r.contact_id = c.id AND +r.kind = ?2))
      ORDER BY c.id
      LIMIT ?5`,
    )
    .bind(workspaceId, query.kind, query.answeredSince, parameter, query.limit)
    .all<SurveyRecipient>();
  return results;
}

/** Those of the given account ids that are accounts of the workspace. */
export async function existingAccountIds(
  db: D1Database,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<Set<string>> {
  const { results } = await db
    .prepare("SELECT id FROM accounts WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))")
    .bind(workspaceId, JSON.stringify(accountIds))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

/** A survey as stored; `audience` is the JSON of its {@link Audience}. */
export interface SurveyRow {
  id: string;
  kind: SurveyKind;
  name: string;
  question: string;
  status: "draft" | "sent" | "closed";
  audience: string;
  sent_at: string | null;
}

/** Stores a new draft survey. */
export async function insertSurvey(
  db: D1Database,
  workspaceId: string,
  survey: {
    id: string;
    kind: SurveyKind;
    name: string;
    question: string;
    audience: Audience;
    createdBy: string | null;
    createdAt: string;
  },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO surveys (id, workspace_id, kind, name, question, status, audience, created_by, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'draft', ?6, ?7, ?8)`,
    )
    .bind(
      survey.id,
      workspaceId,
      survey.kind,
      survey.name,
      survey.question,
      JSON.stringify(survey.audience),
      survey.createdBy,
      survey.createdAt,
    )
    .run();
}

/** One survey of the workspace by id, or null. */
export async function findSurvey(db: D1Database, workspaceId: string, surveyId: string): Promise<SurveyRow | null> {
  return db
    .prepare(
      "SELECT id, kind, name, question, status, audience, sent_at FROM surveys WHERE workspace_id = ?1 AND id = ?2",
    )
    .bind(workspaceId, surveyId)
    .first<SurveyRow>();
}

/** Marks a survey sent; sent_at keeps the first send's time. */
export async function markSurveySent(db: D1Database, workspaceId: string, surveyId: string, at: string): Promise<void> {
  await db
    .prepare("UPDATE surveys SET status = 'sent', sent_at = coalesce(sent_at, ?3) WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, surveyId, at)
    .run();
}

/** A stored invitation of one contact to a survey. */
export interface InvitationRow {
  contact_id: string;
  token_hash: string;
  outbox_id: string | null;
}

/**
 * For the given contacts of a survey: their stored invitations, and the outbox message of each
 * one whose invitation email exists (idempotency key `survey:<id>:<contact id>`), by contact id.
 */
export async function invitationState(
  db: D1Database,
  workspaceId: string,
  surveyId: string,
  contactIds: readonly string[],
): Promise<{ invitations: InvitationRow[]; outbox: Map<string, string> }> {
  const ids = JSON.stringify(contactIds);
  const [existingResult, outboxResult] = await db.batch<InvitationRow>([
    db
      .prepare(
        `SELECT contact_id, token_hash, outbox_id FROM survey_invitations
        WHERE workspace_id = ?1 AND survey_id = ?2 AND contact_id IN (SELECT value FROM json_each(?3))`,
      )
      .bind(workspaceId, surveyId, ids),
    db
      .prepare(
        `SELECT substr(idempotency_key, length(?2) + 1) AS contact_id, '' AS token_hash, id AS outbox_id FROM outbox_messages
        WHERE workspace_id = ?1 AND idempotency_key IN (SELECT ?2 || value FROM json_each(?3))`,
      )
      .bind(workspaceId, `survey:${surveyId}:`, ids),
  ]);
  return {
    invitations: existingResult?.results ?? [],
    outbox: new Map((outboxResult?.results ?? []).map((row) => [row.contact_id, row.outbox_id as string])),
  };
}

/** A new invitation: its id, contact (c), account (a) and link token hash (h). */
export interface NewInvitation {
  id: string;
  c: string;
  a: string;
  h: string | undefined;
}

/** A fresh token for an invitation left without an email: contact (c), the hash read (old), the new hash (h). */
export interface Retoken {
  c: string;
  old: string | undefined;
  h: string | undefined;
}

/**
 * Claims invitations: inserts the new ones where absent and swaps the token of those still
 * holding the hash read and no email. Returns the contact ids claimed by this call.
 */
export async function claimInvitations(
  db: D1Database,
  workspaceId: string,
  surveyId: string,
  fresh: readonly NewInvitation[],
  retoken: readonly Retoken[],
): Promise<Set<string>> {
  const claims: D1PreparedStatement[] = [];
  for (const chunk of jsonChunks([...fresh])) {
    claims.push(
      db
        .prepare(
          `INSERT INTO survey_invitations (id, workspace_id, survey_id, account_id, contact_id, token_hash)
         SELECT value ->> '$.id', ?1, ?2, value ->> '$.a', value ->> '$.c', value ->> '$.h' FROM json_each(?3) WHERE true
         ON CONFLICT (workspace_id, survey_id, contact_id) DO NOTHING RETURNING contact_id`,
        )
        .bind(workspaceId, surveyId, chunk),
    );
  }
  for (const chunk of jsonChunks([...retoken])) {
    claims.push(
      db
        .prepare(
          `UPDATE survey_invitations SET token_hash = j.h
           FROM (SELECT value ->> '$.c' AS c, value ->> '$.old' AS old, value ->> '$.h' AS h FROM json_each(?3)) AS j
          WHERE survey_invitations.workspace_id = ?1 AND survey_invitations.survey_id = ?2
            AND survey_invitations.contact_id = j.c AND survey_invitations.token_hash = j.old
            AND survey_invitations.outbox_id IS NULL
         RETURNING survey_invitations.contact_id`,
        )
        .bind(workspaceId, surveyId, chunk),
    );
  }
  return new Set(
    (claims.length > 0 ? await db.batch<{ contact_id: string }>(claims) : []).flatMap((r) =>
      r.results.map((row) => row.contact_id),
    ),
  );
}

/** Links invitations still without an email to their outbox message (contact c, outbox id o), sent at `sentAt`. */
export async function linkInvitations(
  db: D1Database,
  workspaceId: string,
  surveyId: string,
  sentAt: string,
  sent: readonly { c: string; o: string }[],
): Promise<void> {
  const links: D1PreparedStatement[] = jsonChunks([...sent]).map((chunk) =>
    db
      .prepare(
        `UPDATE survey_invitations SET outbox_id = j.o, sent_at = ?3
         FROM (SELECT value ->> '$.c' AS c, value ->> '$.o' AS o FROM json_each(?4)) AS j
        WHERE survey_invitations.workspace_id = ?1 AND survey_invitations.survey_id = ?2
          AND survey_invitations.contact_id = j.c AND survey_invitations.outbox_id IS NULL`,
      )
      .bind(workspaceId, surveyId, sentAt, chunk),
  );
  if (links.length > 0) await db.batch(links);
}

/** The response of a contact's answered invitation to a survey, or null when it is unanswered or absent. */
export async function answeredInvitation(
  db: D1Database,
  workspaceId: string,
  surveyId: string,
  contactId: string,
): Promise<{ response_id: string | null } | null> {
  return db
    .prepare(
      "SELECT response_id FROM survey_invitations WHERE workspace_id = ?1 AND survey_id = ?2 AND contact_id = ?3 AND responded_at IS NOT NULL",
    )
    .bind(workspaceId, surveyId, contactId)
    .first<{ response_id: string | null }>();
}

/** A survey response to store. */
export interface NewResponse {
  id: string;
  accountId: string | null;
  contactId: string | null;
  kind: SurveyKind;
  score: number;
  surveyId: string | null;
  comment: string | null;
  respondedAt: string;
}

/**
 * The statements that store a response and, when it answers a survey for a contact, mark that
 * contact's unanswered invitation answered by it; to run in one batch.
 */
export function responseStatements(db: D1Database, workspaceId: string, r: NewResponse): D1PreparedStatement[] {
  const writes = [
    db
      .prepare(
        `INSERT INTO survey_responses (id, workspace_id, account_id, contact_id, kind, score, survey_id, comment, responded_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
      )
      .bind(r.id, workspaceId, r.accountId, r.contactId, r.kind, r.score, r.surveyId, r.comment, r.respondedAt),
  ];
  if (r.surveyId && r.contactId) {
    writes.push(
      db
        .prepare(
          `UPDATE survey_invitations SET responded_at = ?4, response_id = ?5
          WHERE workspace_id = ?1 AND survey_id = ?2 AND contact_id = ?3 AND responded_at IS NULL`,
        )
        .bind(workspaceId, r.surveyId, r.contactId, r.respondedAt, r.id),
    );
  }
  return writes;
}
