/**
 * Reads everything the changes of one queue batch refer to, in one D1 round trip: per
 * workspace, accounts by external id, domain and custom field; contacts by external id and
 * email; the stored rows of the other upserted tables; outbox messages; users by email. Each
 * query reads by a set of keys bound as one JSON array (`IN (SELECT value FROM json_each(?2))`).
 */
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
    }
  }

  add(change: Change): void {
    switch (change.kind) {
      case "row":
        if (change.table === "accounts") this.accountExternalIds.add(change.externalId);
        else if (change.table === "contacts") this.contactExternalIds.add(change.externalId);
        else {
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
        break;
      case "usage_rollup":
        this.accountExternalIds.add(change.accountExternalId);
        break;
      case "email_event":
        if (change.outboxId) this.outboxIds.add(change.outboxId);
        if (change.providerMessageId) this.providerMessageIds.add(change.providerMessageId);
        break;
    }
  }
}

/** Tables whose stored rows are read back with their account (contracts: for the rollup refresh). */
const ROW_COLUMNS: Partial<Record<UpsertTable, string>> = { contracts: "id, external_id, account_id" };

type Reader = (rows: Record<string, unknown>[], index: WorkspaceIndex) => void;

/** Loads the index of each workspace for its changes, in one batch of reads. */
export async function loadIndexes(
  db: D1Database,
  changesByWorkspace: Map<string, Change[]>,
): Promise<Map<string, WorkspaceIndex>> {
  const statements: D1PreparedStatement[] = [];
  const readers: { workspaceId: string; read: Reader }[] = [];
  const indexes = new Map<string, WorkspaceIndex>();
  const query = (workspaceId: string, sql: string, values: Iterable<unknown>, read: Reader) => {
    const list = [...values];
    if (list.length === 0) return;
    statements.push(db.prepare(sql).bind(workspaceId, JSON.stringify(list)));
    readers.push({ workspaceId, read });
  };
  for (const [workspaceId, changes] of changesByWorkspace) {
    indexes.set(workspaceId, new WorkspaceIndex());
    const keys = new Keys();
    for (const change of changes) keys.add(change);
    const readAccounts: Reader = (rows, index) => {
      for (const row of rows) index.accounts.set(String(row.external_id), { id: String(row.id) });
    };
    query(
      workspaceId,
      "SELECT id, external_id FROM accounts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))",
      keys.accountExternalIds,
      readAccounts,
    );
    query(
      workspaceId,
      "SELECT id, domain FROM accounts WHERE workspace_id = ?1 AND domain IN (SELECT value FROM json_each(?2)) ORDER BY id",
      keys.domains,
      (rows, index) => {
        for (const row of rows) {
          const domain = String(row.domain);
          index.accountsByDomain.set(domain, [...(index.accountsByDomain.get(domain) ?? []), String(row.id)]);
        }
      },
    );
    // Custom fields have no index: this reads the workspace's accounts, and only runs for
    // references by a provider's own customer id (Stripe customers, Zendesk organizations).
    query(
      workspaceId,
      `SELECT a.id, json_extract(j.value, '$.key') AS field, json_extract(j.value, '$.value') AS value
         FROM json_each(?2) j CROSS JOIN accounts a
        WHERE a.workspace_id = ?1
          AND json_extract(a.custom_fields, '$."' || json_extract(j.value, '$.key') || '"') = json_extract(j.value, '$.value')
        ORDER BY a.id DESC`,
      keys.fields.values(),
      (rows, index) => {
        for (const row of rows) index.accountsByField.set(`${row.field}\u0000${row.value}`, String(row.id));
      },
    );
    const readContact = (row: Record<string, unknown>): KnownContact => ({
      id: String(row.id),
      accountId: row.account_id === null ? null : String(row.account_id),
    });
    query(
      workspaceId,
      "SELECT id, external_id, account_id FROM contacts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))",
      keys.contactExternalIds,
      (rows, index) => {
        for (const row of rows) index.contacts.set(String(row.external_id), readContact(row));
      },
    );
    query(
      workspaceId,
      "SELECT id, email, account_id FROM contacts WHERE workspace_id = ?1 AND email IN (SELECT value FROM json_each(?2)) ORDER BY id DESC",
      keys.contactEmails,
      (rows, index) => {
        for (const row of rows) index.contactsByEmail.set(String(row.email), readContact(row));
      },
    );
    for (const [table, externalIds] of keys.rowExternalIds) {
      query(
        workspaceId,
        `SELECT ${ROW_COLUMNS[table] ?? "id, external_id"} FROM ${table}
          WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2))`,
        externalIds,
        (rows, index) => {
          const known = index.rows.get(table) ?? new Map<string, KnownRow>();
          for (const row of rows) {
            known.set(String(row.external_id), {
              id: String(row.id),
              accountId: typeof row.account_id === "string" ? row.account_id : null,
            });
          }
          index.rows.set(table, known);
        },
      );
    }
    query(
      workspaceId,
      "SELECT id FROM outbox_messages WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
      keys.outboxIds,
      (rows, index) => {
        for (const row of rows) index.outboxById.set(String(row.id), String(row.id));
      },
    );
    // The unary + keeps SQLite on the provider message id index rather than a workspace-wide scan.
    query(
      workspaceId,
      `SELECT id, provider_message_id FROM outbox_messages
        WHERE provider_message_id IN (SELECT value FROM json_each(?2)) AND +workspace_id = ?1`,
      keys.providerMessageIds,
      (rows, index) => {
        for (const row of rows) index.outboxByProviderId.set(String(row.provider_message_id), String(row.id));
      },
    );
    query(
      workspaceId,
      "SELECT id, lower(email) AS email FROM users WHERE workspace_id = ?1 AND disabled_at IS NULL AND lower(email) IN (SELECT value FROM json_each(?2))",
      keys.ownerEmails,
      (rows, index) => {
        for (const row of rows) index.users.set(String(row.email), String(row.id));
      },
    );
  }
  if (statements.length === 0) return indexes;
  const results = await db.batch<Record<string, unknown>>(statements);
  readers.forEach(({ workspaceId, read }, i) => {
    const index = indexes.get(workspaceId);
    if (index) read(results[i]?.results ?? [], index);
  });
  return indexes;
}
