/** The accounts and usage rollups track_adoption_milestones reads. */

/** An account whose milestones are read. */
export interface MilestoneAccountRow {
  id: string;
  name: string;
  customer_since: string | null;
}

/** One account's first qualifying day of a milestone (null when never) and its best single-day value. */
export interface MilestoneBestRow {
  account_id: string;
  achieved_on: string | null;
  best: number;
}

/** A milestone criterion as stored in settings adoption_milestones. */
export interface MilestoneCriterion {
  kind: "active_users_at_least" | "feature_used" | "events_in_day_at_least" | "integration_connected";
  value: number;
  feature?: string | undefined;
}

/**
 * One account by id (zero or one row), or a page of the workspace's accounts by id after `after`
 * (limit + 1 rows, so the caller sees whether more follow).
 */
export async function milestoneAccounts(
  db: D1Database,
  workspaceId: string,
  options: { accountId?: string | undefined; after: string; limit: number },
): Promise<MilestoneAccountRow[]> {
  const { results } = await (options.accountId
    ? db
        .prepare("SELECT id, name, customer_since FROM accounts WHERE workspace_id = ?1 AND id = ?2")
        .bind(workspaceId, options.accountId)
    : db
        .prepare(
          "SELECT id, name, customer_since FROM accounts WHERE workspace_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )
        .bind(workspaceId, options.after, options.limit + 1)
  ).all<MilestoneAccountRow>();
  return results;
}

/**
 * Per milestone (in order), the accounts' first qualifying day and best day over all their
 * rollups: account-day rollups for active users and events, account-feature-day rollups of the
 * milestone's feature otherwise. One grouped statement per milestone, in one batch; empty
 * without accounts or milestones.
 */
export async function milestoneBests(
  db: D1Database,
  workspaceId: string,
  options: { milestones: readonly MilestoneCriterion[]; accountIds: readonly string[] },
): Promise<MilestoneBestRow[][]> {
  const ws = workspaceId;
  const ids = JSON.stringify(options.accountIds);
  // One grouped statement per milestone over this page's accounts: first qualifying day and best day.
  const statements = options.milestones.map((m) => {
    if (m.kind === "active_users_at_least" || m.kind === "events_in_day_at_least") {
      const col = m.kind === "active_users_at_least" ? "active_users" : "events";
      return db
        .prepare(
          `SELECT account_id, min(CASE WHEN ${col} >= ?3 THEN day END) AS achieved_on, max(${col}) AS best
             FROM usage_daily WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2))
            GROUP BY account_id`,
        )
        .bind(ws, ids, m.value);
    }
    return db
      .prepare(
        `SELECT account_id, min(CASE WHEN events >= ?3 THEN day END) AS achieved_on, max(events) AS best
           FROM usage_feature_daily WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2))
            AND feature = ?4 GROUP BY account_id`,
      )
      .bind(ws, ids, m.value, m.feature ?? "");
  });
  const answers =
    options.accountIds.length > 0 && statements.length > 0 ? await db.batch<MilestoneBestRow>(statements) : [];
  return answers.map((a) => a.results);
}
