/**
 * Intercom webhooks (`notification_event` with `topic` and `data.item`; one per receipt).
 *
 * | Intercom                                   | Data model                                                           |
 * |--------------------------------------------|----------------------------------------------------------------------|
 * | `conversation.*` item                      | tickets row: external_id = `intercom-<conversation id>`, source `intercom` |
 * | source.subject, else the text of source.body (tags removed, first 200 characters) | subject (customer-written, verbatim) |
 * | source.body                                | body (customer-written, verbatim HTML)                               |
 * | state open / snoozed / closed              | status open / pending / solved                                       |
 * | priority `priority`                        | priority high (otherwise left as stored)                            |
 * | created_at, updated_at (Unix seconds)      | created_at, updated_at                                               |
 * | `conversation.admin.replied`               | first_response_at = the reply's time (statistics.first_admin_reply_at when given), the earliest wins |
 * | `conversation.admin.closed`                | status solved, solved_at = the close time (kept once set)            |
 * | source.author email, contacts[0].external_id | contact by email / external id; the account: that contact's, else the email's domain |
 * | `contact.*` item (not `contact.deleted`)   | contacts row: external_id = the contact's external_id, else `intercom-contact-<id>`; email, name (email or id on create when absent); account by email domain |
 *
 * User replies update the ticket (state, updated_at) but are not logged as activities: an
 * activity needs an account, which a conversation from an unknown person lacks.
 * The newer-than time is the item's `updated_at`, else the notification's `created_at`.
 */

import {
  column,
  columnsOf,
  emailAt,
  emailDomain,
  idAt,
  objectAt,
  pathAt,
  unixSecondsAt,
  verbatimAt,
} from "../../ingest/read";
import {
  type AccountCandidate,
  type Change,
  type ColumnChange,
  type ContactCandidate,
  type NormalizeContext,
  PayloadError,
} from "../../ingest/records";

const STATES: Record<string, string> = { open: "open", snoozed: "pending", closed: "solved" };
const SUBJECT_CHARS = 200;

/** Normalizes one Intercom notification. */
export function normalizeIntercom(payload: unknown, context: NormalizeContext): Change[] {
  const notification = objectAt(payload);
  const topic = idAt(notification?.topic);
  if (!notification || !topic) throw new PayloadError("an Intercom notification needs a topic");
  const item = objectAt(pathAt(notification, "data", "item"));
  const notifiedAt = unixSecondsAt(notification.created_at) ?? context.receivedAt;
  if (topic.startsWith("conversation.")) {
    if (!item) throw new PayloadError(`an Intercom ${topic} notification needs data.item`);
    return [conversationChange(topic, item, notifiedAt)];
  }
  if (topic.startsWith("contact.") && topic !== "contact.deleted") {
    if (!item) throw new PayloadError(`an Intercom ${topic} notification needs data.item`);
    return [contactChange(item, notifiedAt)];
  }
  return [];
}

/** Visible text of an HTML fragment, whitespace collapsed: a subject for conversations without one. */
export function textOfHtml(html: string): string {
  return html
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

function conversationChange(topic: string, item: Record<string, unknown>, notifiedAt: string): Change {
  const id = idAt(item.id);
  if (!id) throw new PayloadError(`an Intercom ${topic} notification needs the conversation id`);
  const at = unixSecondsAt(item.updated_at) ?? notifiedAt;
  const source = objectAt(item.source) ?? {};
  const body = verbatimAt(source.body);
  const subject =
    verbatimAt(source.subject) ?? (body ? textOfHtml(body).slice(0, SUBJECT_CHARS) || undefined : undefined);
  const state = idAt(item.state);
  const status = state ? STATES[state] : undefined;
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({
      subject,
      body,
      status,
      priority: item.priority === "priority" ? "high" : undefined,
      created_at: unixSecondsAt(item.created_at),
    }),
    source: column("intercom", "insert"),
    updated_at: column(at),
  };
  if (!columns.created_at) columns.created_at = column(notifiedAt, "insert");
  if (topic === "conversation.admin.replied") {
    const repliedAt =
      unixSecondsAt(pathAt(item, "statistics", "first_admin_reply_at")) ?? lastAdminPartAt(item) ?? notifiedAt;
    columns.first_response_at = column(repliedAt, "earliest");
  }
  if (topic === "conversation.admin.closed" || status === "solved") {
    columns.status = column("solved");
    columns.solved_at = column(lastAdminPartAt(item) ?? at, "fill");
  }
  const contact: ContactCandidate[] = [];
  const account: AccountCandidate[] = [];
  const authorType = idAt(pathAt(source, "author", "type"));
  const email = authorType === "admin" || authorType === "bot" ? undefined : emailAt(pathAt(source, "author", "email"));
  const firstContact = objectAt((pathAt(item, "contacts", "contacts") as unknown[] | undefined)?.[0]);
  const contactExternalId = idAt(firstContact?.external_id);
  if (contactExternalId) contact.push({ by: "external_id", value: contactExternalId });
  if (email) {
    contact.push({ by: "email", value: email });
    account.push({ by: "domain", value: emailDomain(email) });
  }
  return {
    kind: "row",
    table: "tickets",
    externalId: `intercom-${id}`,
    columns,
    sourceUpdatedAt: at,
    ...(account.length > 0 ? { account } : {}),
    ...(contact.length > 0 ? { contact } : {}),
    label: `Intercom conversation ${id}`,
  };
}

/** Time of the latest admin-written part in the notification, if it lists parts. */
function lastAdminPartAt(item: Record<string, unknown>): string | undefined {
  const parts = pathAt(item, "conversation_parts", "conversation_parts");
  if (!Array.isArray(parts)) return undefined;
  let latest: string | undefined;
  for (const part of parts) {
    if (pathAt(part, "author", "type") !== "admin") continue;
    const at = unixSecondsAt(pathAt(part, "created_at"));
    if (at && (!latest || at > latest)) latest = at;
  }
  return latest;
}

function contactChange(item: Record<string, unknown>, notifiedAt: string): Change {
  const id = idAt(item.id);
  if (!id) throw new PayloadError("an Intercom contact notification needs the contact id");
  const externalId = idAt(item.external_id) ?? `intercom-contact-${id}`;
  const email = emailAt(item.email);
  const name = idAt(item.name);
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({ email }),
    name: name ? column(name) : column(email ?? externalId, "insert"),
  };
  return {
    kind: "row",
    table: "contacts",
    externalId,
    columns,
    sourceUpdatedAt: unixSecondsAt(item.updated_at) ?? notifiedAt,
    // A domain match only fills a missing account: a link made elsewhere is more specific.
    ...(email
      ? { account: [{ by: "domain" as const, value: emailDomain(email) }], accountMerge: "fill" as const }
      : {}),
    label: `Intercom contact ${id}`,
  };
}
