/**
 * What `import_records` accepts per entity: one row schema each, the reading of CSV tables into
 * rows (contracts: one CSV line per item, grouped by contract), and per-row validation that
 * keeps each problem as `{ row, field, message }` so valid rows can still be imported.
 */
import { z } from "zod";
import type { CsvRow, CsvTable } from "./csv";
import {
  optionalBoolean,
  optionalDay,
  optionalEmail,
  optionalEnum,
  optionalFlatObject,
  optionalInstant,
  optionalInteger,
  optionalNumber,
  optionalText,
  optionalVerbatim,
  requiredDay,
  requiredEnum,
  requiredInstant,
  requiredInteger,
  requiredNumber,
  requiredText,
  requiredVerbatim,
} from "./import-values";

/** Most records one call may carry (JSON rows or CSV data lines). */
export const MAX_IMPORT_ROWS = 1000;

/** What `import_records` can import, in dependency order (accounts before what refers to them). */
export const IMPORT_ENTITIES = [
  "accounts",
  "contacts",
  "products",
  "contracts",
  "usage",
  "tickets",
  "survey_responses",
  "feedback",
] as const;
/** One importable entity. */
export type ImportEntity = (typeof IMPORT_ENTITIES)[number];

/** A problem with one input row; `row` is 1-based (CSV: data rows, the header not counted). */
export interface RowError {
  row: number;
  field: string;
  message: string;
}

const externalId = () => requiredText(200);
const reference = () => optionalText(200);
const label = () => optionalText(100);

const CONTACT_ROLES = ["champion", "decision_maker", "economic_buyer", "admin", "user", "executive_sponsor"] as const;

const accountRow = z.strictObject({
  external_id: externalId(),
  name: requiredText(200),
  domain: optionalText(253),
  industry: label(),
  employees: optionalInteger(0),
  region: label(),
  plan: label(),
  segment: label(),
  tier: label(),
  lifecycle_stage: optionalText(50),
  owner_email: optionalEmail(),
  status: optionalEnum(["active", "churned", "prospect"]),
  customer_since: optionalDay(),
  churned_at: optionalInstant(),
  custom_fields: optionalFlatObject(),
});

const contactRow = z.strictObject({
  external_id: externalId(),
  account_external_id: reference(),
  name: requiredText(200),
  email: optionalEmail(),
  title: optionalText(200),
  role: optionalEnum(CONTACT_ROLES),
  is_champion: optionalBoolean(),
  is_decision_maker: optionalBoolean(),
  unsubscribed: optionalBoolean(),
  bounced: optionalBoolean(),
  last_seen_at: optionalInstant(),
  left_at: optionalInstant(),
});

const productRow = z.strictObject({
  external_id: externalId(),
  name: requiredText(200),
  family: label(),
  kind: optionalEnum(["plan", "add_on", "service"]),
  price: optionalNumber(0),
});

const contractItemRow = z.strictObject({
  product_external_id: requiredText(200),
  seats: optionalInteger(0),
  arr: requiredNumber(0),
});

const contractRow = z
  .strictObject({
    external_id: externalId(),
    account_external_id: requiredText(200),
    start_date: requiredDay(),
    end_date: requiredDay(),
    status: optionalEnum(["active", "ended", "cancelled"]),
    auto_renew: optionalBoolean(),
    arr: optionalNumber(0),
    outcome: optionalEnum(["renewed", "churned", "expanded", "contracted"]),
    outcome_reason: optionalText(500),
    outcome_date: optionalDay(),
    previous_contract_external_id: reference(),
    items: z.array(contractItemRow, { error: "must be a list of items" }).max(100).optional(),
  })
  .superRefine((row, check) => {
    if (row.end_date < row.start_date) {
      check.addIssue({ code: "custom", path: ["end_date"], message: "must not be before start_date" });
    }
    if (row.previous_contract_external_id === row.external_id) {
      check.addIssue({
        code: "custom",
        path: ["previous_contract_external_id"],
        message: "must name another contract",
      });
    }
    const items = row.items ?? [];
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(item.product_external_id)) {
        check.addIssue({
          code: "custom",
          path: ["items", index, "product_external_id"],
          message: "lists the same product twice in one contract",
        });
      }
      seen.add(item.product_external_id);
    });
    if (items.length > 0 && row.arr !== undefined && row.arr !== null) {
      const itemsArr = items.reduce((sum, item) => sum + item.arr, 0);
      if (Math.abs(itemsArr - row.arr) > 0.005) {
        check.addIssue({
          code: "custom",
          path: ["arr"],
          message: `must equal the sum of the items' arr (${itemsArr}), or be left out`,
        });
      }
    }
  });

