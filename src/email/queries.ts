/**
 * The SQL of outbound email: the facts an email is rendered from, the outbox row it is stored
 * as (with the suppression and daily-quota checks in the same statement), and the claims and
 * outcomes of its delivery. Every statement reads or writes rows of one workspace by key.
 */

/** Statuses an outbox row can have. */
export type OutboxStatus = "queued" | "sent" | "delivered" | "opened" | "clicked" | "bounced" | "failed" | "suppressed";

/**
 * SQL for why an address must not be emailed, or NULL when it may be: a suppression row for the
 * address, or a contact (the addressed one, or any with that address) who unsubscribed, bounced
 * or reported spam. Addresses are compared in their canonical form (trimmed, lower case), the
 * form contacts and suppressions are stored in. Each lookup is served by an index:
 * `email_suppressions` by its key, contacts by id or by (workspace_id, email).
 *
 * The arguments are SQL expressions (placeholders or column references) for the workspace id,
 * the address and the contact id.
 */
export function suppressionReasonSql(workspace: string, email: string, contact: string): string {
  const flagged = "(c.unsubscribed = 1 OR c.bounced = 1 OR c.spam_reported = 1)";
  const reason = `CASE WHEN c.unsubscribed = 1 THEN 'contact unsubscribed'
    WHEN c.bounced = 1 THEN 'contact bounced' ELSE 'contact reported spam' END`;
  return `COALESCE(
    (SELECT 'address suppressed (' || s.reason || ')' FROM email_suppressions s
      WHERE s.workspace_id = ${workspace} AND s.email = ${email}),
    (SELECT ${reason} FROM contacts c WHERE c.workspace_id = ${workspace} AND c.id = ${contact} AND ${flagged}),
    (SELECT ${reason} FROM contacts c WHERE c.workspace_id = ${workspace} AND c.email = ${email} AND ${flagged} LIMIT 1))`;
}

/** What an email is rendered from: the workspace's settings, the contact, the account and its owner, and an earlier row with the same idempotency key. */
export interface EmailContextRow {
  settings: string;
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  contact_title: string | null;
  contact_account_id: string | null;
  account_id: string | null;
  account_name: string | null;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
  existing_id: string | null;
  existing_status: OutboxStatus | null;
  existing_error: string | null;
}

/** The references an email names. */
export interface EmailReferences {
  contactId: string | null;
  /** The account; without one, the contact's account. */
  accountId: string | null;
  idempotencyKey: string;
}

/** The workspace's settings with the named contact, account (else the contact's), its owner and any row stored under the key; null when the workspace does not exist. */
export async function findEmailContext(
  db: D1Database,
  workspaceId: string,
  refs: EmailReferences,
): Promise<EmailContextRow | null> {
  return db
    .prepare(
      `SELECT w.settings AS settings,
            c.id AS contact_id, c.name AS contact_name, c.email AS contact_email, c.title AS contact_title,
            c.account_id AS contact_account_id,
            a.id AS account_id, a.name AS account_name, a.domain AS account_domain,
            u.name AS csm_name, u.email AS csm_email,
            o.id AS existing_id, o.status AS existing_status, o.error AS existing_error
       FROM workspaces w
       LEFT JOIN contacts c ON c.workspace_id = w.id AND c.id = ?2
       LEFT JOIN accounts a ON a.workspace_id = w.id AND a.id = COALESCE(?3, c.account_id)
       LEFT JOIN users u ON u.workspace_id = w.id AND u.id = a.owner_user_id
       LEFT JOIN outbox_messages o ON o.workspace_id = w.id AND o.idempotency_key = ?4
      WHERE w.id = ?1`,
    )
    .bind(workspaceId, refs.contactId, refs.accountId, refs.idempotencyKey)
    .first<EmailContextRow>();
}

/** A rendered email to store in the outbox. */
export interface NewOutboxMessage {
  id: string;
  workspaceId: string;
  idempotencyKey: string;
  accountId: string | null;
  contactId: string | null;
  /** The canonical address. */
  toEmail: string;
  subject: string;
  text: string;
  html: string | null;
  provider: string;
  origin: string;
  /** Messages accepted for sending per UTC day. */
  dailyQuota: number;
  /** ISO creation time. */
  createdAt: string;
  /** ISO start of the creation day (UTC), from which the quota counts. */
  dayStart: string;
}

/** The outbox row stored under an idempotency key. */
export interface StoredOutboxRow {
  id: string;
  status: OutboxStatus;
  error: string | null;
}

/**
 * Stores the email unless the key was used before, in one statement so concurrent calls cannot
 * race past the checks: `suppressed` with the reason when the address or contact must not be
 * emailed, `failed` ("daily send quota of N reached") when the workspace already has `dailyQuota`
 * rows accepted for sending today (every status but `suppressed` and rows refused before any send
 * attempt), else `queued`. Returns the row stored under the key (this one or the earlier one),
 * or null when there is none.
 */
