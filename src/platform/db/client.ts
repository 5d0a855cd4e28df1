import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";

/**
 * The typed query builder over D1. Tables are imported where they are used; the relational
 * `db.query` API is not, so the handle carries no schema.
 */
export type Db = DrizzleD1Database;

/**
 * Opens the workspace database. One D1 serves every workspace today; when one is not enough, the
 * next step (one D1 per workspace group, chosen by workspace id) changes this function.
 */
export function openDb(env: Pick<Env, "DB">): Db {
  return drizzle(env.DB);
}
