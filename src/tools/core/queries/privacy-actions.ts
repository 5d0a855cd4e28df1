/**
 * The steps of a privacy export and of a contact's erasure, shared by `manage_privacy` and the
 * admin commands (`export-contact`, `erase-contact`) so both read and write the same rows with
 * the same statements. Failures a person can act on are {@link PrivacyError}s, which each caller
 * words as its own error. Reaching the AccountAgents is left to the caller: the admin command
 * reaches D1 only, so its erasures leave the agents to the daily cron (`finishAgentErasures`).
 */
import { newId } from "../../../platform/lib/ids";
import { erasureHash, tombstoneHashes } from "../../../records/erasure";
import { type ExportTable, exportTables, mentionName } from "../domain/privacy";
import {
  accountExists,
  contactAccounts,
  erasureCounts,
  erasureStatements,
  exportRows,
  findPrivacyContacts,
  findTombstone,
  type PrivacyDb,
  type PrivacySubject,
  type SqlStatement,
  sourcesOf,
} from "./privacy";
import { PRIVACY_SOURCES } from "./privacy-sources";

/** A privacy request that cannot be served as asked; the message names no customer text. */
export class PrivacyError extends Error {
  override readonly name = "PrivacyError";
}

/** A contact subject. */
export type ContactPrivacySubject = Extract<PrivacySubject, { kind: "contact" }>;

/**
 * The contact named by its id or its email (trimmed, lower-cased). One erased already is
 * reported with its erasure; an email of several contacts asks for the id.
 */
export async function resolveContact(
  db: PrivacyDb,
  workspaceId: string,
  by: { contactId?: string | undefined; email?: string | undefined },
): Promise<ContactPrivacySubject> {
  if (!by.contactId === !by.email) throw new PrivacyError("Give contact_id or email (one of them).");
  const email = by.email?.trim().toLowerCase();
  const found = await findPrivacyContacts(db, workspaceId, { contactId: by.contactId, email });
  const [contact] = found;
  if (found.length > 1) {
    throw new PrivacyError(
      `${found.length} contacts have this email: ${found.map((c) => c.id).join(", ")}. Name one with contact_id.`,
    );
  }
  if (contact) return { kind: "contact", contact, mentionName: mentionName(contact) };
  const tombstone = await findTombstone(
    db,
    workspaceId,
    by.contactId ? { contactId: by.contactId } : { emailHash: await erasureHash(workspaceId, "email", email ?? "") },
  );
  if (tombstone) {
    throw new PrivacyError(
      `That contact (${tombstone.contact_id}) was erased at ${tombstone.erased_at}; nothing of it is stored any more.`,
    );
  }
  throw new PrivacyError(
    by.contactId
      ? `No contact with id "${by.contactId}" in this workspace. Use search to find valid ids.`
      : `No contact with email "${email}" in this workspace.`,
  );
}

/** The account named by its id. */
export async function resolveAccount(
  db: PrivacyDb,
  workspaceId: string,
  accountId: string,
): Promise<Extract<PrivacySubject, { kind: "account" }>> {
  if (!(await accountExists(db, workspaceId, accountId))) {
    throw new PrivacyError(`No account with id "${accountId}" in this workspace. Use list_accounts to find valid ids.`);
  }
  return { kind: "account", accountId };
}

/** The tables of a kind of subject, in export order. */
function exportTablesOf(kind: PrivacySubject["kind"]): string[] {
  return sourcesOf(kind).map(({ source }) => source.table);
}

const CUSTOMER_TEXT = new Map(PRIVACY_SOURCES.map((source) => [source.table, source.customerText ?? []]));

/**
 * One page of everything stored about the subject: every table (or only `table`, after the key
 * `after`), at most `limit` rows each; `cursorOf` makes the cursor of a table's next page.
 */
export async function exportSubject(
  db: PrivacyDb,
  workspaceId: string,
  subject: PrivacySubject,
  page: { limit: number; table?: string | undefined; after?: number | string | undefined },
  cursorOf: (table: string, lastKey: number | string) => string,
): Promise<ExportTable[]> {
  const order = exportTablesOf(subject.kind);
  if (page.table && !order.includes(page.table)) {
    const what = subject.kind === "account" ? "an account" : "a contact";
    throw new PrivacyError(`Table ${page.table} holds nothing about ${what}; use one of ${order.join(", ")}.`);
  }
  const rows = await exportRows(db, workspaceId, subject, {
    limit: page.limit + 1,
    ...(page.table ? { tables: [page.table] } : {}),
    ...(page.after === undefined ? {} : { after: page.after }),
  });
  return exportTables(rows, { order, limit: page.limit, customerText: CUSTOMER_TEXT, cursorOf });
}

/** What erasing a contact changes, table by table. */
export interface ErasurePreview {
  tables: { table: string; rows: number; effect: string }[];
  /** The contact's own search document, removed (its tickets' and feedback's are rewritten). */
  searchDocuments: number;
  /** Accounts whose AccountAgent storage is erased too. */
  accounts: string[];
}

const EFFECTS = new Map(PRIVACY_SOURCES.map((source) => [source.table, source.effect ?? ""]));

/** The rows an erasure of the contact would change, by table (tables without any left out). */
export async function previewErasure(
  db: PrivacyDb,
  workspaceId: string,
  subject: ContactPrivacySubject,
): Promise<ErasurePreview> {
  const counts = await erasureCounts(db, workspaceId, subject);
  const order = exportTablesOf("contact");
  return {
    tables: counts
      .filter((count) => count.source !== "search_docs" && count.total > 0)
      .sort((a, b) => order.indexOf(a.source) - order.indexOf(b.source))
      .map((count) => ({ table: count.source, rows: count.total, effect: EFFECTS.get(count.source) ?? "" })),
    searchDocuments: counts.find((count) => count.source === "search_docs")?.total ?? 0,
    accounts: contactAccounts(subject.contact),
  };
}

/** An erasure as written: its tombstone, and the agents still to be erased. */
export interface ErasureDone {
  tombstoneId: string;
  erasedAt: string;
  /** Hashes the agents erase the person by. */
  hashes: string[];
  accounts: string[];
}

/**
 * Erases the contact in one batch (see `erasureStatements`), with `extra` statements (the admin
 * command's audit row) in the same batch. The tombstone lists every account as pending: the
 * caller erases their agents and clears it, or leaves it to the cron.
 */
export async function eraseContact(
  db: PrivacyDb,
  workspaceId: string,
  subject: ContactPrivacySubject,
  erasure: { by: string; now: Date; extra?: (done: ErasureDone) => SqlStatement[] },
): Promise<ErasureDone> {
  const { contact } = subject;
  const { emailHash, externalIdHash } = await tombstoneHashes(workspaceId, {
    email: contact.email,
    externalId: contact.external_id,
  });
  const done: ErasureDone = {
    tombstoneId: newId("era"),
    erasedAt: erasure.now.toISOString(),
    hashes: [emailHash, externalIdHash].filter((hash): hash is string => hash !== null),
    accounts: contactAccounts(contact),
  };
  const statements = erasureStatements(workspaceId, subject, {
    anonId: newId("con"),
    now: done.erasedAt,
    tombstone: { id: done.tombstoneId, emailHash, externalIdHash, erasedBy: erasure.by, pendingAgents: done.accounts },
  });
  await db.batch([...statements, ...(erasure.extra?.(done) ?? [])]);
  return done;
}
