import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { cursorArg, encodeCursor, limitArg, nextCursorField, queryFingerprint } from "../../platform/mcp/pagination";
import { claimDeadLetter, findDeadLetter, listDeadLetters, releaseDeadLetter } from "./queries/dead-letters";

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

export const manageDeadLetters = defineActionTool({
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
  examples: [
    { title: "Messages that failed", args: () => ({ action: "list" }) },
    { title: "Every dead letter, replayed ones too", args: () => ({ action: "list", status: "all" }) },
    { title: "One dead letter", args: (ids) => ({ action: "get", dead_letter_id: ids.deadLetterId }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  commonFields: ["limit"],
  actions: {
    list: { writes: false, fields: ["status", "queue", "limit", "cursor"], run: (args, ctx) => listLetters(ctx, args) },
    get: { writes: false, fields: ["dead_letter_id"], run: (args, ctx) => getLetter(ctx, args) },
    replay: { writes: true, fields: ["dead_letter_id"], run: (args, ctx) => replayLetter(ctx, args) },
  },
});

interface DeadLetterArgs {
  dead_letter_id?: string;
  status?: (typeof STATUSES)[number] | "all";
  queue?: (typeof QUEUES)[number];
  limit: number;
  cursor?: string;
}

function describe(letter: LetterSummary): string {
  return `Dead letter ${letter.id} (${letter.queue}, ${letter.message_type ?? "unknown type"}): ${letter.status} after ${letter.attempts} attempt(s)${letter.replayed_at ? `, replayed ${letter.replayed_at}` : ""}. Error: ${letter.error ?? "none recorded"}.`;
}

async function listLetters(ctx: ToolContext, args: DeadLetterArgs) {
  const status = args.status ?? "dead";
  const fingerprint = queryFingerprint(["manage_dead_letters.list", status, args.queue ?? null]);
  const rows = await listDeadLetters(
    ctx.db,
    ctx.principal.workspaceId,
    { status: status === "all" ? undefined : status, queue: args.queue },
    { limit: args.limit + 1, cursor: args.cursor, fingerprint },
  );
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

/** The dead letter an action names; refused when the id is missing or names none of this workspace. */
async function loadLetter(ctx: ToolContext, args: DeadLetterArgs & { action: string }): Promise<LetterDetail> {
  if (!args.dead_letter_id) throw new ToolError(`action ${args.action} needs \`dead_letter_id\`.`);
  const row = await findDeadLetter(ctx.db, ctx.principal.workspaceId, args.dead_letter_id);
  if (!row) throw notFound("dead letter", args.dead_letter_id);
  return row;
}

async function getLetter(ctx: ToolContext, args: DeadLetterArgs & { action: string }) {
  const letter = await loadLetter(ctx, args);
  return {
    data: { action: "get" as const, dead_letter: letter },
    text: `${describe(letter)}\nBody: ${JSON.stringify(letter.body)}`,
  };
}

async function replayLetter(ctx: ToolContext, args: DeadLetterArgs & { action: string }) {
  const letter = await loadLetter(ctx, args);
  const id = letter.id;
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
  const workspaceId = ctx.principal.workspaceId;
  // Claim first, so two concurrent replays send the message once.
  if (!(await claimDeadLetter(ctx.db, workspaceId, id, replayedAt))) {
    throw new ToolError(`Dead letter ${id} was replayed by another call just now.`);
  }
  try {
    await queue.send(letter.body);
  } catch (error) {
    await releaseDeadLetter(ctx.db, workspaceId, id, letter.updated_at);
    throw error;
  }
  const replayed = await loadLetter(ctx, args);
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
