/**
 * What an import writes, decided from the validated records and the stored rows they name, before
 * the single write batch runs: the upserts, stage changes, stale contract items and the accounts
 * whose rollups follow, plus the reference problems found on the way.
 */
import { newId } from "../../../platform/lib/ids";
import { round } from "../../../platform/lib/stats";
import type {
  ContactRef,
  IdRow,
  SqlValue,
  StageChange,
  StoredAccount,
  StoredContract,
  StoredItem,
  UpsertRecord,
  UpsertTable,
} from "../queries/imports";
import { RECORD_COLUMNS } from "./import-columns";
import type { ImportEntity, RowError, ValidRecord } from "./import-rows";

/** Upserts whose RETURNING rows name changed records; `keyOf` maps a returned key to the record key. */
export interface TrackedUpsert {
  table: UpsertTable;
  records: UpsertRecord[];
  keyOf?: (returned: string) => string | undefined;
}

/** Everything one import writes, decided before the single write batch runs. */
export interface WritePlan {
  /** Keys of the records that passed validation and reference checks. */
  plannedKeys: string[];
  /** Keys of those records that already existed. */
  existingKeys: Set<string>;
  /** Reference problems found while planning. */
  errors: RowError[];
  /** Lifecycle stage changes to record, before the upserts. */
  stageChanges: StageChange[];
  upserts: TrackedUpsert[];
  /** Contract items to delete, whose returned contract id names a changed record (through `keyOf`). */
  staleItems: { ids: string[]; keyOf: (returned: string) => string | undefined } | null;
  /** Accounts whose ARR and renewal date are refreshed after the writes. */
  rollupAccountIds: string[];
}

/** A plan that writes nothing. */
export function emptyPlan(): WritePlan {
  return {
    plannedKeys: [],
    existingKeys: new Set(),
    errors: [],
    stageChanges: [],
    upserts: [],
    staleItems: null,
    rollupAccountIds: [],
  };
}

function byExternalId<T extends { external_id: string }>(rows: readonly T[]): Map<string, T> {
  return new Map(rows.map((row) => [row.external_id, row]));
}

