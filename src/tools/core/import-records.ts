import { z } from "zod";
import { jsonChunks } from "../../platform/db/json-chunks";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import { refreshAccountRollups } from "../../records/rollups";
import { CsvError, parseCsvTable } from "./domain/csv";
import { RECORD_COLUMNS } from "./domain/import-columns";
import {
  checkCsvHeader,
  fieldsOf,
  IMPORT_ENTITIES,
  type ImportEntity,
  MAX_IMPORT_ROWS,
  type RawRecord,
  type RowError,
  recordsFromCsv,
  requiredFieldsOf,
  type ValidRecord,
  validateRecords,
} from "./domain/import-rows";

/** A value as bound to SQLite. */
type SqlValue = string | number | null;

/** Errors listed in the answer; `error_count` says how many there were. */
const MAX_LISTED_ERRORS = 200;
/** `refreshAccountRollups` binds the workspace plus at most 90 account ids. */
const ROLLUP_CHUNK = 90;
const CSV_MAX_CHARS = 5_000_000;

/**
 * One record to upsert. `values` are written on insert and on update (only when one differs);
 * `insertOnly` columns (ids, conflict keys, defaults for fields the input left out) only on insert.
 * `key` is what the statement's RETURNING reports for this record.
 */
interface UpsertRecord {
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
  /** Extra assignment applied on update only, e.g. a last-modified stamp. */
  touch?: string;
}

/** Upserts whose RETURNING rows name changed records; `keyOf` maps a returned key to the record key. */
interface TrackedUpsert {
  target: UpsertTarget;
  records: UpsertRecord[];
  keyOf?: (returned: string) => string | undefined;
}

/** Everything one import writes, decided before the single write batch runs. */
interface WritePlan {
  /** Keys of the records that passed validation and reference checks. */
  plannedKeys: string[];
  /** Keys of those records that already existed. */
  existingKeys: Set<string>;
  /** Reference problems found while planning. */
  errors: RowError[];
  before: D1PreparedStatement[];
  upserts: TrackedUpsert[];
  /** Deletes whose RETURNING `key` names a changed record (through `keyOf`). */
  deletes: { statement: D1PreparedStatement; keyOf: (returned: string) => string | undefined }[];
  after: D1PreparedStatement[];
}

const outputShape = {
  entity: z.enum(IMPORT_ENTITIES).describe("The entity imported."),
  format: z.enum(["rows", "csv"]).describe("Whether the records came as JSON rows or CSV."),
  records_received: z
    .number()
    .describe("Records in the input (contracts: one per contract, however many item lines it had)."),
  inserted: z.number().describe("New records created."),
  updated: z.number().describe("Existing records whose stored values changed."),
  unchanged: z.number().describe("Existing records already identical to the input: nothing written."),
  failed: z.number().describe("Records skipped because of the errors listed."),
  error_count: z.number().describe(`Number of errors; at most ${MAX_LISTED_ERRORS} are listed.`),
  errors: z
    .array(
      z.object({
        row: z.number().describe("1-based row: index in rows, or CSV data row (the header not counted)."),
        field: z.string().describe("The field (column) at fault."),
        message: z.string().describe("What is wrong with it."),
      }),
    )
    .describe("Per-row problems; these rows were skipped and every other row was imported."),
};

type ImportOutput = z.input<z.ZodObject<typeof outputShape>>;

const fieldGuide = IMPORT_ENTITIES.map((entity) => {
  const required = new Set(requiredFieldsOf(entity));
  const fields = fieldsOf(entity).map((field) => (required.has(field) ? `${field}*` : field));
  return `${entity}: ${fields.join(", ")}`;
}).join("; ");

