import type { Db } from "../../../platform/db/client";
import { clock } from "../../../platform/lib/clock";
import { activities } from "../../../schema";

/** An activity as stored. */
export type ActivityRow = typeof activities.$inferSelect;

/**
 * Stores one activity of the workspace, created now unless `createdAt` is given, and returns the
 * row as stored (defaults filled in).
 */
export async function insertActivity(
  db: Db,
  workspaceId: string,
  activity: Omit<typeof activities.$inferInsert, "workspaceId">,
): Promise<ActivityRow> {
  const [stored] = await db
    .insert(activities)
    .values({ ...activity, workspaceId, createdAt: activity.createdAt ?? clock.now().toISOString() })
    .returning();
  if (!stored) throw new Error("insert into activities returned no row");
  return stored;
}
