/**
 * What a provider's payload becomes once normalized: changes to the data model, still keyed by
 * external ids. The consumer resolves the references, assigns ids and writes every change of a
 * batch in one D1 batch. Normalizers are pure: they read the payload and nothing else.
 */

/** A value as bound to SQLite. */
export type SqlValue = string | number | null;

/**
 * How a column is merged into a stored row:
 * - `latest`: overwritten when the change is at least as new as the stored row (the newer-than guard);
 * - `insert`: written only when the row is created;
 * - `earliest`: the earliest non-null value wins, whatever the order of delivery (first response);
 * - `fill`: written only while the stored value is null;
 * - `first_name` / `last_name`: replace the first word / the rest of a stored person's name (for
 *   providers that send each name part as its own change), under the newer-than guard.
 */
export type Merge = "latest" | "insert" | "earliest" | "fill" | "first_name" | "last_name";

/** Tables the consumer upserts by (workspace, external id). */
export type UpsertTable =
  | "accounts"
  | "contacts"
  | "tickets"
  | "survey_responses"
  | "feedback_items"
  | "opportunities"
  | "payments"
  | "contracts";

/** One way to find a stored account; a reference lists them in order and the first hit wins. */
export type AccountCandidate =
  | { by: "external_id"; value: string }
  | { by: "custom_field"; key: string; value: string }
  | { by: "domain"; value: string }
  | { by: "contact_external_id"; value: string }
  | { by: "contact_email"; value: string };

/** One way to find a stored contact. */
export type ContactCandidate = { by: "external_id"; value: string } | { by: "email"; value: string };

/** A column value and how it merges. */
export interface ColumnChange {
  value: SqlValue;
  merge: Merge;
}

/** An insert-or-update of one row found by external id. */
export interface RowChange {
  kind: "row";
  table: UpsertTable;
  externalId: string;
  columns: Record<string, ColumnChange>;
  /** The provider's time of this state: the newer-than guard compares it with the stored one. */
  sourceUpdatedAt: string;
  /** Sets `account_id` when found (with the merge of `accountMerge`, default `latest`). */
  account?: AccountCandidate[];
  accountMerge?: Merge;
  /** Sets `contact_id` when found; a row without an account also takes the contact's account. */
  contact?: ContactCandidate[];
  /** Refuse the change (a failure, retried) when no account is found and the row is not stored yet. */
  accountRequired?: boolean;
  /** Refuse the change when a given account or contact reference finds nothing. */
  referencesRequired?: boolean;
  /** Sets `owner_user_id` to the active user with this email (accounts; null clears). */
  ownerEmail?: string | null;
  /** Names the record in error messages, e.g. `Zendesk ticket 35436`. */
  label: string;
}

/** A product-usage event, routed to its account's AccountAgent. */
export interface UsageEventChange {
  kind: "usage_event";
  occurredAt: string;
  feature: string;
  userRef: string | null;
  account: AccountCandidate[];
}

/** An account-day (or account-feature-day) rollup given as absolute values. */
export interface UsageRollupChange {
  kind: "usage_rollup";
  accountExternalId: string;
  day: string;
  feature: string | null;
  events: number;
  activeUsers: number;
  sessions: number | null;
}

/** Email delivery statuses an event can move an outbox message to, in the order they can happen. */
export const EMAIL_STATUS_RANK = {
  queued: 0,
  sent: 1,
  failed: 1,
  delivered: 2,
  bounced: 2,
  opened: 3,
  clicked: 4,
} as const;
/** A status a provider event reports. */
export type EmailEventStatus = "delivered" | "bounced" | "opened" | "clicked";

/** A delivery event about one sent email. */
export interface EmailEventChange {
  kind: "email_event";
  /** Our outbox row id, when the sender put it in the message's custom arguments. */
  outboxId: string | null;
  /** The provider's message id, matched against `outbox_messages.provider_message_id`. */
  providerMessageId: string | null;
  email: string | null;
  status: EmailEventStatus | null;
  at: string;
  /** Set for events that mean "never email this address again". */
  suppression: "bounce" | "spam_report" | "unsubscribe" | null;
}

/** One normalized change. */
export type Change = RowChange | UsageEventChange | UsageRollupChange | EmailEventChange;

/** A payload the normalizer cannot read: the message fails (and is retried, then dead-lettered). */
export class PayloadError extends Error {
  override name = "PayloadError";
}

/** The context a normalizer gets besides the payload. */
export interface NormalizeContext {
  /** When the receiver accepted the payload (ISO): the fallback time of payloads that carry none. */
  receivedAt: string;
  /** The receipt's provider event type, as the receiver recorded it. */
  eventType: string | null;
}

/** Turns one receipt's payload into changes; throws {@link PayloadError} when it cannot. */
export type Normalizer = (payload: unknown, context: NormalizeContext) => Change[];
