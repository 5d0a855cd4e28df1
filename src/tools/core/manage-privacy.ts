import { z } from "zod";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import { cursorArg, decodeCursor, encodeCursor, limitArg, queryFingerprint } from "../../platform/mcp/pagination";
import { eraseFromAgents, setPendingAgents } from "../../records/erasure";
import type { ExportTable } from "./domain/privacy";
import { auditRowStatement, d1PrivacyDb, type PrivacySubject } from "./queries/privacy";
import {
  eraseContact,
  exportSubject,
  PrivacyError,
  previewErasure,
  resolveAccount,
  resolveContact,
} from "./queries/privacy-actions";
import { ERASED_NAME, ERASED_TEXT, PRIVACY_TABLES } from "./queries/privacy-sources";

const ACTIONS = ["export_contact", "export_account", "erase_contact"] as const;

const exportTable = z.object({
  table: z.string(),
  total: z.number().describe("Rows of this table about the subject."),
  returned: z.number().describe("Rows in this answer."),
  rows: z
    .array(z.record(z.string(), z.unknown()))
    .describe("Stored rows, every column; columns customers wrote are under customer_text."),
  next_cursor: z
    .string()
    .nullable()
    .describe("Pass with `table` as `cursor` for the next rows of this table; null when all were returned."),
});

const erasureOutput = z.object({
  dry_run: z.boolean().describe("true: nothing was changed; this is what confirm would do."),
  contact_id: z.string().describe("The contact's id (after the erasure no row carries it)."),
  name: z.string().nullable().describe("Dry run only: the contact's name, to check it is the right person."),
  email: z.string().nullable().describe("Dry run only: the contact's email."),
  tables: z
    .array(z.object({ table: z.string(), rows: z.number(), effect: z.string() }))
    .describe("Rows changed (or to change) per table, and how."),
  search_documents_removed: z.number().describe("The contact's search index documents removed."),
  agent_accounts: z.array(z.string()).describe("Accounts whose live usage storage (AccountAgent) is erased too."),
  agents_pending: z
    .array(z.string())
    .describe("Of those, accounts whose storage could not be reached now; the daily job finishes them."),
  tombstone_id: z
    .string()
    .nullable()
    .describe("The tombstone that keeps the person from coming back; null on a dry run."),
  erased_at: z.string().nullable(),
});

