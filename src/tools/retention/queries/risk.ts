import { jsonChunks } from "../../../platform/db/json-chunks";
import { SqlParams } from "../../../platform/db/sql-params";
import type { RiskFactorName, StoredRiskFactor } from "../domain/risk-factor-names";

/**
 * Stored churn-risk scores (`risk_scores`, `accounts.churn_probability`): writing them, and the
 * reads of identify_churn_risk and score_risk_factors.
 */

/** One account's score to store for a day. */
export interface RiskScoreToStore {
  accountId: string;
  probability: number;
  arrAtRisk: number;
  factors: StoredRiskFactor[];
  /** The suggested playbook, or null. */
  intervention: string | null;
}

/**
 * Statements that store scores for `day` under a model, in batched multi-row statements per JSON
 * chunk: one `risk_scores` row per account and day (overwritten by a repeat), then
 * `accounts.churn_probability`.
 */
export function storeRiskScoreStatements(
  db: D1Database,
  workspaceId: string,
  options: { day: string; modelId: string; scores: readonly RiskScoreToStore[] },
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const rows = options.scores.map((s) => ({
    id: s.accountId,
    p: s.probability,
    r: s.arrAtRisk,
    f: s.factors,
    i: s.intervention,
  }));
  for (const chunk of jsonChunks(rows)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO risk_scores (workspace_id, account_id, day, model_id, probability, arr_at_risk, factors, intervention)
         SELECT ?1, value ->> '$.id', ?2, ?3, value ->> '$.p', value ->> '$.r', json(value -> '$.f'), value ->> '$.i'
           FROM json_each(?4) WHERE true
         ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET model_id = excluded.model_id,
           probability = excluded.probability, arr_at_risk = excluded.arr_at_risk, factors = excluded.factors,
           intervention = excluded.intervention`,
        )
        .bind(workspaceId, options.day, options.modelId, chunk),
      db
        .prepare(
          // By primary key from the id list (`+workspace_id`), not once per account of the workspace.
          `UPDATE accounts SET churn_probability = v.p
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.p' AS p FROM json_each(?2)) AS v
          WHERE +accounts.workspace_id = ?1 AND accounts.id = v.id`,
        )
        .bind(workspaceId, chunk),
    );
  }
  return statements;
}

/** The latest stored score of an account, with the version of the model that made it. */
export interface LatestScore {
  account_id: string;
  day: string;
  /** JSON list of {@link StoredRiskFactor}. */
  factors: string;
  version: number | null;
}

/** The latest stored score (latest day) of each listed account; none for an empty list. */
export async function latestRiskScores(
  db: D1Database,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<LatestScore[]> {
  if (accountIds.length === 0) return [];
  const rows = await db
    .prepare(
      `SELECT r.account_id, r.day, r.factors, m.version FROM risk_scores r
       LEFT JOIN risk_models m ON m.workspace_id = r.workspace_id AND m.id = r.model_id
      WHERE r.workspace_id = ?1 AND r.account_id IN (SELECT value FROM json_each(?2))
        AND r.day = (SELECT max(r2.day) FROM risk_scores r2 WHERE r2.workspace_id = ?1 AND r2.account_id = r.account_id)`,
    )
    .bind(workspaceId, JSON.stringify(accountIds))
    .all<LatestScore>();
  return rows.results;
}

/** Filters of the churn-risk list; only those given enter the SQL. */
export interface ChurnRiskFilters {
  /** One account (of any status); null = the active accounts. */
  accountId: string | null;
  segment?: string;
  owner?: string;
  /** Renewal date within from..to (both included), or null. */
  renewal: { from: string; to: string } | null;
}

/**
 * The WHERE clause of the filters over `accounts a`, with its parameters (`?1` = the workspace),
 * and the placeholder of a statement's own k-th parameter, bound after the filter's.
 */
function churnRiskFilter(workspaceId: string, filters: ChurnRiskFilters) {
  // Only the filters given are in the SQL, so the planner can read the index of the one that narrows.
  const params = new SqlParams();
  params.add(workspaceId);
  const conditions = [
    "a.workspace_id = ?1",
    filters.accountId === null ? "a.status = 'active'" : `a.id = ${params.add(filters.accountId)}`,
  ];
  if (filters.segment !== undefined) conditions.push(`a.segment = ${params.add(filters.segment)}`);
  if (filters.owner !== undefined) conditions.push(`a.owner_user_id = ${params.add(filters.owner)}`);
  if (filters.renewal !== null) {
    const { from, to } = filters.renewal;
    conditions.push(`a.renewal_date >= ${params.add(from)} AND a.renewal_date <= ${params.add(to)}`);
  }
  const values = params.values;
  return { sql: conditions.join(" AND "), values, own: (k: number) => `?${values.length + k}` };
}

/** Ids of the accounts matching the filters without a stored score, in id order, at most `limit`. */
export async function unscoredAccountIds(
  db: D1Database,
  workspaceId: string,
  filters: ChurnRiskFilters,
  limit: number,
): Promise<string[]> {
  const filter = churnRiskFilter(workspaceId, filters);
  const unscored = await db
    .prepare(
      // "+a.id": the unscored are found through the churn probability index, not by walking every account in id order.
      `SELECT a.id FROM accounts a WHERE ${filter.sql} AND a.churn_probability IS NULL ORDER BY +a.id LIMIT ${filter.own(1)}`,
    )
    .bind(...filter.values, limit)
    .all<{ id: string }>();
  return unscored.results.map((r) => r.id);
}

/** How many accounts matching the filters have no stored score. */
export async function countUnscoredAccounts(
  db: D1Database,
  workspaceId: string,
  filters: ChurnRiskFilters,
): Promise<number> {
  const filter = churnRiskFilter(workspaceId, filters);
  const count = await db
    .prepare(`SELECT count(*) AS n FROM accounts a WHERE ${filter.sql} AND a.churn_probability IS NULL`)
    .bind(...filter.values)
    .first<{ n: number }>();
  return count?.n ?? 0;
}

/** An account with a stored churn probability, as the churn-risk list reads it. */
export interface AccountListRow {
  id: string;
  name: string;
  segment: string | null;
  owner_user_id: string | null;
  arr: number;
  renewal_date: string | null;
  churn_probability: number | null;
  /** The sort's value: the probability, or probability × ARR. */
  sort_value: number;
}

/** The facts the churn-risk list shows of an account scored for the answer. */
export type AccountInfoRow = Omit<AccountListRow, "arr" | "churn_probability" | "sort_value">;

/** Totals over every account matching the filters with a stored probability at least the minimum. */
export interface ChurnRiskTotals {
  n: number;
  /** Σ probability × ARR. */
  at_risk: number;
  /** Counted accounts whose latest stored score came from another model than the current one. */
  older: number;
}

/** What one page of the churn-risk list reads. */
export interface ChurnRiskPageOptions {
  filters: ChurnRiskFilters;
  minProbability: number;
  sort: "arr_at_risk" | "probability";
  /** The cursor's position (sort value and account id), or null for the first page. */
  after: { value: number; id: string } | null;
  /** Page size; one more row is read to tell whether a next page exists. */
  limit: number;
  /** The current model's id (null = the unstored prior). */
  modelId: string | null;
  /** Accounts scored for this answer whose names and owners are shown. */
  freshIds: readonly string[];
}

/**
 * In one batch: the page of scored accounts past the cursor (probability at least the minimum,
 * sorted by the sort's value descending, then id), the totals over all of them, and the names,
 * segments, owners and renewal dates of the accounts scored for this answer.
 */
export async function churnRiskPage(
  db: D1Database,
  workspaceId: string,
  options: ChurnRiskPageOptions,
): Promise<{ stored: AccountListRow[]; totals: ChurnRiskTotals; freshInfo: AccountInfoRow[] }> {
  const { sql: filterSql, values, own } = churnRiskFilter(workspaceId, options.filters);
  const sortExpr = options.sort === "probability" ? "a.churn_probability" : "a.churn_probability * a.arr";
  const [pageRes, totalsRes, freshInfoRes] = await db.batch([
    // "+a.churn_probability": the page is read in the sort's own index order (probability, or the
    // probability × ARR expression index) up to the limit, not range-read on probability and sorted whole.
    db
      .prepare(
        `SELECT a.id, a.name, a.segment, a.owner_user_id, a.arr, a.renewal_date, a.churn_probability, ${sortExpr} AS sort_value
           FROM accounts a
          WHERE ${filterSql} AND +a.churn_probability IS NOT NULL AND +a.churn_probability >= ${own(1)}
            AND (${own(2)} IS NULL OR ${sortExpr} < ${own(2)} OR (${sortExpr} = ${own(2)} AND a.id > ${own(3)}))
          ORDER BY sort_value DESC, a.id LIMIT ${own(4)}`,
      )
      .bind(
        ...values,
        options.minProbability,
        options.after?.value ?? null,
        options.after?.id ?? "",
        options.limit + 1,
      ),
    db
      .prepare(
        `SELECT count(*) AS n, coalesce(sum(a.churn_probability * a.arr), 0) AS at_risk,
                coalesce(sum((SELECT r.model_id FROM risk_scores r WHERE r.workspace_id = ?1 AND r.account_id = a.id
                               ORDER BY r.day DESC LIMIT 1) IS NOT ${own(2)}), 0) AS older
           FROM accounts a WHERE ${filterSql} AND a.churn_probability IS NOT NULL AND a.churn_probability >= ${own(1)}`,
      )
      .bind(...values, options.minProbability, options.modelId),
    db
      .prepare(
        "SELECT id, name, segment, owner_user_id, renewal_date FROM accounts WHERE +workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
      )
      .bind(workspaceId, JSON.stringify(options.freshIds)),
  ]);
  return {
    stored: (pageRes?.results ?? []) as AccountListRow[],
    totals: (totalsRes?.results?.[0] ?? { n: 0, at_risk: 0, older: 0 }) as ChurnRiskTotals,
    freshInfo: (freshInfoRes?.results ?? []) as AccountInfoRow[],
  };
}

/** Flag counts of the factor library over the active accounts. */
export interface RiskFlagCounts {
  /** Per factor, the scored active accounts whose latest stored score flags it (flagged factors only). */
  flagged: { factor: RiskFactorName; n: number }[];
  /** Active accounts with a stored probability. */
  scored: number;
  /** Active accounts without a stored probability, in id order, at most the limit. */
  unscoredIds: string[];
}

/**
 * In one batch: how many scored active accounts each factor is flagged for (their latest stored
 * score), how many active accounts are scored, and up to `unscoredLimit` unscored ones.
 */
export async function riskFlagCounts(
  db: D1Database,
  workspaceId: string,
  unscoredLimit: number,
): Promise<RiskFlagCounts> {
  // CROSS JOIN reads scores per account (its latest day) rather than every score the workspace kept.
  const [flagRes, countRes, unscoredRes] = await db.batch([
    db
      .prepare(
        `SELECT f.value ->> '$.factor' AS factor, count(*) AS n
           FROM accounts a
           CROSS JOIN risk_scores r ON r.workspace_id = ?1 AND r.account_id = a.id
            AND r.day = (SELECT max(r2.day) FROM risk_scores r2 WHERE r2.workspace_id = ?1 AND r2.account_id = a.id)
           CROSS JOIN json_each(r.factors) f
          WHERE a.workspace_id = ?1 AND a.status = 'active' AND a.churn_probability IS NOT NULL
            AND f.value ->> '$.flagged' = 1
          GROUP BY factor`,
      )
      .bind(workspaceId),
    db
      .prepare(
        "SELECT count(*) AS n FROM accounts WHERE workspace_id = ?1 AND status = 'active' AND churn_probability IS NOT NULL",
      )
      .bind(workspaceId),
    db
      .prepare(
        "SELECT id FROM accounts WHERE workspace_id = ?1 AND status = 'active' AND churn_probability IS NULL ORDER BY +id LIMIT ?2",
      )
      .bind(workspaceId, unscoredLimit),
  ]);
  return {
    flagged: (flagRes?.results ?? []) as { factor: RiskFactorName; n: number }[],
    scored: ((countRes?.results ?? [])[0] as { n: number } | undefined)?.n ?? 0,
    unscoredIds: ((unscoredRes?.results ?? []) as { id: string }[]).map((r) => r.id),
  };
}
