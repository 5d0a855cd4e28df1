/**
 * The reads that resolve one batch's references, per workspace: accounts by external id, domain
 * and custom field; contacts by external id and email; the stored rows of the other upserted
 * tables; outbox messages; users by email; tombstones of erased contacts. Each reads by a set of keys bound as one JSON array
 * (`IN (SELECT value FROM json_each(?2))`) and is returned as a statement, so all of them run
 * in one D1 batch.
 */
import type { UpsertTable } from "../records";

/** An account found by external id. */
export interface AccountByExternalIdRow {
  id: string;
  external_id: string;
}

/** The workspace's accounts with these external ids. */
export function accountsByExternalIdStatement(
  db: D1Database,
  workspaceId: string,
  externalIds: string[],
): D1PreparedStatement {
  return db
    .prepare(
      "SELECT id, external_id FROM accounts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))",
    )
    .bind(workspaceId, JSON.stringify(externalIds));
}

/** An account found by domain. */
export interface AccountByDomainRow {
  id: string;
  domain: string;
}

/** The workspace's accounts with these domains, by id. */
export function accountsByDomainStatement(db: D1Database, workspaceId: string, domains: string[]): D1PreparedStatement {
  return db
    .prepare(
      "SELECT id, domain FROM accounts WHERE workspace_id = ?1 AND domain IN (SELECT value FROM json_each(?2)) ORDER BY id",
    )
    .bind(workspaceId, JSON.stringify(domains));
}

/** An account found by the value of one of its custom fields. */
export interface AccountByFieldRow {
  id: string;
  field: string;
  value: string;
}

/**
 * The workspace's accounts whose custom field `key` holds `value`, for each pair, by id
 * descending. Custom fields have no index: this reads the workspace's accounts, and only runs for
 * references by a provider's own customer id (Stripe customers, Zendesk organizations).
 */
export function accountsByFieldStatement(
  db: D1Database,
  workspaceId: string,
  fields: { key: string; value: string }[],
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT a.id, json_extract(j.value, '$.key') AS field, json_extract(j.value, '$.value') AS value
         FROM json_each(?2) j CROSS JOIN accounts a
        WHERE a.workspace_id = ?1
          AND json_extract(a.custom_fields, '$."' || json_extract(j.value, '$.key') || '"') = json_extract(j.value, '$.value')
        ORDER BY a.id DESC`,
    )
    .bind(workspaceId, JSON.stringify(fields));
}

/** A contact found by external id. */
export interface ContactByExternalIdRow {
  id: string;
  external_id: string;
  account_id: string | null;
}

/** The workspace's contacts with these external ids. */
export function contactsByExternalIdStatement(
  db: D1Database,
  workspaceId: string,
  externalIds: string[],
): D1PreparedStatement {
  return db
    .prepare(
      "SELECT id, external_id, account_id FROM contacts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))",
    )
    .bind(workspaceId, JSON.stringify(externalIds));
}

/** A contact found by email. */
export interface ContactByEmailRow {
  id: string;
  email: string;
  account_id: string | null;
}

/** The workspace's contacts with these emails, by id descending. */
export function contactsByEmailStatement(db: D1Database, workspaceId: string, emails: string[]): D1PreparedStatement {
  return db
    .prepare(
      "SELECT id, email, account_id FROM contacts WHERE workspace_id = ?1 AND email IN (SELECT value FROM json_each(?2)) ORDER BY id DESC",
    )
    .bind(workspaceId, JSON.stringify(emails));
}

/** Tables whose stored rows are read back with their account (contracts: for the rollup refresh). */
const ROW_COLUMNS: Partial<Record<UpsertTable, string>> = { contracts: "id, external_id, account_id" };

/** A stored row of another upserted table; `account_id` only for tables read with it. */
export interface RowByExternalIdRow {
  id: string;
  external_id: string;
  account_id?: string | null;
}

/** The workspace's rows of `table` with these external ids. */
export function rowsByExternalIdStatement(
  db: D1Database,
  workspaceId: string,
  table: UpsertTable,
  externalIds: string[],
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${ROW_COLUMNS[table] ?? "id, external_id"} FROM ${table}
          WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(workspaceId, JSON.stringify(externalIds));
}

/** An outbox message found by id. */
export interface OutboxByIdRow {
  id: string;
}

/** The workspace's outbox messages with these ids. */
export function outboxByIdStatement(db: D1Database, workspaceId: string, ids: string[]): D1PreparedStatement {
  return db
    .prepare("SELECT id FROM outbox_messages WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))")
    .bind(workspaceId, JSON.stringify(ids));
}

/** An outbox message found by the provider's message id. */
export interface OutboxByProviderIdRow {
  id: string;
  provider_message_id: string;
}

/** The workspace's outbox messages with these provider message ids. */
export function outboxByProviderIdStatement(
  db: D1Database,
  workspaceId: string,
  providerMessageIds: string[],
): D1PreparedStatement {
  // The unary + keeps SQLite on the provider message id index rather than a workspace-wide scan.
  return db
    .prepare(
      `SELECT id, provider_message_id FROM outbox_messages
        WHERE provider_message_id IN (SELECT value FROM json_each(?2)) AND +workspace_id = ?1`,
    )
    .bind(workspaceId, JSON.stringify(providerMessageIds));
}

/** An active user found by email (lower-cased). */
export interface UserByEmailRow {
  id: string;
  email: string;
}

/** The workspace's active users with these emails, compared in lower case. */
export function activeUsersByEmailStatement(
  db: D1Database,
  workspaceId: string,
  emails: string[],
): D1PreparedStatement {
  return db
    .prepare(
      "SELECT id, lower(email) AS email FROM users WHERE workspace_id = ?1 AND disabled_at IS NULL AND lower(email) IN (SELECT value FROM json_each(?2))",
    )
    .bind(workspaceId, JSON.stringify(emails));
}

/** A tombstone's hashes (either may be null). */
export interface ErasedHashRow {
  email_hash: string | null;
  external_id_hash: string | null;
}

/** The workspace's tombstones whose email or external id hash is one of `hashes`. */
export function erasedHashesStatement(db: D1Database, workspaceId: string, hashes: string[]): D1PreparedStatement {
  return db
    .prepare(
      `SELECT email_hash, external_id_hash FROM erased_contacts
        WHERE workspace_id = ?1 AND (email_hash IN (SELECT value FROM json_each(?2))
                                  OR external_id_hash IN (SELECT value FROM json_each(?2)))`,
    )
    .bind(workspaceId, JSON.stringify(hashes));
}
