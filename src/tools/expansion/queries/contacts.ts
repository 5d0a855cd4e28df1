/** Which buying-committee roles one account has among its contacts who have not left (0 or 1 each). */
export interface BuyingCommitteeRow {
  account_id: string;
  champion: number;
  decision_maker: number;
  economic_buyer: number;
}

/**
 * Per account of `accountIds` with a contact who has not left: whether a champion, a decision
 * maker and an economic buyer are among them, by account id.
 */
export async function buyingCommitteeRoles(
  db: D1Database,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<Map<string, BuyingCommitteeRow>> {
  const result = await db
    .prepare(
      `SELECT account_id,
            max(is_champion = 1 OR role = 'champion') AS champion,
            max(is_decision_maker = 1 OR role = 'decision_maker') AS decision_maker,
            max(role = 'economic_buyer') AS economic_buyer
       FROM contacts
      WHERE workspace_id = ?1 AND left_at IS NULL AND account_id IN (SELECT value FROM json_each(?2))
      GROUP BY account_id`,
    )
    .bind(workspaceId, JSON.stringify(accountIds))
    .all<BuyingCommitteeRow>();
  return new Map(result.results.map((r) => [r.account_id, r]));
}
