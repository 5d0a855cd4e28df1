import { compareText } from "../domain/book";

/** An active account with ARR, as lifetime value needs it. */
export interface ValuedAccountRow {
  id: string;
  name: string;
  segment: string | null;
  arr: number;
  /** accounts.churn_probability from the latest risk model run. */
  churn_probability: number | null;
}

/** The active accounts with ARR > 0 (accounts.arr), of one stored segment or all, by id. */
export async function activeAccountsWithArr(
  db: D1Database,
  workspaceId: string,
  segment: string | null,
): Promise<ValuedAccountRow[]> {
  const result = await db
    .prepare(
      `SELECT id, name, segment, arr, churn_probability FROM accounts
          WHERE workspace_id = ?1 AND status = 'active' AND arr > 0 AND (?2 IS NULL OR segment = ?2)`,
    )
    .bind(workspaceId, segment)
    .all<ValuedAccountRow>();
  // By id, sorted here: a sort in the database would count every row again as read.
  return result.results.sort((a, b) => compareText(a.id, b.id));
}
