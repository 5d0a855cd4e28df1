/**
 * Zendesk Support: ticket event webhooks (`zen:event-type:ticket.*`) and trigger/automation
 * webhooks whose JSON body is the template below. One ticket per receipt.
 *
 * Trigger body to configure in Zendesk (placeholders are Zendesk's):
 * ```json
 * { "ticket": { "id": "{{ticket.id}}", "subject": "{{ticket.title}}", "description": "{{ticket.description}}",
 *   "status": "{{ticket.status}}", "priority": "{{ticket.priority}}",
 *   "created_at": "{{ticket.created_at_with_timestamp}}", "updated_at": "{{ticket.updated_at_with_timestamp}}",
 *   "requester": { "email": "{{ticket.requester.email}}", "name": "{{ticket.requester.name}}" },
 *   "organization": { "id": "{{ticket.organization.id}}", "external_id": "{{ticket.organization.external_id}}" },
 *   "satisfaction": { "rating": "{{satisfaction.current_rating}}", "comment": "{{satisfaction.current_comment}}" } } }
 * ```
 *
 * | Zendesk                                   | Data model (tickets row, external_id = `zendesk-<ticket id>`, source `zendesk`) |
 * |-------------------------------------------|---------------------------------------------------------------------------|
 * | subject / ticket.title                    | subject (customer-written, verbatim)                                      |
 * | description                               | body (customer-written, verbatim)                                         |
 * | status new, open, pending, hold, solved, closed (any case) | new, open, pending, pending, solved, closed              |
 * | priority low, normal, high, urgent        | same                                                                      |
 * | created_at, updated_at                    | created_at, updated_at                                                    |
 * | status solved/closed                      | solved_at = event time, kept once set                                     |
 * | `ticket.comment_added` by staff, public   | first_response_at = event time, the earliest one wins                    |
 * | requester.email                           | contact by email                                                          |
 * | organization.external_id / organization(_id) | account by external id / by `custom_fields.zendesk_organization_id`; else the requester's email domain, else the contact's account |
 * | satisfaction rating good / bad / 1–5      | csat_score 5 / 1 / n, and a `survey_responses` row (kind csat, external_id `zendesk-csat-<ticket id>`, comment verbatim) |
 *
 * The newer-than time is the event's `time` (event webhooks) or the ticket's `updated_at`
 * (triggers). Other Zendesk event types (users, organizations, articles) change nothing here.
 */

import {
  column,
  columnsOf,
  emailAt,
  emailDomain,
  idAt,
  instantAt,
  numberAt,
  objectAt,
  pathAt,
  textAt,
  verbatimAt,
} from "../../ingest/read";
import {
  type AccountCandidate,
  type Change,
  type ColumnChange,
  type ContactCandidate,
  type NormalizeContext,
  PayloadError,
  type RowChange,
} from "../../ingest/records";

const STATUSES: Record<string, string> = {
  new: "new",
  open: "open",
  pending: "pending",
  hold: "pending",
  solved: "solved",
  closed: "closed",
};
const PRIORITIES = new Set(["low", "normal", "high", "urgent"]);

/** Normalizes one Zendesk event-webhook or trigger payload. */
export function normalizeZendesk(payload: unknown, context: NormalizeContext): Change[] {
  const body = objectAt(payload);
  if (!body) throw new PayloadError("a Zendesk payload must be a JSON object");
  const type = idAt(body.type);
  if (type?.startsWith("zen:event-type:")) {
    return type.startsWith("zen:event-type:ticket.") ? eventWebhook(body, type, context) : [];
  }
  const ticket = objectAt(body.ticket);
  if (ticket) return trigger(ticket, context);
  throw new PayloadError("a Zendesk payload needs a zen:event-type type or a ticket object");
}

interface TicketFields {
  id: string;
  subject?: string;
  description?: string;
  status?: string;
  priority?: string;
  createdAt?: string;
  updatedAt?: string;
  at: string;
  account: AccountCandidate[];
  contact: ContactCandidate[];
}

