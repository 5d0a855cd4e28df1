import { z } from "zod";
import { SqlParams } from "../../platform/db/sql-params";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { workspaceSettings } from "../../records/workspace-settings";
import {
  type AccountFacts,
  arrGrowth,
  fieldsUsed,
  firstMatch,
  type Match,
  matchCodeSql,
  matchNameSql,
  type Rule,
  type RuleField,
} from "./domain/segments";

/** Days of usage summed for `usage_events_30d`: the 30 complete UTC days before today. */
export const USAGE_WINDOW_DAYS = 30;
/** Rows written per UPDATE when assigning. */
const ASSIGN_CHUNK = 500;

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

/** The windows the computed facts use, stated in every answer. */
export interface FactWindows {
  usage_from: string;
  usage_to: string;
  arr_growth_reference_day: string;
}

/** The windows of the computed facts as of today. */
export function factWindows(ctx: ToolContext): FactWindows {
  const today = isoDay(ctx.now);
  return {
    usage_from: addDays(today, -USAGE_WINDOW_DAYS),
    usage_to: addDays(today, -1),
    arr_growth_reference_day: addDays(today, -365),
  };
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

/** SQL of the computed label of account `a`: the name of the first matching definition. */
export function computedSql(
  p: SqlParams,
  windows: FactWindows,
  definitions: readonly { name: string; rules: readonly Rule[] }[],
) {
  return matchNameSql(definitions, matchCodeSql(definitions, factsSql(p, windows, fieldsUsed(definitions))));
}

/**
 * Every account of the workspace with its rule facts, in one statement: account columns, events
 * summed over the usage window (usage_daily primary-key range per account) and the ARR of
 * contracts active on the day one year ago (contracts_ws_account index).
 */
export async function loadFacts(ctx: ToolContext): Promise<{ rows: FactRow[]; windows: FactWindows }> {
  const windows = factWindows(ctx);
  const result = await ctx.env.DB.prepare(
    `SELECT a.id, a.name, a.segment, a.tier, a.owner_user_id, u.name AS owner_name, a.health_band,
            a.arr, a.employees, a.industry, a.region, a.plan, a.health_score,
            ${usageSql("?2", "?3")} AS usage_events_30d, (SELECT sum(c.arr) ${contractsYearAgoSql("?4")}) AS arr_year_ago
       FROM accounts a
       LEFT JOIN users u ON u.id = a.owner_user_id AND u.workspace_id = ?1
      WHERE a.workspace_id = ?1
      ORDER BY a.id`,
  )
    .bind(ctx.principal.workspaceId, windows.usage_from, windows.usage_to, windows.arr_growth_reference_day)
    .all<RawRow>();
  return { rows: result.results.map(factRow), windows };
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

/**
 * The workspace's accounts grouped by computed label, health band and owner, the rules matched
 * in SQL: one pass over the accounts, a few rows back.
 */
export async function labelMakeup(
  ctx: ToolContext,
  definitions: readonly { name: string; rules: readonly Rule[] }[],
  column: "segment" | "tier",
): Promise<{ groups: MakeupGroup[]; windows: FactWindows; accounts: number; differing: number }> {
  const windows = factWindows(ctx);
  const p = new SqlParams();
  p.add(ctx.principal.workspaceId);
  const computed = computedSql(p, windows, definitions);
  const { results } = await ctx.env.DB.prepare(
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
    windows,
    accounts: results.reduce((s, g) => s + g.accounts, 0),
    differing: results.reduce((s, g) => s + g.differing, 0),
  };
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

/**
 * Writes the computed label where it differs from the stored one, one set-based UPDATE per chunk
 * (by primary key: `+workspace_id` stops the planner walking the workspace index per listed id).
 */
export async function assignLabels(ctx: ToolContext, evaluated: Evaluated[], column: "segment" | "tier") {
  const changes = evaluated.filter((e) => e.match.name !== e.stored).map((e) => ({ id: e.id, v: e.match.name }));
  const stamp = ctx.now.toISOString();
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < changes.length; i += ASSIGN_CHUNK) {
    statements.push(
      ctx.env.DB.prepare(
        `UPDATE accounts SET ${column} = j.v, updated_at = ?3
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.v' AS v FROM json_each(?2)) AS j
          WHERE +accounts.workspace_id = ?1 AND accounts.id = j.id`,
      ).bind(ctx.principal.workspaceId, JSON.stringify(changes.slice(i, i + ASSIGN_CHUNK)), stamp),
    );
  }
  if (statements.length > 0) await ctx.env.DB.batch(statements);
  return changes;
}

/** Output shape shared by segment and tier evaluation rows. */
export const evaluatedRow = z.object({
  account_id: z.string(),
  name: z.string(),
  stored: z.string().nullable().describe("Label stored on the account now."),
  computed: z.string().nullable().describe("Label from the rules (null when no definition matched)."),
  matched_rule: z.string().nullable().describe("The rule that matched, or catch-all."),
  differs: z.boolean(),
  facts: z
    .record(z.string(), z.union([z.string(), z.number(), z.null()]))
    .describe("Facts the rules test; usage_events_30d and arr_growth over the stated windows."),
});

/** Rows for the evaluate output. */
export function evaluatedOut(page: Evaluated[]) {
  return page.map((e) => ({
    account_id: e.id,
    name: e.name,
    stored: e.stored,
    computed: e.match.name,
    matched_rule: e.match.rule,
    differs: e.match.name !== e.stored,
    facts: { ...e.facts, arr_growth: e.facts.arr_growth === null ? null : round4(Number(e.facts.arr_growth)) },
  }));
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/** Plural label of each stored column, as the answers name it. */
const LABELS = { segment: "segments", tier: "tiers" } as const;

/**
 * The `assign` and `evaluate` actions, which segments and tiers share; null for any other
 * action. Assign writes the computed labels where they differ; evaluate pages through them.
 */
export async function assignOrEvaluate(
  ctx: ToolContext,
  args: { action: string; only_differing: boolean; limit: number; cursor?: string | undefined },
  definitions: readonly { name: string; rules: readonly Rule[] }[],
  column: "segment" | "tier",
) {
  const label = LABELS[column];
  if (args.action === "assign") {
    const { rows, windows } = await loadFacts(ctx);
    const evaluated = evaluateAll(rows, definitions, column);
    const differing = evaluated.filter((e) => e.match.name !== e.stored).length;
    const changes = await assignLabels(ctx, evaluated, column);
    ctx.audit({
      action: `assign_${label}`,
      targetType: "workspace",
      targetId: ctx.principal.workspaceId,
      details: { updated: changes.length, accounts_counted: evaluated.length },
    });
    return {
      data: {
        action: "assign" as const,
        windows,
        accounts_counted: evaluated.length,
        differing,
        updated: changes.length,
      },
      text: `Assigned ${label}: ${changes.length} of ${evaluated.length} accounts changed.`,
    };
  }
  if (args.action !== "evaluate") return null;
  const fingerprint = queryFingerprint([label, args.only_differing]);
  const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
  const windows = factWindows(ctx);
  // Counts over every account with the rules matched in SQL; facts and matches in full only for
  // the page, walked by id (accounts_ws_id) so the window sums run for its accounts alone.
  const totals = new SqlParams();
  totals.add(ctx.principal.workspaceId);
  const totalsComputed = computedSql(totals, windows, definitions);
  const page = new SqlParams();
  page.add(ctx.principal.workspaceId);
  const differs = args.only_differing ? ` AND ${computedSql(page, windows, definitions)} IS NOT a.${column}` : "";
  const usage = usageSql(page.add(windows.usage_from), page.add(windows.usage_to));
  const yearAgo = contractsYearAgoSql(page.add(windows.arr_growth_reference_day));
  const afterParam = page.add(after);
  const limitParam = page.add(args.limit + 1);
  const [counted, listed] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `SELECT count(*) AS accounts, coalesce(sum(${totalsComputed} IS NOT a.${column}), 0) AS differing
         FROM accounts a WHERE a.workspace_id = ?1`,
    ).bind(...totals.values),
    ctx.env.DB.prepare(
      `SELECT a.id, a.name, a.segment, a.tier, a.owner_user_id, NULL AS owner_name, a.health_band,
              a.arr, a.employees, a.industry, a.region, a.plan, a.health_score,
              ${usage} AS usage_events_30d, (SELECT sum(c.arr) ${yearAgo}) AS arr_year_ago
         FROM accounts a
        WHERE a.workspace_id = ?1 AND a.id > ${afterParam}${differs}
        ORDER BY a.id LIMIT ${limitParam}`,
    ).bind(...page.values),
  ]);
  const { accounts, differing } = counted!.results[0] as { accounts: number; differing: number };
  const rows = (listed!.results as unknown as RawRow[]).map(factRow);
  const evaluated = evaluateAll(rows.slice(0, args.limit), definitions, column);
  const last = evaluated.at(-1);
  const next = rows.length > args.limit && last ? encodeCursor({ k: [], id: last.id, q: fingerprint }) : null;
  const out = evaluatedOut(evaluated);
  return {
    data: {
      action: "evaluate" as const,
      windows,
      accounts_counted: accounts,
      differing,
      accounts: out,
      next_cursor: next,
    },
    text: [
      `${accounts} accounts evaluated; ${differing} stored ${label} differ.`,
      markdownTable(
        ["Account", "Stored", "Computed", "Rule"],
        out.map((o) => [o.name, o.stored, o.computed, o.matched_rule]),
      ),
    ].join("\n"),
  };
}

