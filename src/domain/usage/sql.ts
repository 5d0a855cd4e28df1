/**
 * Set-based SQL shared by the usage tools. `{accounts}` is replaced by a subquery yielding the
 * account ids in scope; `?1` is always the workspace id.
 */

/**
 * Licensed seats per account for many accounts at once, with the same rule as
 * `LICENSED_SEATS_SQL`: per active contract the seats on its `plan` items, or its largest item
 * when it has no plan item.
 */
export const SEATS_BY_ACCOUNT_SQL = `SELECT account_id, coalesce(sum(contract_seats), 0) AS seats FROM (
  SELECT c.account_id AS account_id,
         CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
              ELSE max(ci.seats) END AS contract_seats
    FROM contracts c
    JOIN contract_items ci ON ci.workspace_id = c.workspace_id AND ci.contract_id = c.id
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
