/**
 * The SQL of privacy exports and contact erasure, over a {@link PrivacyDb}: the D1 binding in the
 * Worker (`manage_privacy`) and wrangler's D1 in the admin CLI run the same statements. Each read
 * is one statement (the CLI pays a process per statement); the erasure is one batch. Statements
 * are written with named parameters (`:ws`) and numbered here, binding only the ones used (D1
 * refuses unused bindings). The tables and conditions are in `privacy-sources.ts`.
 */
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { d1Runner, type SqlRunner, type SqlValue } from "../../../integrations/queries";
import * as schema from "../../../schema";
import { PRIVACY_SOURCES, type PrivacySource } from "./privacy-sources";

/** One statement with its `?N` parameters. */
export interface SqlStatement {
  sql: string;
  params: SqlValue[];
}

/** Where privacy statements run: rows of one statement (the integrations' runner), or statements applied together. */
export interface PrivacyDb extends SqlRunner {
  /** Runs the statements in order, all or none. */
  batch(statements: SqlStatement[]): Promise<void>;
}

/** A {@link PrivacyDb} over a D1 binding. */
export function d1PrivacyDb(db: D1Database): PrivacyDb {
  return {
    ...d1Runner(db),
    async batch(statements: SqlStatement[]): Promise<void> {
      await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
    },
  };
}

