import { jsonChunks } from "../../../platform/db/json-chunks";

// ---------------------------------------------------------------------------------------------
// Reading what imported records refer to: one batch of `IN (SELECT value FROM json_each(?2))` queries.

/** A stored record's id and external id. */
export interface IdRow {
  id: string;
  external_id: string;
}

/** A stored contact and its account. */
export interface ContactRef extends IdRow {
  account_id: string | null;
}

/** A stored account and its lifecycle stage. */
export interface StoredAccount extends IdRow {
  lifecycle_stage: string;
}

/** A stored contract and the columns whose change moves its account's rollups. */
export interface StoredContract extends IdRow {
  account_id: string;
  status: string;
  arr: number;
  end_date: string;
}

/** A stored contract line item. */
export interface StoredItem {
  id: string;
  contract_id: string;
  product_id: string;
}

/** A query for the rows of `table` whose external_id is one of `externalIds` (two bound values). */
function byExternalIds(
  db: D1Database,
  workspaceId: string,
  table: string,
  columns: string,
  externalIds: Iterable<string>,
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${columns} FROM ${table} WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(workspaceId, JSON.stringify([...new Set(externalIds)]));
}

/** Runs read statements in one round trip and returns each one's rows. */
async function readBatch(db: D1Database, statements: D1PreparedStatement[]): Promise<unknown[][]> {
  const results = await db.batch(statements);
  return results.map((result) => result.results);
}

/**
 * The stored accounts among `externalIds` (with their stage), and the active users among
 * `ownerEmails` (lower-cased, as given lower-cased).
 */
export async function readAccountImportRefs(
  db: D1Database,
  workspaceId: string,
  named: { externalIds: string[]; ownerEmails: string[] },
): Promise<{ accounts: StoredAccount[]; users: { id: string; email: string }[] }> {
  const [ownRows, userRows] = await readBatch(db, [
    byExternalIds(db, workspaceId, "accounts", "id, external_id, lifecycle_stage", named.externalIds),
    db
      .prepare(
        "SELECT id, lower(email) AS email FROM users WHERE workspace_id = ?1 AND disabled_at IS NULL AND lower(email) IN (SELECT value FROM json_each(?2))",
      )
      .bind(workspaceId, JSON.stringify([...new Set(named.ownerEmails)])),
  ]);
  return { accounts: ownRows as StoredAccount[], users: userRows as { id: string; email: string }[] };
}

/** The stored contacts among `externalIds`, and the stored accounts among `accountExternalIds`. */
export async function readContactImportRefs(
  db: D1Database,
  workspaceId: string,
  named: { externalIds: string[]; accountExternalIds: string[] },
): Promise<{ contacts: IdRow[]; accounts: IdRow[] }> {
  const [ownRows, accountRows] = await readBatch(db, [
    byExternalIds(db, workspaceId, "contacts", "id, external_id", named.externalIds),
    byExternalIds(db, workspaceId, "accounts", "id, external_id", named.accountExternalIds),
  ]);
  return { contacts: ownRows as IdRow[], accounts: accountRows as IdRow[] };
}

/** The stored products among `externalIds`. */
export async function readProductRefs(db: D1Database, workspaceId: string, externalIds: string[]): Promise<IdRow[]> {
  const [ownRows] = await readBatch(db, [byExternalIds(db, workspaceId, "products", "id, external_id", externalIds)]);
  return ownRows as IdRow[];
}

/**
 * What imported contracts refer to: the stored contracts among their own and previous-term external
 * ids, the accounts and products they name, and the stored items of their own contracts.
 */
