/**
 * Reads everything the changes of one queue batch refer to, in one D1 round trip: per
 * workspace, accounts by external id, domain and custom field; contacts by external id and
 * email; the stored rows of the other upserted tables; outbox messages; users by email; the
 * tombstones of erased contacts that the batch's emails and external ids match (the statements
 * are in `queries/lookup.ts`). What they find is kept in a {@link WorkspaceIndex}.
 */
import { type ErasureKind, erasureHash, erasureValue } from "../records/erasure";
import {
  type AccountByDomainRow,
  type AccountByExternalIdRow,
  type AccountByFieldRow,
  accountsByDomainStatement,
  accountsByExternalIdStatement,
  accountsByFieldStatement,
  activeUsersByEmailStatement,
  type ContactByEmailRow,
  type ContactByExternalIdRow,
  contactsByEmailStatement,
  contactsByExternalIdStatement,
  type ErasedHashRow,
  erasedHashesStatement,
  type OutboxByIdRow,
  type OutboxByProviderIdRow,
  outboxByIdStatement,
  outboxByProviderIdStatement,
  type RowByExternalIdRow,
  rowsByExternalIdStatement,
  type UserByEmailRow,
} from "./queries/lookup";
import type { AccountCandidate, Change, ContactCandidate, UpsertTable } from "./records";

/** A stored or planned account. */
export interface KnownAccount {
  id: string;
}

/** A stored or planned contact. */
export interface KnownContact {
  id: string;
  accountId: string | null;
}

/** A stored or planned row of another table. */
export interface KnownRow {
  id: string;
  accountId: string | null;
}

/** The key of an email or external id in {@link WorkspaceIndex.erased}. */
function erasedKey(kind: ErasureKind, value: string): string {
  return `${kind}\u0000${erasureValue(kind, value)}`;
}

/** What one workspace's changes refer to; planning adds the rows it creates, so later messages see them. */
export class WorkspaceIndex {
  readonly accounts = new Map<string, KnownAccount>();
  /** Account ids by domain; a domain shared by several accounts matches none. */
  readonly accountsByDomain = new Map<string, string[]>();
  /** Account ids by `<key>\u0000<value>` of a custom field. */
  readonly accountsByField = new Map<string, string>();
  readonly contacts = new Map<string, KnownContact>();
  readonly contactsByEmail = new Map<string, KnownContact>();
  readonly rows = new Map<UpsertTable, Map<string, KnownRow>>();
  readonly outboxById = new Map<string, string>();
  readonly outboxByProviderId = new Map<string, string>();
  readonly users = new Map<string, string>();
  /** Emails and external ids of the batch that name an erased contact (see {@link isErased}). */
  readonly erased = new Set<string>();

  /** Whether this email or external id names a contact that was erased (it has a tombstone). */
  isErased(kind: ErasureKind, value: string): boolean {
    return this.erased.has(erasedKey(kind, value));
  }

  /** Whether a user reference (a provider's user id, sometimes an email) names an erased contact. */
  isErasedReference(reference: string): boolean {
    return this.isErased("external_id", reference) || this.isErased("email", reference);
  }

  /** A stored or planned row of a table, by external id. */
  row(table: UpsertTable, externalId: string): KnownRow | undefined {
    if (table === "accounts") {
      const account = this.accounts.get(externalId);
      return account ? { id: account.id, accountId: account.id } : undefined;
    }
    if (table === "contacts") return this.contacts.get(externalId);
    return this.rows.get(table)?.get(externalId);
  }

  /** The first candidate that names exactly one account. */
  resolveAccount(candidates: AccountCandidate[]): string | undefined {
    for (const candidate of candidates) {
      let id: string | undefined;
      switch (candidate.by) {
        case "external_id":
          id = this.accounts.get(candidate.value)?.id;
          break;
        case "custom_field":
          id = this.accountsByField.get(`${candidate.key}\u0000${candidate.value}`);
          break;
        case "domain": {
          const ids = this.accountsByDomain.get(candidate.value);
          id = ids?.length === 1 ? ids[0] : undefined;
          break;
        }
        case "contact_external_id":
          id = this.contacts.get(candidate.value)?.accountId ?? undefined;
          break;
        case "contact_email":
          id = this.contactsByEmail.get(candidate.value)?.accountId ?? undefined;
          break;
      }
      if (id) return id;
    }
    return undefined;
  }

