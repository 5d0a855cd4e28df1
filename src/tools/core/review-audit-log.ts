import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { dayArg } from "../../platform/mcp/args";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { type AuditLogRow, type AuditLogValues, auditLogValues, listAuditLog } from "./queries/audit-log";

/** Days a review covers when `from` is not given. */
const DEFAULT_DAYS = 30;
/** The longest window one review reads. */
const MAX_DAYS = 366;

const entry = z.object({
  id: z.string(),
  at: z.string().describe("When it happened (ISO, UTC)."),
  user_id: z.string().nullable().describe("The user who acted; null for a workspace service key or an admin command."),
  user_email: z.string().nullable(),
  key_id: z.string().nullable().describe("The API key used, when one was."),
  tool: z.string().describe("The tool called, or admin_cli for an admin command."),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  request_id: z.string().describe("The request id, as error messages and logs name it."),
  details: z.record(z.string(), z.unknown()).nullable().describe("What the call recorded about itself."),
});

export const reviewAuditLog = defineTool({
  name: "review_audit_log",
  title: "Review the audit log",
  toolset: "core",
  description: `Who did what, for admins: the workspace's audit log (every write call, every privacy export and erasure, and admin commands), newest first (ties by id). Filter by user (email, user id or key id), tool, action and target_id; the window is from..to (UTC days, both included; to defaults to today, from to ${DEFAULT_DAYS - 1} days before to; at most ${MAX_DAYS} days). Emails, tools and actions match in any case. When nothing matches, known_values lists the users, tools and actions the window does hold. Paginated with limit and cursor.`,
  input: {
    user: z
      .string()
      .trim()
      .min(1)
      .max(254)
      .optional()
      .describe("Only this actor: an email (any case), a user id or a key id."),
    tool: z.string().trim().min(1).max(100).optional().describe("Only calls of this tool (e.g. manage_privacy)."),
    action: z.string().trim().min(1).max(100).optional().describe("Only this action (e.g. erase_contact)."),
    target_id: z.string().trim().min(1).max(200).optional().describe("Only entries about this record id."),
    from: dayArg.optional().describe(`First day YYYY-MM-DD (UTC); default ${DEFAULT_DAYS - 1} days before to.`),
    to: dayArg.optional().describe("Last day YYYY-MM-DD (UTC), included; default today."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    entries: z.array(entry).describe("One page, newest first."),
    from: z.string().describe("First day of the window."),
    to: z.string().describe("Last day of the window (included)."),
    next_cursor: nextCursorField,
    known_values: z
      .object({ users: z.array(z.string()), tools: z.array(z.string()), actions: z.array(z.string()) })
      .nullable()
      .describe("When no entry matched: the actors, tools and actions present in the window, most frequent first."),
  },
  examples: [
    { title: "The last 30 days of the audit log", args: () => ({}) },
    { title: "Privacy exports and erasures", args: () => ({ tool: "manage_privacy" }) },
    { title: "Everything done to one account", args: (ids) => ({ target_id: ids.accountId }) },
  ],
  annotations: READ_ONLY,
  minRole: "admin",
  async handler(args, ctx) {
    const to = args.to ?? isoDay(ctx.now);
    const from = args.from ?? addDays(to, -(DEFAULT_DAYS - 1));
    if (from > to) throw new ToolError(`from (${from}) is after to (${to}).`);
    if (daysBetween(from, to) >= MAX_DAYS)
      throw new ToolError(`The window spans more than ${MAX_DAYS} days; narrow from..to.`);
    const filters = {
      user: args.user?.includes("@") ? args.user.toLowerCase() : args.user,
      tool: args.tool?.toLowerCase(),
      action: args.action?.toLowerCase(),
      targetId: args.target_id,
    };
    const fingerprint = queryFingerprint(["review_audit_log", from, to, filters]);
    const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
    const lastAt = position?.k[0];
    if (position && typeof lastAt !== "string")
      throw new ToolError("Malformed `cursor`: repeat the first call without it.");
    const window = { from: `${from}T00:00:00.000Z`, to: `${addDays(to, 1)}T00:00:00.000Z` };
    const rows = await listAuditLog(ctx.env.DB, ctx.principal.workspaceId, {
      ...window,
      ...filters,
      after: position && typeof lastAt === "string" ? { createdAt: lastAt, id: position.id } : undefined,
      limit: args.limit + 1,
    });
    const page = rows.slice(0, args.limit).map(entryOf);
    const last = page.at(-1);
    const nextCursor =
      rows.length > args.limit && last ? encodeCursor({ k: [last.at], id: last.id, q: fingerprint }) : null;
    const known =
      page.length === 0 && !position ? await auditLogValues(ctx.env.DB, ctx.principal.workspaceId, window) : null;
    return {
      data: { entries: page, from, to, next_cursor: nextCursor, known_values: known },
      text: reviewText(page, { from, to, nextCursor, known }),
    };
  },
});

function entryOf(row: AuditLogRow): z.input<typeof entry> {
  return {
    id: row.id,
    at: row.created_at,
    user_id: row.actor_user_id,
    user_email: row.user_email,
    key_id: row.actor_key_id,
    tool: row.tool,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    request_id: row.request_id,
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
  };
}

function reviewText(
  page: z.input<typeof entry>[],
  facts: { from: string; to: string; nextCursor: string | null; known: AuditLogValues | null },
): string {
  const { from, to, nextCursor, known } = facts;
  if (page.length === 0) {
    const present = known
      ? ` The window holds users ${known.users.join(", ") || "none"}; tools ${known.tools.join(", ") || "none"}; actions ${known.actions.join(", ") || "none"}.`
      : "";
    return `No audit entries match from ${from} to ${to}.${present}`;
  }
  const table = markdownTable(
    ["at", "user", "tool", "action", "target", "request"],
    page.map((e) => [
      e.at,
      e.user_email ?? e.user_id ?? (e.key_id ? `key ${e.key_id}` : "admin command"),
      e.tool,
      e.action,
      e.target_id,
      e.request_id,
    ]),
  );
  return `${page.length} audit entr${page.length === 1 ? "y" : "ies"} from ${from} to ${to}, newest first${nextCursor ? "; more with next_cursor" : ""}.\n${table}`;
}
