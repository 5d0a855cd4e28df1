import { and, asc, eq, gt, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { refuseMisplacedFields } from "../../platform/mcp/action-fields";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { readSettings } from "../../records/settings";
import { accounts, tasks, users, workspaces } from "../../schema";

const ACTIONS = ["list", "create", "complete", "reassign", "update"] as const;
const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
const STATUSES = ["open", "done", "cancelled"] as const;

const dayArg = z.iso.date("use a date written YYYY-MM-DD");

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

export const manageTasks = defineTool({
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
    next_cursor: nextCursorField.optional(),
    today: z.string().describe("Today in the workspace time zone, the day overdue is measured against."),
  },
  actions: {
    list: { writes: false },
    create: { writes: true },
    complete: { writes: true },
    reassign: { writes: true },
    update: { writes: true },
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
  async handler(args, ctx) {
    refuseMisplacedFields(args, FIELDS_BY_ACTION[args.action], ["limit"]);
    if (args.action === "list") return listTasks(ctx, args);
    const today = await workspaceToday(ctx);
    return args.action === "create" ? createTask(ctx, today, args) : changeTask(ctx, today, args.action, args);
  },
});

/** The fields each action reads; any other field given is refused so a mistake is not silently ignored. */
const FIELDS_BY_ACTION: Record<(typeof ACTIONS)[number], (keyof TaskArgs)[]> = {
  list: ["status", "owner", "account_id", "due_before", "overdue", "source", "limit", "cursor"],
  create: ["title", "account_id", "owner", "due_date", "priority", "description"],
  complete: ["task_id"],
  reassign: ["task_id", "owner"],
  update: ["task_id", "title", "due_date", "priority", "description"],
};

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
  const [workspace] = await ctx.db
    .select({ settings: workspaces.settings })
    .from(workspaces)
    .where(eq(workspaces.id, ctx.principal.workspaceId));
  const { timezone } = readSettings(workspace?.settings);
  try {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(ctx.now);
  } catch {
    return ctx.now.toISOString().slice(0, 10);
  }
}

/** Resolves an owner reference (user id, email or "me") to an active user of the workspace. */
async function resolveOwner(ctx: ToolContext, reference: string): Promise<{ id: string; email: string }> {
  let match: SQL;
  if (reference === "me") {
    if (!ctx.principal.userId) {
      throw new ToolError(
        '"me" needs a credential that belongs to a user; this is a workspace service key. Name the owner.',
      );
    }
    match = eq(users.id, ctx.principal.userId);
  } else if (reference.includes("@")) {
    match = sql`lower(${users.email}) = ${reference.trim().toLowerCase()}`;
  } else {
    match = eq(users.id, reference);
  }
  const [user] = await ctx.db
    .select({ id: users.id, email: users.email, disabledAt: users.disabledAt })
    .from(users)
    .where(and(eq(users.workspaceId, ctx.principal.workspaceId), match));
  if (!user) throw notFound("user", reference);
  if (user.disabledAt) throw new ToolError(`User ${user.email} is disabled; choose an active user.`);
  return { id: user.id, email: user.email };
}

async function requireAccount(ctx: ToolContext, accountId: string): Promise<void> {
  const [account] = await ctx.db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(eq(accounts.workspaceId, ctx.principal.workspaceId), eq(accounts.id, accountId)));
  if (!account) throw notFound("account", accountId);
}

const taskColumns = {
  id: tasks.id,
  title: tasks.title,
  description: tasks.description,
  account_id: tasks.accountId,
  account_name: accounts.name,
  owner_user_id: tasks.ownerUserId,
  owner_email: users.email,
  due_date: tasks.dueDate,
  priority: tasks.priority,
  status: tasks.status,
  source: tasks.source,
  created_by: tasks.createdBy,
  created_at: tasks.createdAt,
  completed_at: tasks.completedAt,
};

/** Tasks with their account name and owner email, joined within the workspace. */
function selectTasks(ctx: ToolContext) {
  const workspaceId = ctx.principal.workspaceId;
  return ctx.db
    .select(taskColumns)
    .from(tasks)
    .leftJoin(accounts, and(eq(accounts.workspaceId, workspaceId), eq(accounts.id, tasks.accountId)))
    .leftJoin(users, and(eq(users.workspaceId, workspaceId), eq(users.id, tasks.ownerUserId)));
}

type TaskRow = Omit<TaskOutput, "overdue">;

function withOverdue(row: TaskRow, today: string): TaskOutput {
  return { ...row, overdue: row.status === "open" && row.due_date !== null && row.due_date < today };
}

async function loadTask(ctx: ToolContext, taskId: string, today: string): Promise<TaskOutput> {
  const [row] = await selectTasks(ctx).where(
    and(eq(tasks.workspaceId, ctx.principal.workspaceId), eq(tasks.id, taskId)),
  );
  if (!row) throw notFound("task", taskId);
  return withOverdue(row, today);
}

