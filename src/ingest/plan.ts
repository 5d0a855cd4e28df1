/**
 * Turns one message's changes into rows to write: resolves account, contact and owner
 * references against the workspace index, gives new rows a stable id (derived from workspace,
 * table and external id, so a retried message writes the same row), and refuses a change that
 * could not be stored. A refused change fails its whole message and nothing of it is written.
 * A change about an erased contact (its email or external id has a tombstone) is dropped and
 * counted, so an erased person never comes back; usage and email events naming one lose the name.
 */
import { sha256Hex } from "../platform/lib/crypto";
import type { KnownContact, WorkspaceIndex } from "./lookup";
import {
  type Change,
  type ColumnChange,
  EMAIL_STATUS_RANK,
  type EmailEventStatus,
  type RowChange,
  type UpsertTable,
} from "./records";

/** What the consumer knows about an upserted table. */
export interface TableSpec {
  /** Prefix of the ids of rows created here. */
  prefix: string;
  /** The column the newer-than guard compares, if any. */
  guard: "source_updated_at" | "responded_at" | null;
  /** Columns a new row must get (NOT NULL without a default). */
  required: string[];
  /** Whether a row without an account takes the account of its contact. */
  accountFromContact: boolean;
  /** Columns a new row takes the write's time in (set explicitly: their default reads SQLite's clock). */
  stamped?: ("created_at" | "updated_at")[];
  /** Column set to the write's time on every update. */
  touch?: "updated_at";
}

/** The tables changes upsert, by (workspace, external id). */
export const TABLES: Record<UpsertTable, TableSpec> = {
  accounts: {
    prefix: "acc",
    guard: "source_updated_at",
    required: ["name"],
    accountFromContact: false,
    stamped: ["created_at", "updated_at"],
    touch: "updated_at",
  },
  contacts: {
    prefix: "con",
    guard: "source_updated_at",
    required: ["name"],
    accountFromContact: false,
    stamped: ["created_at"],
  },
  tickets: {
    prefix: "tkt",
    guard: "source_updated_at",
    required: ["subject", "created_at", "updated_at"],
    accountFromContact: true,
  },
  survey_responses: {
    prefix: "srv",
    guard: "responded_at",
    required: ["kind", "score", "responded_at"],
    accountFromContact: true,
  },
  feedback_items: { prefix: "fbk", guard: null, required: ["kind", "title", "created_at"], accountFromContact: true },
  opportunities: {
    prefix: "opp",
    guard: "source_updated_at",
    required: ["account_id", "name", "kind"],
    accountFromContact: false,
    stamped: ["created_at"],
  },
  payments: {
    prefix: "pay",
    guard: "source_updated_at",
    required: ["status"],
    accountFromContact: false,
    stamped: ["created_at"],
  },
  contracts: {
    prefix: "ctr",
    guard: "source_updated_at",
    required: ["account_id", "start_date", "end_date"],
    accountFromContact: false,
    stamped: ["created_at"],
  },
};

/** One row to upsert. */
export interface PlannedRow {
  table: UpsertTable;
  workspaceId: string;
  id: string;
  externalId: string;
  columns: Record<string, ColumnChange>;
  sourceUpdatedAt: string;
  /** The account whose rollups a contract change moves (new or stored). */
  rollupAccountId: string | null;
}

/** A usage event for an account's agent. */
export interface PlannedUsage {
  workspaceId: string;
  accountId: string;
  id: string;
  occurredAt: string;
  feature: string;
  userRef: string | null;
}

/** An absolute usage rollup. */
export interface PlannedRollup {
  workspaceId: string;
  accountId: string;
  day: string;
  feature: string | null;
  events: number;
  activeUsers: number;
  sessions: number | null;
}

/** An email event matched (or not) to an outbox message. */
export interface PlannedEmail {
  workspaceId: string;
  outboxId: string | null;
  email: string | null;
  status: EmailEventStatus | null;
  at: string;
  suppression: "bounce" | "spam_report" | "unsubscribe" | null;
}

/** One outbox message's update from a batch's email events (JSON keys as the update statement reads them). */
export interface OutboxUpdate {
  workspace_id: string;
  id: string;
  /** The furthest status the events reached. */
  status: string | null;
  /** The first open and click. */
  opened_at: string | null;
  clicked_at: string | null;
}

