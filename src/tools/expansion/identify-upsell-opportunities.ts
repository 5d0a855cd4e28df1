import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { isoDay } from "../../platform/lib/time";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { cursorArg, limitArg, nextCursorField, queryFingerprint } from "../../platform/mcp/pagination";
import { missingAccountIds } from "../../records/accounts";
import { matchesFilters, planOf, rankedPage } from "./domain/book";
import { type OpenDealIndex, openDealIndex, type SameDealRule } from "./domain/opportunities";
import {
  DEFAULT_UPSELL_THRESHOLDS,
  DEFAULT_UPSELL_WEIGHTS,
  discountOffList,
  evaluateUpsell,
  gatedFeatures,
  nextPlanUp,
  p90ActiveUsers,
  type UpsellEvaluation,
  type UpsellThresholds,
  type UpsellWeights,
  upsellWindows,
} from "./domain/upsell";
import { accountFilters, type Book, type BookAccount, loadBook } from "./queries/book";
import {
  createArgs,
  createdOpportunitiesField,
  createOpportunities,
  openOpportunitiesOfKind,
} from "./queries/opportunities";
import { upsellUsage } from "./queries/usage";

/** The `source` stored on opportunities this tool creates. */
export const UPSELL_SOURCE = "upsell_signals";

/** An open upsell with no product recorded (a CRM "+N seats" deal) already covers the account's need. */
const SAME_UPSELL: SameDealRule = { kind: "upsell", unknownProductBlocks: true };

const ACTIONS = ["list", "create"] as const;

const weightsArg = z
  .object({
    utilization: z.number().min(0).max(10).describe("Weight of seat utilization."),
    growth: z.number().min(0).max(10).describe("Weight of usage growth."),
    gated_features: z.number().min(0).max(10).describe("Weight of higher-plan features in use."),
    health: z.number().min(0).max(10).describe("Weight of the health score."),
  })
  .strict();

const num = z.number();
const candidateSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  owner_user_id: z.string().nullable(),
  health_band: z.string().nullable(),
  health_score: num.nullable(),
  plan_product_id: z.string().nullable(),
  plan_name: z.string().nullable(),
  seats: z.number().int().describe("Licensed seats (plan items of active contracts)."),
  peak_active_users: z.number().int().describe("Highest daily active users in the recent window."),
  p90_active_users: z
    .number()
    .int()
    .describe("90th percentile of daily active users in the recent window (nearest rank, idle days as 0)."),
  utilization: num.nullable().describe("p90_active_users / seats; null without seats."),
  events_recent: z.number().int().describe("Usage events in the recent window."),
  events_prior: z.number().int().describe("Usage events in the window before it."),
  growth: num.nullable().describe("(events_recent − events_prior) / events_prior; null when events_prior is 0."),
  gated_features: z.array(z.string()).describe("Features in use that the plan lacks and a higher plan includes."),
  components: z
    .object({ utilization: num, growth: num, gated_features: num, health: num })
    .describe("Normalized 0–1 component values."),
  score: num.describe("0–100."),
  discount: num.describe("Discount off list on the plan items: 1 − plan ARR / (seats × list price)."),
  qualified: z.boolean(),
  reason: z.string().nullable().describe("Why it does not qualify; null when it does."),
  suggestion: z
    .object({
      kind: z.enum(["more_seats", "next_plan"]),
      product_id: z.string(),
      product_name: z.string(),
      seats_after: z.number().int(),
      seats_added: z.number().int(),
      arr_uplift: num,
    })
    .nullable(),
  open_opportunity_id: z
    .string()
    .nullable()
    .describe(
      "An open upsell opportunity already held for this account and the suggested product (or with no product).",
    ),
});

type Candidate = z.infer<typeof candidateSchema>;