export async function readContractImportRefs(
  db: D1Database,
  workspaceId: string,
  named: {
    externalIds: string[];
    previousExternalIds: string[];
    accountExternalIds: string[];
    productExternalIds: string[];
  },
): Promise<{ contracts: StoredContract[]; accounts: IdRow[]; products: IdRow[]; items: StoredItem[] }> {
  const [contractRows, accountRows, productRows, itemRows] = await readBatch(db, [
    byExternalIds(db, workspaceId, "contracts", "id, external_id, account_id, status, arr, end_date", [
      ...named.externalIds,
      ...named.previousExternalIds,
    ]),
    byExternalIds(db, workspaceId, "accounts", "id, external_id", named.accountExternalIds),
    byExternalIds(db, workspaceId, "products", "id, external_id", named.productExternalIds),
    db
      .prepare(
        `SELECT id, contract_id, product_id FROM contract_items
        WHERE workspace_id = ?1 AND contract_id IN
          (SELECT id FROM contracts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2)))`,
      )
      .bind(workspaceId, JSON.stringify(named.externalIds)),
  ]);
  return {
    contracts: contractRows as StoredContract[],
    accounts: accountRows as IdRow[],
    products: productRows as IdRow[],
    items: itemRows as StoredItem[],
  };
}

/** One usage record to look up: the account's external id, the day, and the feature when per feature. */
export interface UsageLookup {
  account: string;
  day: string;
  feature: string | null | undefined;
}

/** Keys (as the upserts return them) of the rollup rows that already exist for these records. */
function storedRollups(
  db: D1Database,
  workspaceId: string,
  lookups: readonly UsageLookup[],
  perFeatureRows: boolean,
): D1PreparedStatement {
  const table = perFeatureRows ? "usage_feature_daily" : "usage_daily";
  const keyed = lookups.filter((lookup) => Boolean(lookup.feature) === perFeatureRows);
  return db
    .prepare(
      // CROSS JOIN keeps this join order: each input row probes accounts, then the rollup's primary key.
      `SELECT a.id || '|' || u.day${perFeatureRows ? " || '|' || u.feature" : ""} AS key
         FROM json_each(?2) j CROSS JOIN accounts a CROSS JOIN ${table} u
        WHERE a.workspace_id = ?1 AND a.external_id = json_extract(j.value, '$.account')
          AND u.workspace_id = ?1 AND u.account_id = a.id AND u.day = json_extract(j.value, '$.day')
          ${perFeatureRows ? "AND u.feature = json_extract(j.value, '$.feature')" : ""}`,
    )
    .bind(workspaceId, JSON.stringify(keyed));
}

/**
 * What imported usage refers to: the accounts named, and the keys (`account|day`, or
 * `account|day|feature`) of the account-day and feature-day rollup rows already stored.
 */
export async function readUsageImportRefs(
  db: D1Database,
  workspaceId: string,
  named: { accountExternalIds: string[]; lookups: UsageLookup[] },
): Promise<{ accounts: IdRow[]; storedKeys: string[] }> {
  const [accountRows, dailyRows, featureRows] = await readBatch(db, [
    byExternalIds(db, workspaceId, "accounts", "id, external_id", named.accountExternalIds),
    storedRollups(db, workspaceId, named.lookups, false),
    storedRollups(db, workspaceId, named.lookups, true),
  ]);
  const storedKeys = [...(dailyRows ?? []), ...(featureRows ?? [])] as { key: string }[];
  return { accounts: accountRows as IdRow[], storedKeys: storedKeys.map((row) => row.key) };
}

/** Tables of records that name an account and a contact. */
export type PartyTable = "tickets" | "survey_responses" | "feedback_items";

/** The stored rows of `table` among `externalIds`, and the accounts and contacts the records name. */
export async function readPartyRefs(
  db: D1Database,
  workspaceId: string,
  table: PartyTable,
  named: { externalIds: string[]; accountExternalIds: string[]; contactExternalIds: string[] },
): Promise<{ own: IdRow[]; accounts: IdRow[]; contacts: ContactRef[] }> {
  const [ownRows, accountRows, contactRows] = await readBatch(db, [
    byExternalIds(db, workspaceId, table, "id, external_id", named.externalIds),
    byExternalIds(db, workspaceId, "accounts", "id, external_id", named.accountExternalIds),
    byExternalIds(db, workspaceId, "contacts", "id, external_id, account_id", named.contactExternalIds),
  ]);
  return { own: ownRows as IdRow[], accounts: accountRows as IdRow[], contacts: contactRows as ContactRef[] };
}

