import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { newestFirstAfter } from "../../platform/db/keyset";
import { markdownTable } from "../../platform/lib/markdown-table";
import { refuseMisplacedFields } from "../../platform/mcp/action-fields";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { cursorArg, encodeCursor, limitArg, nextCursorField, queryFingerprint } from "../../platform/mcp/pagination";
import { deadLetters } from "../../schema";

const ACTIONS = ["list", "get", "replay"] as const;
const STATUSES = ["retrying", "dead", "replayed"] as const;
const QUEUES = ["cs-events", "cs-jobs"] as const;

const letterSummary = z.object({
  id: z.string(),
  queue: z.string().describe("The queue the message failed on: cs-events (webhook events) or cs-jobs (email, alerts)."),
  message_id: z.string(),
  message_type: z.string().nullable().describe("The message's type (webhook, send_email, slack_alert, …)."),
  status: z
    .enum(STATUSES)
    .describe("retrying: the queue still retries it; dead: retries ran out; replayed: sent to its queue again."),
  attempts: z.number().describe("Delivery attempts made."),
  error: z.string().nullable().describe("The latest error the message failed with."),
  created_at: z.string(),
  updated_at: z.string(),
  replayed_at: z.string().nullable(),
});

const letterDetail = letterSummary.extend({
  body: z.unknown().describe("The message body as it was queued (references and ids; payloads stay in D1)."),
});

type LetterSummary = z.output<typeof letterSummary>;
type LetterDetail = z.output<typeof letterDetail>;

const summaryColumns = {
  id: deadLetters.id,
  queue: deadLetters.queue,
  message_id: deadLetters.messageId,
  message_type: sql<string | null>`json_extract(${deadLetters.body}, '$.type')`,
  status: deadLetters.status,
  attempts: deadLetters.attempts,
  error: deadLetters.error,
  created_at: deadLetters.createdAt,
  updated_at: deadLetters.updatedAt,
  replayed_at: deadLetters.replayedAt,
};