/** Seat pressure, growth, gated features and health per account; the upsell candidates and their opportunities. */
export const identifyUpsellOpportunities = defineActionTool({
  name: "identify_upsell_opportunities",
  title: "Upsell opportunities",
  toolset: "expansion",
  description:
    "Active accounts near their plan's limits and healthy, with a suggested product and ARR uplift. " +
    "Signals over the last `window_days` complete UTC days (default 30): seat utilization = the 90th percentile of daily active users (usage_daily; nearest rank with idle days as 0, i.e. the 4th highest day of 30) / licensed seats (plan items of active contracts); usage growth = (events in the window − events in the window before) / the latter; gated features = features in use (usage_feature_daily) that the account's plan lacks and a higher-priced plan includes, from `plan_features` (the catalog stores no feature entitlements, so gated use is only detected when they are given). " +
    "Score 0–100 = 100 × Σ weight × normalized component / Σ weights; components: utilization 50 %→0 … 100 %→1, growth 0→0 … +50 %→1, gated features 1→0.5, 2+→1, health score / 100; default weights utilization 0.5, growth 0.2, gated 0.2, health 0.1. " +
    "Qualified = near the limit (utilization ≥ `near_limit_utilization`, default 0.8, or a gated feature in use) and healthy (band green, or yellow with score ≥ `yellow_min_score`, default 60; red and unscored never). " +
    "Suggestion: with gated features, the next plan up the price ladder (same family) at max(seats, seats needed); else seats needed = ceil(p90 daily active users / `target_utilization`, default 0.8) of the current plan. " +
    "ARR uplift = seats after × new list price × (1 − discount) − seats × current list price × (1 − discount), discount = 1 − plan ARR / (seats × list price) of the account's plan items. " +
    "action list: qualified candidates (or all evaluated with include_unqualified), sorted by score or uplift, paginated. action create (csm): opens upsell opportunities (stage identified, source upsell_signals, amount = uplift, score, suggested product) for the given account ids or the top N; an account that already has an open upsell opportunity for that product, or one with no product recorded (as CRM deals have), gets no second one.",
  input: {
    action: z.enum(ACTIONS).describe("list (read) or create (csm: open opportunities)."),
    ...accountFilters,
    min_score: z.number().min(0).max(100).default(0).describe("Only candidates scoring at least this (0–100)."),
    sort: z
      .enum(["score", "uplift"])
      .default("score")
      .describe("list and top N: by score or by ARR uplift, descending."),
    include_unqualified: z
      .boolean()
      .default(false)
      .describe("list: also show evaluated accounts that do not qualify, with the reason."),
    window_days: z.number().int().min(7).max(90).default(30).describe("Length of the recent and prior usage windows."),
    near_limit_utilization: z
      .number()
      .min(0.1)
      .max(2)
      .default(DEFAULT_UPSELL_THRESHOLDS.nearLimitUtilization)
      .describe("Utilization from which an account is near its seat limit (default 0.8)."),
    target_utilization: z
      .number()
      .min(0.1)
      .max(1)
      .default(DEFAULT_UPSELL_THRESHOLDS.targetUtilization)
      .describe("Utilization the suggested seat count brings the p90 daily active users to (default 0.8)."),
    yellow_min_score: z
      .number()
      .min(0)
      .max(100)
      .default(DEFAULT_UPSELL_THRESHOLDS.yellowMinScore)
      .describe("Least score a yellow-band account needs to qualify (default 60)."),
    weights: weightsArg
      .optional()
      .describe("Score weights; default utilization 0.5, growth 0.2, gated 0.2, health 0.1."),
    plan_features: z
      .record(z.string().min(1).max(100), z.array(z.string().min(1).max(100)).max(200))
      .optional()
      .describe(
        "Features each plan includes: plan product id → feature keys as in usage data. Needed for gated features.",
      ),
    ...createArgs,
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS),
    windows: z
      .object({ recent_from: z.string(), recent_to: z.string(), prior_from: z.string(), prior_to: z.string() })
      .describe("Usage windows (inclusive UTC days)."),
    accounts_counted: z.number().int().describe("Active accounts evaluated (before filters)."),
    qualified: z.number().int().describe("Qualified candidates after filters and min_score."),
    excluded: z.record(z.string(), z.number().int()).describe("Accounts in scope not qualifying, by reason."),
    gated_features_basis: z
      .enum(["plan_features", "not_configured"])
      .describe("Whether gated features were evaluated from plan_features."),
    total_arr_uplift: num.describe("Σ uplift over the qualified candidates in scope."),
    candidates: z.array(candidateSchema).optional().describe("list: this page."),
    next_cursor: nextCursorField.optional(),
    created: createdOpportunitiesField,
    already_open: z
      .array(z.object({ account_id: z.string(), product_id: z.string() }))
      .optional()
      .describe(
        "create: candidates skipped because an open upsell opportunity for that product (or with none) exists.",
      ),
    not_qualified: z
      .array(z.object({ account_id: z.string(), reason: z.string() }))
      .optional()
      .describe("create with account_ids: accounts that are not qualified candidates, with the reason."),
  },
  minRole: "viewer",
  examples: [
    { title: "Upsell candidates", args: () => ({ action: "list" }) },
    {
      title: "Every account of a segment, qualified or not",
      args: (ids) => ({ action: "list", segment: ids.segment, include_unqualified: true }),
    },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  commonFields: [
    "min_score",
    "sort",
    "include_unqualified",
    "window_days",
    "near_limit_utilization",
    "target_utilization",
    "yellow_min_score",
    "top",
    "limit",
  ],
  actions: {
    list: {
      writes: false,
      fields: ["segment", "owner", "weights", "plan_features", "cursor"],
      run: (args, ctx) => listCandidates(ctx, args),
    },
    create: {
      writes: true,
      role: "csm",
      fields: ["segment", "owner", "weights", "plan_features", "account_ids"],
      run: (args, ctx) => createFromCandidates(ctx, args),
    },
  },
});

