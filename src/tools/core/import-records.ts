import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import { type ErasureKind, erasureHash } from "../../records/erasure";
import { refreshAccountRollups } from "../../records/rollups";
import { CsvError, parseCsvTable } from "./domain/csv";
import {
  emptyPlan,
  namedIn,
  type PartyRefs,
  planAccounts,
  planContacts,
  planContracts,
  planFeedback,
  planProducts,
  planSurveyResponses,
  planTickets,
  planUsage,
  usageLookups,
  type WritePlan,
} from "./domain/import-plan";
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
import {
  deleteContractItemsStatements,
  type PartyTable,
  readAccountImportRefs,
  readContactImportRefs,
  readContractImportRefs,
  readPartyRefs,
  readProductRefs,
  readUsageImportRefs,
  stageHistoryStatements,
  upsertStatements,
} from "./queries/imports";
import { d1PrivacyDb, findErasedHashes } from "./queries/privacy";

/** Errors listed in the answer; `error_count` says how many there were. */
const MAX_LISTED_ERRORS = 200;
/** `refreshAccountRollups` binds the workspace plus at most 90 account ids. */
const ROLLUP_CHUNK = 90;
/** Fits the transport's 4 MiB request body even written in 3-byte UTF-8 characters. */
const CSV_MAX_CHARS = 1_000_000;

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
        `CSV text (RFC 4180: comma-separated, double quotes around values containing commas, quotes or line breaks) whose first line names the columns; at most ${MAX_IMPORT_ROWS} data lines and ${CSV_MAX_CHARS.toLocaleString("en-US")} characters.`,
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
    const written = await runPlan(ctx.env.DB, ctx.principal.workspaceId, plan, ctx.now);
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

/** Validates the records, reads what they refer to and decides what to write. */
async function planImport(
  entity: ImportEntity,
  records: RawRecord[],
  ctx: ToolContext,
): Promise<{ plan: WritePlan; validationErrors: RowError[] }> {
  const db = ctx.env.DB;
  const ws = ctx.principal.workspaceId;
  switch (entity) {
    case "accounts": {
      const { valid, errors } = validateRecords("accounts", records);
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      const refs = await readAccountImportRefs(db, ws, {
        externalIds: namedIn(valid, "external_id"),
        ownerEmails: namedIn(valid, "owner_email"),
      });
      return { plan: planAccounts(valid, refs), validationErrors: errors };
    }
    case "contacts": {
      const { valid, errors } = await withoutErased(ctx, "contacts", validateRecords("contacts", records));
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      const refs = await readContactImportRefs(db, ws, {
        externalIds: namedIn(valid, "external_id"),
        accountExternalIds: namedIn(valid, "account_external_id"),
      });
      return { plan: planContacts(valid, refs), validationErrors: errors };
    }
    case "products": {
      const { valid, errors } = validateRecords("products", records);
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      const stored = await readProductRefs(db, ws, namedIn(valid, "external_id"));
      return { plan: planProducts(valid, stored), validationErrors: errors };
    }
    case "contracts": {
      const { valid, errors } = validateRecords("contracts", records);
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      const refs = await readContractImportRefs(db, ws, {
        externalIds: namedIn(valid, "external_id"),
        previousExternalIds: namedIn(valid, "previous_contract_external_id"),
        accountExternalIds: namedIn(valid, "account_external_id"),
        productExternalIds: valid.flatMap((record) =>
          (record.value.items ?? []).map((item) => item.product_external_id),
        ),
      });
      return { plan: planContracts(valid, refs), validationErrors: errors };
    }
    case "usage": {
      const { valid, errors } = validateRecords("usage", records);
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      const refs = await readUsageImportRefs(db, ws, {
        accountExternalIds: namedIn(valid, "account_external_id"),
        lookups: usageLookups(valid),
      });
      return { plan: planUsage(valid, refs), validationErrors: errors };
    }
    case "tickets": {
      const { valid, errors } = await withoutErased(ctx, "tickets", validateRecords("tickets", records));
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      return { plan: planTickets(valid, await readPartiesOf(ctx, "tickets", valid)), validationErrors: errors };
    }
    case "survey_responses": {
      const { valid, errors } = await withoutErased(
        ctx,
        "survey_responses",
        validateRecords("survey_responses", records),
      );
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      const refs = await readPartiesOf(ctx, "survey_responses", valid);
      return { plan: planSurveyResponses(valid, refs), validationErrors: errors };
    }
    case "feedback": {
      const { valid, errors } = await withoutErased(ctx, "feedback", validateRecords("feedback", records));
      if (valid.length === 0) return { plan: emptyPlan(), validationErrors: errors };
      return { plan: planFeedback(valid, await readPartiesOf(ctx, "feedback_items", valid)), validationErrors: errors };
    }
  }
}