const usageRow = z
  .strictObject({
    account_external_id: requiredText(200),
    day: requiredDay(),
    events: requiredInteger(0),
    active_users: requiredInteger(0),
    sessions: optionalInteger(0),
    feature: optionalText(100),
  })
  .superRefine((row, check) => {
    if (row.feature && row.sessions !== undefined && row.sessions !== null) {
      check.addIssue({
        code: "custom",
        path: ["sessions"],
        message: "applies only to account-day rows (rows without feature)",
      });
    }
  });

const TICKET_STATUSES = ["new", "open", "pending", "solved", "closed"] as const;
const PRIORITIES = ["low", "normal", "high", "urgent"] as const;

const ticketRow = z.strictObject({
  external_id: externalId(),
  account_external_id: reference(),
  contact_external_id: reference(),
  source: optionalText(50),
  subject: requiredVerbatim(1000),
  body: optionalVerbatim(100_000),
  status: optionalEnum(TICKET_STATUSES),
  priority: optionalEnum(PRIORITIES),
  category: label(),
  assignee: optionalText(200),
  csat_score: optionalInteger(1, 5),
  created_at: requiredInstant(),
  first_response_at: optionalInstant(),
  solved_at: optionalInstant(),
  updated_at: optionalInstant(),
});

/** Score ranges per survey kind: NPS 0–10, CSAT 1–5, CES 1–7. */
const SURVEY_SCORE_RANGES = { nps: [0, 10], csat: [1, 5], ces: [1, 7] } as const;

const surveyResponseRow = z
  .strictObject({
    external_id: externalId(),
    account_external_id: reference(),
    contact_external_id: reference(),
    kind: requiredEnum(["nps", "csat", "ces"]),
    score: requiredInteger(0, 10),
    comment: optionalVerbatim(20_000),
    responded_at: requiredInstant(),
  })
  .superRefine((row, check) => {
    const [min, max] = SURVEY_SCORE_RANGES[row.kind];
    if (row.score < min || row.score > max) {
      check.addIssue({ code: "custom", path: ["score"], message: `must be ${min}–${max} for ${row.kind}` });
    }
  });

const feedbackRow = z.strictObject({
  external_id: externalId(),
  account_external_id: reference(),
  contact_external_id: reference(),
  source: optionalText(50),
  kind: requiredEnum(["feature_request", "bug", "praise", "complaint", "idea"]),
  title: requiredVerbatim(500),
  body: optionalVerbatim(100_000),
  feature: label(),
  status: optionalEnum(["new", "reviewing", "planned", "shipped", "declined"]),
  created_at: requiredInstant(),
});

/** The row schema of each entity. */
const ROW_SCHEMAS = {
  accounts: accountRow,
  contacts: contactRow,
  products: productRow,
  contracts: contractRow,
  usage: usageRow,
  tickets: ticketRow,
  survey_responses: surveyResponseRow,
  feedback: feedbackRow,
} as const;

/** A validated row of one entity. */
export type RowOf<E extends ImportEntity> = z.output<(typeof ROW_SCHEMAS)[E]>;

/** CSV columns of a contract line that describe one item rather than the contract. */
const CONTRACT_ITEM_COLUMNS = ["product_external_id", "seats", "arr"] as const;

