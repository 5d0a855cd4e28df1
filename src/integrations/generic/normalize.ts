/**
 * The generic JSON webhook (HMAC-SHA256 signed) for sources without a dedicated receiver.
 *
 * Body: `{ "id": "<unique event id>", "type": "<entity>", "occurred_at": "<ISO instant, optional>", "data": { … } }`
 * where `type` is one of account, contact, ticket, usage, feedback, survey_response and `data`
 * has exactly the fields of the matching `import_records` row (accounts, contacts, tickets,
 * usage, feedback, survey_responses), validated by the same schemas:
 *
 * | type            | data (* required)                                                                     | Data model |
 * |-----------------|---------------------------------------------------------------------------------------|------------|
 * | account         | external_id*, name*, domain, industry, employees, region, plan, segment, tier, lifecycle_stage, owner_email, status, customer_since, churned_at, custom_fields | accounts row |
 * | contact         | external_id*, account_external_id, name*, email, title, role, is_champion, is_decision_maker, unsubscribed, bounced, last_seen_at, left_at | contacts row |
 * | ticket          | external_id*, account_external_id, contact_external_id, source, subject*, body, status, priority, category, assignee, csat_score, created_at*, first_response_at, solved_at, updated_at | tickets row (source `webhook` unless given; subject and body customer-written) |
 * | survey_response | external_id*, account_external_id, contact_external_id, kind*, score*, comment, responded_at* | survey_responses row (comment customer-written) |
 * | feedback        | external_id*, account_external_id, contact_external_id, source, kind*, title*, body, feature, status, created_at* | feedback_items row (source `webhook` unless given; title and body customer-written) |
 * | usage           | account_external_id*, day*, events*, active_users*, sessions, feature                | usage_daily (or usage_feature_daily with feature), absolute values |
 *
 * As in imports, a field left out keeps its stored value and null clears an optional one. A
 * reference (account_external_id, contact_external_id, owner_email) that names nothing fails
 * the event, so it is retried and can be replayed once the referenced record exists.
 * `occurred_at` (else the time we received it) is the newer-than time; a ticket's is its
 * `updated_at` when given.
 */

import { column, idAt, instantAt, objectAt } from "../../ingest/read";
import {
  type AccountCandidate,
  type Change,
  type ColumnChange,
  type ContactCandidate,
  type NormalizeContext,
  PayloadError,
  type RowChange,
  type SqlValue,
  type UpsertTable,
} from "../../ingest/records";
import { RECORD_COLUMNS } from "../../tools/core/domain/import-columns";
import { type ImportEntity, validateRecords } from "../../tools/core/domain/import-rows";

/** Event types and the import entity whose row schema their `data` follows. */
const ENTITY_OF_TYPE = {
  account: "accounts",
  contact: "contacts",
  ticket: "tickets",
  usage: "usage",
  feedback: "feedback",
  survey_response: "survey_responses",
} as const satisfies Record<string, ImportEntity>;
type GenericType = keyof typeof ENTITY_OF_TYPE;

/** Columns written from data per type, and which of them are NOT NULL (null means "keep"). */
const COLUMNS: Record<
  Exclude<GenericType, "usage">,
  { table: UpsertTable; columns: readonly string[]; notNull: readonly string[] }
> = {
  account: { table: "accounts", ...RECORD_COLUMNS.accounts },
  contact: { table: "contacts", ...RECORD_COLUMNS.contacts },
  ticket: { table: "tickets", ...RECORD_COLUMNS.tickets },
  survey_response: { table: "survey_responses", ...RECORD_COLUMNS.survey_responses },
  feedback: { table: "feedback_items", ...RECORD_COLUMNS.feedback_items },
};

/** Normalizes one generic webhook event. */
export function normalizeGeneric(payload: unknown, context: NormalizeContext): Change[] {
  const body = objectAt(payload);
  const type = idAt(body?.type);
  const data = objectAt(body?.data);
  if (!body || !type || !data) throw new PayloadError("a generic event needs type and data");
  if (!(type in ENTITY_OF_TYPE)) {
    throw new PayloadError(
      `unknown generic event type "${type.slice(0, 40)}"; use one of ${Object.keys(ENTITY_OF_TYPE).join(", ")}`,
    );
  }
  const genericType = type as GenericType;
  const occurredAt = body.occurred_at === undefined ? undefined : instantAt(body.occurred_at);
  if (body.occurred_at !== undefined && !occurredAt) {
    throw new PayloadError("occurred_at must be an ISO 8601 date-time with a zone");
  }
  const { valid, errors } = validateRecords(ENTITY_OF_TYPE[genericType], [{ row: 1, fields: data }]);
  const record = valid[0];
  if (!record) {
    throw new PayloadError(`invalid ${type} data: ${errors.map((e) => `${e.field} ${e.message}`).join("; ")}`);
  }
  const value = record.value as Record<string, unknown>;
  const given = record.given;
  const at = occurredAt ?? context.receivedAt;
  if (genericType === "usage") {
    return [
      {
        kind: "usage_rollup",
        accountExternalId: String(value.account_external_id),
        day: String(value.day),
        feature: typeof value.feature === "string" ? value.feature : null,
        events: Number(value.events),
        activeUsers: Number(value.active_users),
        sessions: typeof value.sessions === "number" ? value.sessions : null,
      },
    ];
  }
  const spec = COLUMNS[genericType];
  const columns: Record<string, ColumnChange> = {};
  for (const name of spec.columns) {
    if (!given.has(name)) continue;
    const stored = toSql(value[name]);
    if (stored === null && spec.notNull.includes(name)) continue;
    columns[name] = column(stored);
  }
  const externalId = String(value.external_id);
  const change: RowChange = {
    kind: "row",
    table: spec.table,
    externalId,
    columns,
    sourceUpdatedAt: at,
    referencesRequired: true,
    label: `${type} ${externalId}`,
  };
  if (genericType === "account") {
    if (given.has("custom_fields")) columns.custom_fields = column(JSON.stringify(value.custom_fields ?? {}));
    if (given.has("owner_email")) change.ownerEmail = typeof value.owner_email === "string" ? value.owner_email : null;
  }
  if ((genericType === "ticket" || genericType === "feedback") && !columns.source) {
    columns.source = column("webhook", "insert");
  }
  if (genericType === "ticket") {
    if (!columns.updated_at) columns.updated_at = column(String(value.created_at), "insert");
    if (typeof value.updated_at === "string" && !occurredAt) change.sourceUpdatedAt = value.updated_at;
  }
  if (given.has("account_external_id")) {
    const account = idAt(value.account_external_id);
    if (account) change.account = [{ by: "external_id", value: account } satisfies AccountCandidate];
    else columns.account_id = column(null);
  }
  if (given.has("contact_external_id")) {
    const contact = idAt(value.contact_external_id);
    if (contact) change.contact = [{ by: "external_id", value: contact } satisfies ContactCandidate];
    else columns.contact_id = column(null);
  }
  return [change];
}

function toSql(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "string") return value;
  return JSON.stringify(value);
}