const ACTIONS = ["list", "evaluate", "assign"] as const;

/** Windows output field. */
export const windowsField = z
  .object({ usage_from: z.string(), usage_to: z.string(), arr_growth_reference_day: z.string() })
  .describe(
    "usage_events_30d sums usage_daily events over usage_from..usage_to; arr_growth compares ARR with contracts active on the reference day.",
  );

const bandMix = z.object({
  green: z.number().int(),
  yellow: z.number().int(),
  red: z.number().int(),
  unscored: z.number().int(),
});

/** Segment definitions, their live make-up, per-account evaluation and assignment. */
export const segmentCustomers = defineTool({
  name: "segment_customers",
  title: "Customer segments",
  toolset: "health",
  description:
    "Customer segments from the workspace settings (`segments`: ordered definitions; an account belongs to the first whose rules match, any rule of a definition suffices, no rules = catch-all). " +
    "Rule fields: arr, employees, industry, region, plan, health_score (account columns), usage_events_30d (usage events summed over the 30 complete UTC days before today) and arr_growth ((ARR now − ARR of contracts active 365 days ago) / the latter, null when there was none). " +
    "action list: each definition with, from the accounts' computed segment: account count, ARR, health band mix (stored band, unscored when none), coverage model and accounts and ARR per owner. " +
    "evaluate: each account's computed segment and matched rule without writing, paginated by id, with how many stored segments differ. " +
    "assign (csm or admin): writes accounts.segment where it differs and returns the counts.",
  input: {
    action: z.enum(ACTIONS).describe("list, evaluate or assign."),
    only_differing: z.boolean().default(false).describe("evaluate: only accounts whose stored segment differs."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    windows: windowsField,
    accounts_counted: z.number().int().describe("Accounts of the workspace evaluated."),
    differing: z
      .number()
      .int()
      .describe("Accounts whose stored segment differs from the computed one (before assign)."),
    updated: z.number().int().optional().describe("assign: rows written."),
    segments: z
      .array(
        z.object({
          name: z.string(),
          coverage: z.string(),
          rules: z.array(z.string()),
          accounts: z.number().int(),
          arr: z.number(),
          health_bands: bandMix,
          per_owner: z.array(
            z.object({
              owner_user_id: z.string().nullable(),
              owner_name: z.string().nullable(),
              accounts: z.number().int(),
              arr: z.number(),
            }),
          ),
        }),
      )
      .optional()
      .describe("list: each definition with its make-up."),
    unmatched: z.number().int().optional().describe("list: accounts no definition matched."),
    accounts: z.array(evaluatedRow).optional().describe("evaluate: this page."),
    next_cursor: nextCursorField.optional(),
  },
  minRole: "viewer",
  actions: { list: { writes: false }, evaluate: { writes: false }, assign: { writes: true, role: "csm" } },
  examples: [
    { title: "Segments and their accounts", args: () => ({ action: "list" }) },
    { title: "Which accounts the segment rules would move", args: () => ({ action: "evaluate" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const definitions = (await workspaceSettings(ctx)).segments;
    const shared = await assignOrEvaluate(ctx, args, definitions, "segment");
    if (shared) return shared;

    const { groups, windows, accounts, differing } = await labelMakeup(ctx, definitions, "segment");
    const base = { windows, accounts_counted: accounts, differing };
    const segments = definitions.map((def) => {
      const members = groups.filter((g) => g.computed === def.name);
      const bands = { green: 0, yellow: 0, red: 0, unscored: 0 };
      const owners = new Map<
        string,
        { owner_user_id: string | null; owner_name: string | null; accounts: number; arr: number; first_id: string }
      >();
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
        name: def.name,
        coverage: def.coverage,
        rules: def.rules.length ? def.rules.map((r) => `${r.field} ${r.op} ${JSON.stringify(r.value)}`) : ["catch-all"],
        accounts: members.reduce((s, m) => s + m.accounts, 0),
        arr: members.reduce((s, m) => s + m.arr, 0),
        health_bands: bands,
        // Heaviest ARR first; ties keep the order owners are met in by account id.
        per_owner: [...owners.values()]
          .sort((a, b) => b.arr - a.arr || a.accounts - b.accounts || (a.first_id < b.first_id ? -1 : 1))
          .map(({ first_id: _, ...o }) => o),
      };
    });
    const unmatched = groups.filter((g) => g.computed === null).reduce((s, g) => s + g.accounts, 0);
    return {
      data: { action: "list" as const, ...base, segments, unmatched },
      text: [
        `${segments.length} segments over ${accounts} accounts (${differing} stored segments differ).`,
        markdownTable(
          ["Segment", "Coverage", "Accounts", "ARR", "G/Y/R/–", "Owners"],
          segments.map((s) => [
            s.name,
            s.coverage,
            s.accounts,
            s.arr,
            `${s.health_bands.green}/${s.health_bands.yellow}/${s.health_bands.red}/${s.health_bands.unscored}`,
            s.per_owner.length,
          ]),
        ),
      ].join("\n"),
    };
  },
});
