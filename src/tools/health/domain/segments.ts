import { z } from "zod";

/** Account facts a segment or tier rule may test. */
export const RULE_FIELDS = [
  "arr",
  "employees",
  "industry",
  "region",
  "plan",
  "health_score",
  "usage_events_30d",
  "arr_growth",
] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

/** Comparison operators of a rule. */
export const RULE_OPS = ["eq", "neq", "gt", "gte", "lt", "lte", "in", "between"] as const;

const scalar = z.union([z.number(), z.string()]);

/** One condition on an account fact; a missing fact (null) matches only `neq`. */
export const ruleSchema = z
  .object({
    field: z.enum(RULE_FIELDS).describe("Account fact tested."),
    op: z.enum(RULE_OPS).describe("Comparison; `in` takes a list, `between` a [low, high] pair (inclusive)."),
    value: z
      .union([scalar, z.array(scalar).max(50)])
      .describe("Value compared with; a list for `in`, two numbers for `between`."),
  })
  .strict()
  .refine(
    (r) => (r.op === "in" ? Array.isArray(r.value) : r.op === "between" ? isPair(r.value) : !Array.isArray(r.value)),
    {
      message: "`in` needs a list, `between` two numbers, every other operator one value",
    },
  );
export type Rule = z.output<typeof ruleSchema>;

function isPair(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number");
}

/** A customer segment: matched when ANY of its rules holds (an empty rule list matches every account). */
export const segmentDefinitionSchema = z
  .object({
    name: z.string().min(1).max(50),
    rules: z.array(ruleSchema).max(20).default([]),
    coverage: z.enum(["high_touch", "low_touch", "tech_touch"]),
  })
  .strict();

/** A value tier with the service level its accounts are owed; matched like a segment. */
export const tierDefinitionSchema = z
  .object({
    name: z.string().min(1).max(50),
    rules: z.array(ruleSchema).max(20).default([]),
    service: z
      .object({
        response_sla_hours: z.number().min(0).max(720),
        ebr_cadence_days: z.number().int().min(1).max(730),
        dedicated_csm: z.boolean(),
      })
      .strict(),
  })
  .strict();

/** Default segments: Enterprise, Mid-Market, SMB by ARR or headcount. */
export const DEFAULT_SEGMENTS: z.input<typeof segmentDefinitionSchema>[] = [
  {
    name: "Enterprise",
    rules: [
      { field: "arr", op: "gte", value: 100_000 },
      { field: "employees", op: "gte", value: 1000 },
    ],
    coverage: "high_touch",
  },
  {
    name: "Mid-Market",
    rules: [
      { field: "arr", op: "gte", value: 20_000 },
      { field: "employees", op: "gte", value: 200 },
    ],
    coverage: "low_touch",
  },
  { name: "SMB", rules: [], coverage: "tech_touch" },
];

/** Default tiers by ARR. */
export const DEFAULT_TIERS: z.input<typeof tierDefinitionSchema>[] = [
  {
    name: "Tier 1",
    rules: [{ field: "arr", op: "gte", value: 100_000 }],
    service: { response_sla_hours: 4, ebr_cadence_days: 90, dedicated_csm: true },
  },
  {
    name: "Tier 2",
    rules: [{ field: "arr", op: "gte", value: 20_000 }],
    service: { response_sla_hours: 8, ebr_cadence_days: 180, dedicated_csm: false },
  },
  { name: "Tier 3", rules: [], service: { response_sla_hours: 24, ebr_cadence_days: 365, dedicated_csm: false } },
];

/** The facts of one account, null where unknown. */
export type AccountFacts = Record<RuleField, string | number | null>;