  /** The first candidate that names a contact. */
  resolveContact(candidates: ContactCandidate[]): KnownContact | undefined {
    for (const candidate of candidates) {
      const found =
        candidate.by === "external_id" ? this.contacts.get(candidate.value) : this.contactsByEmail.get(candidate.value);
      if (found) return found;
    }
    return undefined;
  }
}

/** Keys one workspace's changes look up. */
class Keys {
  readonly accountExternalIds = new Set<string>();
  readonly domains = new Set<string>();
  readonly fields = new Map<string, { key: string; value: string }>();
  readonly contactExternalIds = new Set<string>();
  readonly contactEmails = new Set<string>();
  readonly rowExternalIds = new Map<UpsertTable, Set<string>>();
  readonly outboxIds = new Set<string>();
  readonly providerMessageIds = new Set<string>();
  readonly ownerEmails = new Set<string>();
  /** Emails and external ids that could name an erased contact, by their {@link erasedKey}. */
  readonly erasable = new Map<string, { kind: ErasureKind; value: string }>();

  addErasable(kind: ErasureKind, value: string): void {
    this.erasable.set(erasedKey(kind, value), { kind, value });
  }

  /** The tombstone hash of each erasable value, mapped to its key. */
  async erasableHashes(workspaceId: string): Promise<Map<string, string>> {
    const entries = await Promise.all(
      [...this.erasable].map(
        async ([key, { kind, value }]) => [await erasureHash(workspaceId, kind, value), key] as const,
      ),
    );
    return new Map(entries);
  }

  addAccount(candidates: AccountCandidate[]): void {
    for (const candidate of candidates) {
      if (candidate.by === "external_id") this.accountExternalIds.add(candidate.value);
      else if (candidate.by === "domain") this.domains.add(candidate.value);
      else if (candidate.by === "custom_field") {
        this.fields.set(`${candidate.key}\u0000${candidate.value}`, { key: candidate.key, value: candidate.value });
      } else if (candidate.by === "contact_external_id") this.contactExternalIds.add(candidate.value);
      else this.contactEmails.add(candidate.value);
    }
  }

  addContact(candidates: ContactCandidate[]): void {
    for (const candidate of candidates) {
      if (candidate.by === "external_id") this.contactExternalIds.add(candidate.value);
      else this.contactEmails.add(candidate.value);
      this.addErasable(candidate.by === "email" ? "email" : "external_id", candidate.value);
    }
  }

  add(change: Change): void {
    switch (change.kind) {
      case "row":
        if (change.table === "accounts") this.accountExternalIds.add(change.externalId);
        else if (change.table === "contacts") {
          this.contactExternalIds.add(change.externalId);
          this.addErasable("external_id", change.externalId);
          const email = change.columns.email?.value;
          if (typeof email === "string") this.addErasable("email", email);
        } else {
          const ids = this.rowExternalIds.get(change.table) ?? new Set<string>();
          ids.add(change.externalId);
          this.rowExternalIds.set(change.table, ids);
        }
        if (change.account) this.addAccount(change.account);
        if (change.contact) this.addContact(change.contact);
        if (change.ownerEmail) this.ownerEmails.add(change.ownerEmail);
        break;
      case "usage_event":
        this.addAccount(change.account);
        if (change.userRef !== null) {
          this.addErasable("external_id", change.userRef);
          this.addErasable("email", change.userRef);
        }
        break;
      case "usage_rollup":
        this.accountExternalIds.add(change.accountExternalId);
        break;
      case "email_event":
        if (change.outboxId) this.outboxIds.add(change.outboxId);
        if (change.providerMessageId) this.providerMessageIds.add(change.providerMessageId);
        if (change.email) this.addErasable("email", change.email);
        break;
    }
  }
}

/** One read of the batch, with what its rows teach the workspace's index. */
interface Read {
  workspaceId: string;
  statement: D1PreparedStatement;
  apply(rows: Record<string, unknown>[], index: WorkspaceIndex): void;
}

/** Loads the index of each workspace for its changes, in one batch of reads. */
export async function loadIndexes(
  db: D1Database,
  changesByWorkspace: Map<string, Change[]>,
): Promise<Map<string, WorkspaceIndex>> {
  const reads: Read[] = [];
  const indexes = new Map<string, WorkspaceIndex>();
  for (const [workspaceId, changes] of changesByWorkspace) {
    indexes.set(workspaceId, new WorkspaceIndex());
    const keys = new Keys();
    for (const change of changes) keys.add(change);
    reads.push(...indexReads(db, workspaceId, keys));
    const erasable = await keys.erasableHashes(workspaceId);
    if (erasable.size > 0) {
      reads.push({
        workspaceId,
        statement: erasedHashesStatement(db, workspaceId, [...erasable.keys()]),
        apply: (rows, index) => learn.erased(rows as unknown as ErasedHashRow[], erasable, index),
      });
    }
  }
  if (reads.length === 0) return indexes;
  const results = await db.batch<Record<string, unknown>>(reads.map((read) => read.statement));
  reads.forEach(({ workspaceId, apply }, i) => {
    const index = indexes.get(workspaceId);
    if (index) apply(results[i]?.results ?? [], index);
  });
  return indexes;
}