export const managePrivacy = defineActionTool({
  name: "manage_privacy",
  title: "Privacy: export and erase",
  toolset: "core",
  description: [
    "Data-subject requests, for admins. export_contact (contact_id or email) and export_account (account_id): every row stored about the person or the account, table by table (contacts, tickets, survey responses, feedback, activities, raw usage events, emails and their webhook deliveries, tasks, escalations, interventions, contracts, payments, usage rollups, scores…), each with its total, up to `limit` rows (default 25) and a next_cursor; page one table with `table` and `cursor`. Customer-written columns are under customer_text. Exports are recorded in the audit log.",
    `erase_contact (contact_id or email): dry_run (the default) shows what would change; confirm: true (with dry_run false or left out) erases. The contact is kept as an anonymous record under a new id ("${ERASED_NAME}", no email, external id or title; role and flags kept) so counts, rollups, scores and ARR stay as they were; their tickets, survey responses, feedback, activities, emails, invitations and usage events are kept and linked to it, with the text they wrote (ticket subject and body, survey comment, feedback title and body, activity subject and body, email address and content) blanked to "${ERASED_TEXT}" or empty; their full name and email are replaced in the free text of their accounts' tasks, activities, escalations, interventions and emails; suppressions, stored webhook payloads and cached call answers naming them are removed; their search document is deleted (secure-delete) and their user references in each account's live usage storage become pseudonyms.`,
    "A tombstone keeps hashes of the email and external id (never the values), so later webhooks and imports naming the person are dropped instead of creating them again. Every erasure and preview is in the audit log; review_audit_log lists them.",
  ].join(" "),
  input: {
    action: z.enum(ACTIONS).describe("export_contact, export_account or erase_contact."),
    contact_id: z.string().min(1).max(100).optional().describe("export_contact, erase_contact: the contact (con_…)."),
    email: z
      .string()
      .trim()
      .min(3)
      .max(254)
      .optional()
      .describe("export_contact, erase_contact: the contact's email instead of its id (any case)."),
    account_id: z.string().min(1).max(100).optional().describe("export_account: the account (acc_…)."),
    table: z.enum(PRIVACY_TABLES).optional().describe("export_*: only this table (to page it with cursor)."),
    cursor: cursorArg.describe("export_*: a table's next_cursor; give `table` with it."),
    limit: limitArg.describe("export_*: rows per table, 1–200 (default 25)."),
    dry_run: z.boolean().optional().describe("erase_contact: true (default) only shows what would be erased."),
    confirm: z.boolean().optional().describe("erase_contact: true erases (with dry_run false or left out)."),
  },
  output: {
    action: z.enum(ACTIONS),
    subject: z.object({ kind: z.enum(["contact", "account"]), id: z.string() }),
    tables: z.array(exportTable).optional().describe("export_*: every table holding rows about the subject."),
    cut_tables: z
      .array(z.string())
      .optional()
      .describe("export_*: tables with more rows than returned; page each with `table` and its next_cursor."),
    erasure: erasureOutput.optional(),
  },
  examples: [
    {
      title: "Everything stored about a contact",
      args: (ids) => ({ action: "export_contact", contact_id: ids.contactId }),
    },
    {
      title: "Everything stored about an account",
      args: (ids) => ({ action: "export_account", account_id: ids.accountId }),
    },
    {
      title: "What erasing a contact would change",
      args: (ids) => ({ action: "erase_contact", contact_id: ids.contactId, dry_run: true }),
    },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  minRole: "admin",
  commonFields: ["limit"],
  actions: {
    export_contact: {
      writes: false,
      role: "admin",
      fields: ["contact_id", "email", "table", "cursor"],
      run: (args, ctx) => runExport(ctx, args, "contact"),
    },
    export_account: {
      writes: false,
      role: "admin",
      fields: ["account_id", "table", "cursor"],
      run: (args, ctx) => runExport(ctx, args, "account"),
    },
    erase_contact: {
      writes: true,
      role: "admin",
      fields: ["contact_id", "email", "dry_run", "confirm"],
      run: (args, ctx) => runErase(ctx, args),
    },
  },
});

interface PrivacyArgs {
  contact_id?: string;
  email?: string;
  account_id?: string;
  table?: string;
  cursor?: string;
  limit: number;
  dry_run?: boolean;
  confirm?: boolean;
}

/** Runs a shared privacy step, wording its refusals as tool errors. */
async function step<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PrivacyError) throw new ToolError(error.message);
    throw error;
  }
}

async function findSubject(ctx: ToolContext, args: PrivacyArgs, kind: PrivacySubject["kind"]) {
  const db = d1PrivacyDb(ctx.env.DB);
  const ws = ctx.principal.workspaceId;
  if (kind === "account") {
    if (!args.account_id) throw new ToolError("action export_account needs `account_id`.");
    return step(resolveAccount(db, ws, args.account_id));
  }
  return step(resolveContact(db, ws, { contactId: args.contact_id, email: args.email }));
}

function subjectId(subject: PrivacySubject): string {
  return subject.kind === "account" ? subject.accountId : subject.contact.id;
}

async function runExport(ctx: ToolContext, args: PrivacyArgs, kind: PrivacySubject["kind"]) {
  if (args.cursor && !args.table) throw new ToolError("A cursor pages one table: give `table` with it.");
  const subject = await findSubject(ctx, args, kind);
  const id = subjectId(subject);
  const fingerprint = (table: string) => queryFingerprint(["manage_privacy.export", kind, id, table, args.limit]);
  const after = args.cursor && args.table ? decodeCursor(args.cursor, fingerprint(args.table)).k[0] : undefined;
  if (after === null) throw new ToolError("Malformed `cursor`: repeat without it.");
  const db = d1PrivacyDb(ctx.env.DB);
  const tables = await step(
    exportSubject(
      db,
      ctx.principal.workspaceId,
      subject,
      { limit: args.limit, table: args.table, after },
      (table, rid) => encodeCursor({ k: [rid], id: table, q: fingerprint(table) }),
    ),
  );
  const action: (typeof ACTIONS)[number] = kind === "account" ? "export_account" : "export_contact";
  const held = tables.filter((table) => table.total > 0);
  const returned = held.reduce((sum, table) => sum + table.returned, 0);
  // An export is a read, which the wrapper does not audit; a disclosure of personal data must be.
  await db.batch([
    auditRowStatement(ctx.principal.workspaceId, {
      id: newId("aud"),
      actorUserId: ctx.principal.userId,
      actorKeyId: ctx.principal.keyId,
      tool: "manage_privacy",
      action,
      targetType: kind,
      targetId: id,
      details: { tables: held.length, rows: returned, ...(args.table ? { table: args.table } : {}) },
      requestId: ctx.requestId,
      at: ctx.now.toISOString(),
    }),
  ]);
  const cut = tables.filter((table) => table.next_cursor !== null).map((table) => table.table);
  return {
    data: { action, subject: { kind, id }, tables, cut_tables: cut },
    text: exportText(kind, id, tables, cut),
  };
}

