/**
 * Admin CLI commands for data-subject requests: the same steps and statements `manage_privacy`
 * runs (`src/tools/core/queries/privacy-actions.ts`), over wrangler's D1. An export prints every
 * row stored about a contact as JSON; an erasure runs as one wrangler call. Both are audited
 * (tool `admin_cli`). The commands reach D1 only, so an erasure leaves the contact's usage in the
 * accounts' live storage (AccountAgent) to the Worker's daily cron.
 */
import { clock } from "../../src/platform/lib/clock";
import { newId } from "../../src/platform/lib/ids";
import type { ExportTable } from "../../src/tools/core/domain/privacy";
import { auditRowStatement, type PrivacyDb, type SqlStatement } from "../../src/tools/core/queries/privacy";
import {
  type ContactPrivacySubject,
  eraseContact,
  exportSubject,
  PrivacyError,
  previewErasure,
  resolveContact,
} from "../../src/tools/core/queries/privacy-actions";
import type { D1Target } from "../lib/d1";
import { type AdminDb, AdminError } from "./commands";

type Values = Record<string, string | boolean | undefined>;

/** One CLI command, in the shape `scripts/admin.ts` registers. */
interface PrivacyCommand {
  usage: string;
  options: Record<string, { type: "string" | "boolean" }>;
  required: string[];
  run(db: AdminDb, values: Values, target: D1Target): Promise<void>;
}

/** What the audit log names an admin command's calls by. */
const ADMIN_TOOL = "admin_cli";
/** Rows a page of the CLI's export reads per table. */
const EXPORT_PAGE = 200;

/**
 * Statements as one SQL text for one runner call: each statement's `?N` renumbered after the
 * parameters of the statements before it.
 */
export function joinStatements(statements: readonly SqlStatement[]): SqlStatement {
  const params: SqlStatement["params"] = [];
  const parts = statements.map((statement) => {
    const offset = params.length;
    params.push(...statement.params);
    return statement.sql.replace(/\?(\d+)/g, (_, n: string) => `?${Number(n) + offset}`);
  });
  return { sql: parts.join(";\n"), params };
}

/** A {@link PrivacyDb} over the CLI's runner: a batch is one call running its statements in order. */
export function adminPrivacyDb(db: AdminDb): PrivacyDb {
  return {
    all: (sql, params) => db.all(sql, params),
    async batch(statements) {
      const joined = joinStatements(statements);
      await db.all(joined.sql, joined.params);
    },
  };
}

/** Who an admin command acts as: a user of the workspace named by `--by`, else nobody in particular. */
interface Actor {
  workspaceId: string;
  userId: string | null;
}

async function actorOf(db: PrivacyDb, slug: string, by: string | undefined): Promise<Actor> {
  const [row] = await db.all<{ id: string; user_id: string | null }>(
    `SELECT w.id, u.id AS user_id FROM workspaces w
       LEFT JOIN users u ON u.workspace_id = w.id AND lower(u.email) = ?2
      WHERE w.slug = ?1`,
    [slug, by?.trim().toLowerCase() ?? ""],
  );
  if (!row) throw new AdminError(`no workspace with slug "${slug}"`);
  if (by && !row.user_id) throw new AdminError(`no user ${by} in workspace "${slug}"`);
  return { workspaceId: row.id, userId: row.user_id };
}

async function adminErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PrivacyError) throw new AdminError(error.message);
    throw error;
  }
}

function auditRow(actor: Actor, action: string, contactId: string, details: Record<string, unknown>): SqlStatement {
  return auditRowStatement(actor.workspaceId, {
    id: newId("aud"),
    actorUserId: actor.userId,
    actorKeyId: null,
    tool: ADMIN_TOOL,
    action,
    targetType: "contact",
    targetId: contactId,
    details,
    requestId: newId("cli"),
    at: clock.now().toISOString(),
  });
}

