/**
 * Segment and tier rules as SQL: each rule a condition over an account-fact expression, true exactly
 * where the domain's `ruleMatches` holds, and a list of definitions as the code and name of its first match.
 */
import type { Rule, RuleField } from "../domain/segments";

/** A string as an SQL text literal spelled in hex, so no value can break out of the statement. */
export function sqlText(value: string): string {
  const hex = [...new TextEncoder().encode(value)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `CAST(X'${hex}' AS TEXT)`;
}

/** A finite number as an SQL literal. */
function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error("rule values are finite numbers");
  return `(${String(value)})`;
}

const IS_NUMBER = (expr: string) => `typeof(${expr}) IN ('integer', 'real')`;

/** SQL for `a === norm(value)` of `ruleMatches`: same type, strings compared lower-cased. */
function equalsSql(expr: string, value: string | number): string {
  return typeof value === "string"
    ? `(typeof(${expr}) = 'text' AND lower(${expr}) = ${sqlText(value.toLowerCase())})`
    : `(${IS_NUMBER(expr)} AND ${expr} = ${sqlNumber(value)})`;
}

/**
 * One rule as an SQL condition over the fact expression, true exactly where `ruleMatches`
 * holds (a missing fact matches only `neq`). SQLite lower-cases ASCII letters only, so stored
 * strings compare like the rule's only when their upper-case letters are ASCII.
 */
export function ruleSql(rule: Rule, expr: string): string {
  const v = rule.value;
  switch (rule.op) {
    case "eq":
      return Array.isArray(v) ? "0" : equalsSql(expr, v);
    case "neq":
      return Array.isArray(v) ? `(${expr} IS NULL)` : `(${expr} IS NULL OR NOT ${equalsSql(expr, v)})`;
    case "in":
      return Array.isArray(v) && v.length > 0 ? `(${v.map((x) => equalsSql(expr, x)).join(" OR ")})` : "0";
    case "between":
      return Array.isArray(v)
        ? `(${IS_NUMBER(expr)} AND ${expr} >= ${sqlNumber(Number(v[0]))} AND ${expr} <= ${sqlNumber(Number(v[1]))})`
        : "0";
    default: {
      if (Array.isArray(v) || typeof v !== "number") return "0";
      const op = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[rule.op];
      return `(${IS_NUMBER(expr)} AND ${expr} ${op} ${sqlNumber(v)})`;
    }
  }
}

/** Rule index standing for a catch-all definition in a {@link matchCodeSql} code. */
export const CATCH_ALL_CODE = 99;

/**
 * SQL for the domain's `firstMatch` as one code: definition index × 100 + rule index (99 for a
 * catch-all), NULL when no definition matches. `facts` maps each field a rule uses to its SQL.
 */
export function matchCodeSql(
  definitions: readonly { rules: readonly Rule[] }[],
  facts: Partial<Record<RuleField, string>>,
): string {
  const arms: string[] = [];
  for (const [d, def] of definitions.entries()) {
    if (def.rules.length === 0) {
      arms.push(`WHEN 1 THEN ${d * 100 + CATCH_ALL_CODE}`);
      break;
    }
    for (const [r, rule] of def.rules.entries()) {
      const expr = facts[rule.field];
      if (expr === undefined) throw new Error(`no SQL for the fact ${rule.field}`);
      arms.push(`WHEN ${ruleSql(rule, expr)} THEN ${d * 100 + r}`);
    }
  }
  return arms.length ? `(CASE ${arms.join(" ")} END)` : "NULL";
}

/** SQL naming the definition of a {@link matchCodeSql} code (NULL for none). */
export function matchNameSql(definitions: readonly { name: string }[], code: string): string {
  if (definitions.length === 0) return "NULL";
  return `(CASE ${code} / 100 ${definitions.map((d, i) => `WHEN ${i} THEN ${sqlText(d.name)}`).join(" ")} END)`;
}
