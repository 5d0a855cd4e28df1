/**
 * Keeps the denormalized account columns (`arr`, `renewal_date`) in step with contracts.
 * ARR = sum of the account's active contracts; renewal date = the earliest active contract end.
 * `?1` is the workspace id and `?2` the ISO time the accounts are stamped with (`updated_at`);
 * the statement touches only that workspace's accounts.
 */
import { clock } from "../platform/lib/clock";

export const REFRESH_ACCOUNT_ROLLUPS_SQL = `UPDATE accounts SET
  arr = coalesce((SELECT sum(c.arr) FROM contracts c
                   WHERE c.workspace_id = accounts.workspace_id AND c.account_id = accounts.id AND c.status = 'active'), 0),
  renewal_date = (SELECT min(c.end_date) FROM contracts c
                   WHERE c.workspace_id = accounts.workspace_id AND c.account_id = accounts.id AND c.status = 'active'),
  updated_at = ?2
WHERE workspace_id = ?1`;

/**
 * Refreshes the rollups of some accounts of one workspace (at most 90 ids per call: D1 binds ≤ 100),
 * stamping them with `now` (ISO; the clock's time when not given).
 */
export function refreshAccountRollups(
  db: D1Database,
  workspaceId: string,
  accountIds: string[],
  now: string = clock.now().toISOString(),
): D1PreparedStatement {
  if (accountIds.length > 90) throw new Error("refreshAccountRollups takes at most 90 account ids per statement");
  const placeholders = accountIds.map((_, i) => `?${i + 3}`).join(", ");
  return db.prepare(`${REFRESH_ACCOUNT_ROLLUPS_SQL} AND id IN (${placeholders})`).bind(workspaceId, now, ...accountIds);
}