export const manageDeadLetters = defineTool({
  name: "manage_dead_letters",
  title: "Manage dead letters",
  toolset: "core",
  description:
    "Queue messages that failed (webhook events, email sends, Slack alerts), with the error they failed with. action list: this workspace's failed messages, newest first; status dead (default: retries exhausted), retrying (still being retried), replayed, or all; optionally one queue; paginated. get: one dead letter with its message body. replay: sends a dead letter's body to its queue again (once the cause is fixed) and marks it replayed; only status dead can be replayed. If the replay fails again it comes back as a new dead letter.",
  input: {
    action: z.enum(ACTIONS).describe("list, get or replay."),
    dead_letter_id: z.string().min(1).max(100).optional().describe("get/replay: the dead letter's id (dlq_…)."),
    status: z
      .enum([...STATUSES, "all"])
      .optional()
      .describe("list: dead (default), retrying, replayed or all."),
    queue: z.enum(QUEUES).optional().describe("list: only messages of this queue."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    dead_letters: z.array(letterSummary).optional().describe("list: one page, newest first."),
    next_cursor: nextCursorField.optional(),
    dead_letter: letterDetail.optional().describe("get/replay: the dead letter as stored now."),
  },
  minRole: "admin",
  actions: { list: { writes: false }, get: { writes: false }, replay: { writes: true } },
  examples: [
    { title: "Messages that failed", args: () => ({ action: "list" }) },
    { title: "Every dead letter, replayed ones too", args: () => ({ action: "list", status: "all" }) },
    { title: "One dead letter", args: (ids) => ({ action: "get", dead_letter_id: ids.deadLetterId }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, ctx) {
    refuseMisplacedFields(args, FIELDS[args.action], ["limit"]);
    if (args.action === "list") return listLetters(ctx, args);
    if (!args.dead_letter_id) throw new ToolError(`action ${args.action} needs \`dead_letter_id\`.`);
    if (args.action === "get") {
      const letter = await loadLetter(ctx, args.dead_letter_id);
      return {
        data: { action: "get" as const, dead_letter: letter },
        text: `${describe(letter)}\nBody: ${JSON.stringify(letter.body)}`,
      };
    }
    return replayLetter(ctx, args.dead_letter_id);
  },
});

interface DeadLetterArgs {
  dead_letter_id?: string;
  status?: (typeof STATUSES)[number] | "all";
  queue?: (typeof QUEUES)[number];
  limit: number;
  cursor?: string;
}

/** The fields each action reads; any other field given is refused so a mistake is not silently ignored. */
const FIELDS: Record<(typeof ACTIONS)[number], (keyof DeadLetterArgs)[]> = {
  list: ["status", "queue", "limit", "cursor"],
  get: ["dead_letter_id"],
  replay: ["dead_letter_id"],
};

function describe(letter: LetterSummary): string {
  return `Dead letter ${letter.id} (${letter.queue}, ${letter.message_type ?? "unknown type"}): ${letter.status} after ${letter.attempts} attempt(s)${letter.replayed_at ? `, replayed ${letter.replayed_at}` : ""}. Error: ${letter.error ?? "none recorded"}.`;
}

async function listLetters(ctx: ToolContext, args: DeadLetterArgs) {
  const status = args.status ?? "dead";
  const filters: SQL[] = [eq(deadLetters.workspaceId, ctx.principal.workspaceId)];
  if (status !== "all") filters.push(eq(deadLetters.status, status));
  if (args.queue) filters.push(eq(deadLetters.queue, args.queue));
  const fingerprint = queryFingerprint(["manage_dead_letters.list", status, args.queue ?? null]);
  if (args.cursor) filters.push(newestFirstAfter(args.cursor, fingerprint, deadLetters.createdAt, deadLetters.id));
  const rows = await ctx.db
    .select(summaryColumns)
    .from(deadLetters)
    .where(and(...filters))
    .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
    .limit(args.limit + 1);
  const page: LetterSummary[] = rows.slice(0, args.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > args.limit && last ? encodeCursor({ k: [last.created_at], id: last.id, q: fingerprint }) : null;
  const table =
    page.length > 0
      ? `\n${markdownTable(
          ["id", "queue", "type", "status", "attempts", "created", "error"],
          page.map((l) => [l.id, l.queue, l.message_type, l.status, l.attempts, l.created_at, l.error]),
        )}`
      : "";
  return {
    data: { action: "list" as const, dead_letters: page, next_cursor: nextCursor },
    text: `${page.length} ${status === "all" ? "" : `${status} `}message(s) on this page${nextCursor ? "; more with next_cursor" : ""}.${table}`,
  };
}

async function loadLetter(ctx: ToolContext, id: string): Promise<LetterDetail> {
  const [row] = await ctx.db
    .select({ ...summaryColumns, body: deadLetters.body })
    .from(deadLetters)
    .where(and(eq(deadLetters.workspaceId, ctx.principal.workspaceId), eq(deadLetters.id, id)));
  if (!row) throw notFound("dead letter", id);
  return row;
}

async function replayLetter(ctx: ToolContext, id: string) {
  const letter = await loadLetter(ctx, id);
  if (letter.status !== "dead") {
    throw new ToolError(
      letter.status === "retrying"
        ? `Dead letter ${id} is still being retried by ${letter.queue}; only dead letters can be replayed.`
        : `Dead letter ${id} was already replayed at ${letter.replayed_at}; a failed replay comes back as a new dead letter.`,
    );
  }
  const queue =
    letter.queue === "cs-events" ? ctx.env.EVENTS_QUEUE : letter.queue === "cs-jobs" ? ctx.env.JOBS_QUEUE : null;
  if (!queue) throw new ToolError(`Dead letter ${id} came from queue ${letter.queue}, which cannot be replayed.`);
  const replayedAt = ctx.now.toISOString();
  const owned = and(eq(deadLetters.workspaceId, ctx.principal.workspaceId), eq(deadLetters.id, id));
  // Claim first, so two concurrent replays send the message once.
  const claimed = await ctx.db
    .update(deadLetters)
    .set({ status: "replayed", replayedAt, updatedAt: replayedAt })
    .where(and(owned, eq(deadLetters.status, "dead")))
    .returning({ id: deadLetters.id });
  if (claimed.length === 0) throw new ToolError(`Dead letter ${id} was replayed by another call just now.`);
  try {
    await queue.send(letter.body);
  } catch (error) {
    await ctx.db
      .update(deadLetters)
      .set({ status: "dead", replayedAt: null, updatedAt: letter.updated_at })
      .where(and(owned, eq(deadLetters.status, "replayed")));
    throw error;
  }
  const replayed = await loadLetter(ctx, id);
  ctx.audit({
    action: "replay",
    targetType: "dead_letter",
    targetId: id,
    details: { queue: letter.queue, message_id: letter.message_id, message_type: letter.message_type },
  });
  return {
    data: { action: "replay" as const, dead_letter: replayed },
    text: `Replayed dead letter ${id}: its ${letter.message_type ?? "message"} was sent to ${letter.queue} again. If it fails again it appears as a new dead letter.`,
  };
}
