import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { dayArg } from "../../platform/mcp/args";
import { defineTool, READ_ONLY, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { cursorArg, encodeCursor, limitArg, nextCursorField, queryFingerprint } from "../../platform/mcp/pagination";
import { requireAccount } from "../../records/accounts";
import { findContactAccount } from "../../records/contacts";
import { findOutboxMessage, listOutboxMessages } from "./queries/outbox";

const STATUSES = ["queued", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed"] as const;
const EVENTS = [
  "queued",
  "attempt_failed",
  "sent",
  "delivered",
  "opened",
  "clicked",
  "bounced",
  "failed",
  "suppressed",
] as const;

const messageSummary = z.object({
  id: z.string(),
  to_email: z.string(),
  subject: z.string().describe("The subject as rendered and sent."),
  status: z.enum(STATUSES),
  provider: z.string().describe("outbox (kept here, not sent out) or sendgrid."),
  origin: z.string().describe("What made it: manual, reminder, campaign:<id>, …"),
  account_id: z.string().nullable(),
  contact_id: z.string().nullable(),
  attempts: z.number().describe("Send attempts made."),
  error: z
    .string()
    .nullable()
    .describe("Why it was not sent (suppression, quota, provider refusal) or the last retried error."),
  provider_message_id: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
  opened_at: z.string().nullable(),
  clicked_at: z.string().nullable(),
});

const messageDetail = messageSummary.extend({
  body_text: z.string().describe("The plain-text body as rendered by us."),
  body_html: z.string().nullable().describe("The HTML body as rendered by us; null for text-only mail."),
  events: z
    .array(
      z.object({
        event: z.enum(EVENTS),
        at: z.string().nullable().describe("When it happened; null when only the outcome is recorded."),
        detail: z.string().nullable(),
      }),
    )
    .describe("Delivery history from queueing to the latest provider event, oldest first."),
});

type MessageSummary = z.output<typeof messageSummary>;
type MessageDetail = z.output<typeof messageDetail>;

export const listOutbox = defineTool({
  name: "list_outbox",
  title: "List outbound email",
  toolset: "core",
  description:
    "Outbound email of this workspace as stored in the outbox: what was rendered, to whom, and what became of it (queued, sent, delivered, opened, clicked, bounced, failed, suppressed). Without message_id: a page of messages, newest first, filtered by status, account_id, contact_id, origin and created day (since/until, UTC, inclusive); bodies are left out. With message_id: that one message in full, with its rendered text and HTML bodies and its delivery events. Bodies are what we rendered and sent; replies from customers are not stored on outbox messages (inbound email is an activity on the account timeline).",
  input: {
    message_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("An outbox message id (eml_…): returns that message in full; no other filter may be given with it."),
    status: z.enum(STATUSES).optional().describe("Only messages with this status."),
    account_id: z.string().min(1).max(100).optional().describe("Only messages about this account."),
    contact_id: z.string().min(1).max(100).optional().describe("Only messages to this contact."),
    origin: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("Only messages from this origin (manual, reminder, campaign:<id>, …)."),
    since: dayArg.optional().describe("Only messages created on or after this day (YYYY-MM-DD, UTC)."),
    until: dayArg.optional().describe("Only messages created on or before this day (YYYY-MM-DD, UTC)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    messages: z.array(messageSummary).optional().describe("Without message_id: one page of messages, newest first."),
    next_cursor: nextCursorField.optional(),
    message: messageDetail.optional().describe("With message_id: the message in full."),
  },
  examples: [
    { title: "Latest outbound emails", args: () => ({}) },
    { title: "One email and its delivery", args: (ids) => ({ message_id: ids.outboxMessageId }) },
    { title: "An account's queued emails", args: (ids) => ({ account_id: ids.accountId, status: "queued" }) },
  ],
  annotations: READ_ONLY,
  async handler(args, ctx) {
    if (args.message_id !== undefined) {
      const filters = (["status", "account_id", "contact_id", "origin", "since", "until", "cursor"] as const).filter(
        (field) => args[field] !== undefined,
      );
      if (filters.length > 0) {
        throw new ToolError(`message_id reads one message; leave out ${filters.join(", ")}.`);
      }
      return showMessage(ctx, args.message_id);
    }
    return listMessages(ctx, args);
  },
});

interface ListArgs {
  status?: (typeof STATUSES)[number];
  account_id?: string;
  contact_id?: string;
  origin?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

async function listMessages(ctx: ToolContext, args: ListArgs) {
  const workspaceId = ctx.principal.workspaceId;
  if (args.since && args.until && args.since > args.until) {
    throw new ToolError("since must be on or before until.");
  }
  if (args.account_id) await requireAccount(ctx.env.DB, workspaceId, args.account_id);
  if (args.contact_id && !(await findContactAccount(ctx.env.DB, workspaceId, args.contact_id))) {
    throw notFound("contact", args.contact_id);
  }
  const fingerprint = queryFingerprint([
    "list_outbox",
    args.status ?? null,
    args.account_id ?? null,
    args.contact_id ?? null,
    args.origin ?? null,
    args.since ?? null,
    args.until ?? null,
  ]);
  const { cursor, limit, ...filters } = args;
  const rows = await listOutboxMessages(ctx.db, workspaceId, filters, { limit: limit + 1, cursor, fingerprint });
  const page: MessageSummary[] = rows.slice(0, args.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > args.limit && last ? encodeCursor({ k: [last.created_at], id: last.id, q: fingerprint }) : null;
  const table =
    page.length > 0
      ? `\n${markdownTable(
          ["id", "created", "status", "to", "subject", "origin"],
          page.map((m) => [m.id, m.created_at, m.status, m.to_email, m.subject, m.origin]),
        )}`
      : "";
  return {
    data: { messages: page, next_cursor: nextCursor },
    text: `${page.length} outbound message(s) on this page, newest first${nextCursor ? "; more with next_cursor" : ""}.${table}`,
  };
}

async function showMessage(ctx: ToolContext, messageId: string) {
  const row = await findOutboxMessage(ctx.db, ctx.principal.workspaceId, messageId);
  if (!row) throw notFound("outbox message", messageId);
  const message: MessageDetail = { ...row, events: deliveryEvents(row) };
  const history = message.events.map((e) => `${e.event}${e.at ? ` ${e.at}` : ""}`).join(" → ");
  return {
    data: { message },
    text: `Email ${message.id} to ${message.to_email}, "${message.subject}" (${message.origin}, via ${message.provider}): ${history}.\n\n${message.body_text}`,
  };
}

/** The delivery history the row records: timed steps, then the latest outcome when it has no time of its own. */
function deliveryEvents(row: MessageSummary): MessageDetail["events"] {
  const events: MessageDetail["events"] = [{ event: "queued", at: row.created_at, detail: `by ${row.origin}` }];
  if (row.status === "queued" && row.error) {
    events.push({ event: "attempt_failed", at: null, detail: `${row.error} (${row.attempts} attempt(s))` });
  }
  if (row.sent_at) {
    events.push({
      event: "sent",
      at: row.sent_at,
      detail: `via ${row.provider}${row.provider_message_id ? ` as ${row.provider_message_id}` : ""}`,
    });
  }
  // Opens and clicks imply delivery; the provider's delivery time itself is not stored.
  if (row.status === "delivered" || row.status === "opened" || row.status === "clicked") {
    events.push({ event: "delivered", at: null, detail: null });
  }
  if (row.opened_at) events.push({ event: "opened", at: row.opened_at, detail: null });
  if (row.clicked_at) events.push({ event: "clicked", at: row.clicked_at, detail: null });
  if (row.status === "bounced" || row.status === "failed" || row.status === "suppressed") {
    events.push({ event: row.status, at: null, detail: row.error });
  }
  return events;
}
