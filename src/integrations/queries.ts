/**
 * The SQL seam of integration management: a runner of one `?N` statement, so the service runs
 * over the D1 binding in the Worker and over wrangler's D1 in the admin CLI.
 */

/** A value bound to a `?N` placeholder. */
export type SqlValue = string | number | null;

/** Runs one SQL statement with `?N` placeholders and returns its rows. */
export interface SqlRunner {
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
}

/** A {@link SqlRunner} over a D1 binding. */
export function d1Runner(db: D1Database): SqlRunner {
  return {
    async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
      return (
        await db
          .prepare(sql)
          .bind(...params)
          .all<T>()
      ).results;
    },
  };
}