/** Whether one rule holds for the facts. Strings compare case-insensitively. */
export function ruleMatches(rule: Rule, facts: AccountFacts): boolean {
  const actual = facts[rule.field];
  if (actual === null) return rule.op === "neq";
  const norm = (v: string | number) => (typeof v === "string" ? v.toLowerCase() : v);
  const a = norm(actual);
  const v = rule.value;
  switch (rule.op) {
    case "eq":
      return !Array.isArray(v) && a === norm(v);
    case "neq":
      return !Array.isArray(v) && a !== norm(v);
    case "in":
      return Array.isArray(v) && v.some((x) => norm(x) === a);
    case "between":
      return Array.isArray(v) && typeof a === "number" && a >= Number(v[0]) && a <= Number(v[1]);
    default: {
      if (Array.isArray(v) || typeof a !== "number" || typeof v !== "number") return false;
      if (rule.op === "gt") return a > v;
      if (rule.op === "gte") return a >= v;
      if (rule.op === "lt") return a < v;
      return a <= v;
    }
  }
}

/** The outcome of matching one account against an ordered list of definitions. */
export interface Match {
  /** Name of the first definition that matched, or null when none did. */
  name: string | null;
  /** Index of the rule that matched within that definition; null for a catch-all (no rules) or no match. */
  rule_index: number | null;
  /** The matched rule written out, e.g. `arr gte 100000`, or `catch-all`. */
  rule: string | null;
}

/** First definition whose rules match (any rule; no rules = catch-all). */
export function firstMatch(
  definitions: readonly { name: string; rules: readonly Rule[] }[],
  facts: AccountFacts,
): Match {
  for (const def of definitions) {
    if (def.rules.length === 0) return { name: def.name, rule_index: null, rule: "catch-all" };
    const index = def.rules.findIndex((r) => ruleMatches(r, facts));
    if (index >= 0) return { name: def.name, rule_index: index, rule: describeRule(def.rules[index]!) };
  }
  return { name: null, rule_index: null, rule: null };
}

/** A rule as short text. */
export function describeRule(rule: Rule): string {
  const v = Array.isArray(rule.value) ? `[${rule.value.join(", ")}]` : String(rule.value);
  return `${rule.field} ${rule.op} ${v}`;
}

/** Fields used by any of the definitions, so only needed facts are computed. */
export function fieldsUsed(definitions: readonly { rules: readonly Rule[] }[]): Set<RuleField> {
  return new Set(definitions.flatMap((d) => d.rules.map((r) => r.field)));
}

/** ARR growth as a fraction: (now − then) / then; null when there was no ARR a year ago. */
export function arrGrowth(arrNow: number, arrYearAgo: number): number | null {
  return arrYearAgo > 0 ? (arrNow - arrYearAgo) / arrYearAgo : null;
}

/** Median of a list, null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The service an account received, measured from its records. */
export interface ServiceReceived {
  /** Median first-response hours of its tickets in the window; null when none was answered. */
  median_first_response_hours: number | null;
  /** Days since its last meeting; null when it never had one. */
  days_since_meeting: number | null;
  has_owner: boolean;
}

/** The service levels a tier owes. */
export interface ServiceLevels {
  response_sla_hours: number;
  ebr_cadence_days: number;
  dedicated_csm: boolean;
}

/** Which levels an account misses: slow median response, meeting overdue (or never held), no owner when one is due. */
export function slaBreaches(received: ServiceReceived, levels: ServiceLevels): string[] {
  const breaches: string[] = [];
  const hours = received.median_first_response_hours;
  if (hours !== null && hours > levels.response_sla_hours) breaches.push("response");
  const days = received.days_since_meeting;
  if (days === null || days > levels.ebr_cadence_days) breaches.push("ebr");
  if (levels.dedicated_csm && !received.has_owner) breaches.push("owner");
  return breaches;
}

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

/** SQL for `a === norm(value)` of {@link ruleMatches}: same type, strings compared lower-cased. */
function equalsSql(expr: string, value: string | number): string {
  return typeof value === "string"
    ? `(typeof(${expr}) = 'text' AND lower(${expr}) = ${sqlText(value.toLowerCase())})`
    : `(${IS_NUMBER(expr)} AND ${expr} = ${sqlNumber(value)})`;
}

/**
 * One rule as an SQL condition over the fact expression, true exactly where {@link ruleMatches}
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
 * SQL for {@link firstMatch} as one code: definition index × 100 + rule index (99 for a
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
