/**
 * Reads SQLite `EXPLAIN QUERY PLAN` rows for unbounded reads of tables that grow with usage. A
 * full scan is a `SCAN <table>` step, with or without an index: either way every row (or every
 * index entry) of every workspace is visited. A `SEARCH` constrained by the workspace alone
 * visits every row the workspace ever stored there. Scans of `json_each`, CTEs and subqueries,
 * and searches with any narrower constraint (an account, a day range), are not reported.
 */

/** Tables that grow with usage: no statement a read tool runs may read one of them whole. */
export const GROWING_TABLES: ReadonlySet<string> = new Set([
  "usage_daily",
  "usage_feature_daily",
  "usage_events",
  "tickets",
  "survey_responses",
  "audit_log",
  "health_scores",
  "risk_scores",
]);

/** One row of `EXPLAIN QUERY PLAN`. */
export interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

const SQL_WORDS = new Set([
  "where",
  "on",
  "join",
  "left",
  "inner",
  "cross",
  "outer",
  "natural",
  "using",
  "group",
  "order",
  "limit",
  "union",
  "except",
  "intersect",
  "set",
  "values",
  "select",
  "as",
  "window",
  "having",
  "indexed",
  "not",
]);

/**
 * Table names each name in the statement may stand for: the table itself, and every alias given
 * to it after FROM or JOIN (plans name aliased tables by their alias).
 */
export function tableAliases(sql: string): Map<string, Set<string>> {
  const aliases = new Map<string, Set<string>>();
  const add = (name: string, table: string) => {
    const key = name.toLowerCase();
    const tables = aliases.get(key) ?? new Set<string>();
    tables.add(table.toLowerCase());
    aliases.set(key, tables);
  };
  const reference = /\b(?:from|join)\s+"?(\w+)\b"?(?!\s*\()(?:\s+(?:as\s+)?"?(\w+)"?)?/gi;
  for (const match of sql.matchAll(reference)) {
    const [, table, alias] = match;
    if (!table) continue;
    add(table, table);
    if (alias && !SQL_WORDS.has(alias.toLowerCase())) add(alias, table);
  }
  return aliases;
}

/** A step that reads a growing table without a bound narrower than what it stores. */
export interface UnboundedRead {
  table: string;
  /** `full scan`: every row of every workspace; `whole workspace`: every row of the caller's workspace. */
  kind: "full scan" | "whole workspace";
  detail: string;
}

/**
 * The steps of `plan` that read a growing table whole: a `SCAN` of it, or a `SEARCH` whose only
 * constraint is the workspace (every row the workspace ever stored in it).
 */
export function unboundedReadsOfGrowingTables(sql: string, plan: readonly PlanRow[]): UnboundedRead[] {
  const aliases = tableAliases(sql);
  const reads: UnboundedRead[] = [];
  for (const row of plan) {
    // `SCAN name`, `SCAN name AS alias`, `SCAN name USING [COVERING] INDEX i`.
    const scan = /^SCAN (\w+)(?: AS \w+)?(?:\s|$)/.exec(row.detail);
    const search = /^SEARCH (\w+)(?: AS \w+)? USING .*\(workspace_id=\?\)(?: LEFT-JOIN)?$/.exec(row.detail);
    const named = (scan ?? search)?.[1]?.toLowerCase();
    if (!named) continue;
    const tables = new Set([named, ...(aliases.get(named) ?? [])]);
    const table = [...tables].find((t) => GROWING_TABLES.has(t));
    if (table) reads.push({ table, kind: scan ? "full scan" : "whole workspace", detail: row.detail });
  }
  return reads;
}

/** The plan as indented lines, for failure messages. */
export function formatPlan(plan: readonly PlanRow[]): string {
  const depth = new Map<number, number>();
  return plan
    .map((row) => {
      const level = (depth.get(row.parent) ?? -1) + 1;
      depth.set(row.id, level);
      return `${"  ".repeat(level)}${row.detail}`;
    })
    .join("\n");
}