/** One update per outbox message the email events matched: the furthest status and the first open and click. */
export function outboxUpdates(emails: PlannedEmail[]): OutboxUpdate[] {
  const byOutbox = new Map<string, OutboxUpdate>();
  for (const email of emails) {
    if (!email.outboxId || !email.status) continue;
    const key = `${email.workspaceId}\u0000${email.outboxId}`;
    const entry = byOutbox.get(key) ?? {
      workspace_id: email.workspaceId,
      id: email.outboxId,
      status: null,
      opened_at: null,
      clicked_at: null,
    };
    if (
      !entry.status ||
      EMAIL_STATUS_RANK[email.status] > EMAIL_STATUS_RANK[entry.status as keyof typeof EMAIL_STATUS_RANK]
    ) {
      entry.status = email.status;
    }
    if (email.status === "opened" && (!entry.opened_at || email.at < entry.opened_at)) entry.opened_at = email.at;
    if (email.status === "clicked" && (!entry.clicked_at || email.at < entry.clicked_at)) entry.clicked_at = email.at;
    byOutbox.set(key, entry);
  }
  return [...byOutbox.values()];
}

/** Everything one message writes. */
export interface MessagePlan {
  rows: PlannedRow[];
  usage: PlannedUsage[];
  rollups: PlannedRollup[];
  emails: PlannedEmail[];
  /** Usage events whose account is unknown: skipped, not failed. */
  skippedUsage: number;
  /** Row changes about an erased contact (the contact, or a row naming it): skipped, not failed. */
  skippedErased: number;
  /** The receipt whose stored payload is cleared: it named an erased contact, so it is not kept. */
  erasedPayloadOf: string | null;
  /** Email events about messages that are not in the outbox. */
  unmatchedEmails: number;
}

/** A change that cannot be stored; its message fails with this text. */
export class PlanError extends Error {
  override name = "PlanError";
}

/** The stable id of the row a change creates (the same on every retry of the message). */
export async function stableRowId(table: UpsertTable, workspaceId: string, externalId: string): Promise<string> {
  const digest = await sha256Hex(`${workspaceId}\u0000${table}\u0000${externalId}`);
  return `${TABLES[table].prefix}_${digest.slice(0, 24)}`;
}

/**
 * Plans one message. `eventId` is the message's dedupe key for usage events (its receipt id).
 * The index learns the rows the message creates only once the whole message has planned.
 */
export async function planMessage(
  workspaceId: string,
  eventId: string,
  changes: Change[],
  index: WorkspaceIndex,
): Promise<MessagePlan> {
  const plan: MessagePlan = {
    rows: [],
    usage: [],
    rollups: [],
    emails: [],
    skippedUsage: 0,
    skippedErased: 0,
    erasedPayloadOf: null,
    unmatchedEmails: 0,
  };
  const learn: (() => void)[] = [];
  for (const [position, change] of changes.entries()) {
    switch (change.kind) {
      case "row":
        if (namesErasedContact(change, index)) {
          plan.skippedErased += 1;
          plan.erasedPayloadOf = eventId;
        } else plan.rows.push(await planRow(workspaceId, change, index, learn));
        break;
      case "usage_event": {
        const accountId = index.resolveAccount(change.account);
        if (!accountId) {
          plan.skippedUsage += 1;
          break;
        }
        // An erased person's later use still counts as the account's events, under no name.
        const erasedUser = change.userRef !== null && index.isErasedReference(change.userRef);
        if (erasedUser) plan.erasedPayloadOf = eventId;
        plan.usage.push({
          workspaceId,
          accountId,
          id: changes.length === 1 ? eventId : `${eventId}:${position}`,
          occurredAt: change.occurredAt,
          feature: change.feature,
          userRef: erasedUser ? null : change.userRef,
        });
        break;
      }
      case "usage_rollup": {
        const account = index.accounts.get(change.accountExternalId);
        if (!account) throw new PlanError(`account_external_id names no account in this workspace`);
        plan.rollups.push({
          workspaceId,
          accountId: account.id,
          day: change.day,
          feature: change.feature,
          events: change.events,
          activeUsers: change.activeUsers,
          sessions: change.sessions,
        });
        break;
      }
      case "email_event": {
        const outboxId =
          (change.outboxId ? index.outboxById.get(change.outboxId) : undefined) ??
          (change.providerMessageId ? index.outboxByProviderId.get(change.providerMessageId) : undefined) ??
          null;
        if (!outboxId) plan.unmatchedEmails += 1;
        const erasedEmail = change.email !== null && index.isErased("email", change.email);
        if (erasedEmail) plan.erasedPayloadOf = eventId;
        plan.emails.push({
          workspaceId,
          outboxId,
          // Not stored again, not even as a suppression: the tombstone already keeps the person out.
          email: erasedEmail ? null : change.email,
          status: change.status,
          at: change.at,
          suppression: change.suppression,
        });
        break;
      }
    }
  }
  for (const apply of learn) apply();
  return plan;
}