/** The fields (JSON keys, CSV columns) an entity accepts, in schema order. */
export function fieldsOf(entity: ImportEntity): string[] {
  const fields = Object.keys(ROW_SCHEMAS[entity].shape);
  if (entity !== "contracts") return fields;
  return [...fields.filter((field) => field !== "items"), "product_external_id", "seats"];
}

/** The fields an entity requires. */
export function requiredFieldsOf(entity: ImportEntity): string[] {
  const shape: Record<string, z.ZodType> = ROW_SCHEMAS[entity].shape;
  return Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([field]) => field);
}

/** One input record before validation; contracts read from CSV also know the row of each item. */
export interface RawRecord {
  row: number;
  fields: Record<string, unknown>;
  itemRows?: number[];
}

/** Refuses a CSV header that names unknown columns or lacks a required one; returns why, or null. */
export function checkCsvHeader(entity: ImportEntity, header: string[]): string | null {
  const known = fieldsOf(entity);
  const unknown = header.filter((name) => !known.includes(name));
  const missing = requiredFieldsOf(entity).filter((name) => !header.includes(name));
  // Item columns of a contract line mean nothing without the product they describe.
  const orphanSeats = entity === "contracts" && header.includes("seats") && !header.includes("product_external_id");
  if (unknown.length === 0 && missing.length === 0 && !orphanSeats) return null;
  const problems = [
    unknown.length > 0 ? `unknown column(s) ${unknown.map((name) => `"${name}"`).join(", ")}` : null,
    missing.length > 0 ? `missing required column(s) ${missing.join(", ")}` : null,
    orphanSeats ? "a seats column without product_external_id" : null,
  ].filter(Boolean);
  return `The CSV header row (line 1) for ${entity} has ${problems.join(" and ")}. The first line must name the columns; valid columns: ${known.join(", ")}.`;
}

/**
 * Turns CSV rows into records. Contracts: each line is one item (`product_external_id`, `seats`,
 * `arr`) with the contract columns repeated; lines are grouped by `external_id`, the contract's
 * ARR is the sum of its items, and a contract with a line whose contract columns differ from
 * its first line is rejected as a whole (`rejected` counts those). A contract whose single line
 * leaves `product_external_id` empty has no items and takes `arr` from that line.
 */
export function recordsFromCsv(
  entity: ImportEntity,
  table: CsvTable,
): { records: RawRecord[]; errors: RowError[]; rejected: number } {
  if (entity !== "contracts") {
    return { records: table.rows.map((row) => ({ row: row.row, fields: { ...row.values } })), errors: [], rejected: 0 };
  }
  const hasItems = table.header.includes("product_external_id");
  const contractColumns = table.header.filter(
    (name) => !(CONTRACT_ITEM_COLUMNS as readonly string[]).includes(name) || (name === "arr" && !hasItems),
  );
  const groups = new Map<string, { first: CsvRow; lines: CsvRow[] }>();
  for (const line of table.rows) {
    const key = (line.values.external_id ?? "").trim();
    // Lines without an external id stay separate so each reports its own error.
    const groupKey = key === "" ? `\u0000${line.row}` : key;
    const group = groups.get(groupKey);
    if (group) group.lines.push(line);
    else groups.set(groupKey, { first: line, lines: [line] });
  }
  const errors: RowError[] = [];
  const records: RawRecord[] = [];
  let rejected = 0;
  for (const { first, lines } of groups.values()) {
    const lineErrors: RowError[] = [];
    for (const line of lines.slice(1)) {
      const differing = contractColumns.find((name) => line.values[name] !== first.values[name]);
      if (differing) {
        lineErrors.push({
          row: line.row,
          field: differing,
          message: `differs from row ${first.row} of the same contract; repeat the contract columns unchanged on every item line`,
        });
      }
    }
    const itemLines = hasItems ? lines.filter((line) => (line.values.product_external_id ?? "").trim() !== "") : [];
    const productless = lines.filter((line) => !itemLines.includes(line));
    if (hasItems && itemLines.length > 0 && productless.length > 0) {
      lineErrors.push(
        ...productless.map((line) => ({
          row: line.row,
          field: "product_external_id",
          message: "is empty while other lines of this contract name products",
        })),
      );
    } else if (lines.length > 1 && itemLines.length === 0) {
      lineErrors.push(
        ...lines.slice(1).map((line) => ({
          row: line.row,
          field: "external_id",
          message: `repeats the contract of row ${first.row}; send each contract once, or one line per product`,
        })),
      );
    }
    if (lineErrors.length > 0) {
      errors.push(...lineErrors);
      rejected += 1;
      continue;
    }
    const fields: Record<string, unknown> = {};
    for (const name of contractColumns) fields[name] = first.values[name];
    if (!hasItems) {
      records.push({ row: first.row, fields });
    } else if (itemLines.length === 0) {
      if (table.header.includes("arr")) fields.arr = first.values.arr;
      fields.items = [];
      records.push({ row: first.row, fields });
    } else {
      fields.items = itemLines.map((line) => {
        const item: Record<string, unknown> = { product_external_id: line.values.product_external_id };
        if (table.header.includes("seats")) item.seats = line.values.seats;
        if (table.header.includes("arr")) item.arr = line.values.arr;
        return item;
      });
      records.push({ row: first.row, fields, itemRows: itemLines.map((line) => line.row) });
    }
  }
  return { records, errors, rejected };
}

