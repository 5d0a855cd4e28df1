/**
 * Set-based SQL shared by the usage tools. `{accounts}` is replaced by a subquery yielding the
 * account ids in scope; `?1` is always the workspace id.
 */

/**
 * Licensed seats per account for many accounts at once, with the same rule as
 * `LICENSED_SEATS_SQL`: per active contract the seats on its `plan` items, or its largest item
 * when it has no plan item. CROSS JOIN reads the accounts' contracts first, then their items,
 * rather than every item of the workspace.
 */
export const SEATS_BY_ACCOUNT_SQL = `SELECT account_id, coalesce(sum(contract_seats), 0) AS seats FROM (
  SELECT c.account_id AS account_id,
         CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
              ELSE max(ci.seats) END AS contract_seats
    FROM contracts c
    CROSS JOIN contract_items ci ON ci.workspace_id = c.workspace_id AND ci.contract_id = c.id
    LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
   WHERE c.workspace_id = ?1 AND +c.status = 'active' AND c.account_id IN ({accounts})
   GROUP BY c.id)
 GROUP BY account_id`;

/** The Monday of a rollup row's ISO week, in SQL (strftime %w: Sunday = 0). */
export const WEEK_MONDAY_SQL = "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')";

/** Fills in the account-scope subquery of a statement. */
export function withAccounts(sql: string, accountsSubquery: string): string {
  return sql.replaceAll("{accounts}", accountsSubquery);
}

/**
 * The daily series (active users, events, sessions summed over accounts) of all active accounts
 * over `?2`..`?3`: the workspace-day totals minus the rows of accounts that are not active, so it
 * reads one row per day plus the (few) inactive accounts' rows instead of every account-day row.
 * Usage rollups only name accounts of their workspace and accounts are never deleted, so the
 * difference is exactly the active accounts' sum.
 */
export const ACTIVE_ACCOUNTS_SERIES_SQL = `SELECT day, sum(active_users) AS active_users, sum(events) AS events, sum(sessions) AS sessions FROM (
    SELECT day, account_days, active_users, events, sessions FROM usage_workspace_daily
     WHERE workspace_id = ?1 AND day BETWEEN ?2 AND ?3
    UNION ALL
    SELECT u.day, -count(*), -sum(u.active_users), -sum(u.events), -sum(u.sessions)
      FROM accounts a CROSS JOIN usage_daily u ON u.workspace_id = ?1 AND u.account_id = a.id AND u.day BETWEEN ?2 AND ?3
     WHERE a.workspace_id = ?1 AND a.status <> 'active'
     GROUP BY u.day)
  GROUP BY day HAVING sum(account_days) > 0`;

/**
 * The daily series of the accounts `{accounts}` yields over `{from}`..`{to}`, read account by
 * account along the rollup's primary key (CROSS JOIN keeps that order), so the rows read are the
 * scope's own rather than the whole workspace's.
 */
export const SCOPE_SERIES_SQL = `SELECT u.day, sum(u.active_users) AS active_users, sum(u.events) AS events, sum(u.sessions) AS sessions
  FROM ({accounts}) s CROSS JOIN usage_daily u ON u.workspace_id = ?1 AND u.account_id = s.id AND u.day BETWEEN {from} AND {to}
 GROUP BY u.day`;

/**
 * Features with events in `{from}`..`{to}`, in name order after `{after}`; `{scope}` is empty or a
 * further condition on the rollup row `f` (e.g. its account). The workspace's feature names are walked one index seek each (rollups hold few names
 * but many rows), and each is kept when one in-scope rollup row in the window has events.
 */
export const FEATURES_USED_SQL = `WITH RECURSIVE names(feature) AS (
    SELECT min(feature) FROM usage_feature_daily WHERE workspace_id = ?1 AND feature > {after}
    UNION ALL
    SELECT (SELECT min(feature) FROM usage_feature_daily WHERE workspace_id = ?1 AND feature > names.feature)
      FROM names WHERE names.feature IS NOT NULL)
  SELECT feature FROM names
   WHERE feature IS NOT NULL AND EXISTS (
     SELECT 1 FROM usage_feature_daily f
      WHERE f.workspace_id = ?1 AND f.feature = names.feature AND f.day BETWEEN {from} AND {to} AND f.events > 0{scope})`;

/** Fills `{name}` placeholders of a statement with SQL fragments (parameters or subqueries). */
export function fillSql(sql: string, parts: Record<string, string>): string {
  return sql.replace(/\{(\w+)\}/g, (whole, name: string) => parts[name] ?? whole);
}
