import { SqlParams } from "../../../platform/db/sql-params";
import {
  arrGrowth,
  type FactRow,
  type FactWindows,
  fieldsUsed,
  type MakeupGroup,
  type Rule,
  type RuleField,
} from "../domain/segments";
import { matchCodeSql, matchNameSql } from "./rule-sql";

/**
 * Accounts with the facts segment and tier rules test (`accounts` columns, usage events summed
 * over the usage window, ARR growth against contracts active a year ago): the reads and label
 * writes of segment_customers and segment_by_value_tier.
 */

/** Rows written per UPDATE when assigning. */
const ASSIGN_CHUNK = 500;

/** An account row with its rule facts as SQL returns them. */
interface RawRow {
  id: string;
  name: string;
  segment: string | null;
  tier: string | null;
  owner_user_id: string | null;
  owner_name: string | null;
  health_band: string | null;
  arr: number;
  employees: number | null;
  industry: string | null;
  region: string | null;
  plan: string | null;
  health_score: number | null;
  usage_events_30d: number;
  arr_year_ago: number | null;
}

/** Events of account `a` summed over the usage window (usage_daily primary-key range). */
const usageSql = (from: string, to: string) =>
  `(SELECT coalesce(sum(d.events), 0) FROM usage_daily d
     WHERE d.workspace_id = ?1 AND d.account_id = a.id AND d.day BETWEEN ${from} AND ${to})`;

/** Contracts of account `a` active on the reference day (contracts_ws_account index). */
const contractsYearAgoSql = (day: string) =>
  `FROM contracts c WHERE c.workspace_id = ?1 AND c.account_id = a.id AND c.status <> 'cancelled'
     AND c.start_date <= ${day} AND c.end_date >= ${day}`;

/**
 * SQL of each fact the rules use for account `a` (workspace `?1`): account columns, and the
 * window sums only when a rule tests them, binding their days then.
 */
function factsSql(p: SqlParams, windows: FactWindows, fields: Set<RuleField>): Partial<Record<RuleField, string>> {
  const facts: Partial<Record<RuleField, string>> = {
    arr: "a.arr",
    employees: "a.employees",
    industry: "a.industry",
    region: "a.region",
    plan: "a.plan",
    health_score: "a.health_score",
  };
  if (fields.has("usage_events_30d"))
    facts.usage_events_30d = usageSql(p.add(windows.usage_from), p.add(windows.usage_to));
  if (fields.has("arr_growth")) {
    // As arrGrowth: (ARR now − ARR then) / ARR then, null without ARR then.
    facts.arr_growth = `(SELECT CASE WHEN sum(c.arr) > 0 THEN (a.arr - sum(c.arr)) / sum(c.arr) END
        ${contractsYearAgoSql(p.add(windows.arr_growth_reference_day))})`;
  }
  return facts;
}

/** SQL of the computed label of account `a`: the name of the first matching definition (binding its windows on `p`). */
export function computedSql(
  p: SqlParams,
  windows: FactWindows,
  definitions: readonly { name: string; rules: readonly Rule[] }[],
) {
  return matchNameSql(definitions, matchCodeSql(definitions, factsSql(p, windows, fieldsUsed(definitions))));
}

function factRow(r: RawRow): FactRow {
  return {
    id: r.id,
    name: r.name,
    segment: r.segment,
    tier: r.tier,
    owner_user_id: r.owner_user_id,
    owner_name: r.owner_name,
    health_band: r.health_band,
    facts: {
      arr: r.arr,
      employees: r.employees,
      industry: r.industry,
      region: r.region,
      plan: r.plan,
      health_score: r.health_score,
      usage_events_30d: r.usage_events_30d,
      arr_growth: arrGrowth(r.arr, r.arr_year_ago ?? 0),
    },
  };
}

/**
 * Every account of the workspace by id with its rule facts, in one statement: account columns,
 * events summed over the usage window (usage_daily primary-key range per account) and the ARR of
 * contracts active on the day one year ago (contracts_ws_account index).
 */
export async function accountFacts(db: D1Database, workspaceId: string, windows: FactWindows): Promise<FactRow[]> {
  const result = await db
    .prepare(
      `SELECT a.id, a.name, a.segment, a.tier, a.owner_user_id, u.name AS owner_name, a.health_band,
            a.arr, a.employees, a.industry, a.region, a.plan, a.health_score,
            ${usageSql("?2", "?3")} AS usage_events_30d, (SELECT sum(c.arr) ${contractsYearAgoSql("?4")}) AS arr_year_ago
       FROM accounts a
       LEFT JOIN users u ON u.id = a.owner_user_id AND u.workspace_id = ?1
      WHERE a.workspace_id = ?1
      ORDER BY a.id`,
    )
    .bind(workspaceId, windows.usage_from, windows.usage_to, windows.arr_growth_reference_day)
    .all<RawRow>();
  return result.results.map(factRow);
}

