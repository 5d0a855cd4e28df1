import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** The typed database handle every module uses; keep data access behind this one seam. */
export type Db = DrizzleD1Database<typeof schema>;

/** Opens the workspace database. One D1 serves all workspaces today (see README, "Scale"). */
export function openDb(env: Pick<Env, "DB">): Db {
  return drizzle(env.DB, { schema });
}