interface UpsellArgs {
  segment?: string | undefined;
  owner?: string | undefined;
  min_score: number;
  sort: "score" | "uplift";
  include_unqualified: boolean;
  window_days: number;
  near_limit_utilization: number;
  target_utilization: number;
  yellow_min_score: number;
  weights?: UpsellWeights | undefined;
  plan_features?: Record<string, string[]> | undefined;
  account_ids?: string[] | undefined;
  top: number;
  limit: number;
  cursor?: string | undefined;
}

/** Every active account evaluated, those in scope, the qualified ones and the figures both actions answer. */
async function evaluateCandidates(ctx: ToolContext, args: UpsellArgs) {
  const db = ctx.env.DB;
  const ws = ctx.principal.workspaceId;
  const windows = upsellWindows(isoDay(ctx.now), args.window_days);
  // Book, usage and open deals load together; the plan features are checked against the book after.
  const features = [...new Set(Object.values(args.plan_features ?? {}).flat())];
  const [book, { usage, used }, open] = await Promise.all([
    loadBook(db, ws),
    upsellUsage(db, ws, windows, features),
    openOpportunitiesOfKind(db, ws, SAME_UPSELL.kind),
  ]);
  const planFeatures = planFeatureMap(book, args.plan_features);
  const usedByAccount = new Map<string, string[]>();
  for (const r of used) {
    const list = usedByAccount.get(r.account_id);
    if (list) list.push(r.feature);
    else usedByAccount.set(r.account_id, [r.feature]);
  }
  const usageByAccount = new Map(
    usage.map((u) => [u.account_id, { ...u, p90: p90ActiveUsers(u.recent_active_users, args.window_days) }]),
  );
  const all = evaluateBook(book, usageByAccount, usedByAccount, planFeatures, openDealIndex(open, SAME_UPSELL), {
    weights: args.weights ?? DEFAULT_UPSELL_WEIGHTS,
    thresholds: {
      nearLimitUtilization: args.near_limit_utilization,
      targetUtilization: args.target_utilization,
      yellowMinScore: args.yellow_min_score,
    },
  });
  const inScope = all.filter((c) => matchesFilters(c, args));
  const qualifiedRows = inScope.filter((c) => c.qualified && c.score >= args.min_score);
  const excluded: Record<string, number> = {};
  for (const c of inScope) {
    if (c.qualified && c.score >= args.min_score) continue;
    const reason = c.reason ?? `score below ${args.min_score}`;
    excluded[reason] = (excluded[reason] ?? 0) + 1;
  }
  const base = {
    windows,
    accounts_counted: all.length,
    qualified: qualifiedRows.length,
    excluded,
    gated_features_basis: planFeatures.size > 0 ? ("plan_features" as const) : ("not_configured" as const),
    total_arr_uplift: qualifiedRows.reduce((s, c) => s + (c.suggestion?.arr_uplift ?? 0), 0),
  };
  return { all, inScope, qualifiedRows, base };
}

/** The value candidates are ranked by: score or ARR uplift. */
function sortValueOf(args: Pick<UpsellArgs, "sort">) {
  return (c: Candidate) => (args.sort === "uplift" ? (c.suggestion?.arr_uplift ?? 0) : c.score);
}

/** Candidates by the sort value descending, then account id. */
function ranked(rows: readonly Candidate[], args: Pick<UpsellArgs, "sort">): Candidate[] {
  const sortValue = sortValueOf(args);
  return [...rows].sort((a, b) => sortValue(b) - sortValue(a) || a.account_id.localeCompare(b.account_id));
}