// ---------------------------------------------------------------------------------------------
// Writing: one batch (one transaction) of multi-row statements fed from a JSON array parameter.

/** A value as bound to SQLite. */
export type SqlValue = string | number | null;

/**
 * One record to upsert. `values` are written on insert and on update (only when one differs);
 * `insertOnly` columns (ids, conflict keys, defaults for fields the input left out) only on insert.
 * `key` is what the statement's RETURNING reports for this record.
 */
export interface UpsertRecord {
  key: string;
  values: Record<string, SqlValue>;
  insertOnly: Record<string, SqlValue>;
}

/** A table written with INSERT … ON CONFLICT DO UPDATE … WHERE <a column differs>. */
interface UpsertTarget {
  table: string;
  /** Conflict columns after `workspace_id`. */
  conflict: string[];
  /** SQL expression returned as `key` for every inserted or updated row. */
  returningKey: string;
  /** Columns set to the write time (bound to ?3) on insert only, e.g. `created_at`. */
  stamped?: string[];
  /** Extra assignment applied on update only, e.g. a last-modified stamp (the write time is ?3). */
  touch?: string;
}

/** The tables an import upserts, with their conflict keys and what their RETURNING reports. */
const UPSERT_TARGETS = {
  accounts: {
    table: "accounts",
    conflict: ["external_id"],
    returningKey: "external_id",
    stamped: ["created_at", "updated_at"],
    touch: "updated_at = ?3",
  },
  contacts: { table: "contacts", conflict: ["external_id"], returningKey: "external_id", stamped: ["created_at"] },
  products: { table: "products", conflict: ["external_id"], returningKey: "external_id", stamped: ["created_at"] },
  contracts: { table: "contracts", conflict: ["external_id"], returningKey: "external_id", stamped: ["created_at"] },
  contract_items: { table: "contract_items", conflict: ["contract_id", "product_id"], returningKey: "contract_id" },
  usage_daily: { table: "usage_daily", conflict: ["account_id", "day"], returningKey: "account_id || '|' || day" },
  usage_feature_daily: {
    table: "usage_feature_daily",
    conflict: ["account_id", "day", "feature"],
    returningKey: "account_id || '|' || day || '|' || feature",
  },
  tickets: { table: "tickets", conflict: ["external_id"], returningKey: "external_id" },
  survey_responses: { table: "survey_responses", conflict: ["external_id"], returningKey: "external_id" },
  feedback_items: { table: "feedback_items", conflict: ["external_id"], returningKey: "external_id" },
} satisfies Record<string, UpsertTarget>;

/**
 * A table an import upserts. accounts, contacts, products, contracts, tickets, survey_responses and
 * feedback_items return the record's external id; contract_items its contract's id; usage_daily
 * `account_id|day` and usage_feature_daily `account_id|day|feature`.
 */
export type UpsertTable = keyof typeof UPSERT_TARGETS;

/**
 * The upsert for one set of columns. Column names come from this module's constants, never from
 * input. Rows are read from the JSON array bound to ?2 (`WHERE true` resolves SQLite's parsing
 * ambiguity between a SELECT's join and the upsert's ON); the target's stamped columns take the
 * write time bound to ?3 on insert. The DO UPDATE only fires when a column differs, so an
 * identical row is neither written nor returned; it never rewrites the stamped columns except
 * through `touch`.
 */