export const importRecords = defineTool({
  name: "import_records",
  title: "Import records",
  toolset: "core",
  description: [
    `Bulk upsert of accounts, contacts, products, contracts (with line items), usage (daily rollups), tickets, survey_responses or feedback, from JSON \`rows\` or \`csv\` text with a header row; at most ${MAX_IMPORT_ROWS.toLocaleString("en-US")} rows (CSV data lines) per call.`,
    "Idempotent on external ids: a record is matched on external_id (usage: account + day [+ feature]); re-importing identical rows writes nothing. Other records are referenced by external id (account_external_id, contact_external_id, product_external_id, previous_contract_external_id) and owners by owner_email.",
    "A field left out keeps its stored value; an empty value (null or empty CSV cell) clears an optional field. Bad rows (missing required field, bad type, enum or date, unknown reference) are reported as { row, field, message } and skipped; valid rows are imported.",
    "Dates: YYYY-MM-DD; *_at fields also take ISO 8601 date-times with a zone. Booleans: true/false, yes/no, 1/0.",
    "Contracts: JSON rows carry items [{ product_external_id, seats, arr }] (items replace the stored ones; contract arr = sum of items); in CSV write one line per item with the contract columns repeated, arr being the item's ARR. Accounts' ARR and renewal date follow their active contracts.",
    "Usage: a row without feature sets the account-day rollup (events, active_users, sessions); with feature it sets the feature-day rollup. Ticket subject/body, survey comments and feedback title/body are stored verbatim as customer-written text.",
    `Fields (* = required): ${fieldGuide}.`,
  ].join(" "),
  input: {
    entity: z.enum(IMPORT_ENTITIES).describe("What the records are."),
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(MAX_IMPORT_ROWS)
      .optional()
      .describe(
        `Records as JSON objects keyed by field name (give rows or csv, not both); at most ${MAX_IMPORT_ROWS}.`,
      ),
    csv: z
      .string()
      .min(1)
      .max(CSV_MAX_CHARS)
      .optional()
      .describe(
        `CSV text (RFC 4180: comma-separated, double quotes around values containing commas, quotes or line breaks) whose first line names the columns; at most ${MAX_IMPORT_ROWS} data lines.`,
      ),
  },
  output: outputShape,
  examples: [
    {
      title: "Import one account from the CRM",
      args: () => ({
        entity: "accounts",
        rows: [{ external_id: "crm-900001", name: "Northwind Traders", domain: "northwind.example" }],
      }),
    },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const format = readFormat(args.rows, args.csv);
    const input = format === "csv" ? readCsv(args.entity, args.csv ?? "") : readRows(args.rows ?? []);
    const { plan, validationErrors } = await planImport(args.entity, input.records, ctx);
    const written = await runPlan(ctx.env.DB, ctx.principal.workspaceId, plan);
    const inserted = plan.plannedKeys.filter((key) => written.has(key) && !plan.existingKeys.has(key)).length;
    const updated = plan.plannedKeys.filter((key) => written.has(key) && plan.existingKeys.has(key)).length;
    const received = input.records.length + input.rejected;
    const errors = [...input.errors, ...validationErrors, ...plan.errors].sort((a, b) => a.row - b.row);
    const data: ImportOutput = {
      entity: args.entity,
      format,
      records_received: received,
      inserted,
      updated,
      unchanged: plan.plannedKeys.length - inserted - updated,
      failed: received - plan.plannedKeys.length,
      error_count: errors.length,
      errors: errors.slice(0, MAX_LISTED_ERRORS),
    };
    ctx.audit({
      action: "import",
      targetType: args.entity,
      details: {
        format,
        received,
        inserted: data.inserted,
        updated: data.updated,
        unchanged: data.unchanged,
        failed: data.failed,
      },
    });
    const summary = `Imported ${args.entity} from ${format}: ${received} received, ${data.inserted} inserted, ${data.updated} updated, ${data.unchanged} unchanged, ${data.failed} failed.`;
    if (errors.length === 0) return { data, text: summary };
    const shown = errors.slice(0, 10);
    const table = markdownTable(
      ["row", "field", "problem"],
      shown.map((error) => [error.row, error.field, error.message]),
      120,
    );
    const more =
      errors.length > shown.length ? `\n${errors.length - shown.length} more errors in structured content.` : "";
    return { data, text: `${summary}\n${table}${more}` };
  },
});

function readFormat(rows: unknown[] | undefined, csv: string | undefined): "rows" | "csv" {
  if (rows !== undefined && csv !== undefined) throw new ToolError("Give either rows or csv, not both.");
  if (rows !== undefined) return "rows";
  if (csv !== undefined) return "csv";
  throw new ToolError("Give the records as rows (JSON objects) or csv (text with a header row).");
}

interface ImportInput {
  records: RawRecord[];
  /** Structural problems found before validation (CSV contract grouping). */
  errors: RowError[];
  /** Records refused as a whole before validation. */
  rejected: number;
}

function readRows(rows: Record<string, unknown>[]): ImportInput {
  return { records: rows.map((fields, index) => ({ row: index + 1, fields })), errors: [], rejected: 0 };
}