async function listCandidates(ctx: ToolContext, args: UpsellArgs) {
  const { all, inScope, qualifiedRows, base } = await evaluateCandidates(ctx, args);
  const listed = ranked(args.include_unqualified ? inScope : qualifiedRows, args);
  const fingerprint = queryFingerprint([
    "upsell",
    args.segment,
    args.owner,
    args.min_score,
    args.sort,
    args.include_unqualified,
    args.window_days,
    args.near_limit_utilization,
    args.target_utilization,
    args.yellow_min_score,
    args.weights,
    args.plan_features,
  ]);
  const sortValue = sortValueOf(args);
  const { page, next } = rankedPage(
    listed,
    (c) => ({ value: sortValue(c), id: c.account_id }),
    fingerprint,
    args.limit,
    args.cursor,
  );
  return {
    data: { action: "list" as const, ...base, candidates: page, next_cursor: next },
    text: [
      `${base.qualified} upsell candidates of ${all.length} active accounts (window ${base.windows.recent_from}..${base.windows.recent_to}); total uplift ${base.total_arr_uplift}.`,
      markdownTable(
        ["Account", "Band", "Util", "Growth", "Gated", "Score", "Suggestion", "Uplift"],
        page.map((c) => [
          c.name,
          c.health_band,
          c.utilization === null ? null : `${Math.round(c.utilization * 100)}%`,
          c.growth === null ? null : `${Math.round(c.growth * 100)}%`,
          c.gated_features.length,
          c.score,
          c.suggestion
            ? c.suggestion.kind === "next_plan"
              ? `→ ${c.suggestion.product_name}`
              : `+${c.suggestion.seats_added} seats`
            : (c.reason ?? null),
          c.suggestion?.arr_uplift ?? null,
        ]),
      ),
    ].join("\n"),
  };
}

/** The given accounts' qualified candidates (the others with the reason), or the top N qualified. */
function chooseCandidates(
  all: readonly Candidate[],
  qualifiedRows: readonly Candidate[],
  args: UpsellArgs,
): { chosen: Candidate[]; notQualified: { account_id: string; reason: string }[] } {
  const notQualified: { account_id: string; reason: string }[] = [];
  if (!args.account_ids) return { chosen: ranked(qualifiedRows, args).slice(0, args.top), notQualified };
  const byId = new Map(all.map((c) => [c.account_id, c]));
  const chosen: Candidate[] = [];
  for (const id of [...new Set(args.account_ids)]) {
    const c = byId.get(id);
    if (!c) notQualified.push({ account_id: id, reason: "not an active account of this workspace" });
    else if (!c.qualified) notQualified.push({ account_id: id, reason: c.reason ?? "not qualified" });
    else if (c.score < args.min_score) notQualified.push({ account_id: id, reason: `score below ${args.min_score}` });
    else chosen.push(c);
  }
  return { chosen, notQualified };
}

/** The opportunity each chosen candidate with a suggestion opens. */
function proposalsOf(chosen: readonly Candidate[]) {
  return chosen.flatMap((c) =>
    c.suggestion
      ? [
          {
            account_id: c.account_id,
            product_id: c.suggestion.product_id,
            name:
              c.suggestion.kind === "next_plan"
                ? `${c.name}: upgrade to ${c.suggestion.product_name} (${c.suggestion.seats_after} seats)`
                : `${c.name}: +${c.suggestion.seats_added} ${c.suggestion.product_name} seats`,
            amount: c.suggestion.arr_uplift,
            score: c.score,
          },
        ]
      : [],
  );
}

async function createFromCandidates(ctx: ToolContext, args: UpsellArgs) {
  // A write that names an account must find it: another workspace's id reads as one that does not exist.
  const [missing] = await missingAccountIds(ctx.env.DB, ctx.principal.workspaceId, args.account_ids ?? []);
  if (missing) throw notFound("account", missing);
  const { all, qualifiedRows, base } = await evaluateCandidates(ctx, args);
  const { chosen, notQualified } = chooseCandidates(all, qualifiedRows, args);
  const created = await createOpportunities(ctx.env.DB, ctx.principal.workspaceId, {
    rule: SAME_UPSELL,
    source: UPSELL_SOURCE,
    proposals: proposalsOf(chosen),
    now: ctx.now,
  });
  const createdKeys = new Set(created.map((r) => `${r.account_id}|${r.product_id}`));
  const byKey = new Map(chosen.map((c) => [`${c.account_id}|${c.suggestion?.product_id}`, c]));
  const createdOut = created.map((r) => {
    const c = byKey.get(`${r.account_id}|${r.product_id}`);
    return {
      opportunity_id: r.id,
      account_id: r.account_id,
      product_id: r.product_id,
      amount: c?.suggestion?.arr_uplift ?? 0,
      score: c?.score ?? 0,
    };
  });
  const alreadyOpen = chosen
    .filter((c) => c.suggestion && !createdKeys.has(`${c.account_id}|${c.suggestion.product_id}`))
    .map((c) => ({ account_id: c.account_id, product_id: c.suggestion?.product_id ?? "" }));
  ctx.audit({
    action: "create_upsell_opportunities",
    targetType: "workspace",
    targetId: ctx.principal.workspaceId,
    details: { created: createdOut.map((c) => c.opportunity_id), already_open: alreadyOpen.length },
  });
  return {
    data: {
      action: "create" as const,
      ...base,
      created: createdOut,
      already_open: alreadyOpen,
      not_qualified: notQualified,
    },
    text: [
      `Opened ${createdOut.length} upsell opportunities (${alreadyOpen.length} already open, ${notQualified.length} not qualified).`,
      markdownTable(
        ["Opportunity", "Account", "Product", "Amount", "Score"],
        createdOut.map((c) => [c.opportunity_id, c.account_id, c.product_id, c.amount, c.score]),
      ),
    ].join("\n"),
  };
}

