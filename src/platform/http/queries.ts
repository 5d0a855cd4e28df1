/** The SQL of the routes outside `/mcp`. */

/** Runs the cheapest statement D1 answers, so the health check fails when the database does not. */
export async function pingDatabase(db: D1Database): Promise<void> {
  await db.prepare("SELECT 1").first();
}