/** The fields of each entity that name a person, and what kind of value they hold. */
const PERSON_FIELDS: Partial<Record<ImportEntity, readonly [string, ErasureKind][]>> = {
  contacts: [
    ["external_id", "external_id"],
    ["email", "email"],
  ],
  tickets: [["contact_external_id", "external_id"]],
  survey_responses: [["contact_external_id", "external_id"]],
  feedback: [["contact_external_id", "external_id"]],
};

/**
 * Drops the records that name an erased contact (its email or external id has a tombstone), each
 * reported as an error of that field: an erased person is never imported again.
 */
async function withoutErased<E extends ImportEntity>(
  ctx: ToolContext,
  entity: E,
  checked: { valid: ValidRecord<E>[]; errors: RowError[] },
): Promise<{ valid: ValidRecord<E>[]; errors: RowError[] }> {
  const fields = PERSON_FIELDS[entity] ?? [];
  const ws = ctx.principal.workspaceId;
  const hashed = await Promise.all(
    checked.valid.map((record) =>
      Promise.all(
        fields.flatMap(([field, kind]) => {
          const value = (record.value as Record<string, unknown>)[field];
          return typeof value === "string" && value !== ""
            ? [erasureHash(ws, kind, value).then((hash) => ({ field, hash }))]
            : [];
        }),
      ),
    ),
  );
  const erased = await findErasedHashes(d1PrivacyDb(ctx.env.DB), ws, [...new Set(hashed.flat().map((h) => h.hash))]);
  if (erased.size === 0) return checked;
  const valid: ValidRecord<E>[] = [];
  const errors = [...checked.errors];
  checked.valid.forEach((record, i) => {
    const hit = hashed[i]?.find((h) => erased.has(h.hash));
    if (!hit) valid.push(record);
    else errors.push({ row: record.row, field: hit.field, message: "names a contact that was erased; not imported" });
  });
  return { valid, errors };
}

/** The stored rows of `table`, and the accounts and contacts, that records with an account and a contact name. */
function readPartiesOf<E extends "tickets" | "survey_responses" | "feedback">(
  ctx: ToolContext,
  table: PartyTable,
  valid: ValidRecord<E>[],
): Promise<PartyRefs> {
  return readPartyRefs(ctx.env.DB, ctx.principal.workspaceId, table, {
    externalIds: namedIn(valid, "external_id"),
    accountExternalIds: namedIn(valid, "account_external_id"),
    contactExternalIds: namedIn(valid, "contact_external_id"),
  });
}

/** Runs the plan as one batch (one transaction) and returns the keys of the records that were inserted or changed. */
async function runPlan(db: D1Database, workspaceId: string, plan: WritePlan, now: Date): Promise<Set<string>> {
  const statements: D1PreparedStatement[] = stageHistoryStatements(
    db,
    workspaceId,
    plan.stageChanges,
    now.toISOString(),
  );
  const tracked: { index: number; keyOf: (returned: string) => string | undefined }[] = [];
  const track = (statement: D1PreparedStatement, keyOf: (returned: string) => string | undefined) => {
    tracked.push({ index: statements.length, keyOf });
    statements.push(statement);
  };
  for (const upsert of plan.upserts) {
    for (const statement of upsertStatements(db, workspaceId, upsert.table, upsert.records, now.toISOString())) {
      track(statement, upsert.keyOf ?? ((key) => key));
    }
  }
  if (plan.staleItems) {
    for (const statement of deleteContractItemsStatements(db, workspaceId, plan.staleItems.ids)) {
      track(statement, plan.staleItems.keyOf);
    }
  }
  const accountIds = plan.rollupAccountIds;
  for (let start = 0; start < accountIds.length; start += ROLLUP_CHUNK) {
    statements.push(refreshAccountRollups(db, workspaceId, accountIds.slice(start, start + ROLLUP_CHUNK)));
  }
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
