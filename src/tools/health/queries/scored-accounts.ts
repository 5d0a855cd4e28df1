/** The accounts calculate_health_score scores: one by reference, or a page of active accounts. */

/**
 * Ids of active accounts by id after `after`, only of `segment` and/or `owner` when given
 * (limit + 1 ids, so the caller sees whether more follow).
 */
export async function activeAccountIdsPage(
  db: D1Database,
  workspaceId: string,
  options: { segment?: string | undefined; owner?: string | undefined; after: string; limit: number },
): Promise<string[]> {
  const page = await db
    .prepare(
      `SELECT id FROM accounts WHERE workspace_id = ?1 AND status = 'active' AND id > ?2
           AND (?3 IS NULL OR segment = ?3) AND (?4 IS NULL OR owner_user_id = ?4)
         ORDER BY id LIMIT ?5`,
    )
    .bind(workspaceId, options.after, options.segment ?? null, options.owner ?? null, options.limit + 1)
    .all<{ id: string }>();
  return page.results.map((r) => r.id);
}