function upsertSql(target: UpsertTarget, insertOnly: string[], updatable: string[]): string {
  const stamped = target.stamped ?? [];
  const columns = [...insertOnly, ...updatable, ...stamped];
  const selected = [
    ...[...insertOnly, ...updatable].map((column) => `json_extract(value, '$.${column}')`),
    ...stamped.map(() => "?3"),
  ].join(", ");
  const onConflict =
    updatable.length === 0
      ? "DO NOTHING"
      : `DO UPDATE SET ${[...updatable.map((column) => `${column} = excluded.${column}`), ...(target.touch ? [target.touch] : [])].join(", ")}
         WHERE ${updatable.map((column) => `${target.table}.${column} IS NOT excluded.${column}`).join(" OR ")}`;
  return `INSERT INTO ${target.table} (workspace_id, ${columns.join(", ")})
    SELECT ?1, ${selected} FROM json_each(?2) WHERE true
    ON CONFLICT (workspace_id, ${target.conflict.join(", ")}) ${onConflict}
    RETURNING ${target.returningKey} AS key`;
}

/**
 * Statements that upsert records into `table`: one per column set and payload chunk, each
 * returning the `key` of every row it inserted or changed. `now` (ISO 8601) is the write time of
 * the table's `created_at` / `updated_at` stamps.
 */
export function upsertStatements(
  db: D1Database,
  workspaceId: string,
  table: UpsertTable,
  records: UpsertRecord[],
  now: string,
): D1PreparedStatement[] {
  const target: UpsertTarget = UPSERT_TARGETS[table];
  const groups = new Map<string, { insertOnly: string[]; updatable: string[]; rows: Record<string, SqlValue>[] }>();
  for (const record of records) {
    const insertOnly = Object.keys(record.insertOnly).sort();
    const updatable = Object.keys(record.values).sort();
    const signature = `${insertOnly.join(",")}|${updatable.join(",")}`;
    const group = groups.get(signature) ?? { insertOnly, updatable, rows: [] };
    group.rows.push({ ...record.insertOnly, ...record.values });
    groups.set(signature, group);
  }
  return [...groups.values()].flatMap((group) => {
    const sql = upsertSql(target, group.insertOnly, group.updatable);
    // ?3 is bound only where the statement uses it (D1 refuses unused bindings).
    const usesNow = Boolean(target.stamped?.length) || (Boolean(target.touch) && group.updatable.length > 0);
    return jsonChunks(group.rows).map((chunk) =>
      usesNow ? db.prepare(sql).bind(workspaceId, chunk, now) : db.prepare(sql).bind(workspaceId, chunk),
    );
  });
}

/** One lifecycle stage change an import records. */
export interface StageChange {
  id: string;
  account_id: string;
  from_stage: string | null;
  to_stage: string;
}

/** Statements that record stage changes (reason `import`, changed at `changedAt`), one per payload chunk. */
export function stageHistoryStatements(
  db: D1Database,
  workspaceId: string,
  changes: StageChange[],
  changedAt: string,
): D1PreparedStatement[] {
  return jsonChunks(changes).map((chunk) =>
    db
      .prepare(
        `INSERT INTO account_stage_history (id, workspace_id, account_id, from_stage, to_stage, reason, changed_at)
       SELECT json_extract(value, '$.id'), ?1, json_extract(value, '$.account_id'), json_extract(value, '$.from_stage'),
              json_extract(value, '$.to_stage'), 'import', ?3
         FROM json_each(?2)`,
      )
      .bind(workspaceId, chunk, changedAt),
  );
}

/** Statements that delete contract items by id, one per payload chunk, each returning the deleted items' contract_id as `key`. */
export function deleteContractItemsStatements(
  db: D1Database,
  workspaceId: string,
  itemIds: string[],
): D1PreparedStatement[] {
  return jsonChunks(itemIds).map((chunk) =>
    db
      .prepare(
        "DELETE FROM contract_items WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2)) RETURNING contract_id AS key",
      )
      .bind(workspaceId, chunk),
  );
}
