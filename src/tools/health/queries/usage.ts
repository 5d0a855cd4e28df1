import { SqlParams } from "../../../platform/db/sql-params";
import {
  ACTIVE_ACCOUNTS_SERIES_SQL,
  FEATURES_USED_SQL,
  fillSql,
  SCOPE_SERIES_SQL,
  SEATS_BY_ACCOUNT_SQL,
  WEEK_MONDAY_SQL,
  withAccounts,
} from "../../../records/usage";
import type { DayWindow, UsageDay } from "../domain/usage-metrics";

/**
 * The usage rollups track_usage_engagement reads: the accounts in scope, the scope's daily series,
 * seats and breadth, and per-account figures for one page of accounts.
 */

/** The accounts measured: one account by id, one segment's active accounts, or every active account. */
export interface UsageScopeFilter {
  accountId?: string | undefined;
  segment?: string | undefined;
}

/** An account of the page measured. */
export interface UsageAccountRow {
  id: string;
  name: string;
  segment: string | null;
}

/** One account's figures over the current window and the prior one (`prior_*`), from its daily rollups. */
export interface UsageMetricsRow {
  account_id: string;
  days_with_data: number;
  dau: number | null;
  mau: number | null;
  events: number;
  sessions: number;
  prior_dau: number | null;
  prior_events: number;
  prior_sessions: number;
}

/** What the scope-wide and per-account statements return for a window and its prior window. */
export interface UsageFigures {
  /** The scope's daily series (summed over accounts) over prior.from..current.to. */
  series: UsageDay[];
  /** Licensed seats of the scope's accounts (SEATS_BY_ACCOUNT_SQL). */
  scopeSeats: number;
  /** Distinct features with events in the current window over the scope. */
  scopeBreadth: number;
  /** Accounts of the scope with a usage rollup in the current window. */
  scopeCounted: number;
  /** Per page account: current and prior window figures. */
  rows: UsageMetricsRow[];
  /** Per page account: the mean over ISO weeks of the week's highest daily active users. */
  weeks: { account_id: string; wau: number }[];
  /** Per page account: licensed seats. */
  seats: { account_id: string; seats: number }[];
  /** Per page account: distinct features with events in the current window. */
  breadth: { account_id: string; n: number }[];
}

/** The scope as SQL: a subquery of its account ids, the rollup-row condition and the values both bind. */
interface ScopeSql {
  scopeSql: string;
  /** How rollup rows are limited to the scope: one account by equality, so its primary-key range is used. */
  inScope: string;
  values: (string | number)[];
}

function scopeOf(workspaceId: string, filter: UsageScopeFilter): ScopeSql {
  const params = new SqlParams();
  params.add(workspaceId);
  let scopeSql: string;
  let inScope: string | undefined;
  if (filter.accountId) {
    const id = params.add(filter.accountId);
    scopeSql = `SELECT id FROM accounts WHERE workspace_id = ?1 AND id = ${id}`;
    inScope = `account_id = ${id}`;
  } else if (filter.segment) {
    scopeSql = `SELECT id FROM accounts WHERE workspace_id = ?1 AND status = 'active' AND segment = ${params.add(filter.segment)}`;
  } else {
    scopeSql = "SELECT id FROM accounts WHERE workspace_id = ?1 AND status = 'active'";
  }
  inScope ??= `account_id IN (${scopeSql})`;
  return { scopeSql, inScope, values: [...params.values] };
}

/**
 * One page of the scope's accounts by id after `after` (limit + 1 rows, so the caller sees
 * whether more follow) and the number of accounts in the scope.
 */
export async function usageScopeAccounts(
  db: D1Database,
  workspaceId: string,
  filter: UsageScopeFilter,
  page: { after: string; limit: number },
): Promise<{ rows: UsageAccountRow[]; count: number }> {
  const { scopeSql, values: scopeValues } = scopeOf(workspaceId, filter);
  const pageParam = `?${scopeValues.length + 1}`;
  const limitParam = `?${scopeValues.length + 2}`;
  const [pageResult, countResult] = await db.batch([
    db
      .prepare(
        `SELECT id, name, segment FROM accounts WHERE workspace_id = ?1 AND id IN (${scopeSql}) AND id > ${pageParam} ORDER BY id LIMIT ${limitParam}`,
      )
      .bind(...scopeValues, page.after, page.limit + 1),
    db.prepare(`SELECT count(*) AS n FROM (${scopeSql})`).bind(...scopeValues),
  ]);
  return {
    rows: pageResult!.results as unknown as UsageAccountRow[],
    count: (countResult!.results[0] as { n: number }).n,
  };
}

/**
 * Scope-wide figures (daily series over prior.from..current.to summed over accounts, seats,
 * feature breadth and accounts with data in the current window) and per-account figures of the
 * page's accounts, in one batch.
 */
