import { SqlParams } from "../../../platform/db/sql-params";
import { sqlText } from "./rule-sql";

/**
 * Lifecycle stages (`accounts.lifecycle_stage`, `account_stage_history`): the reads of
 * manage_lifecycle_stages and the statements of a move.
 */

/** Moves per write statement: one JSON parameter each, kept well under D1's statement size. */
const MOVE_CHUNK = 500;

/** An account with the fields stage rules read and the time of its latest stage change (null when not read). */
export interface LifecycleAccountRow {
  id: string;
  name: string;
  lifecycle_stage: string;
  status: string;
  customer_since: string | null;
  renewal_date: string | null;
  health_band: string | null;
  arr: number;
  entered: string | null;
}

/** One stored stage: accounts, ARR, and the days in stage (sum, known count, middle two) of its accounts. */
export interface StageSummaryRow {
  stage: string;
  accounts: number;
  arr: number;
  known: number;
  days_sum: number;
  from_since: number;
  mid_low: number | null;
  mid_high: number | null;
}

/** One stage change of an account. */
export interface StageChangeRow {
  from_stage: string | null;
  to_stage: string;
  reason: string | null;
  changed_at: string;
}

/** An account longer in its stage than the stage's threshold. */
export interface StuckRow {
  id: string;
  name: string;
  stage: string;
  days: number;
  threshold: number;
  since: string;
  basis: "history" | "customer_since";
}

/** A planned stage move, with the id of the history row it writes. */
export interface StageMove {
  id: string;
  account_id: string;
  from_stage: string;
  to_stage: string;
  reason: string;
}

/**
 * Each account's stage entry and whole days in stage to `today` (bound as `?2`): it entered its
 * stage at its latest stage-history row (one index seek per account), else at customer_since
 * (basis null and days null when neither is known).
 */
const STAGE_DAYS_SQL = `
  WITH entries AS MATERIALIZED (
    SELECT a.id, a.name, a.lifecycle_stage, a.arr, a.customer_since,
           (SELECT max(h.changed_at) FROM account_stage_history h
             WHERE h.workspace_id = ?1 AND h.account_id = a.id) AS entered
      FROM accounts a WHERE a.workspace_id = ?1),
  spans AS (
    SELECT id, name, lifecycle_stage AS stage, arr,
           coalesce(nullif(entered, ''), nullif(customer_since, '')) AS since,
           CASE WHEN nullif(entered, '') IS NOT NULL THEN 'history'
                WHEN nullif(customer_since, '') IS NOT NULL THEN 'customer_since' END AS basis
      FROM entries),
  stage_days AS (
    SELECT *, CAST(round(julianday(?2) - julianday(substr(since, 1, 10))) AS INTEGER) AS days FROM spans)`;

/** Every account of the workspace by id, with the fields stage rules read and the time of its latest stage change. */
export async function lifecycleAccounts(db: D1Database, workspaceId: string): Promise<LifecycleAccountRow[]> {
  const { results } = await db
    .prepare(
      `SELECT a.id, a.name, a.lifecycle_stage, a.status, a.customer_since, a.renewal_date, a.health_band, a.arr,
            (SELECT max(h.changed_at) FROM account_stage_history h
              WHERE h.workspace_id = ?1 AND h.account_id = a.id) AS entered
       FROM accounts a WHERE a.workspace_id = ?1 ORDER BY a.id`,
    )
    .bind(workspaceId)
    .all<LifecycleAccountRow>();
  return results;
}

/**
 * Per stored stage: accounts, ARR, and days in stage to `today` (sum, known count, accounts counted
 * from customer_since, and the middle two known durations for the median), in stage order of SQL.
 */
export async function stageSummaries(db: D1Database, workspaceId: string, today: string): Promise<StageSummaryRow[]> {
  // Per stage in SQL: durations counted per day value first, so the middle two known durations
  // (the median) are found on running counts of a few hundred rows, not by ranking every account.
  const { results } = await db
    .prepare(
      `${STAGE_DAYS_SQL},
           histogram AS (
             SELECT stage, days, count(*) AS n, sum(arr) AS arr, sum(basis = 'customer_since') AS from_since
               FROM stage_days GROUP BY stage, days),
           running AS (
             SELECT *, sum(CASE WHEN days IS NOT NULL THEN n END)
                         OVER (PARTITION BY stage ORDER BY days ROWS UNBOUNDED PRECEDING) AS up_to,
                       sum(CASE WHEN days IS NOT NULL THEN n END) OVER (PARTITION BY stage) AS known
               FROM histogram)
           SELECT stage, sum(n) AS accounts, sum(arr) AS arr, coalesce(max(known), 0) AS known,
                  coalesce(sum(days * n), 0) AS days_sum, sum(from_since) AS from_since,
                  min(CASE WHEN days IS NOT NULL AND up_to >= (known + 1) / 2 THEN days END) AS mid_low,
                  min(CASE WHEN days IS NOT NULL AND up_to >= (known + 2) / 2 THEN days END) AS mid_high
             FROM running GROUP BY stage`,
    )
    .bind(workspaceId, today)
    .all<StageSummaryRow>();
  return results;
}