function eventWebhook(body: Record<string, unknown>, type: string, context: NormalizeContext): Change[] {
  const detail = objectAt(body.detail);
  const id = idAt(detail?.id) ?? idAt(textAt(body.subject)?.replace(/^zen:ticket:/, ""));
  if (!detail || !id) throw new PayloadError(`a Zendesk ${type} event needs detail.id`);
  const at = instantAt(body.time) ?? instantAt(detail.updated_at) ?? context.receivedAt;
  const organizationId = idAt(detail.organization_id);
  const change = ticketChange({
    id,
    subject: verbatimAt(detail.subject),
    description: verbatimAt(detail.description),
    status: idAt(detail.status),
    priority: idAt(detail.priority),
    createdAt: instantAt(detail.created_at),
    updatedAt: instantAt(detail.updated_at),
    at,
    account:
      organizationId && organizationId !== "0"
        ? [{ by: "custom_field", key: "zendesk_organization_id", value: organizationId }]
        : [],
    contact: [],
  });
  const comment = objectAt(pathAt(body, "event", "comment"));
  if (type === "zen:event-type:ticket.comment_added" && comment) {
    const byStaff = pathAt(comment, "author", "is_staff") === true;
    if (byStaff && comment.is_public !== false) change.columns.first_response_at = column(at, "earliest");
  }
  return [change];
}

function trigger(ticket: Record<string, unknown>, context: NormalizeContext): Change[] {
  const id = idAt(ticket.id);
  if (!id) throw new PayloadError("a Zendesk trigger payload needs ticket.id");
  const updatedAt = instantAt(ticket.updated_at);
  const at = updatedAt ?? context.receivedAt;
  const email = emailAt(pathAt(ticket, "requester", "email"));
  const account: AccountCandidate[] = [];
  const organizationExternalId = idAt(pathAt(ticket, "organization", "external_id"));
  const organizationId = idAt(pathAt(ticket, "organization", "id"));
  if (organizationExternalId) account.push({ by: "external_id", value: organizationExternalId });
  if (organizationId) account.push({ by: "custom_field", key: "zendesk_organization_id", value: organizationId });
  if (email) account.push({ by: "domain", value: emailDomain(email) });
  const change = ticketChange({
    id,
    subject: verbatimAt(ticket.subject),
    description: verbatimAt(ticket.description),
    status: idAt(ticket.status),
    priority: idAt(ticket.priority),
    createdAt: instantAt(ticket.created_at),
    updatedAt,
    at,
    account,
    contact: email ? [{ by: "email", value: email }] : [],
  });
  const changes: Change[] = [change];
  const score = csatScore(pathAt(ticket, "satisfaction", "rating"));
  if (score !== undefined) {
    change.columns.csat_score = column(score);
    changes.push({
      kind: "row",
      table: "survey_responses",
      externalId: `zendesk-csat-${id}`,
      columns: {
        kind: column("csat"),
        score: column(score),
        comment: column(verbatimAt(pathAt(ticket, "satisfaction", "comment")) ?? null),
        responded_at: column(at),
      },
      sourceUpdatedAt: at,
      ...(account.length > 0 ? { account } : {}),
      ...(email ? { contact: [{ by: "email", value: email }] } : {}),
      label: `Zendesk satisfaction rating of ticket ${id}`,
    });
  }
  return changes;
}

/** good = 5, bad = 1, a number 1–5 as given; offered/unoffered and blanks are no rating. */
function csatScore(value: unknown): number | undefined {
  const text = idAt(value)?.toLowerCase();
  if (!text) return undefined;
  if (text === "good") return 5;
  if (text === "bad") return 1;
  const score = numberAt(text);
  return score !== undefined && Number.isInteger(score) && score >= 1 && score <= 5 ? score : undefined;
}

function ticketChange(fields: TicketFields): RowChange {
  const status = fields.status ? STATUSES[fields.status.toLowerCase()] : undefined;
  const priority = fields.priority?.toLowerCase();
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({
      subject: fields.subject,
      body: fields.description,
      status,
      priority: priority && PRIORITIES.has(priority) ? priority : undefined,
      created_at: fields.createdAt,
    }),
    source: column("zendesk", "insert"),
    updated_at: column(fields.updatedAt ?? fields.at),
  };
  if (!fields.createdAt) columns.created_at = column(fields.at, "insert");
  if (status === "solved" || status === "closed") columns.solved_at = column(fields.at, "fill");
  return {
    kind: "row",
    table: "tickets",
    externalId: `zendesk-${fields.id}`,
    columns,
    sourceUpdatedAt: fields.at,
    ...(fields.account.length > 0 ? { account: fields.account } : {}),
    ...(fields.contact.length > 0 ? { contact: fields.contact } : {}),
    label: `Zendesk ticket ${fields.id}`,
  };
}
