import { z } from "zod";
import { round } from "../../../platform/lib/stats";
import { addDays } from "../../../platform/lib/time";

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

/** Days of usage summed for `usage_events_30d`: the 30 complete UTC days before today. */
export const USAGE_WINDOW_DAYS = 30;

/** The windows the computed facts use, stated in every answer. */
export interface FactWindows {
  usage_from: string;
  usage_to: string;
  arr_growth_reference_day: string;
}

/** The windows of the computed facts as of `today`. */
export function factWindows(today: string): FactWindows {
  return {
    usage_from: addDays(today, -USAGE_WINDOW_DAYS),
    usage_to: addDays(today, -1),
    arr_growth_reference_day: addDays(today, -365),
  };
}

/** One account with its rule facts and the stored labels. */
export interface FactRow {
  id: string;
  name: string;
  segment: string | null;
  tier: string | null;
  owner_user_id: string | null;
  owner_name: string | null;
  health_band: string | null;
  facts: AccountFacts;
}

/** An account with its computed label. */
export interface Evaluated extends FactRow {
  match: Match;
  stored: string | null;
}

/** Matches every account against the definitions; `column` names the stored label compared with. */
export function evaluateAll(
  rows: FactRow[],
  definitions: readonly { name: string; rules: readonly Rule[] }[],
  column: "segment" | "tier",
): Evaluated[] {
  return rows.map((r) => ({ ...r, match: firstMatch(definitions, r.facts), stored: r[column] }));
}

/** Evaluated accounts as answered: stored and computed label, matched rule, facts (arr_growth to 4 places). */
export function evaluatedOut(page: Evaluated[]) {
  return page.map((e) => ({
    account_id: e.id,
    name: e.name,
    stored: e.stored,
    computed: e.match.name,
    matched_rule: e.match.rule,
    differs: e.match.name !== e.stored,
    facts: { ...e.facts, arr_growth: e.facts.arr_growth === null ? null : round(Number(e.facts.arr_growth), 4) },
  }));
}

/** A definition's rules as listed: `field op value` with the value as JSON, or `catch-all` for none. */
export function ruleTexts(rules: readonly Rule[]): string[] {
  return rules.length ? rules.map((r) => `${r.field} ${r.op} ${JSON.stringify(r.value)}`) : ["catch-all"];
}

/** Accounts sharing a computed label, band and owner, with how many of them store another label. */
export interface MakeupGroup {
  computed: string | null;
  health_band: string | null;
  owner_user_id: string | null;
  owner_name: string | null;
  accounts: number;
  arr: number;
  differing: number;
  /** Smallest account id of the group: the order accounts are met in. */
  first_id: string;
}

/** Accounts and ARR of the groups computed into one definition. */
export function labelTotals(groups: readonly MakeupGroup[], name: string): { accounts: number; arr: number } {
  const members = groups.filter((g) => g.computed === name);
  return { accounts: members.reduce((s, m) => s + m.accounts, 0), arr: members.reduce((s, m) => s + m.arr, 0) };
}

/** One owner's accounts and ARR within a segment. */
export interface OwnerLoad {
  owner_user_id: string | null;
  owner_name: string | null;
  accounts: number;
  arr: number;
}

/**
 * The health band mix (stored band, unscored when none) and the per-owner load of the groups
 * computed into one segment: heaviest ARR first; ties keep the order owners are met in by account id.
 */
export function segmentMakeup(
  groups: readonly MakeupGroup[],
  name: string,
): { health_bands: { green: number; yellow: number; red: number; unscored: number }; per_owner: OwnerLoad[] } {
  const members = groups.filter((g) => g.computed === name);
  const bands = { green: 0, yellow: 0, red: 0, unscored: 0 };
  const owners = new Map<string, OwnerLoad & { first_id: string }>();
  for (const m of members) {
    const band = m.health_band as keyof typeof bands | null;
    bands[band && band in bands ? band : "unscored"] += m.accounts;
    const key = m.owner_user_id ?? "";
    const o = owners.get(key) ?? {
      owner_user_id: m.owner_user_id,
      owner_name: m.owner_name,
      accounts: 0,
      arr: 0,
      first_id: m.first_id,
    };
    o.accounts += m.accounts;
    o.arr += m.arr;
    if (m.first_id < o.first_id) o.first_id = m.first_id;
    owners.set(key, o);
  }
  return {
    health_bands: bands,
    per_owner: [...owners.values()]
      .sort((a, b) => b.arr - a.arr || a.accounts - b.accounts || (a.first_id < b.first_id ? -1 : 1))
      .map(({ first_id: _, ...o }) => o),
  };
}