function knownContact(row: { id: string; account_id: string | null }): KnownContact {
  return { id: String(row.id), accountId: row.account_id === null ? null : String(row.account_id) };
}

/** What the rows of each read teach the index. */
const learn = {
  accounts(rows: AccountByExternalIdRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.accounts.set(String(row.external_id), { id: String(row.id) });
  },
  accountsByDomain(rows: AccountByDomainRow[], index: WorkspaceIndex): void {
    for (const row of rows) {
      const domain = String(row.domain);
      index.accountsByDomain.set(domain, [...(index.accountsByDomain.get(domain) ?? []), String(row.id)]);
    }
  },
  accountsByField(rows: AccountByFieldRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.accountsByField.set(`${row.field}\u0000${row.value}`, String(row.id));
  },
  contacts(rows: ContactByExternalIdRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.contacts.set(String(row.external_id), knownContact(row));
  },
  contactsByEmail(rows: ContactByEmailRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.contactsByEmail.set(String(row.email), knownContact(row));
  },
  rows(table: UpsertTable) {
    return (rows: RowByExternalIdRow[], index: WorkspaceIndex): void => {
      const known = index.rows.get(table) ?? new Map<string, KnownRow>();
      for (const row of rows) {
        known.set(String(row.external_id), {
          id: String(row.id),
          accountId: typeof row.account_id === "string" ? row.account_id : null,
        });
      }
      index.rows.set(table, known);
    };
  },
  outboxById(rows: OutboxByIdRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.outboxById.set(String(row.id), String(row.id));
  },
  outboxByProviderId(rows: OutboxByProviderIdRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.outboxByProviderId.set(String(row.provider_message_id), String(row.id));
  },
  users(rows: UserByEmailRow[], index: WorkspaceIndex): void {
    for (const row of rows) index.users.set(String(row.email), String(row.id));
  },
  erased(rows: ErasedHashRow[], erasable: Map<string, string>, index: WorkspaceIndex): void {
    for (const row of rows) {
      for (const hash of [row.email_hash, row.external_id_hash]) {
        const key = hash === null ? undefined : erasable.get(hash);
        if (key) index.erased.add(key);
      }
    }
  },
};

/** The reads of one workspace's keys (none for a key set that is empty), in a fixed order. */
function indexReads(db: D1Database, ws: string, keys: Keys): Read[] {
  const reads: Read[] = [];
  const read = <K, R>(
    values: Iterable<K>,
    statement: (list: K[]) => D1PreparedStatement,
    apply: (rows: R[], index: WorkspaceIndex) => void,
  ) => {
    const list = [...values];
    if (list.length === 0) return;
    reads.push({ workspaceId: ws, statement: statement(list), apply: (rows, index) => apply(rows as R[], index) });
  };
  read(keys.accountExternalIds, (ids) => accountsByExternalIdStatement(db, ws, ids), learn.accounts);
  read(keys.domains, (domains) => accountsByDomainStatement(db, ws, domains), learn.accountsByDomain);
  read(keys.fields.values(), (fields) => accountsByFieldStatement(db, ws, fields), learn.accountsByField);
  read(keys.contactExternalIds, (ids) => contactsByExternalIdStatement(db, ws, ids), learn.contacts);
  read(keys.contactEmails, (emails) => contactsByEmailStatement(db, ws, emails), learn.contactsByEmail);
  for (const [table, externalIds] of keys.rowExternalIds) {
    read(externalIds, (ids) => rowsByExternalIdStatement(db, ws, table, ids), learn.rows(table));
  }
  read(keys.outboxIds, (ids) => outboxByIdStatement(db, ws, ids), learn.outboxById);
  read(keys.providerMessageIds, (ids) => outboxByProviderIdStatement(db, ws, ids), learn.outboxByProviderId);
  read(keys.ownerEmails, (emails) => activeUsersByEmailStatement(db, ws, emails), learn.users);
  return reads;
}
