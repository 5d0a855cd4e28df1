/**
 * Licensed seats of one account (`?1` workspace, `?2` account): per active contract, the seats
 * on its `plan` items (add-ons and services are priced per seat too but license nobody); a
 * contract without a plan item counts its largest item. This is the denominator of license
 * utilization everywhere.
 */
export const LICENSED_SEATS_SQL = `SELECT coalesce(sum(contract_seats), 0) AS seats FROM (
  SELECT CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
              ELSE max(ci.seats) END AS contract_seats
    FROM contract_items ci
    LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
   WHERE ci.workspace_id = ?1 AND ci.contract_id IN (
         SELECT id FROM contracts WHERE workspace_id = ?1 AND account_id = ?2 AND +status = 'active')
   GROUP BY ci.contract_id)`;