export async function usageFigures(
  db: D1Database,
  workspaceId: string,
  filter: UsageScopeFilter,
  options: { pageIds: readonly string[]; current: DayWindow; prior: DayWindow },
): Promise<UsageFigures> {
  const ws = workspaceId;
  const { current, prior } = options;
  const scope = filter.accountId ? "account" : filter.segment ? "segment" : "all";
  const { scopeSql, inScope, values: scopeValues } = scopeOf(workspaceId, filter);
  const n = scopeValues.length;
  // Statements below bind the scope values, then the window's two ends.
  const w = { from: `?${n + 1}`, to: `?${n + 2}` };
  const ids = JSON.stringify(options.pageIds);
  const pageIds = "SELECT value FROM json_each(?2)";
  const [series, scopeSeats, scopeBreadth, scopeCounted, rows, weeks, seats, breadth] = await db.batch([
    scope === "all"
      ? db.prepare(ACTIVE_ACCOUNTS_SERIES_SQL).bind(ws, prior.from, current.to)
      : db
          .prepare(fillSql(SCOPE_SERIES_SQL, { accounts: scopeSql, ...w }))
          .bind(...scopeValues, prior.from, current.to),
    db
      .prepare(`SELECT coalesce(sum(seats), 0) AS seats FROM (${withAccounts(SEATS_BY_ACCOUNT_SQL, scopeSql)})`)
      .bind(...scopeValues),
    db
      .prepare(
        // One account: its primary-key range holds its features; many: walk the feature names.
        scope === "account"
          ? `SELECT count(DISTINCT feature) AS n FROM usage_feature_daily
              WHERE workspace_id = ?1 AND day BETWEEN ${w.from} AND ${w.to} AND ${inScope} AND events > 0`
          : `SELECT count(*) AS n FROM (${fillSql(FEATURES_USED_SQL, { ...w, after: "''", scope: ` AND f.${inScope}` })})`,
      )
      .bind(...scopeValues, current.from, current.to),
    // One primary-key probe per account in scope, not a read of every account-day of the window.
    db
      .prepare(
        `SELECT count(*) AS n FROM (${scopeSql}) s WHERE EXISTS (SELECT 1 FROM usage_daily u
           WHERE u.workspace_id = ?1 AND u.account_id = s.id AND u.day BETWEEN ${w.from} AND ${w.to})`,
      )
      .bind(...scopeValues, current.from, current.to),
    db
      .prepare(
        `SELECT account_id,
                sum(day >= ?4) AS days_with_data,
                avg(CASE WHEN day >= ?4 THEN active_users END) AS dau,
                max(CASE WHEN day >= ?4 THEN active_users END) AS mau,
                coalesce(sum(CASE WHEN day >= ?4 THEN events END), 0) AS events,
                coalesce(sum(CASE WHEN day >= ?4 THEN sessions END), 0) AS sessions,
                avg(CASE WHEN day < ?4 THEN active_users END) AS prior_dau,
                coalesce(sum(CASE WHEN day < ?4 THEN events END), 0) AS prior_events,
                coalesce(sum(CASE WHEN day < ?4 THEN sessions END), 0) AS prior_sessions
           FROM usage_daily
          WHERE workspace_id = ?1 AND account_id IN (${pageIds}) AND day BETWEEN ?3 AND ?5
          GROUP BY account_id`,
      )
      .bind(ws, ids, prior.from, current.from, current.to),
    db
      .prepare(
        `SELECT account_id, avg(top) AS wau FROM (
           SELECT account_id, max(active_users) AS top FROM usage_daily
            WHERE workspace_id = ?1 AND account_id IN (${pageIds}) AND day BETWEEN ?3 AND ?4
            GROUP BY account_id, ${WEEK_MONDAY_SQL})
          GROUP BY account_id`,
      )
      .bind(ws, ids, current.from, current.to),
    db.prepare(withAccounts(SEATS_BY_ACCOUNT_SQL, pageIds)).bind(ws, ids),
    db
      .prepare(
        `SELECT account_id, count(DISTINCT feature) AS n FROM usage_feature_daily
          WHERE workspace_id = ?1 AND account_id IN (${pageIds}) AND day BETWEEN ?3 AND ?4 AND events > 0
          GROUP BY account_id`,
      )
      .bind(ws, ids, current.from, current.to),
  ]);
  return {
    series: series!.results as unknown as UsageDay[],
    scopeSeats: (scopeSeats!.results[0] as { seats: number }).seats,
    scopeBreadth: (scopeBreadth!.results[0] as { n: number }).n,
    scopeCounted: (scopeCounted!.results[0] as { n: number }).n,
    rows: rows!.results as unknown as UsageMetricsRow[],
    weeks: weeks!.results as { account_id: string; wau: number }[],
    seats: seats!.results as { account_id: string; seats: number }[],
    breadth: breadth!.results as { account_id: string; n: number }[],
  };
}