/** External ids a set of records names in one field (null and absent skipped). */
export function namedIn<E extends ImportEntity>(valid: ValidRecord<E>[], field: string): string[] {
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

// ---------------------------------------------------------------------------------------------
// Per-entity plans.

/** Accounts: owners by active users' email; a new or changed lifecycle stage is recorded as a stage change. */
export function planAccounts(
  valid: ValidRecord<"accounts">[],
  refs: { accounts: StoredAccount[]; users: { id: string; email: string }[] },
): WritePlan {
  const plan = emptyPlan();
  const existing = byExternalId(refs.accounts);
  const users = new Map(refs.users.map((user) => [user.email, user.id]));
  const records: UpsertRecord[] = [];
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
      plan.stageChanges.push({
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
  plan.upserts.push({ table: "accounts", records });
  return plan;
}

/** Contacts: the account they name must exist. */
export function planContacts(
  valid: ValidRecord<"contacts">[],
  refs: { contacts: IdRow[]; accounts: IdRow[] },
): WritePlan {
  const plan = emptyPlan();
  const existing = byExternalId(refs.contacts);
  const accounts = byExternalId(refs.accounts);
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
  plan.upserts.push({ table: "contacts", records });
  return plan;
}

/** Products: no references. */
export function planProducts(valid: ValidRecord<"products">[], stored: IdRow[]): WritePlan {
  const plan = emptyPlan();
  const existing = byExternalId(stored);
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
  plan.upserts.push({ table: "products", records });
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

/** Columns whose change moves an account's ARR or renewal date. */
const ROLLUP_COLUMNS = ["account_id", "status", "arr", "end_date"] as const;

/** The stored rows imported contracts refer to. */
export interface ContractRefs {
  contracts: StoredContract[];
  accounts: IdRow[];
  products: IdRow[];
  items: StoredItem[];
}

/** A contract whose account and products resolved, with its final id. */
interface PlannedContract {
  record: ValidRecord<"contracts">;
  id: string;
  accountId: string;
  productIds: string[];
}

/**
 * Contracts with their items: account and products must exist, a previous term must be stored or
 * written by this import; items replace the stored ones, and the accounts whose ARR or renewal date
 * may move are refreshed.
 */
export function planContracts(valid: ValidRecord<"contracts">[], refs: ContractRefs): WritePlan {
  const plan = emptyPlan();
  const stored = byExternalId(refs.contracts);
  const planned = resolveContracts(valid, refs, stored, plan.errors);
  const linkable = linkableContracts(planned, stored);

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
      if (row.items.length > 0)
        values.arr = round(
          row.items.reduce((sum, item) => sum + item.arr, 0),
          2,
        );
      itemRecords.push(...itemUpserts(row.items, id, itemProductIds));
      const listed = new Set(itemProductIds);
      for (const item of refs.items) {
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
  plan.existingKeys = new Set(namedIn(valid, "external_id").filter((externalId) => stored.has(externalId)));
  const contractOfItem = (contractId: string) => externalOfId.get(contractId);
  plan.upserts.push(
    { table: "contracts", records: contractRecords },
    { table: "contract_items", records: itemRecords, keyOf: contractOfItem },
  );
  plan.staleItems = { ids: staleItemIds, keyOf: contractOfItem };
  plan.rollupAccountIds = [...rollupAccounts];
  return plan;
}

/** First pass: accounts and products; every contract that passes gets its final id. */
function resolveContracts(
  valid: ValidRecord<"contracts">[],
  refs: ContractRefs,
  stored: Map<string, StoredContract>,
  errors: RowError[],
): PlannedContract[] {
  const accounts = byExternalId(refs.accounts);
  const products = byExternalId(refs.products);
  const planned: PlannedContract[] = [];
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
      errors.push(...rowErrors);
      continue;
    }
    const id = stored.get(row.external_id)?.id ?? newId("ctr");
    planned.push({ record, id, accountId: account.id, productIds: itemProductIds });
  }
  return planned;
}

/**
 * The ids of the planned contracts a previous-term link may point to, by external id. A link to a
 * contract of this import holds only if that contract is written too: contracts whose previous term
 * resolves nowhere are dropped until no more drop out.
 */
function linkableContracts(planned: PlannedContract[], stored: Map<string, StoredContract>): Map<string, string> {
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
  return linkable;
}

/** The upserts of one contract's items, keyed `contract id|product id`. */
function itemUpserts(
  items: { seats?: number | null; arr: number }[],
  contractId: string,
  productIds: string[],
): UpsertRecord[] {
  return items.map((item, index) => {
    const productId = productIds[index]!;
    return {
      key: `${contractId}|${productId}`,
      values: { seats: item.seats ?? 0, arr: item.arr },
      insertOnly: { id: newId("cti"), contract_id: contractId, product_id: productId },
    };
  });
}

/** The usage records to look up: account external id, day and feature. */
export function usageLookups(valid: ValidRecord<"usage">[]) {
  return valid.map(({ value }) => ({
    account: value.account_external_id,
    day: value.day,
    feature: value.feature,
  }));
}

/** Usage: account-day rollups, or feature-day rollups for rows with a feature. */
export function planUsage(valid: ValidRecord<"usage">[], refs: { accounts: IdRow[]; storedKeys: string[] }): WritePlan {
  const plan = emptyPlan();
  const accounts = byExternalId(refs.accounts);
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
  plan.existingKeys = new Set(refs.storedKeys);
  plan.upserts.push({ table: "usage_daily", records: daily }, { table: "usage_feature_daily", records: perFeature });
  return plan;
}

type PartyEntity = "tickets" | "survey_responses" | "feedback";

/** The stored rows records with an account and a contact refer to. */
export interface PartyRefs {
  own: IdRow[];
  accounts: IdRow[];
  contacts: ContactRef[];
}

/**
 * Resolves each record's account and contact: a contact must belong to the named account, and a
 * record naming a contact but no account (absent or empty) takes that contact's account.
 */
function resolveParties<E extends PartyEntity>(
  valid: ValidRecord<E>[],
  refs: PartyRefs,
  plan: WritePlan,
): {
  existing: Map<string, IdRow>;
  resolved: { record: ValidRecord<E>; parties: Record<string, SqlValue> }[];
} {
  const existing = byExternalId(refs.own);
  const accounts = byExternalId(refs.accounts);
  const contacts = byExternalId(refs.contacts);
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

/** Tickets: source `import` and updated_at = created_at unless given. */
export function planTickets(valid: ValidRecord<"tickets">[], refs: PartyRefs): WritePlan {
  const plan = emptyPlan();
  const { existing, resolved } = resolveParties(valid, refs, plan);
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
  plan.upserts.push({ table: "tickets", records });
  return plan;
}

/** Survey responses. */
export function planSurveyResponses(valid: ValidRecord<"survey_responses">[], refs: PartyRefs): WritePlan {
  const plan = emptyPlan();
  const { existing, resolved } = resolveParties(valid, refs, plan);
  const records = resolved.map(({ record, parties }): UpsertRecord => {
    const externalId = record.value.external_id;
    plan.plannedKeys.push(externalId);
    return {
      key: externalId,
      values: { ...givenColumns(record, RECORD_COLUMNS.survey_responses.columns), ...parties },
      insertOnly: { id: existing.get(externalId)?.id ?? newId("srv"), external_id: externalId },
    };
  });
  plan.upserts.push({ table: "survey_responses", records });
  return plan;
}

/** Feedback items: source `import` unless given. */
export function planFeedback(valid: ValidRecord<"feedback">[], refs: PartyRefs): WritePlan {
  const plan = emptyPlan();
  const { existing, resolved } = resolveParties(valid, refs, plan);
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
  plan.upserts.push({ table: "feedback_items", records });
  return plan;
}