export async function storeOutboxMessage(db: D1Database, message: NewOutboxMessage): Promise<StoredOutboxRow | null> {
  const [, stored] = await db.batch<StoredOutboxRow>([
    // The WHERE clause is required by SQLite to read ON CONFLICT as an upsert after a SELECT.
    db
      .prepare(
        `INSERT INTO outbox_messages (id, workspace_id, idempotency_key, account_id, contact_id, to_email, subject,
                                    body_text, body_html, provider, origin, status, error, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
              CASE WHEN r.reason IS NOT NULL THEN 'suppressed' WHEN q.sent >= ?12 THEN 'failed' ELSE 'queued' END,
              CASE WHEN r.reason IS NOT NULL THEN r.reason
                   WHEN q.sent >= ?12 THEN ?13 END,
              ?14
         FROM (SELECT ${suppressionReasonSql("?2", "?6", "?5")} AS reason) r,
              (SELECT count(*) AS sent FROM outbox_messages
                WHERE workspace_id = ?2 AND created_at >= ?15
                  AND status <> 'suppressed' AND NOT (status = 'failed' AND attempts = 0)) q
        WHERE true
       ON CONFLICT (workspace_id, idempotency_key) DO NOTHING`,
      )
      .bind(
        message.id,
        message.workspaceId,
        message.idempotencyKey,
        message.accountId,
        message.contactId,
        message.toEmail,
        message.subject,
        message.text,
        message.html,
        message.provider,
        message.origin,
        message.dailyQuota,
        `daily send quota of ${message.dailyQuota} reached`,
        message.createdAt,
        message.dayStart,
      ),
    db
      .prepare("SELECT id, status, error FROM outbox_messages WHERE workspace_id = ?1 AND idempotency_key = ?2")
      .bind(message.workspaceId, message.idempotencyKey),
  ]);
  return stored?.results[0] ?? null;
}

/** Marks a `queued` row failed with `error` (its delivery could not be enqueued). */
export async function failQueuedOutboxMessage(
  db: D1Database,
  workspaceId: string,
  id: string,
  error: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE outbox_messages SET status = 'failed', error = ?3 WHERE workspace_id = ?1 AND id = ?2 AND status = 'queued'",
    )
    .bind(workspaceId, id, error)
    .run();
}

/** An outbox row to deliver, with its contact's name, its workspace's settings and why it may not be sent now. */
export interface DeliveryRow {
  id: string;
  workspace_id: string;
  to_email: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  origin: string;
  status: string;
  attempts: number;
  contact_name: string | null;
  settings: string;
  /** The suppression reason as of now, or null. */
  suppression: string | null;
}

/** The outbox rows named by (workspace, outbox id) pairs that exist, in one read. */
export async function findDeliveryRows(
  db: D1Database,
  messages: readonly { workspaceId: string; outboxId: string }[],
): Promise<DeliveryRow[]> {
  const { results } = await db
    .prepare(
      `SELECT o.id, o.workspace_id, o.to_email, o.subject, o.body_text, o.body_html, o.origin, o.status, o.attempts,
            c.name AS contact_name, w.settings AS settings,
            ${suppressionReasonSql("o.workspace_id", "o.to_email", "o.contact_id")} AS suppression
       FROM json_each(?1) j
       JOIN outbox_messages o ON o.id = json_extract(j.value, '$[1]') AND o.workspace_id = json_extract(j.value, '$[0]')
       JOIN workspaces w ON w.id = o.workspace_id
       LEFT JOIN contacts c ON c.workspace_id = o.workspace_id AND c.id = o.contact_id`,
    )
    .bind(JSON.stringify(messages.map((message) => [message.workspaceId, message.outboxId])))
    .all<DeliveryRow>();
  return results;
}

/** The statement that ends a still `queued` row unsent, as `suppressed` or `failed`, with why. */
export function refuseDeliveryStatement(
  db: D1Database,
  row: { workspace_id: string; id: string },
  status: "suppressed" | "failed",
  error: string,
): D1PreparedStatement {
  return db
    .prepare(
      "UPDATE outbox_messages SET status = ?3, error = ?4 WHERE workspace_id = ?1 AND id = ?2 AND status = 'queued'",
    )
    .bind(row.workspace_id, row.id, status, error);
}

/** The statement that claims a `queued` row for one send by advancing `attempts` from the value read (changes 0 rows when another delivery claimed it). */
export function claimDeliveryStatement(
  db: D1Database,
  row: { workspace_id: string; id: string; attempts: number },
  provider: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE outbox_messages SET attempts = attempts + 1, provider = ?3
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'queued' AND attempts = ?4`,
    )
    .bind(row.workspace_id, row.id, provider, row.attempts);
}

/** Selects one outbox row by workspace (?1) and id (?2). */
const OUTBOX_ROW = "WHERE workspace_id = ?1 AND id = ?2";

/** The statement that records a send the provider accepted; statuses provider events already moved on are kept. */
export function sentDeliveryStatement(
  db: D1Database,
  row: { workspace_id: string; id: string },
  providerMessageId: string | null,
  sentAt: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE outbox_messages SET status = CASE WHEN status = 'queued' THEN 'sent' ELSE status END,
                provider_message_id = COALESCE(provider_message_id, ?3), sent_at = COALESCE(sent_at, ?4), error = NULL
          ${OUTBOX_ROW}`,
    )
    .bind(row.workspace_id, row.id, providerMessageId, sentAt);
}

/** The statement that records a failed send's error on a still `queued` row, and fails the row when the refusal is permanent. */
export function sendFailedStatement(
  db: D1Database,
  row: { workspace_id: string; id: string },
  error: string,
  permanent: boolean,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE outbox_messages SET error = ?3${permanent ? ", status = 'failed'" : ""} ${OUTBOX_ROW} AND status = 'queued'`,
    )
    .bind(row.workspace_id, row.id, error);
}
