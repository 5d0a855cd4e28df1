/** One active account's usage over the recent window and the equally long window before it. */
export interface WindowUsageRow {
  account_id: string;
  /** Highest daily active users in the recent window; null without a usage row there. */
  peak: number | null;
  events_recent: number;
  events_prior: number;
  /** Daily active users of the recent window's days that have a row, unordered. */
  recent_active_users: number[];
}

/** An account that used a feature (events > 0) on a day of the recent window. */
export interface FeatureUseRow {
  account_id: string;
  feature: string;
}

/**
 * Per active account: usage of the recent window (`recent_from`..`recent_to`) and of the prior
 * one (`prior_from`..the day before `recent_from`), and which of `features` each account used in
 * the recent window — in one batch.
 */
export async function upsellUsage(
  db: D1Database,
  workspaceId: string,
  windows: { recent_from: string; recent_to: string; prior_from: string },
  features: readonly string[],
): Promise<{ usage: WindowUsageRow[]; used: FeatureUseRow[] }> {
  const ws = workspaceId;
  const [usage, used] = await db.batch([
    db
      .prepare(
        // Account by account along the primary key, in one scalar subquery each so no grouping
        // sorts the window's rows: both windows' sums, the peak, and the recent days' active users
        // (the p90 is taken from them here, not by a second read and sort per account).
        `SELECT a.id AS account_id,
              (SELECT json_array(max(CASE WHEN u.day >= ?2 THEN u.active_users END),
                                 coalesce(sum(CASE WHEN u.day >= ?2 THEN u.events END), 0),
                                 coalesce(sum(CASE WHEN u.day < ?2 THEN u.events END), 0),
                                 json_group_array(u.active_users) FILTER (WHERE u.day >= ?2))
                 FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id AND u.day BETWEEN ?3 AND ?4) AS usage
         FROM accounts a
        WHERE a.workspace_id = ?1 AND a.status = 'active'`,
      )
      .bind(ws, windows.recent_from, windows.prior_from, windows.recent_to),
    db
      .prepare(
        // Driven from the plan features, so each reads its (workspace, feature, day) range, not the whole history.
        `SELECT DISTINCT u.account_id, u.feature FROM json_each(?2) f
         CROSS JOIN usage_feature_daily u ON u.workspace_id = ?1 AND u.feature = f.value AND u.day BETWEEN ?3 AND ?4
        WHERE u.events > 0`,
      )
      .bind(ws, JSON.stringify(features), windows.recent_from, windows.recent_to),
  ]);
  return {
    usage: ((usage?.results ?? []) as { account_id: string; usage: string }[]).map((r) => {
      const [peak, eventsRecent, eventsPrior, recentUsers] = JSON.parse(r.usage) as [
        number | null,
        number,
        number,
        number[],
      ];
      return {
        account_id: r.account_id,
        peak,
        events_recent: eventsRecent,
        events_prior: eventsPrior,
        recent_active_users: recentUsers,
      };
    }),
    used: (used?.results ?? []) as FeatureUseRow[],
  };
}