function readCsv(entity: ImportEntity, csv: string): ImportInput {
  let table: ReturnType<typeof parseCsvTable>;
  try {
    table = parseCsvTable(csv);
  } catch (error) {
    if (error instanceof CsvError) throw new ToolError(`CSV could not be read: ${error.message}`);
    throw error;
  }
  const headerProblem = checkCsvHeader(entity, table.header);
  if (headerProblem) throw new ToolError(headerProblem);
  if (table.rows.length === 0) throw new ToolError("The CSV has a header row but no data rows.");
  if (table.rows.length > MAX_IMPORT_ROWS) {
    throw new ToolError(
      `The CSV has ${table.rows.length} data rows; at most ${MAX_IMPORT_ROWS} per call. Split it into several calls.`,
    );
  }
  return recordsFromCsv(entity, table);
}

async function planImport(
  entity: ImportEntity,
  records: RawRecord[],
  ctx: ToolContext,
): Promise<{ plan: WritePlan; validationErrors: RowError[] }> {
  switch (entity) {
    case "accounts": {
      const { valid, errors } = validateRecords("accounts", records);
      return { plan: await planAccounts(ctx, valid), validationErrors: errors };
    }
    case "contacts": {
      const { valid, errors } = validateRecords("contacts", records);
      return { plan: await planContacts(ctx, valid), validationErrors: errors };
    }
    case "products": {
      const { valid, errors } = validateRecords("products", records);
      return { plan: await planProducts(ctx, valid), validationErrors: errors };
    }
    case "contracts": {
      const { valid, errors } = validateRecords("contracts", records);
      return { plan: await planContracts(ctx, valid), validationErrors: errors };
    }
    case "usage": {
      const { valid, errors } = validateRecords("usage", records);
      return { plan: await planUsage(ctx, valid), validationErrors: errors };
    }
    case "tickets": {
      const { valid, errors } = validateRecords("tickets", records);
      return { plan: await planTickets(ctx, valid), validationErrors: errors };
    }
    case "survey_responses": {
      const { valid, errors } = validateRecords("survey_responses", records);
      return { plan: await planSurveyResponses(ctx, valid), validationErrors: errors };
    }
    case "feedback": {
      const { valid, errors } = validateRecords("feedback", records);
      return { plan: await planFeedback(ctx, valid), validationErrors: errors };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading what the records refer to: one batch of `IN (SELECT value FROM json_each(?2))` queries.

interface IdRow {
  id: string;
  external_id: string;
}

interface ContactRef extends IdRow {
  account_id: string | null;
}

/** A query for the rows of `table` whose external_id is one of `externalIds` (two bound values). */
function byExternalIds(
  ctx: ToolContext,
  table: string,
  columns: string,
  externalIds: Iterable<string>,
): D1PreparedStatement {
  return ctx.env.DB.prepare(
    `SELECT ${columns} FROM ${table} WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))`,
  ).bind(ctx.principal.workspaceId, JSON.stringify([...new Set(externalIds)]));
}

/** Runs read statements in one round trip and returns each one's rows. */
async function readBatch(ctx: ToolContext, statements: D1PreparedStatement[]): Promise<unknown[][]> {
  const results = await ctx.env.DB.batch(statements);
  return results.map((result) => result.results);
}

function byExternalId<T extends { external_id: string }>(rows: unknown[] | undefined): Map<string, T> {
  return new Map(((rows ?? []) as T[]).map((row) => [row.external_id, row]));
}

/** External ids a set of records names in one field (null and absent skipped). */
function namedIn<E extends ImportEntity>(valid: ValidRecord<E>[], field: string): string[] {
  return valid
    .map((record) => (record.value as Record<string, unknown>)[field])
    .filter((value): value is string => typeof value === "string");
}

/** The given fields among `columns`, as stored; null for a NOT NULL column means "keep". */
function givenColumns<E extends ImportEntity>(
  record: ValidRecord<E>,
  columns: readonly string[],
  notNull: readonly string[] = [],
): Record<string, SqlValue> {
  const source = record.value as Record<string, unknown>;
  const values: Record<string, SqlValue> = {};
  for (const column of columns) {
    if (!record.given.has(column)) continue;
    const value = source[column] ?? null;
    if (value === null && notNull.includes(column)) continue;
    values[column] = toSql(value);
  }
  return values;
}

function toSql(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * Resolves an optional reference field: undefined when the field was not given (keep the stored
 * value), null when it was emptied, the id when found; records an error when it names nothing.
 */
function resolveReference<E extends ImportEntity, T extends IdRow>(
  record: ValidRecord<E>,
  field: string,
  known: Map<string, T>,
  what: string,
  errors: RowError[],
): T | null | undefined {
  if (!record.given.has(field)) return undefined;
  const externalId = (record.value as Record<string, unknown>)[field];
  if (typeof externalId !== "string") return null;
  const found = known.get(externalId);
  if (!found) {
    errors.push({ row: record.row, field, message: `names no ${what} in this workspace (import the ${what}s first)` });
  }
  return found;
}

function emptyPlan(): WritePlan {
  return { plannedKeys: [], existingKeys: new Set(), errors: [], before: [], upserts: [], deletes: [], after: [] };
}

// ---------------------------------------------------------------------------------------------
// Per-entity plans.

async function planAccounts(ctx: ToolContext, valid: ValidRecord<"accounts">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const emails = namedIn(valid, "owner_email");
  const [ownRows, userRows] = await readBatch(ctx, [
    byExternalIds(ctx, "accounts", "id, external_id, lifecycle_stage", namedIn(valid, "external_id")),
    ctx.env.DB.prepare(
      "SELECT id, lower(email) AS email FROM users WHERE workspace_id = ?1 AND disabled_at IS NULL AND lower(email) IN (SELECT value FROM json_each(?2))",
    ).bind(ctx.principal.workspaceId, JSON.stringify([...new Set(emails)])),
  ]);
  const existing = byExternalId<IdRow & { lifecycle_stage: string }>(ownRows);
  const users = new Map(((userRows ?? []) as { id: string; email: string }[]).map((user) => [user.email, user.id]));
  const records: UpsertRecord[] = [];
  const stageChanges: { id: string; account_id: string; from_stage: string | null; to_stage: string }[] = [];
  for (const record of valid) {
    const row = record.value;
    const values = givenColumns(record, RECORD_COLUMNS.accounts.columns, RECORD_COLUMNS.accounts.notNull);
    if (record.given.has("custom_fields")) values.custom_fields = JSON.stringify(row.custom_fields ?? {});
    if (record.given.has("owner_email")) {
      const ownerId = row.owner_email ? users.get(row.owner_email) : null;
      if (ownerId === undefined) {
        plan.errors.push({
          row: record.row,
          field: "owner_email",
          message: "names no active user of this workspace",
        });
        continue;
      }
      values.owner_user_id = ownerId;
    }
    const prior = existing.get(row.external_id);
    const id = prior?.id ?? newId("acc");
    if (row.lifecycle_stage && row.lifecycle_stage !== prior?.lifecycle_stage) {
      stageChanges.push({
        id: newId("stg"),
        account_id: id,
        from_stage: prior?.lifecycle_stage ?? null,
        to_stage: row.lifecycle_stage,
      });
    }
    records.push({ key: row.external_id, values, insertOnly: { id, external_id: row.external_id } });
    plan.plannedKeys.push(row.external_id);
  }
  plan.existingKeys = new Set(existing.keys());
  plan.before = jsonChunks(stageChanges).map((chunk) =>
    ctx.env.DB.prepare(
      `INSERT INTO account_stage_history (id, workspace_id, account_id, from_stage, to_stage, reason, changed_at)
       SELECT json_extract(value, '$.id'), ?1, json_extract(value, '$.account_id'), json_extract(value, '$.from_stage'),
              json_extract(value, '$.to_stage'), 'import', ?3
         FROM json_each(?2)`,
    ).bind(ctx.principal.workspaceId, chunk, ctx.now.toISOString()),
  );
  plan.upserts.push({
    target: {
      table: "accounts",
      conflict: ["external_id"],
      returningKey: "external_id",
      touch: "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
    },
    records,
  });
  return plan;
}

async function planContacts(ctx: ToolContext, valid: ValidRecord<"contacts">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const [ownRows, accountRows] = await readBatch(ctx, [
    byExternalIds(ctx, "contacts", "id, external_id", namedIn(valid, "external_id")),
    byExternalIds(ctx, "accounts", "id, external_id", namedIn(valid, "account_external_id")),
  ]);
  const existing = byExternalId<IdRow>(ownRows);
  const accounts = byExternalId<IdRow>(accountRows);
  const records: UpsertRecord[] = [];
  for (const record of valid) {
    const row = record.value;
    const rowErrors: RowError[] = [];
    const account = resolveReference(record, "account_external_id", accounts, "account", rowErrors);
    if (rowErrors.length > 0) {
      plan.errors.push(...rowErrors);
      continue;
    }
    const values = givenColumns(record, RECORD_COLUMNS.contacts.columns, RECORD_COLUMNS.contacts.notNull);
    if (account !== undefined) values.account_id = account?.id ?? null;
    const id = existing.get(row.external_id)?.id ?? newId("con");
    records.push({ key: row.external_id, values, insertOnly: { id, external_id: row.external_id } });
    plan.plannedKeys.push(row.external_id);
  }
  plan.existingKeys = new Set(existing.keys());
  plan.upserts.push({ target: { table: "contacts", conflict: ["external_id"], returningKey: "external_id" }, records });
  return plan;
}

async function planProducts(ctx: ToolContext, valid: ValidRecord<"products">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const [ownRows] = await readBatch(ctx, [
    byExternalIds(ctx, "products", "id, external_id", namedIn(valid, "external_id")),
  ]);
  const existing = byExternalId<IdRow>(ownRows);
  const records = valid.map((record): UpsertRecord => {
    const externalId = record.value.external_id;
    plan.plannedKeys.push(externalId);
    return {
      key: externalId,
      values: givenColumns(record, ["name", "family", "kind", "price"], ["kind", "price"]),
      insertOnly: { id: existing.get(externalId)?.id ?? newId("prd"), external_id: externalId },
    };
  });
  plan.existingKeys = new Set(existing.keys());
  plan.upserts.push({ target: { table: "products", conflict: ["external_id"], returningKey: "external_id" }, records });
  return plan;
}

const CONTRACT_COLUMNS = [
  "start_date",
  "end_date",
  "status",
  "auto_renew",
  "arr",
  "outcome",
  "outcome_reason",
  "outcome_date",
] as const;

interface StoredContract extends IdRow {
  account_id: string;
  status: string;
  arr: number;
  end_date: string;
}

interface StoredItem {
  id: string;
  contract_id: string;
  product_id: string;
}

/** Columns whose change moves an account's ARR or renewal date. */
const ROLLUP_COLUMNS = ["account_id", "status", "arr", "end_date"] as const;

async function planContracts(ctx: ToolContext, valid: ValidRecord<"contracts">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const ws = ctx.principal.workspaceId;
  const ownIds = namedIn(valid, "external_id");
  const productIds = valid.flatMap((record) => (record.value.items ?? []).map((item) => item.product_external_id));
  const [contractRows, accountRows, productRows, itemRows] = await readBatch(ctx, [
    byExternalIds(ctx, "contracts", "id, external_id, account_id, status, arr, end_date", [
      ...ownIds,
      ...namedIn(valid, "previous_contract_external_id"),
    ]),
    byExternalIds(ctx, "accounts", "id, external_id", namedIn(valid, "account_external_id")),
    byExternalIds(ctx, "products", "id, external_id", productIds),
    ctx.env.DB.prepare(
      `SELECT id, contract_id, product_id FROM contract_items
        WHERE workspace_id = ?1 AND contract_id IN
          (SELECT id FROM contracts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2)))`,
    ).bind(ws, JSON.stringify(ownIds)),
  ]);
  const stored = byExternalId<StoredContract>(contractRows);
  const accounts = byExternalId<IdRow>(accountRows);
  const products = byExternalId<IdRow>(productRows);
  const storedItems = (itemRows ?? []) as StoredItem[];

  // First pass: accounts and products; every contract that passes gets its final id.
  const planned: { record: ValidRecord<"contracts">; id: string; accountId: string; productIds: string[] }[] = [];
  for (const record of valid) {
    const row = record.value;
    const rowErrors: RowError[] = [];
    const account = accounts.get(row.account_external_id);
    if (!account) {
      rowErrors.push({
        row: record.row,
        field: "account_external_id",
        message: "names no account in this workspace (import the accounts first)",
      });
    }
    const itemProductIds = (row.items ?? []).map((item, index) => {
      const product = products.get(item.product_external_id);
      if (!product) {
        const itemRow = record.itemRows?.[index];
        rowErrors.push({
          row: itemRow ?? record.row,
          field: itemRow === undefined ? `items[${index}].product_external_id` : "product_external_id",
          message: "names no product in this workspace (import the products first)",
        });
      }
      return product?.id ?? "";
    });
    if (rowErrors.length > 0 || !account) {
      plan.errors.push(...rowErrors);
      continue;
    }
    const id = stored.get(row.external_id)?.id ?? newId("ctr");
    planned.push({ record, id, accountId: account.id, productIds: itemProductIds });
  }
  // A link to a contract of this import holds only if that contract is written too: drop
  // contracts whose previous term resolves nowhere until no more drop out.
  const linkable = new Map(planned.map((entry) => [entry.record.value.external_id, entry.id]));
  for (let dropped = true; dropped; ) {
    dropped = false;
    for (const { record } of planned) {
      const previous = record.value.previous_contract_external_id;
      if (!previous || !linkable.has(record.value.external_id)) continue;
      if (!linkable.has(previous) && !stored.has(previous)) {
        linkable.delete(record.value.external_id);
        dropped = true;
      }
    }
  }

  // Second pass: previous-term links (to stored contracts or ones in this import), then writes.
  const contractRecords: UpsertRecord[] = [];
  const itemRecords: UpsertRecord[] = [];
  const staleItemIds: string[] = [];
  const rollupAccounts = new Set<string>();
  const externalOfId = new Map<string, string>();
  for (const { record, id, accountId, productIds: itemProductIds } of planned) {
    const row = record.value;
    const values = givenColumns(record, CONTRACT_COLUMNS, ["status", "auto_renew", "arr"]);
    values.account_id = accountId;
    if (record.given.has("previous_contract_external_id")) {
      const previous = row.previous_contract_external_id;
      const previousId = previous ? (linkable.get(previous) ?? stored.get(previous)?.id) : null;
      if (previousId === undefined) {
        plan.errors.push({
          row: record.row,
          field: "previous_contract_external_id",
          message: "names no contract in this workspace or in the valid rows of this import",
        });
        continue;
      }
      values.previous_contract_id = previousId;
    }
    if (row.items) {
      if (row.items.length > 0) {
        values.arr = Math.round(row.items.reduce((sum, item) => sum + item.arr, 0) * 100) / 100;
      }
      row.items.forEach((item, index) => {
        const productId = itemProductIds[index]!;
        itemRecords.push({
          key: `${id}|${productId}`,
          values: { seats: item.seats ?? 0, arr: item.arr },
          insertOnly: { id: newId("cti"), contract_id: id, product_id: productId },
        });
      });
      const listed = new Set(itemProductIds);
      for (const item of storedItems) {
        if (item.contract_id === id && !listed.has(item.product_id)) staleItemIds.push(item.id);
      }
    }
    const prior = stored.get(row.external_id);
    if (!prior || ROLLUP_COLUMNS.some((column) => column in values && values[column] !== prior[column])) {
      rollupAccounts.add(accountId);
      if (prior) rollupAccounts.add(prior.account_id);
    }
    externalOfId.set(id, row.external_id);
    contractRecords.push({ key: row.external_id, values, insertOnly: { id, external_id: row.external_id } });
    plan.plannedKeys.push(row.external_id);
  }
  plan.existingKeys = new Set(ownIds.filter((externalId) => stored.has(externalId)));
  const contractOfItem = (contractId: string) => externalOfId.get(contractId);
  plan.upserts.push(
    {
      target: { table: "contracts", conflict: ["external_id"], returningKey: "external_id" },
      records: contractRecords,
    },
    {
      target: { table: "contract_items", conflict: ["contract_id", "product_id"], returningKey: "contract_id" },
      records: itemRecords,
      keyOf: contractOfItem,
    },
  );
  plan.deletes = jsonChunks(staleItemIds).map((chunk) => ({
    statement: ctx.env.DB.prepare(
      "DELETE FROM contract_items WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2)) RETURNING contract_id AS key",
    ).bind(ws, chunk),
    keyOf: contractOfItem,
  }));
  const accountIds = [...rollupAccounts];
  for (let start = 0; start < accountIds.length; start += ROLLUP_CHUNK) {
    plan.after.push(refreshAccountRollups(ctx.env.DB, ws, accountIds.slice(start, start + ROLLUP_CHUNK)));
  }
  return plan;
}

async function planUsage(ctx: ToolContext, valid: ValidRecord<"usage">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const ws = ctx.principal.workspaceId;
  const lookups = valid.map(({ value }) => ({
    account: value.account_external_id,
    day: value.day,
    feature: value.feature,
  }));
  /** Keys (as the upserts return them) of the rollup rows that already exist for these records. */
  const storedRollups = (perFeatureRows: boolean) => {
    const table = perFeatureRows ? "usage_feature_daily" : "usage_daily";
    const keyed = lookups.filter((lookup) => Boolean(lookup.feature) === perFeatureRows);
    return ctx.env.DB.prepare(
      // CROSS JOIN keeps this join order: each input row probes accounts, then the rollup's primary key.
      `SELECT a.id || '|' || u.day${perFeatureRows ? " || '|' || u.feature" : ""} AS key
         FROM json_each(?2) j CROSS JOIN accounts a CROSS JOIN ${table} u
        WHERE a.workspace_id = ?1 AND a.external_id = json_extract(j.value, '$.account')
          AND u.workspace_id = ?1 AND u.account_id = a.id AND u.day = json_extract(j.value, '$.day')
          ${perFeatureRows ? "AND u.feature = json_extract(j.value, '$.feature')" : ""}`,
    ).bind(ws, JSON.stringify(keyed));
  };
  const [accountRows, dailyRows, featureRows] = await readBatch(ctx, [
    byExternalIds(ctx, "accounts", "id, external_id", namedIn(valid, "account_external_id")),
    storedRollups(false),
    storedRollups(true),
  ]);
  const accounts = byExternalId<IdRow>(accountRows);
  const daily: UpsertRecord[] = [];
  const perFeature: UpsertRecord[] = [];
  for (const record of valid) {
    const row = record.value;
    const account = accounts.get(row.account_external_id);
    if (!account) {
      plan.errors.push({
        row: record.row,
        field: "account_external_id",
        message: "names no account in this workspace (import the accounts first)",
      });
      continue;
    }
    if (row.feature) {
      const key = `${account.id}|${row.day}|${row.feature}`;
      perFeature.push({
        key,
        values: { events: row.events, active_users: row.active_users },
        insertOnly: { account_id: account.id, day: row.day, feature: row.feature },
      });
      plan.plannedKeys.push(key);
    } else {
      const key = `${account.id}|${row.day}`;
      daily.push({
        key,
        values: {
          events: row.events,
          active_users: row.active_users,
          ...givenColumns(record, ["sessions"], ["sessions"]),
        },
        insertOnly: { account_id: account.id, day: row.day },
      });
      plan.plannedKeys.push(key);
    }
  }
  const storedKeys = [...(dailyRows ?? []), ...(featureRows ?? [])] as { key: string }[];
  plan.existingKeys = new Set(storedKeys.map((row) => row.key));
  plan.upserts.push(
    {
      target: { table: "usage_daily", conflict: ["account_id", "day"], returningKey: "account_id || '|' || day" },
      records: daily,
    },
    {
      target: {
        table: "usage_feature_daily",
        conflict: ["account_id", "day", "feature"],
        returningKey: "account_id || '|' || day || '|' || feature",
      },
      records: perFeature,
    },
  );
  return plan;
}

type PartyEntity = "tickets" | "survey_responses" | "feedback";

/**
 * Reads the stored ids of `table` and the accounts and contacts the records name, then resolves
 * each record's account and contact: a contact must belong to the named account, and a record
 * naming a contact but no account (absent or empty) takes that contact's account.
 */
async function resolveParties<E extends PartyEntity>(
  ctx: ToolContext,
  table: string,
  valid: ValidRecord<E>[],
  plan: WritePlan,
): Promise<{
  existing: Map<string, IdRow>;
  resolved: { record: ValidRecord<E>; parties: Record<string, SqlValue> }[];
}> {
  const [ownRows, accountRows, contactRows] = await readBatch(ctx, [
    byExternalIds(ctx, table, "id, external_id", namedIn(valid, "external_id")),
    byExternalIds(ctx, "accounts", "id, external_id", namedIn(valid, "account_external_id")),
    byExternalIds(ctx, "contacts", "id, external_id, account_id", namedIn(valid, "contact_external_id")),
  ]);
  const existing = byExternalId<IdRow>(ownRows);
  const accounts = byExternalId<IdRow>(accountRows);
  const contacts = byExternalId<ContactRef>(contactRows);
  const resolved: { record: ValidRecord<E>; parties: Record<string, SqlValue> }[] = [];
  for (const record of valid) {
    const rowErrors: RowError[] = [];
    const account = resolveReference(record, "account_external_id", accounts, "account", rowErrors);
    const contact = resolveReference(record, "contact_external_id", contacts, "contact", rowErrors);
    if (contact && account && contact.account_id !== account.id) {
      rowErrors.push({
        row: record.row,
        field: "contact_external_id",
        message: "names a contact of another account than account_external_id",
      });
    }
    if (rowErrors.length > 0) {
      plan.errors.push(...rowErrors);
      continue;
    }
    const parties: Record<string, SqlValue> = {};
    if (account) parties.account_id = account.id;
    else if (contact?.account_id) parties.account_id = contact.account_id;
    else if (account === null) parties.account_id = null;
    if (contact !== undefined) parties.contact_id = contact?.id ?? null;
    resolved.push({ record, parties });
  }
  plan.existingKeys = new Set(existing.keys());
  return { existing, resolved };
}

async function planTickets(ctx: ToolContext, valid: ValidRecord<"tickets">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const { existing, resolved } = await resolveParties(ctx, "tickets", valid, plan);
  const records = resolved.map(({ record, parties }): UpsertRecord => {
    const row = record.value;
    const values = {
      ...givenColumns(record, RECORD_COLUMNS.tickets.columns, RECORD_COLUMNS.tickets.notNull),
      ...parties,
    };
    const insertOnly: Record<string, SqlValue> = {
      id: existing.get(row.external_id)?.id ?? newId("tkt"),
      external_id: row.external_id,
    };
    if (!("source" in values)) insertOnly.source = "import";
    if (!("updated_at" in values)) insertOnly.updated_at = row.created_at;
    plan.plannedKeys.push(row.external_id);
    return { key: row.external_id, values, insertOnly };
  });
  plan.upserts.push({ target: { table: "tickets", conflict: ["external_id"], returningKey: "external_id" }, records });
  return plan;
}

async function planSurveyResponses(ctx: ToolContext, valid: ValidRecord<"survey_responses">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const { existing, resolved } = await resolveParties(ctx, "survey_responses", valid, plan);
  const records = resolved.map(({ record, parties }): UpsertRecord => {
    const externalId = record.value.external_id;
    plan.plannedKeys.push(externalId);
    return {
      key: externalId,
      values: { ...givenColumns(record, RECORD_COLUMNS.survey_responses.columns), ...parties },
      insertOnly: { id: existing.get(externalId)?.id ?? newId("srv"), external_id: externalId },
    };
  });
  plan.upserts.push({
    target: { table: "survey_responses", conflict: ["external_id"], returningKey: "external_id" },
    records,
  });
  return plan;
}

async function planFeedback(ctx: ToolContext, valid: ValidRecord<"feedback">[]): Promise<WritePlan> {
  const plan = emptyPlan();
  if (valid.length === 0) return plan;
  const { existing, resolved } = await resolveParties(ctx, "feedback_items", valid, plan);
  const records = resolved.map(({ record, parties }): UpsertRecord => {
    const externalId = record.value.external_id;
    const values = {
      ...givenColumns(record, RECORD_COLUMNS.feedback_items.columns, RECORD_COLUMNS.feedback_items.notNull),
      ...parties,
    };
    const insertOnly: Record<string, SqlValue> = {
      id: existing.get(externalId)?.id ?? newId("fbk"),
      external_id: externalId,
    };
    if (!("source" in values)) insertOnly.source = "import";
    plan.plannedKeys.push(externalId);
    return { key: externalId, values, insertOnly };
  });
  plan.upserts.push({
    target: { table: "feedback_items", conflict: ["external_id"], returningKey: "external_id" },
    records,
  });
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Writing: one batch (one transaction) of multi-row statements fed from a JSON array parameter.

/**
 * The upsert for one set of columns. Column names come from this module's constants, never from
 * input. Rows are read from the JSON array bound to ?2 (`WHERE true` resolves SQLite's parsing
 * ambiguity between a SELECT's join and the upsert's ON). The DO UPDATE only fires when a
 * column differs, so an identical row is neither written nor returned.
 */
function upsertSql(target: UpsertTarget, insertOnly: string[], updatable: string[]): string {
  const columns = [...insertOnly, ...updatable];
  const selected = columns.map((column) => `json_extract(value, '$.${column}')`).join(", ");
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

/** Statements for a set of records: one per column set and payload chunk. */
function upsertStatements(db: D1Database, workspaceId: string, target: UpsertTarget, records: UpsertRecord[]) {
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
    return jsonChunks(group.rows).map((chunk) => db.prepare(sql).bind(workspaceId, chunk));
  });
}

/** Runs the plan as one batch and returns the keys of the records that were inserted or changed. */
async function runPlan(db: D1Database, workspaceId: string, plan: WritePlan): Promise<Set<string>> {
  const statements: D1PreparedStatement[] = [...plan.before];
  const tracked: { index: number; keyOf: (returned: string) => string | undefined }[] = [];
  for (const upsert of plan.upserts) {
    for (const statement of upsertStatements(db, workspaceId, upsert.target, upsert.records)) {
      tracked.push({ index: statements.length, keyOf: upsert.keyOf ?? ((key) => key) });
      statements.push(statement);
    }
  }
  for (const { statement, keyOf } of plan.deletes) {
    tracked.push({ index: statements.length, keyOf });
    statements.push(statement);
  }
  statements.push(...plan.after);
  const written = new Set<string>();
  if (statements.length === 0) return written;
  const results = await db.batch<{ key: string }>(statements);
  for (const { index, keyOf } of tracked) {
    for (const row of results[index]?.results ?? []) {
      const key = keyOf(String(row.key));
      if (key !== undefined) written.add(key);
    }
  }
  return written;
}