/** Every row stored about a contact, every table read to its end. */
export async function exportContactCommand(
  db: PrivacyDb,
  opts: { workspace: string; email?: string | undefined; contactId?: string | undefined; by?: string | undefined },
): Promise<{ contact_id: string; tables: Omit<ExportTable, "next_cursor" | "returned">[] }> {
  const actor = await actorOf(db, opts.workspace, opts.by);
  const subject = await adminErrors(
    resolveContact(db, actor.workspaceId, { contactId: opts.contactId, email: opts.email }),
  );
  const cursorOf = (_table: string, lastKey: number | string) => JSON.stringify(lastKey);
  const tables = await exportSubject(db, actor.workspaceId, subject, { limit: EXPORT_PAGE }, cursorOf);
  for (const table of tables) {
    let cursor = table.next_cursor;
    while (cursor !== null) {
      const [next] = await exportSubject(
        db,
        actor.workspaceId,
        subject,
        { limit: EXPORT_PAGE, table: table.table, after: JSON.parse(cursor) as number | string },
        cursorOf,
      );
      table.rows.push(...(next?.rows ?? []));
      cursor = next?.next_cursor ?? null;
    }
  }
  const held = tables.filter((table) => table.total > 0);
  const rows = held.reduce((sum, table) => sum + table.rows.length, 0);
  await db.batch([auditRow(actor, "export_contact", subject.contact.id, { tables: held.length, rows })]);
  return { contact_id: subject.contact.id, tables: held.map(({ table, total, rows }) => ({ table, total, rows })) };
}

/** Erases a contact (with `confirm`), or says what erasing would change. */
export async function eraseContactCommand(
  db: PrivacyDb,
  opts: {
    workspace: string;
    email?: string | undefined;
    contactId?: string | undefined;
    by?: string | undefined;
    confirm: boolean;
  },
): Promise<{
  subject: ContactPrivacySubject;
  preview: Awaited<ReturnType<typeof previewErasure>>;
  tombstoneId: string | null;
}> {
  const actor = await actorOf(db, opts.workspace, opts.by);
  const subject = await adminErrors(
    resolveContact(db, actor.workspaceId, { contactId: opts.contactId, email: opts.email }),
  );
  const preview = await previewErasure(db, actor.workspaceId, subject);
  if (!opts.confirm) return { subject, preview, tombstoneId: null };
  const counts = Object.fromEntries(preview.tables.map((table) => [table.table, table.rows]));
  const done = await eraseContact(db, actor.workspaceId, subject, {
    by: actor.userId ?? ADMIN_TOOL,
    now: clock.now(),
    extra: (erasure) => [
      auditRow(actor, "erase_contact", subject.contact.id, {
        dry_run: false,
        counts,
        tombstone_id: erasure.tombstoneId,
        agents_pending: erasure.accounts,
      }),
    ],
  });
  return { subject, preview, tombstoneId: done.tombstoneId };
}

const str = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === "string" && value !== "" ? value : undefined;
};

const personOptions = {
  workspace: { type: "string" },
  email: { type: "string" },
  "contact-id": { type: "string" },
  by: { type: "string" },
} as const;

function person(values: Values): { workspace: string; email?: string; contactId?: string; by?: string } {
  const email = str(values, "email");
  const contactId = str(values, "contact-id");
  if (!email === !contactId) throw new AdminError("give --email or --contact-id (one of them)");
  return { workspace: str(values, "workspace") ?? "", email, contactId, by: str(values, "by") };
}

/** Privacy commands, merged into the admin CLI's command table. */
export const PRIVACY_COMMANDS: Record<string, PrivacyCommand> = {
  "export-contact": {
    usage: "export-contact --workspace <slug> (--email <email> | --contact-id <id>) [--by <admin email>]",
    options: personOptions,
    required: ["workspace"],
    async run(db, values) {
      const exported = await exportContactCommand(adminPrivacyDb(db), person(values));
      const rows = exported.tables.reduce((sum, table) => sum + table.rows.length, 0);
      console.error(`Exported contact ${exported.contact_id}: ${rows} row(s) in ${exported.tables.length} table(s).`);
      console.log(JSON.stringify(exported, null, 2));
    },
  },
  "erase-contact": {
    usage: "erase-contact --workspace <slug> (--email <email> | --contact-id <id>) [--by <admin email>] [--confirm]",
    options: { ...personOptions, confirm: { type: "boolean" } },
    required: ["workspace"],
    async run(db, values) {
      const confirm = values.confirm === true;
      const { subject, preview, tombstoneId } = await eraseContactCommand(adminPrivacyDb(db), {
        ...person(values),
        confirm,
      });
      for (const table of preview.tables) console.error(`  ${table.table}: ${table.rows} row(s), ${table.effect}`);
      if (!tombstoneId) {
        console.error(`Dry run: erasing ${subject.contact.name} (${subject.contact.id}) would change the rows above.`);
        console.error("Run again with --confirm to erase; it cannot be undone.");
        return;
      }
      console.error(`Erased contact ${subject.contact.id}; tombstone ${tombstoneId}.`);
      if (preview.accounts.length > 0) {
        console.error(`Live usage storage of ${preview.accounts.join(", ")} is erased by the Worker's daily cron.`);
      }
      console.log(tombstoneId);
    },
  },
};