/**
 * The workspace's accounts grouped by computed label, health band and owner, the rules matched
 * in SQL: one pass over the accounts, a few rows back, with the account and differing totals.
 */
export async function labelMakeup(
  db: D1Database,
  workspaceId: string,
  options: {
    definitions: readonly { name: string; rules: readonly Rule[] }[];
    column: "segment" | "tier";
    windows: FactWindows;
  },
): Promise<{ groups: MakeupGroup[]; accounts: number; differing: number }> {
  const { column } = options;
  const p = new SqlParams();
  p.add(workspaceId);
  const computed = computedSql(p, options.windows, options.definitions);
  const { results } = await db
    .prepare(
      `SELECT g.*, u.name AS owner_name
       FROM (SELECT computed, health_band, owner_user_id, count(*) AS accounts, sum(arr) AS arr,
                    sum(computed IS NOT stored) AS differing, min(id) AS first_id
               FROM (SELECT a.id, a.arr, a.health_band, a.owner_user_id, a.${column} AS stored, ${computed} AS computed
                       FROM accounts a WHERE a.workspace_id = ?1)
              GROUP BY computed, health_band, owner_user_id) g
       LEFT JOIN users u ON u.id = g.owner_user_id AND u.workspace_id = ?1`,
    )
    .bind(...p.values)
    .all<MakeupGroup>();
  return {
    groups: results,
    accounts: results.reduce((s, g) => s + g.accounts, 0),
    differing: results.reduce((s, g) => s + g.differing, 0),
  };
}

/**
 * Statements writing each account's new label, one set-based UPDATE per chunk (by primary key:
 * `+workspace_id` stops the planner walking the workspace index per listed id).
 */
export function assignLabelStatements(
  db: D1Database,
  workspaceId: string,
  options: { changes: readonly { id: string; v: string | null }[]; column: "segment" | "tier"; now: string },
): D1PreparedStatement[] {
  const { changes, column } = options;
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < changes.length; i += ASSIGN_CHUNK) {
    statements.push(
      db
        .prepare(
          `UPDATE accounts SET ${column} = j.v, updated_at = ?3
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.v' AS v FROM json_each(?2)) AS j
          WHERE +accounts.workspace_id = ?1 AND accounts.id = j.id`,
        )
        .bind(workspaceId, JSON.stringify(changes.slice(i, i + ASSIGN_CHUNK)), options.now),
    );
  }
  return statements;
}

/**
 * The evaluate figures: how many accounts there are and how many store another label than the
 * rules compute (matched in SQL over every account), and one page of accounts by id after `after`
 * (limit + 1 rows) with their facts, only those whose label differs when `onlyDiffering`.
 */
export async function evaluatePage(
  db: D1Database,
  workspaceId: string,
  options: {
    definitions: readonly { name: string; rules: readonly Rule[] }[];
    column: "segment" | "tier";
    windows: FactWindows;
    onlyDiffering: boolean;
    after: string;
    limit: number;
  },
): Promise<{ accounts: number; differing: number; rows: FactRow[] }> {
  const { definitions, column, windows } = options;
  // Counts over every account with the rules matched in SQL; facts and matches in full only for
  // the page, walked by id (accounts_ws_id) so the window sums run for its accounts alone.
  const totals = new SqlParams();
  totals.add(workspaceId);
  const totalsComputed = computedSql(totals, windows, definitions);
  const page = new SqlParams();
  page.add(workspaceId);
  const differs = options.onlyDiffering ? ` AND ${computedSql(page, windows, definitions)} IS NOT a.${column}` : "";
  const usage = usageSql(page.add(windows.usage_from), page.add(windows.usage_to));
  const yearAgo = contractsYearAgoSql(page.add(windows.arr_growth_reference_day));
  const afterParam = page.add(options.after);
  const limitParam = page.add(options.limit + 1);
  const [counted, listed] = await db.batch([
    db
      .prepare(
        `SELECT count(*) AS accounts, coalesce(sum(${totalsComputed} IS NOT a.${column}), 0) AS differing
         FROM accounts a WHERE a.workspace_id = ?1`,
      )
      .bind(...totals.values),
    db
      .prepare(
        `SELECT a.id, a.name, a.segment, a.tier, a.owner_user_id, NULL AS owner_name, a.health_band,
              a.arr, a.employees, a.industry, a.region, a.plan, a.health_score,
              ${usage} AS usage_events_30d, (SELECT sum(c.arr) ${yearAgo}) AS arr_year_ago
         FROM accounts a
        WHERE a.workspace_id = ?1 AND a.id > ${afterParam}${differs}
        ORDER BY a.id LIMIT ${limitParam}`,
      )
      .bind(...page.values),
  ]);
  const { accounts, differing } = counted!.results[0] as { accounts: number; differing: number };
  return { accounts, differing, rows: (listed!.results as unknown as RawRow[]).map(factRow) };
}