/** A record that passed its schema. */
export interface ValidRecord<E extends ImportEntity> {
  row: number;
  /** The fields the input named (a field left out keeps its stored value on update). */
  given: Set<string>;
  value: RowOf<E>;
  /** Contracts read from CSV: the row of each item, in item order. */
  itemRows?: number[];
}

/** The key that identifies a record within its entity (duplicates in one call are refused). */
function recordKey(entity: ImportEntity, fields: Record<string, unknown>): string {
  const text = (name: string) => String(fields[name] ?? "").trim();
  if (entity === "usage") return [text("account_external_id"), text("day"), text("feature")].join("\u0000");
  return text("external_id");
}

/** Validates records against the entity's schema, refusing repeats of the same key in one call. */
export function validateRecords<E extends ImportEntity>(
  entity: E,
  records: RawRecord[],
): { valid: ValidRecord<E>[]; errors: RowError[] } {
  const schema = ROW_SCHEMAS[entity];
  const valid: ValidRecord<E>[] = [];
  const errors: RowError[] = [];
  const firstRowOfKey = new Map<string, number>();
  for (const record of records) {
    const result = schema.safeParse(record.fields);
    if (!result.success) {
      errors.push(...result.error.issues.flatMap((issue) => issueToErrors(issue, record)));
      continue;
    }
    const value = result.data as RowOf<E>;
    const key = recordKey(entity, value as Record<string, unknown>);
    const earlier = firstRowOfKey.get(key);
    if (earlier !== undefined) {
      errors.push({
        row: record.row,
        field: entity === "usage" ? "day" : "external_id",
        message: `repeats the record of row ${earlier} in this import; send each record once`,
      });
      continue;
    }
    firstRowOfKey.set(key, record.row);
    valid.push({ row: record.row, given: new Set(Object.keys(record.fields)), value, itemRows: record.itemRows });
  }
  return { valid, errors };
}

/** Maps one schema issue to row errors; item problems of CSV contracts point at the item's own line. */
function issueToErrors(issue: z.core.$ZodIssue, record: RawRecord): RowError[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ row: record.row, field: key, message: "is not a field of this entity" }));
  }
  const [head, index, ...rest] = issue.path;
  if (head === "items" && typeof index === "number") {
    const itemRow = record.itemRows?.[index];
    if (itemRow !== undefined) {
      return [{ row: itemRow, field: rest.map(String).join(".") || "items", message: issue.message }];
    }
    return [
      {
        row: record.row,
        field: `items[${index}]${rest.map((part) => `.${String(part)}`).join("")}`,
        message: issue.message,
      },
    ];
  }
  return [{ row: record.row, field: issue.path.map(String).join(".") || "row", message: issue.message }];
}