function exportText(kind: string, id: string, tables: ExportTable[], cut: string[]): string {
  const held = tables.filter((table) => table.total > 0);
  const rows = held.reduce((sum, table) => sum + table.total, 0);
  const summary = `Export of ${kind} ${id}: ${rows} row(s) in ${held.length} table(s); full rows in structured content.`;
  const table =
    held.length > 0
      ? `\n${markdownTable(
          ["table", "rows", "returned"],
          held.map((t) => [t.table, t.total, t.returned]),
        )}`
      : "";
  const more =
    cut.length > 0 ? `\nMore rows in ${cut.join(", ")}: call again with table and that table's next_cursor.` : "";
  return `${summary}${table}${more}`;
}

async function runErase(ctx: ToolContext, args: PrivacyArgs) {
  if (args.confirm === true && args.dry_run === true) {
    throw new ToolError("dry_run: true and confirm: true contradict each other; leave dry_run out to erase.");
  }
  if (args.dry_run === false && args.confirm !== true) {
    throw new ToolError("Erasing cannot be undone: give confirm: true with dry_run: false.");
  }
  const subject = (await findSubject(ctx, args, "contact")) as Extract<PrivacySubject, { kind: "contact" }>;
  const db = d1PrivacyDb(ctx.env.DB);
  const ws = ctx.principal.workspaceId;
  const preview = await previewErasure(db, ws, subject);
  const counts = Object.fromEntries(preview.tables.map((table) => [table.table, table.rows]));
  const base = {
    contact_id: subject.contact.id,
    tables: preview.tables,
    search_documents_removed: preview.searchDocuments,
    agent_accounts: preview.accounts,
  };
  if (args.confirm !== true) {
    ctx.audit({
      action: "erase_contact",
      targetType: "contact",
      targetId: subject.contact.id,
      details: { dry_run: true, counts },
    });
    const { name, email } = subject.contact;
    return {
      data: {
        action: "erase_contact" as const,
        subject: { kind: "contact" as const, id: subject.contact.id },
        erasure: { ...base, dry_run: true, name, email, agents_pending: [], tombstone_id: null, erased_at: null },
      },
      text: `Dry run: erasing ${name} (${subject.contact.id}) would change ${preview.tables.map((t) => `${t.rows} ${t.table}`).join(", ") || "only the contact"}. Call again with confirm: true to erase; it cannot be undone.`,
    };
  }
  const done = await eraseContact(db, ws, subject, {
    by: ctx.principal.userId ?? ctx.principal.keyId ?? "unknown",
    now: ctx.now,
  });
  const pending = await eraseFromAgents(ctx.env, ws, done.accounts, done.hashes);
  await setPendingAgents(ctx.env.DB, ws, done.tombstoneId, pending);
  ctx.audit({
    action: "erase_contact",
    targetType: "contact",
    targetId: subject.contact.id,
    details: { dry_run: false, counts, tombstone_id: done.tombstoneId, agents_pending: pending },
  });
  return {
    data: {
      action: "erase_contact" as const,
      subject: { kind: "contact" as const, id: subject.contact.id },
      erasure: {
        ...base,
        dry_run: false,
        name: null,
        email: null,
        agents_pending: pending,
        tombstone_id: done.tombstoneId,
        erased_at: done.erasedAt,
      },
    },
    text: `Erased contact ${subject.contact.id}: ${preview.tables.map((t) => `${t.rows} ${t.table}`).join(", ") || "the contact"} changed; tombstone ${done.tombstoneId}.${pending.length > 0 ? ` Live usage storage of ${pending.join(", ")} could not be reached; the daily job finishes it.` : ""}`,
  };
}
