/**
 * Keeps the denormalized account columns (`arr`, `renewal_date`) in step with contracts.
 * ARR = sum of the account's active contracts; renewal date = the earliest active contract end.
 * `?1` is the workspace id; the statement touches only that workspace's accounts.
 */
export const REFRESH_ACCOUNT_ROLLUPS_SQL = `UPDATE accounts SET
  arr = coalesce((SELECT sum(c.arr) FROM contracts c
                   WHERE c.workspace_id = accounts.workspace_id AND c.account_id = accounts.id AND c.status = 'active'), 0),
  renewal_date = (SELECT min(c.end_date) FROM contracts c
                   WHERE c.workspace_id = accounts.workspace_id AND c.account_id = accounts.id AND c.status = 'active'),
  updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE workspace_id = ?1`;

/** Refreshes the rollups of some accounts of one workspace (at most 90 ids per call: D1 binds ≤ 100). */
export function refreshAccountRollups(db: D1Database, workspaceId: string, accountIds: string[]): D1PreparedStatement {
  if (accountIds.length > 90) throw new Error("refreshAccountRollups takes at most 90 account ids per statement");
  const placeholders = accountIds.map((_, i) => `?${i + 2}`).join(", ");
  return db.prepare(`${REFRESH_ACCOUNT_ROLLUPS_SQL} AND id IN (${placeholders})`).bind(workspaceId, ...accountIds);
}
