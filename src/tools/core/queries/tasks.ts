import { and, asc, eq, gt, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../../platform/db/client";
import { clock } from "../../../platform/lib/clock";
import { accounts, tasks, users } from "../../../schema";

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

/** A task with its account's name and its owner's email. */
export interface TaskRow {
  id: string;
  title: string;
  description: string | null;
  account_id: string | null;
  account_name: string | null;
  owner_user_id: string | null;
  owner_email: string | null;
  due_date: string | null;
  priority: (typeof tasks.$inferSelect)["priority"];
  status: (typeof tasks.$inferSelect)["status"];
  source: string;
  created_by: string | null;
  created_at: string;
  completed_at: string | null;
}

/** Tasks with their account name and owner email, joined within the workspace. */
function selectTasks(db: Db, workspaceId: string) {
  return db
    .select(taskColumns)
    .from(tasks)
    .leftJoin(accounts, and(eq(accounts.workspaceId, workspaceId), eq(accounts.id, tasks.accountId)))
    .leftJoin(users, and(eq(users.workspaceId, workspaceId), eq(users.id, tasks.ownerUserId)));
}

/** One task of the workspace, or null. */
export async function findTask(db: Db, workspaceId: string, taskId: string): Promise<TaskRow | null> {
  const [row] = await selectTasks(db, workspaceId).where(and(eq(tasks.workspaceId, workspaceId), eq(tasks.id, taskId)));
  return row ?? null;
}

/** Filters of a task listing; each one given narrows it. */
export interface TaskFilters {
  /** Omitted: every status. */
  status?: TaskRow["status"];
  ownerUserId?: string;
  accountId?: string;
  source?: string;
  /** Only tasks due before this day. */
  dueBefore?: string;
  /** Only tasks due before this day too (overdue: today in the workspace time zone). */
  overdueOn?: string;
}

/** The conditions of a task listing's filters. */
function taskConditions(workspaceId: string, filters: TaskFilters): SQL[] {
  const where: SQL[] = [eq(tasks.workspaceId, workspaceId)];
  if (filters.status) where.push(eq(tasks.status, filters.status));
  if (filters.ownerUserId) where.push(eq(tasks.ownerUserId, filters.ownerUserId));
  if (filters.accountId) where.push(eq(tasks.accountId, filters.accountId));
  if (filters.source) where.push(eq(tasks.source, filters.source));
  if (filters.dueBefore) where.push(lt(tasks.dueDate, filters.dueBefore));
  if (filters.overdueOn) where.push(lt(tasks.dueDate, filters.overdueOn));
  return where;
}

/** How many tasks match the filters over every page, and how many of them are overdue on `today`. */
export async function countTasks(
  db: Db,
  workspaceId: string,
  filters: TaskFilters,
  today: string,
): Promise<{ matching: number; overdue: number }> {
  const [row] = await db
    .select({
      matching: sql<number>`count(*)`,
      overdue: sql<number>`coalesce(sum(${tasks.status} = 'open' AND ${tasks.dueDate} < ${today}), 0)`,
    })
    .from(tasks)
    .where(and(...taskConditions(workspaceId, filters)));
  return { matching: Number(row?.matching ?? 0), overdue: Number(row?.overdue ?? 0) };
}

/** Where a task listing continues: after a dated task, or among the undated ones after an id. */
export type TaskPosition = { dueDate: string; id: string } | { dueDate: null; id: string } | null;

/**
 * Up to `limit` tasks of the workspace matching the filters, dated ones first (by due date, then
 * id), then undated ones (by id), after `position`. Each run is read on its own so the (workspace,
 * status, due_date) index serves the order and the limit; undated tasks are not read when a due
 * filter is set.
 */
export async function listTasks(
  db: Db,
  workspaceId: string,
  filters: TaskFilters,
  page: { limit: number; position: TaskPosition },
): Promise<TaskRow[]> {
  const where = taskConditions(workspaceId, filters);
  const { position } = page;
  const inUndatedRun = position !== null && position.dueDate === null;
  const dated = inUndatedRun
    ? []
    : await selectTasks(db, workspaceId)
        .where(
          and(
            ...where,
            isNotNull(tasks.dueDate),
            position && position.dueDate !== null
              ? or(
                  gt(tasks.dueDate, position.dueDate),
                  and(eq(tasks.dueDate, position.dueDate), gt(tasks.id, position.id)),
                )
              : undefined,
          ),
        )
        .orderBy(asc(tasks.dueDate), asc(tasks.id))
        .limit(page.limit);
  const room = page.limit - dated.length;
  const undated =
    room > 0 && !filters.overdueOn && !filters.dueBefore
      ? await selectTasks(db, workspaceId)
          .where(and(...where, isNull(tasks.dueDate), inUndatedRun ? gt(tasks.id, position.id) : undefined))
          .orderBy(asc(tasks.id))
          .limit(room)
      : [];
  return [...dated, ...undated];
}

/** An active or disabled user of the workspace matched by id, or by email case-insensitively. */
export async function findUser(
  db: Db,
  workspaceId: string,
  match: { id: string } | { email: string },
): Promise<{ id: string; email: string; disabledAt: string | null } | null> {
  const condition = "id" in match ? eq(users.id, match.id) : sql`lower(${users.email}) = ${match.email}`;
  const [user] = await db
    .select({ id: users.id, email: users.email, disabledAt: users.disabledAt })
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), condition));
  return user ?? null;
}

/** Stores a new task of the workspace, created now unless `createdAt` is given. */
export async function insertTask(
  db: Db,
  workspaceId: string,
  task: Omit<typeof tasks.$inferInsert, "workspaceId">,
): Promise<void> {
  await db.insert(tasks).values({ ...task, workspaceId, createdAt: task.createdAt ?? clock.now().toISOString() });
}

/** Applies changes to one task of the workspace. */
export async function updateTask(
  db: Db,
  workspaceId: string,
  taskId: string,
  changes: Partial<typeof tasks.$inferInsert>,
): Promise<void> {
  await db
    .update(tasks)
    .set(changes)
    .where(and(eq(tasks.workspaceId, workspaceId), eq(tasks.id, taskId)));
}