/** An account's usage figures: both windows' events and the recent window's peak and p90 daily active users. */
interface AccountUsage {
  peak: number | null;
  p90: number;
  events_recent: number;
  events_prior: number;
}

/** Evaluates every active account of the book. */
function evaluateBook(
  book: Book,
  usage: ReadonlyMap<string, AccountUsage>,
  used: ReadonlyMap<string, string[]>,
  planFeatures: ReadonlyMap<string, ReadonlySet<string>>,
  open: OpenDealIndex,
  settings: { weights: UpsellWeights; thresholds: UpsellThresholds },
): Candidate[] {
  const plans = [...book.products.values()].filter((p) => p.kind === "plan");
  return book.accounts.map((a: BookAccount) => {
    const plan = planOf(a, book.products);
    const u = usage.get(a.id);
    const discount = plan ? discountOffList([{ ...plan.item, price: plan.product.price }]) : 0;
    const gated = plan ? gatedFeatures(used.get(a.id) ?? [], plan.product, plans, planFeatures) : [];
    const evaluation: UpsellEvaluation = evaluateUpsell(
      {
        seats: a.seats,
        p90ActiveUsers: u?.p90 ?? 0,
        eventsRecent: u?.events_recent ?? 0,
        eventsPrior: u?.events_prior ?? 0,
        gatedFeatures: gated,
        healthScore: a.health_score,
        healthBand: a.health_band,
        plan: plan?.product ?? null,
        nextPlan: plan ? nextPlanUp(plan.product, plans) : null,
        discount,
      },
      settings.weights,
      settings.thresholds,
    );
    const c = evaluation.components;
    const s = evaluation.suggestion;
    return {
      account_id: a.id,
      name: a.name,
      segment: a.segment,
      owner_user_id: a.owner_user_id,
      health_band: a.health_band,
      health_score: a.health_score,
      plan_product_id: plan?.product.id ?? null,
      plan_name: plan?.product.name ?? null,
      seats: a.seats,
      peak_active_users: u?.peak ?? 0,
      p90_active_users: u?.p90 ?? 0,
      utilization: c.utilization === null ? null : round(c.utilization, 4),
      events_recent: u?.events_recent ?? 0,
      events_prior: u?.events_prior ?? 0,
      growth: c.growth === null ? null : round(c.growth, 4),
      gated_features: gated,
      components: {
        utilization: round(c.utilization_normalized, 4),
        growth: round(c.growth_normalized, 4),
        gated_features: round(c.gated_features_normalized, 4),
        health: round(c.health_normalized, 4),
      },
      score: evaluation.score,
      discount: round(discount, 4),
      qualified: evaluation.qualified,
      reason: evaluation.reason,
      suggestion: s
        ? {
            kind: s.kind,
            product_id: s.product.id,
            product_name: s.product.name,
            seats_after: s.seats_after,
            seats_added: s.seats_added,
            arr_uplift: s.arr_uplift,
          }
        : null,
      open_opportunity_id: s ? open.find(a.id, s.product.id) : null,
    };
  });
}

/** Reads plan entitlements given as input, refusing ids that are not plan products. */
function planFeatureMap(book: Book, given: Record<string, string[]> | undefined): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const [productId, features] of Object.entries(given ?? {})) {
    if (book.products.get(productId)?.kind !== "plan") {
      throw new ToolError(
        `plan_features key "${productId}" is not a plan product of this workspace; use the ids of products with kind plan.`,
      );
    }
    map.set(productId, new Set(features));
  }
  return map;
}
