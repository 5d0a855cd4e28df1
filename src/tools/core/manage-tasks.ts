import { z } from "zod";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { dayArg } from "../../platform/mcp/args";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { requireAccount } from "../../records/accounts";
import { readSettings } from "../../records/settings";
import { dayInTimeZone, withOverdue } from "./domain/tasks";
import { countTasks, findTask, findUser, insertTask, listTasks, updateTask } from "./queries/tasks";
import { findWorkspaceSettings } from "./queries/workspace";

const ACTIONS = ["list", "create", "complete", "reassign", "update"] as const;
const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
const STATUSES = ["open", "done", "cancelled"] as const;

const taskOutput = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  account_id: z.string().nullable(),
  account_name: z.string().nullable(),
  owner_user_id: z.string().nullable(),
  owner_email: z.string().nullable(),
  due_date: z.string().nullable().describe("YYYY-MM-DD, or null when there is no due date."),
  priority: z.enum(PRIORITIES),
  status: z.enum(STATUSES),
  source: z.string().describe("manual, or the automation that created the task."),
  created_by: z.string().nullable(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
  overdue: z.boolean().describe("Open and due before today (in the workspace time zone)."),
});

type TaskOutput = z.output<typeof taskOutput>;

export const manageTasks = defineActionTool({
  name: "manage_tasks",
  title: "Manage tasks",
  toolset: "core",
  description:
    'CSM tasks and calls-to-action, made by people or automations. action list: filter by status (default open), owner, account, due_before, overdue or source; sorted by due date (undated last) then id; paginated. create: title (required), account_id, owner (default you), due_date, priority, description. complete: marks task_id done with completed_at. reassign: gives task_id to owner (a user of this workspace). update: changes title, due_date, priority or description of task_id (null clears due_date/description). owner is a user id, an email or "me". Overdue = open and due_date before today in the workspace time zone.',
  input: {
    action: z.enum(ACTIONS).describe("list, create, complete, reassign or update."),
    task_id: z.string().min(1).max(100).optional().describe("complete/reassign/update: the task's id (tsk_…)."),
    title: z.string().trim().min(1).max(200).optional().describe("create (required)/update: what needs doing."),
    description: z
      .string()
      .max(5000)
      .nullable()
      .optional()
      .describe("create/update: details (up to 5,000 chars); null clears it on update."),
    account_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("create: the account the task is about; list: only tasks of this account."),
    owner: z
      .string()
      .min(1)
      .max(254)
      .optional()
      .describe(
        'create/reassign: who does it; list: only their tasks. A user id, an email, or "me" (the caller). create defaults to the caller.',
      ),
    due_date: dayArg.nullable().optional().describe("create/update: due day YYYY-MM-DD; null clears it on update."),
    priority: z.enum(PRIORITIES).optional().describe("create (default normal)/update: low, normal, high or urgent."),
    status: z
      .enum([...STATUSES, "all"])
      .optional()
      .describe("list: open (default), done, cancelled or all."),
    due_before: dayArg.optional().describe("list: only tasks due before this day (YYYY-MM-DD)."),
    overdue: z.boolean().optional().describe("list: true for only open tasks due before today."),
    source: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("list: only tasks from this source (manual or an automation)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    task: taskOutput.optional().describe("create/complete/reassign/update: the task as stored now."),
    tasks: z.array(taskOutput).optional().describe("list: one page of tasks."),
    totals: z
      .object({
        matching: z.number().int().describe("Tasks matching the filters, over every page."),
        overdue: z.number().int().describe("Of those, the ones open and due before today."),
      })
      .optional()
      .describe("list: counts over the whole filter, not only this page."),
    next_cursor: nextCursorField.optional(),
    today: z.string().describe("Today in the workspace time zone, the day overdue is measured against."),
  },
  examples: [
    { title: "Open tasks", args: () => ({ action: "list" }) },
    {
      title: "All of an account's tasks",
      args: (ids) => ({ action: "list", account_id: ids.accountId, status: "all" }),
    },
    { title: "Overdue tasks", args: () => ({ action: "list", overdue: true }) },
    {
      title: "Add a follow-up task",
      args: (ids) => ({ action: "create", title: "Prepare the QBR deck", account_id: ids.accountId, priority: "high" }),
    },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  commonFields: ["limit"],
  actions: {
    list: {
      writes: false,
      fields: ["status", "owner", "account_id", "due_before", "overdue", "source", "limit", "cursor"],
      run: (args, ctx) => listTaskPage(ctx, args),
    },
    create: {
      writes: true,
      fields: ["title", "account_id", "owner", "due_date", "priority", "description"],
      run: async (args, ctx) => createTask(ctx, await workspaceToday(ctx), args),
    },
    complete: {
      writes: true,
      fields: ["task_id"],
      run: async (args, ctx) => changeTask(ctx, await workspaceToday(ctx), "complete", args),
    },
    reassign: {
      writes: true,
      fields: ["task_id", "owner"],
      run: async (args, ctx) => changeTask(ctx, await workspaceToday(ctx), "reassign", args),
    },
    update: {
      writes: true,
      fields: ["task_id", "title", "due_date", "priority", "description"],
      run: async (args, ctx) => changeTask(ctx, await workspaceToday(ctx), "update", args),
    },
  },
});

interface TaskArgs {
  task_id?: string;
  title?: string;
  description?: string | null;
  account_id?: string;
  owner?: string;
  due_date?: string | null;
  priority?: (typeof PRIORITIES)[number];
  status?: (typeof STATUSES)[number] | "all";
  due_before?: string;
  overdue?: boolean;
  source?: string;
  limit: number;
  cursor?: string;
}

/** Today's date in the workspace time zone (UTC when the zone is unknown to the runtime). */
async function workspaceToday(ctx: ToolContext): Promise<string> {
  const workspace = await findWorkspaceSettings(ctx.db, ctx.principal.workspaceId);
  const { timezone } = readSettings(workspace?.settings);
  return dayInTimeZone(ctx.now, timezone);
}

/** Resolves an owner reference (user id, email or "me") to an active user of the workspace. */
async function resolveOwner(ctx: ToolContext, reference: string): Promise<{ id: string; email: string }> {
  let match: { id: string } | { email: string };
  if (reference === "me") {
    if (!ctx.principal.userId) {
      throw new ToolError(
        '"me" needs a credential that belongs to a user; this is a workspace service key. Name the owner.',
      );
    }
    match = { id: ctx.principal.userId };
  } else if (reference.includes("@")) {
    match = { email: reference.trim().toLowerCase() };
  } else {
    match = { id: reference };
  }
  const user = await findUser(ctx.db, ctx.principal.workspaceId, match);
  if (!user) throw notFound("user", reference);
  if (user.disabledAt) throw new ToolError(`User ${user.email} is disabled; choose an active user.`);
  return { id: user.id, email: user.email };
}

async function loadTask(ctx: ToolContext, taskId: string, today: string): Promise<TaskOutput> {
  const row = await findTask(ctx.db, ctx.principal.workspaceId, taskId);
  if (!row) throw notFound("task", taskId);
  return withOverdue(row, today);
}

async function listTaskPage(ctx: ToolContext, args: TaskArgs) {
  const status = args.overdue ? "open" : (args.status ?? "open");
  if (args.overdue && args.status && args.status !== "open") {
    throw new ToolError("overdue lists open tasks only; leave status out or set it to open.");
  }
  // Today, the owner and the account are looked up side by side; failures are reported in that order.
  const [todayLookup, ownerLookup, accountLookup] = await Promise.allSettled([
    workspaceToday(ctx),
    args.owner ? resolveOwner(ctx, args.owner) : null,
    args.account_id ? requireAccount(ctx.env.DB, ctx.principal.workspaceId, args.account_id) : undefined,
  ]);
  for (const lookup of [todayLookup, ownerLookup, accountLookup]) if (lookup.status === "rejected") throw lookup.reason;
  const today = (todayLookup as PromiseFulfilledResult<string>).value;
  const owner = (ownerLookup as PromiseFulfilledResult<{ id: string; email: string } | null>).value;
  const fingerprint = queryFingerprint([
    "manage_tasks.list",
    status,
    owner?.id ?? null,
    args.account_id ?? null,
    args.source ?? null,
    args.due_before ?? null,
    args.overdue ? today : null,
  ]);
  const cursor = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const filters = {
    status: status === "all" ? undefined : status,
    ownerUserId: owner?.id,
    accountId: args.account_id,
    source: args.source,
    dueBefore: args.due_before,
    overdueOn: args.overdue ? today : undefined,
  };
  const [rows, totals] = await Promise.all([
    listTasks(ctx.db, ctx.principal.workspaceId, filters, {
      limit: args.limit + 1,
      position: cursor && { dueDate: typeof cursor.k[0] === "string" ? cursor.k[0] : null, id: cursor.id },
    }),
    countTasks(ctx.db, ctx.principal.workspaceId, filters, today),
  ]);
  const page = rows.slice(0, args.limit).map((row) => withOverdue(row, today));
  const last = page.at(-1);
  const nextCursor =
    rows.length > args.limit && last ? encodeCursor({ k: [last.due_date], id: last.id, q: fingerprint }) : null;
  return {
    data: { action: "list" as const, tasks: page, totals, next_cursor: nextCursor, today },
    text: listText(page, { status, owner, today, nextCursor, totals }),
  };
}

function listText(
  page: TaskOutput[],
  facts: {
    status: string;
    owner: { email: string } | null;
    today: string;
    nextCursor: string | null;
    totals: { matching: number; overdue: number };
  },
): string {
  const { status, owner, today, nextCursor, totals } = facts;
  const summary = `${totals.matching} ${status === "all" ? "" : `${status} `}task(s)${owner ? ` of ${owner.email}` : ""} match, ${totals.overdue} of them overdue (today ${today}); ${page.length} on this page${nextCursor ? ", more with next_cursor" : ""}.`;
  const table =
    page.length > 0
      ? `\n${markdownTable(
          ["id", "due", "priority", "status", "owner", "account", "title"],
          page.map((task) => [
            task.id,
            task.overdue ? `${task.due_date} (overdue)` : task.due_date,
            task.priority,
            task.status,
            task.owner_email,
            task.account_name,
            task.title,
          ]),
        )}`
      : "";
  return `${summary}${table}`;
}

async function createTask(ctx: ToolContext, today: string, args: TaskArgs) {
  if (!args.title) throw new ToolError("action create needs `title`.");
  if (args.account_id) await requireAccount(ctx.env.DB, ctx.principal.workspaceId, args.account_id);
  const owner = args.owner ? await resolveOwner(ctx, args.owner) : null;
  const id = newId("tsk");
  await insertTask(ctx.db, ctx.principal.workspaceId, {
    id,
    accountId: args.account_id ?? null,
    title: args.title,
    description: args.description ?? null,
    ownerUserId: owner?.id ?? ctx.principal.userId,
    dueDate: args.due_date ?? null,
    priority: args.priority ?? "normal",
    source: "manual",
    createdBy: ctx.principal.userId,
  });
  const task = await loadTask(ctx, id, today);
  ctx.audit({
    action: "create",
    targetType: "task",
    targetId: id,
    details: { account_id: task.account_id, owner_user_id: task.owner_user_id, due_date: task.due_date },
  });
  return {
    data: { action: "create" as const, task, today },
    text: `Created task ${id} "${task.title}" for ${task.owner_email ?? "nobody"}${task.due_date ? `, due ${task.due_date}` : ""}${task.account_name ? ` on ${task.account_name}` : ""}.`,
  };
}

async function changeTask(ctx: ToolContext, today: string, action: "complete" | "reassign" | "update", args: TaskArgs) {
  if (!args.task_id) throw new ToolError(`action ${action} needs \`task_id\`.`);
  const before = await loadTask(ctx, args.task_id, today);
  const ws = ctx.principal.workspaceId;
  let details: Record<string, unknown>;
  let done: string;
  if (action === "complete") {
    if (before.status === "cancelled") throw new ToolError(`Task ${before.id} was cancelled; it cannot be completed.`);
    if (before.status === "done") {
      details = { already_done: true };
      done = `Task ${before.id} was already completed at ${before.completed_at}.`;
    } else {
      await updateTask(ctx.db, ws, before.id, { status: "done", completedAt: ctx.now.toISOString() });
      details = { status: "done" };
      done = `Completed task ${before.id} "${before.title}".`;
    }
  } else if (action === "reassign") {
    if (!args.owner) throw new ToolError('action reassign needs `owner`: a user id, an email or "me".');
    const owner = await resolveOwner(ctx, args.owner);
    await updateTask(ctx.db, ws, before.id, { ownerUserId: owner.id });
    details = { from: before.owner_user_id, to: owner.id };
    done = `Reassigned task ${before.id} from ${before.owner_email ?? "nobody"} to ${owner.email}.`;
  } else {
    const { changes, fields } = taskChanges(args);
    if (fields.length === 0) {
      throw new ToolError("action update needs at least one of `title`, `due_date`, `priority`, `description`.");
    }
    await updateTask(ctx.db, ws, before.id, changes);
    details = { fields };
    done = `Updated task ${before.id}: ${fields.join(", ")}.`;
  }
  const task = await loadTask(ctx, before.id, today);
  ctx.audit({ action, targetType: "task", targetId: task.id, details });
  return { data: { action, task, today }, text: done };
}

/** The columns an update sets from the fields given, and those fields' names in input order. */
function taskChanges(args: TaskArgs): { changes: Parameters<typeof updateTask>[3]; fields: string[] } {
  const changes: Parameters<typeof updateTask>[3] = {};
  const fields: string[] = [];
  if (args.title !== undefined) {
    changes.title = args.title;
    fields.push("title");
  }
  if (args.due_date !== undefined) {
    changes.dueDate = args.due_date;
    fields.push("due_date");
  }
  if (args.priority !== undefined) {
    changes.priority = args.priority;
    fields.push("priority");
  }
  if (args.description !== undefined) {
    changes.description = args.description;
    fields.push("description");
  }
  return { changes, fields };
}