/** Whether a row change is about an erased contact: that contact itself, or a row that names it. */
function namesErasedContact(change: RowChange, index: WorkspaceIndex): boolean {
  if (change.table === "contacts") {
    const email = change.columns.email?.value;
    if (index.isErased("external_id", change.externalId)) return true;
    if (typeof email === "string" && index.isErased("email", email)) return true;
  }
  return (change.contact ?? []).some((candidate) =>
    index.isErased(candidate.by === "email" ? "email" : "external_id", candidate.value),
  );
}

async function planRow(
  workspaceId: string,
  change: RowChange,
  index: WorkspaceIndex,
  learn: (() => void)[],
): Promise<PlannedRow> {
  const spec = TABLES[change.table];
  const stored = index.row(change.table, change.externalId);
  const columns: Record<string, ColumnChange> = { ...change.columns };
  let accountId = change.account ? index.resolveAccount(change.account) : undefined;
  if (change.account && !accountId && change.referencesRequired) {
    throw new PlanError(`${change.label}: the account it names is not in this workspace`);
  }
  let contact: KnownContact | undefined;
  if (change.contact) {
    contact = index.resolveContact(change.contact);
    if (!contact && change.referencesRequired) {
      throw new PlanError(`${change.label}: the contact it names is not in this workspace`);
    }
    if (contact) columns.contact_id = { value: contact.id, merge: "latest" };
  }
  if (!accountId && contact?.accountId && spec.accountFromContact && !("account_id" in columns)) {
    accountId = contact.accountId;
  }
  if (accountId) columns.account_id = { value: accountId, merge: change.accountMerge ?? "latest" };
  if (change.ownerEmail !== undefined) {
    const ownerId = change.ownerEmail === null ? null : index.users.get(change.ownerEmail);
    if (ownerId === undefined)
      throw new PlanError(`${change.label}: owner_email names no active user of this workspace`);
    columns.owner_user_id = { value: ownerId, merge: "latest" };
  }
  if (!stored) {
    if (change.accountRequired && !accountId) {
      throw new PlanError(`${change.label}: no account of this workspace matches it yet`);
    }
    const missing = spec.required.filter((name) => columns[name] === undefined || columns[name]?.value === null);
    if (missing.length > 0) {
      throw new PlanError(`${change.label} is not stored yet and this event does not give its ${missing.join(", ")}`);
    }
  }
  const id = stored?.id ?? (await stableRowId(change.table, workspaceId, change.externalId));
  if (!stored) {
    learn.push(() => {
      const known = { id, accountId: accountId ?? null };
      if (change.table === "accounts") {
        index.accounts.set(change.externalId, { id });
        const domain = columns.domain?.value;
        if (typeof domain === "string" && !index.accountsByDomain.has(domain)) index.accountsByDomain.set(domain, [id]);
      } else if (change.table === "contacts") {
        index.contacts.set(change.externalId, known);
        const email = columns.email?.value;
        if (typeof email === "string" && !index.contactsByEmail.has(email)) index.contactsByEmail.set(email, known);
      } else {
        const rows = index.rows.get(change.table) ?? new Map();
        rows.set(change.externalId, known);
        index.rows.set(change.table, rows);
      }
    });
  } else if (change.table === "contacts" && accountId && (change.accountMerge ?? "latest") === "latest") {
    learn.push(() => index.contacts.set(change.externalId, { id, accountId }));
  }
  return {
    table: change.table,
    workspaceId,
    id,
    externalId: change.externalId,
    columns,
    sourceUpdatedAt: change.sourceUpdatedAt,
    rollupAccountId: change.table === "contracts" ? (stored?.accountId ?? accountId ?? null) : null,
  };
}