/** Numbers the named parameters of `sql` (`:name`) in order of first use, binding each once. */
function named(sql: string, values: Readonly<Record<string, SqlValue>>): SqlStatement {
  const order: string[] = [];
  const text = sql.replace(/:([a-z_]+)\b/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for :${name}`);
    if (!order.includes(name)) order.push(name);
    return `?${order.indexOf(name) + 1}`;
  });
  return { sql: text, params: order.map((name) => values[name] ?? null) };
}

/** Terms D1 allows in one compound SELECT. */
const COMPOUND_TERMS = 5;

/**
 * SELECTs of the same columns as one UNION ALL within D1's limit of {@link COMPOUND_TERMS}
 * terms per compound: groups of five, each a subquery of the next level.
 */
function unionAll(arms: readonly string[]): string {
  if (arms.length <= COMPOUND_TERMS) return arms.join("\nUNION ALL ");
  const groups: string[] = [];
  for (let start = 0; start < arms.length; start += COMPOUND_TERMS) {
    groups.push(`SELECT * FROM (${arms.slice(start, start + COMPOUND_TERMS).join("\nUNION ALL ")})`);
  }
  return unionAll(groups);
}

/** Column names of every table of the schema. */
const COLUMNS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.values(schema as Record<string, unknown>)
    .filter((value): value is SQLiteTable => is(value, SQLiteTable))
    .map((table) => getTableConfig(table))
    .map((config) => [config.name, config.columns.map((column) => column.name)]),
);

/**
 * The JSON object of one row of a source: every column, through its export expression when it
 * has one (two arguments a column: the widest table, accounts, stays far below SQLite's 127).
 */
function rowObject(source: PrivacySource): string {
  const columns = COLUMNS.get(source.table);
  if (!columns) throw new Error(`no table ${source.table} in the schema`);
  return `json_object(${columns.map((c) => `'${c}', ${source.exported?.[c] ?? c}`).join(", ")})`;
}

/** A person as privacy actions find them. */
export interface ContactSubject {
  id: string;
  account_id: string | null;
  name: string;
  email: string | null;
  external_id: string | null;
  /** JSON array: the contact's account and the accounts of its tickets, responses, feedback and activities (nulls included). */
  accounts: string;
}

/**
 * The workspace's contacts with this id or email (emails compare lower-cased), each with the
 * accounts its rows belong to, by id.
 */
export async function findPrivacyContacts(
  db: PrivacyDb,
  workspaceId: string,
  by: { contactId?: string | undefined; email?: string | undefined },
): Promise<ContactSubject[]> {
  const linked = ["tickets", "survey_responses", "feedback_items", "activities"]
    .map((table) => `SELECT account_id FROM ${table} WHERE workspace_id = :ws AND contact_id = c.id`)
    .join(" UNION ALL ");
  // UNION ALL, with nulls and repeats dropped by the caller: a UNION (or a filter over it) has
  // SQLite read each table in account order, through an account index, instead of by the contact.
  const { sql, params } = named(
    `SELECT c.id, c.account_id, c.name, c.email, c.external_id,
            (SELECT json_group_array(account_id) FROM (SELECT c.account_id AS account_id UNION ALL ${linked})) AS accounts
       FROM contacts c
      WHERE c.workspace_id = :ws AND ${by.contactId ? "c.id = :contact" : "c.email = :email"}
      ORDER BY c.id`,
    by.contactId ? { ws: workspaceId, contact: by.contactId } : { ws: workspaceId, email: by.email ?? "" },
  );
  return db.all<ContactSubject>(sql, params);
}

/** The erasure that removed a contact, found by its former id or a hash of its email. */
export interface TombstoneRow {
  id: string;
  contact_id: string;
  erased_at: string;
  erased_by: string;
}

/** The latest tombstone of the workspace for this former contact id or email hash, or null. */
export async function findTombstone(
  db: PrivacyDb,
  workspaceId: string,
  by: { contactId: string } | { emailHash: string },
): Promise<TombstoneRow | null> {
  const { sql, params } = named(
    `SELECT id, contact_id, erased_at, erased_by FROM erased_contacts
      WHERE workspace_id = :ws AND ${"contactId" in by ? "contact_id = :key" : "email_hash = :key"}
      ORDER BY erased_at DESC, id DESC LIMIT 1`,
    { ws: workspaceId, key: "contactId" in by ? by.contactId : by.emailHash },
  );
  const [row] = await db.all<TombstoneRow>(sql, params);
  return row ?? null;
}

/** The workspace's tombstone hashes among `hashes`. */
export async function findErasedHashes(db: PrivacyDb, workspaceId: string, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await db.all<{ hash: string }>(
    `SELECT email_hash AS hash FROM erased_contacts WHERE workspace_id = ?1 AND email_hash IN (SELECT value FROM json_each(?2))
     UNION SELECT external_id_hash FROM erased_contacts WHERE workspace_id = ?1 AND external_id_hash IN (SELECT value FROM json_each(?2))`,
    [workspaceId, JSON.stringify(hashes)],
  );
  return new Set(rows.map((row) => row.hash));
}

/** Whether the workspace holds this account. */
export async function accountExists(db: PrivacyDb, workspaceId: string, accountId: string): Promise<boolean> {
  const rows = await db.all("SELECT 1 FROM accounts WHERE workspace_id = ?1 AND id = ?2", [workspaceId, accountId]);
  return rows.length > 0;
}

/** The accounts a contact's rows belong to, each once, in order. */
export function contactAccounts(contact: Pick<ContactSubject, "accounts">): string[] {
  const ids = JSON.parse(contact.accounts) as (string | null)[];
  return [...new Set(ids.filter((id): id is string => id !== null))].sort();
}

/** What an export or a preview is about: a contact or an account, with its parameters. */
export type PrivacySubject =
  | { kind: "contact"; contact: ContactSubject; mentionName: string }
  | { kind: "account"; accountId: string };

/** The sources that hold rows about this kind of subject, with their whole condition (workspace included). */
export function sourcesOf(kind: PrivacySubject["kind"]): { source: PrivacySource; where: string }[] {
  return PRIVACY_SOURCES.flatMap((source) => {
    const where = kind === "contact" ? source.contact : source.account;
    if (!where) return [];
    // The unary + keeps SQLite from reading the workspace's rows by index when rowids drive the plan.
    const workspace = kind === "contact" && source.contactByRowid ? "+workspace_id" : "workspace_id";
    return [{ source, where: `${workspace} = :ws AND (${where})` }];
  });
}

function subjectValues(workspaceId: string, subject: PrivacySubject): Record<string, SqlValue> {
  if (subject.kind === "account") return { ws: workspaceId, account: subject.accountId };
  const { contact } = subject;
  return {
    ws: workspaceId,
    contact: contact.id,
    email: contact.email ?? "",
    ext: contact.external_id ?? "",
    name: subject.mentionName,
    accounts: JSON.stringify(contactAccounts(contact)),
  };
}

/** One row of an export statement: a table's count, or one of its rows. */
export interface ExportRow {
  source: string;
  /** Set on a table's count row. */
  total: number | null;
  /** Set on a data row: its key (see `PrivacySource.key`), the page position. */
  rid: number | string | null;
  /** A data row as a JSON object text. */
  record: string | null;
}

/**
 * Every table's count of rows about the subject and up to `limit` of them in key order (after
 * `after` when paging), in one statement; `tables` limits it to some tables.
 */
export async function exportRows(
  db: PrivacyDb,
  workspaceId: string,
  subject: PrivacySubject,
  page: { limit: number; tables?: readonly string[]; after?: number | string },
): Promise<ExportRow[]> {
  const arms = sourcesOf(subject.kind)
    .filter(({ source }) => !page.tables || page.tables.includes(source.table))
    .flatMap(({ source, where }) => {
      const from = `FROM ${source.table} WHERE ${where}`;
      const key = source.key ?? "rowid";
      return [
        `SELECT '${source.table}' AS source, count(*) AS total, NULL AS rid, NULL AS record ${from}`,
        `SELECT * FROM (SELECT '${source.table}' AS source, NULL AS total, ${key} AS rid, ${rowObject(source)} AS record
           ${from}${page.after === undefined ? "" : ` AND ${key} > :after`} ORDER BY ${key} LIMIT :limit)`,
      ];
    });
  const values = { ...subjectValues(workspaceId, subject), limit: page.limit, after: page.after ?? null };
  const { sql, params } = named(unionAll(arms), values);
  return db.all<ExportRow>(sql, params);
}

/** How many rows of each table an erasure of the contact changes, and its search documents. */
export async function erasureCounts(
  db: PrivacyDb,
  workspaceId: string,
  subject: Extract<PrivacySubject, { kind: "contact" }>,
): Promise<{ source: string; total: number }[]> {
  const arms = sourcesOf("contact")
    .filter(({ source }) => source.erase)
    .map(
      ({ source, where }) =>
        `SELECT '${source.table}' AS source, count(*) AS total FROM ${source.table} WHERE ${where}`,
    );
  arms.push(
    "SELECT 'search_docs' AS source, count(*) AS total FROM search_docs WHERE workspace_id = :ws AND kind = 'contact' AND ref_id = :contact",
  );
  const { sql, params } = named(unionAll(arms), subjectValues(workspaceId, subject));
  return db.all(sql, params);
}

/** The tombstone an erasure writes. */
export interface Tombstone {
  id: string;
  emailHash: string | null;
  externalIdHash: string | null;
  erasedBy: string;
  /** Accounts whose agent storage is still to be erased. */
  pendingAgents: readonly string[];
}

/**
 * The statements that erase a contact, in order: FTS5 secure-delete on (a deleted or rewritten
 * document's terms leave the index at once, not at its next merge), the contact's search document
 * out, every source's rows changed (see `privacy-sources.ts`), the contact re-keyed to `anonId`
 * last (its own rows are found by its old id), the tombstone in, secure-delete off again.
 */
export function erasureStatements(
  workspaceId: string,
  subject: Extract<PrivacySubject, { kind: "contact" }>,
  erasure: { anonId: string; now: string; tombstone: Tombstone },
): SqlStatement[] {
  const values = { ...subjectValues(workspaceId, subject), anon: erasure.anonId, now: erasure.now };
  const ordered = [
    ...sourcesOf("contact").filter(({ source }) => source.table !== "contacts"),
    ...sourcesOf("contact").filter(({ source }) => source.table === "contacts"),
  ];
  const changes = ordered.flatMap(({ source, where }) => {
    if (!source.erase) return [];
    const condition = `WHERE ${where}`;
    return [
      named(
        source.erase === "delete"
          ? `DELETE FROM ${source.table} ${condition}`
          : `UPDATE ${source.table} SET ${source.erase} ${condition}`,
        values,
      ),
    ];
  });
  const { tombstone } = erasure;
  return [
    { sql: "INSERT INTO search_fts (search_fts, rank) VALUES ('secure-delete', 1)", params: [] },
    named(
      `DELETE FROM search_fts WHERE rowid IN
         (SELECT doc_id FROM search_docs WHERE workspace_id = :ws AND kind = 'contact' AND ref_id = :contact)`,
      values,
    ),
    named("DELETE FROM search_docs WHERE workspace_id = :ws AND kind = 'contact' AND ref_id = :contact", values),
    ...changes,
    named(
      `INSERT INTO erased_contacts
         (id, workspace_id, contact_id, email_hash, external_id_hash, erased_at, erased_by, pending_agents)
       VALUES (:id, :ws, :contact, :email_hash, :external_id_hash, :now, :by, :pending)`,
      {
        ...values,
        id: tombstone.id,
        email_hash: tombstone.emailHash,
        external_id_hash: tombstone.externalIdHash,
        by: tombstone.erasedBy,
        pending: JSON.stringify(tombstone.pendingAgents),
      },
    ),
    { sql: "INSERT INTO search_fts (search_fts, rank) VALUES ('secure-delete', 0)", params: [] },
  ];
}

/** An audit row written outside the tool wrapper: an export (a read) or an admin command. */
export interface AuditRow {
  id: string;
  actorUserId: string | null;
  actorKeyId: string | null;
  tool: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  requestId: string;
  at: string;
}

/** The statement of one audit row. */
export function auditRowStatement(workspaceId: string, row: AuditRow): SqlStatement {
  return named(
    `INSERT INTO audit_log
       (id, workspace_id, actor_user_id, actor_key_id, tool, action, target_type, target_id, details, request_id, created_at)
     VALUES (:id, :ws, :user, :key, :tool, :action, :target_type, :target_id, :details, :request, :at)`,
    {
      id: row.id,
      ws: workspaceId,
      user: row.actorUserId,
      key: row.actorKeyId,
      tool: row.tool,
      action: row.action,
      target_type: row.targetType,
      target_id: row.targetId,
      details: JSON.stringify(row.details),
      request: row.requestId,
      at: row.at,
    },
  );
}
