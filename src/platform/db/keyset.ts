import { and, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { ToolError } from "../mcp/errors";
import { decodeCursor } from "../mcp/pagination";

/**
 * The condition for the next page of a newest-first listing sorted by (created_at desc, id desc):
 * rows strictly after the cursor's position. The cursor must come from the same listing.
 */
export function newestFirstAfter(cursor: string, fingerprint: string, createdAt: SQLiteColumn, id: SQLiteColumn): SQL {
  const { k, id: lastId } = decodeCursor(cursor, fingerprint);
  const [lastCreatedAt] = k;
  if (typeof lastCreatedAt !== "string") throw new ToolError("Malformed `cursor`: repeat the first call without it.");
  return or(lt(createdAt, lastCreatedAt), and(eq(createdAt, lastCreatedAt), lt(id, lastId))) as SQL;
}