/** One page of accounts by id after `after` (limit + 1 rows, so the caller sees whether more follow); `entered` is null. */
export async function lifecycleAccountsPage(
  db: D1Database,
  workspaceId: string,
  page: { after: string; limit: number },
): Promise<LifecycleAccountRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, name, lifecycle_stage, status, customer_since, renewal_date, health_band, arr, NULL AS entered
             FROM accounts WHERE workspace_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3`,
    )
    .bind(workspaceId, page.after, page.limit + 1)
    .all<LifecycleAccountRow>();
  return results;
}

/** One account's stage changes, oldest first. */
export async function stageHistory(db: D1Database, workspaceId: string, accountId: string): Promise<StageChangeRow[]> {
  const { results } = await db
    .prepare(
      `SELECT from_stage, to_stage, reason, changed_at FROM account_stage_history
            WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY changed_at, id`,
    )
    .bind(workspaceId, accountId)
    .all<StageChangeRow>();
  return results;
}

/**
 * Accounts longer in their stage (to `today`) than its threshold, longest first then by id, one
 * page after `after` (limit + 1 rows), with the workspace's account count and the stuck count.
 */
export async function stuckAccounts(
  db: D1Database,
  workspaceId: string,
  options: {
    today: string;
    thresholds: Record<string, number>;
    after: { days: number; id: string } | null;
    limit: number;
  },
): Promise<{ accounts: number; stuck: number; rows: StuckRow[] }> {
  const p = new SqlParams();
  p.add(workspaceId);
  p.add(options.today);
  let afterPosition = "";
  if (options.after) {
    const days = p.add(options.after.days);
    afterPosition = ` WHERE days < ${days} OR (days = ${days} AND id > ${p.add(options.after.id)})`;
  }
  const limit = p.add(options.limit + 1);
  const thresholdSql = `CASE stage ${Object.entries(options.thresholds)
    .map(([stage, days]) => `WHEN ${sqlText(stage)} THEN ${Number(days)}`)
    .join(" ")} END`;
  // Stuck accounts found and ranked in SQL (longest in stage first, then by id); the first row
  // carries the counts, one page follows.
  const { results } = await db
    .prepare(
      `${STAGE_DAYS_SQL},
           stuck AS MATERIALIZED (
             SELECT id, name, stage, days, threshold, since, basis
               FROM (SELECT *, ${thresholdSql} AS threshold FROM stage_days WHERE basis IS NOT NULL)
              WHERE days > threshold)
           SELECT NULL AS id, NULL AS name, NULL AS stage, NULL AS days, NULL AS threshold, NULL AS since, NULL AS basis,
                  (SELECT count(*) FROM entries) AS accounts_count, (SELECT count(*) FROM stuck) AS stuck_count
           UNION ALL
           SELECT *, NULL, NULL FROM (SELECT * FROM stuck${afterPosition} ORDER BY days DESC, id LIMIT ${limit})`,
    )
    .bind(...p.values)
    .all<StuckRow & { accounts_count: number | null; stuck_count: number | null }>();
  const [totals, ...rows] = results;
  return { accounts: totals!.accounts_count ?? 0, stuck: totals!.stuck_count ?? 0, rows };
}

/**
 * The statements of stage moves, two per chunk of {@link MOVE_CHUNK}: the history rows, then the
 * stage (the second of each pair counts the accounts moved). Each writes only where the stored
 * stage is still `from_stage`, so a change made meanwhile is neither overwritten nor recorded twice.
 */
export function stageMoveStatements(
  db: D1Database,
  workspaceId: string,
  options: { moves: readonly StageMove[]; now: string },
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < options.moves.length; i += MOVE_CHUNK) {
    const chunk = JSON.stringify(options.moves.slice(i, i + MOVE_CHUNK));
    statements.push(
      db
        .prepare(
          `INSERT INTO account_stage_history (id, workspace_id, account_id, from_stage, to_stage, reason, changed_at)
         SELECT json_extract(j.value, '$.id'), ?1, a.id, a.lifecycle_stage, json_extract(j.value, '$.to_stage'),
                json_extract(j.value, '$.reason'), ?3
           FROM json_each(?2) j JOIN accounts a ON a.workspace_id = ?1 AND a.id = json_extract(j.value, '$.account_id')
                AND a.lifecycle_stage = json_extract(j.value, '$.from_stage')`,
        )
        .bind(workspaceId, chunk, options.now),
      db
        .prepare(
          // By primary key from the id list (\`+workspace_id\`), not once per account of the workspace.
          `UPDATE accounts SET lifecycle_stage = j.to_stage, updated_at = ?3
           FROM (SELECT value ->> '$.account_id' AS id, value ->> '$.to_stage' AS to_stage,
                        value ->> '$.from_stage' AS from_stage FROM json_each(?2)) AS j
          WHERE +accounts.workspace_id = ?1 AND accounts.id = j.id AND accounts.lifecycle_stage = j.from_stage`,
        )
        .bind(workspaceId, chunk, options.now),
    );
  }
  return statements;
}