async function listTasks(ctx: ToolContext, args: TaskArgs) {
  const status = args.overdue ? "open" : (args.status ?? "open");
  if (args.overdue && args.status && args.status !== "open") {
    throw new ToolError("overdue lists open tasks only; leave status out or set it to open.");
  }
  // Today, the owner and the account are looked up side by side; failures are reported in that order.
  const [todayLookup, ownerLookup, accountLookup] = await Promise.allSettled([
    workspaceToday(ctx),
    args.owner ? resolveOwner(ctx, args.owner) : null,
    args.account_id ? requireAccount(ctx, args.account_id) : undefined,
  ]);
  for (const lookup of [todayLookup, ownerLookup, accountLookup]) if (lookup.status === "rejected") throw lookup.reason;
  const today = (todayLookup as PromiseFulfilledResult<string>).value;
  const owner = (ownerLookup as PromiseFulfilledResult<{ id: string; email: string } | null>).value;
  const filters: SQL[] = [eq(tasks.workspaceId, ctx.principal.workspaceId)];
  if (status !== "all") filters.push(eq(tasks.status, status));
  if (owner) filters.push(eq(tasks.ownerUserId, owner.id));
  if (args.account_id) filters.push(eq(tasks.accountId, args.account_id));
  if (args.source) filters.push(eq(tasks.source, args.source));
  if (args.due_before) filters.push(lt(tasks.dueDate, args.due_before));
  if (args.overdue) filters.push(lt(tasks.dueDate, today));
  const fingerprint = queryFingerprint([
    "manage_tasks.list",
    status,
    owner?.id ?? null,
    args.account_id ?? null,
    args.source ?? null,
    args.due_before ?? null,
    args.overdue ? today : null,
  ]);
  // Dated tasks come first (by due date, then id), then undated ones (by id). Each run is read
  // on its own so the (workspace, status, due_date) index serves the order and the limit.
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const positionDue = position?.k[0];
  const inUndatedRun = position !== null && typeof positionDue !== "string";
  const dated = inUndatedRun
    ? []
    : await selectTasks(ctx)
        .where(
          and(
            ...filters,
            isNotNull(tasks.dueDate),
            position && typeof positionDue === "string"
              ? or(gt(tasks.dueDate, positionDue), and(eq(tasks.dueDate, positionDue), gt(tasks.id, position.id)))
              : undefined,
          ),
        )
        .orderBy(asc(tasks.dueDate), asc(tasks.id))
        .limit(args.limit + 1);
  const room = args.limit + 1 - dated.length;
  const undated =
    room > 0 && !args.overdue && !args.due_before
      ? await selectTasks(ctx)
          .where(
            and(...filters, isNull(tasks.dueDate), inUndatedRun && position ? gt(tasks.id, position.id) : undefined),
          )
          .orderBy(asc(tasks.id))
          .limit(room)
      : [];
  const rows = [...dated, ...undated];
  const page = rows.slice(0, args.limit).map((row) => withOverdue(row, today));
  const last = page.at(-1);
  const nextCursor =
    rows.length > args.limit && last ? encodeCursor({ k: [last.due_date], id: last.id, q: fingerprint }) : null;
  const overdueCount = page.filter((task) => task.overdue).length;
  const summary = `${page.length} ${status === "all" ? "" : `${status} `}task(s)${owner ? ` of ${owner.email}` : ""} on this page, ${overdueCount} overdue (today ${today})${nextCursor ? "; more with next_cursor" : ""}.`;
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
  return {
    data: { action: "list" as const, tasks: page, next_cursor: nextCursor, today },
    text: `${summary}${table}`,
  };
}

async function createTask(ctx: ToolContext, today: string, args: TaskArgs) {
  if (!args.title) throw new ToolError("action create needs `title`.");
  if (args.account_id) await requireAccount(ctx, args.account_id);
  const owner = args.owner ? await resolveOwner(ctx, args.owner) : null;
  const id = newId("tsk");
  await ctx.db.insert(tasks).values({
    id,
    workspaceId: ctx.principal.workspaceId,
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
  const where = and(eq(tasks.workspaceId, ctx.principal.workspaceId), eq(tasks.id, before.id));
  let details: Record<string, unknown>;
  let done: string;
  if (action === "complete") {
    if (before.status === "cancelled") throw new ToolError(`Task ${before.id} was cancelled; it cannot be completed.`);
    if (before.status === "done") {
      details = { already_done: true };
      done = `Task ${before.id} was already completed at ${before.completed_at}.`;
    } else {
      await ctx.db.update(tasks).set({ status: "done", completedAt: ctx.now.toISOString() }).where(where);
      details = { status: "done" };
      done = `Completed task ${before.id} "${before.title}".`;
    }
  } else if (action === "reassign") {
    if (!args.owner) throw new ToolError('action reassign needs `owner`: a user id, an email or "me".');
    const owner = await resolveOwner(ctx, args.owner);
    await ctx.db.update(tasks).set({ ownerUserId: owner.id }).where(where);
    details = { from: before.owner_user_id, to: owner.id };
    done = `Reassigned task ${before.id} from ${before.owner_email ?? "nobody"} to ${owner.email}.`;
  } else {
    const changes: Partial<typeof tasks.$inferInsert> = {};
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
    if (fields.length === 0) {
      throw new ToolError("action update needs at least one of `title`, `due_date`, `priority`, `description`.");
    }
    await ctx.db.update(tasks).set(changes).where(where);
    details = { fields };
    done = `Updated task ${before.id}: ${fields.join(", ")}.`;
  }
  const task = await loadTask(ctx, before.id, today);
  ctx.audit({ action, targetType: "task", targetId: task.id, details });
  return { data: { action, task, today }, text: done };
}
