import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { cursorArg, limitArg, nextCursorField, queryFingerprint } from "../../platform/mcp/pagination";
import { type CatalogProduct, matchesFilters, planOf, rankedPage } from "./domain/book";
import { ownerSeatShareMedians, seatsBasisOfShare } from "./domain/crosssell";
import {
  DEFAULT_STAGE_PROBABILITIES,
  effectiveProbability,
  type PipelineGroup,
  STAKEHOLDER_ROLES,
  seatGap,
  segmentSeatRatios,
  stakeholderCoverage,
  type WhitespaceItem,
  weightedPipeline,
  whitespaceArr,
} from "./domain/whitespace";
import { accountFilters, type Book, type BookAccount, loadBook } from "./queries/book";
import { type BuyingCommitteeRow, buyingCommitteeRoles } from "./queries/contacts";
import { expansionPipeline, type PipelineOpportunityRow } from "./queries/opportunities";

const ACTIONS = ["account", "list", "pipeline"] as const;

const num = z.number();

const whitespaceSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  owner_user_id: z.string().nullable(),
  health_band: z.string().nullable(),
  arr: num,
  products_owned: z.array(
    z.object({ product_id: z.string(), name: z.string(), kind: z.string(), seats: z.number().int() }),
  ),
  products_unowned: z
    .array(
      z.object({
        product_id: z.string(),
        name: z.string(),
        kind: z.string(),
        price: num,
        seats_basis: z.number().int(),
        arr: num.describe("price × seats_basis."),
      }),
    )
    .describe("Add-ons and services of the catalog the account does not own."),
  catalog_coverage: num.describe("Add-ons and services owned / add-ons and services in the catalog."),
  seats: z.number().int().describe("Licensed seats."),
  employees: z.number().int().nullable(),
  seats_per_employee: num.nullable().describe("The segment's median licensed seats / employees."),
  seat_potential: z.number().int().nullable().describe("round(employees × seats_per_employee)."),
  seat_gap: z.number().int().describe("max(0, seat_potential − seats); 0 when unknown."),
  seat_gap_arr: num.describe("seat_gap × plan list price."),
  whitespace_arr: num.describe("Σ products_unowned.arr + seat_gap_arr."),
  stakeholders: z.object({
    champion: z.boolean(),
    decision_maker: z.boolean(),
    economic_buyer: z.boolean(),
    coverage: num.describe("Known roles / 3."),
    missing: z.array(z.string()),
  }),
  open_pipeline: z.object({
    opportunities: z.number().int(),
    amount: num,
    weighted: num,
  }),
});

type Whitespace = z.infer<typeof whitespaceSchema>;

const groupSchema = z.object({
  key: z.string(),
  opportunities: z.number().int(),
  amount: num,
  weighted: num.describe("Σ amount × probability."),
});

const opportunitySchema = z.object({
  opportunity_id: z.string(),
  account_id: z.string(),
  account_name: z.string(),
  name: z.string(),
  kind: z.string(),
  stage: z.string(),
  amount: num,
  probability: num.describe("Used for weighting: stored, else the stage default, else 0."),
  probability_basis: z.enum(["stored", "stage_default", "unknown_stage"]),
  weighted: num,
  close_date: z.string().nullable(),
  product_id: z.string().nullable(),
  source: z.string(),
});

/** Whitespace per account, stakeholder coverage, and the weighted expansion pipeline. */
export const identifyExpansionOpportunities = defineActionTool({
  name: "identify_expansion_opportunities",
  title: "Expansion whitespace and pipeline",
  toolset: "expansion",
  description:
    "Whitespace per active account and the open expansion pipeline. " +
    "Products: add-ons and services of the catalog not on the account's active contracts (plans are upsell, see identify_upsell_opportunities), each valued at list price × seats basis (max(1, round(licensed seats × median share of licensed seats the product's owners buy))). " +
    "Seats: potential = round(employees × the segment's median licensed seats / employees over its active accounts), gap = max(0, potential − licensed seats), valued at the plan's list price. " +
    "Whitespace ARR = Σ unowned products' value + seat gap × plan list price. " +
    "Stakeholder coverage among contacts who have not left: champion (is_champion or role champion), decision maker (is_decision_maker or role decision_maker), economic buyer (role economic_buyer); coverage = known / 3. " +
    "Pipeline: open expansion, upsell and cross_sell opportunities of active accounts; probability = the stored one, else the stage default (identified 0.1, qualified 0.25, proposal 0.5, negotiation 0.75; override with stage_probabilities), else 0; weighted forecast = Σ amount × probability, by stage and by close month. " +
    "action account: one account's whitespace. list: accounts ranked by whitespace ARR, paginated. pipeline: totals by stage and close month and the opportunities by weighted amount, paginated.",
  input: {
    action: z.enum(ACTIONS).describe("account, list or pipeline."),
    account_id: z.string().min(1).max(100).optional().describe("account: the account's id."),
    ...accountFilters,
    stage_probabilities: z
      .record(z.string().min(1).max(50), z.number().min(0).max(1))
      .optional()
      .describe("Stage → default win probability (0–1) for opportunities without one, merged over the defaults."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS),
    accounts_counted: z
      .number()
      .int()
      .describe("account and list: active accounts in scope; pipeline: accounts with an open opportunity in scope."),
    stage_probabilities: z.record(z.string(), num).describe("Stage defaults applied."),
    account: whitespaceSchema.optional().describe("account: the account's whitespace."),
    accounts: z.array(whitespaceSchema).optional().describe("list: this page."),
    total_whitespace_arr: num.optional().describe("list: Σ whitespace ARR over the accounts in scope."),
    pipeline: z
      .object({ total: groupSchema, by_stage: z.array(groupSchema), by_close_month: z.array(groupSchema) })
      .optional()
      .describe("pipeline: totals; close month is YYYY-MM or none."),
    opportunities: z.array(opportunitySchema).optional().describe("pipeline: this page, by weighted amount."),
    next_cursor: nextCursorField.optional(),
  },
  examples: [
    { title: "One account's expansion potential", args: (ids) => ({ action: "account", account_id: ids.accountId }) },
    { title: "Expansion candidates", args: () => ({ action: "list" }) },
    { title: "Expansion candidates of a segment", args: (ids) => ({ action: "list", segment: ids.segment }) },
    { title: "The open expansion pipeline", args: () => ({ action: "pipeline" }) },
  ],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  commonFields: ["limit"],
  actions: {
    account: {
      writes: false,
      fields: ["account_id", "segment", "owner", "stage_probabilities"],
      run: (args, ctx) => accountWhitespace(ctx, args),
    },
    list: {
      writes: false,
      fields: ["segment", "owner", "stage_probabilities", "cursor"],
      run: (args, ctx) => listWhitespace(ctx, args),
    },
    pipeline: {
      writes: false,
      fields: ["segment", "owner", "stage_probabilities", "cursor"],
      run: (args, ctx) => pipeline(ctx, args),
    },
  },
});

interface WhitespaceArgs {
  account_id?: string | undefined;
  segment?: string | undefined;
  owner?: string | undefined;
  stage_probabilities?: Record<string, number> | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The stage defaults merged with the caller's overrides. */
function stageProbabilities(args: WhitespaceArgs): Record<string, number> {
  return { ...DEFAULT_STAGE_PROBABILITIES, ...(args.stage_probabilities ?? {}) };
}

async function pipeline(ctx: ToolContext, args: WhitespaceArgs) {
  const probabilities = stageProbabilities(args);
  const pipelineRows = (await expansionPipeline(ctx.env.DB, ctx.principal.workspaceId)).filter((o) =>
    matchesFilters(o, args),
  );
  const summary = weightedPipeline(pipelineRows, probabilities);
  const rows = pipelineRows
    .map((o) => {
      const p = effectiveProbability(o, probabilities);
      return {
        opportunity_id: o.id,
        account_id: o.account_id,
        account_name: o.account_name,
        name: o.name,
        kind: o.kind,
        stage: o.stage,
        amount: o.amount,
        probability: p.probability,
        probability_basis: p.basis,
        weighted: round(o.amount * p.probability),
        close_date: o.close_date,
        product_id: o.product_id,
        source: o.source,
      };
    })
    .sort((a, b) => b.weighted - a.weighted || a.opportunity_id.localeCompare(b.opportunity_id));
  const fingerprint = queryFingerprint(["pipeline", args.segment, args.owner, probabilities]);
  const { page, next } = rankedPage(
    rows,
    (r) => ({ value: r.weighted, id: r.opportunity_id }),
    fingerprint,
    args.limit,
    args.cursor,
  );
  const accounts = new Set(pipelineRows.map((o) => o.account_id)).size;
  return {
    data: {
      action: "pipeline" as const,
      accounts_counted: accounts,
      stage_probabilities: probabilities,
      pipeline: summary,
      opportunities: page,
      next_cursor: next,
    },
    text: [
      `Open expansion pipeline: ${summary.total.opportunities} opportunities on ${accounts} accounts, ${summary.total.amount} total, ${summary.total.weighted} weighted.`,
      markdownTable(
        ["Stage", "Opps", "Amount", "Weighted"],
        summary.by_stage.map((g: PipelineGroup) => [g.key, g.opportunities, g.amount, g.weighted]),
      ),
    ].join("\n"),
  };
}

async function accountWhitespace(ctx: ToolContext, args: WhitespaceArgs) {
  const probabilities = stageProbabilities(args);
  if (!args.account_id) throw notFoundHint();
  const db = ctx.env.DB;
  const ws = ctx.principal.workspaceId;
  const [book, stakeholders, pipeline] = await Promise.all([
    loadBook(db, ws),
    buyingCommitteeRoles(db, ws, [args.account_id]),
    expansionPipeline(db, ws, [args.account_id]),
  ]);
  const account = book.accounts.find((a) => a.id === args.account_id);
  if (!account) throw notFound("active account", args.account_id);
  const basis = whitespaceBasis(book);
  const [w] = whitespaceOf(
    basis,
    [{ account, value: whitespaceValue(basis, account) }],
    stakeholders,
    // The segment and owner filters narrow the pipeline even here.
    matchesFilters(account, args) ? pipeline : [],
    probabilities,
  );
  if (!w) throw notFound("active account", args.account_id);
  return {
    data: { action: "account" as const, accounts_counted: 1, stage_probabilities: probabilities, account: w },
    text: [
      `${w.name}: whitespace ARR ${w.whitespace_arr} (${w.products_unowned.length} products not owned, seat gap ${w.seat_gap}); stakeholders ${w.stakeholders.missing.length === 0 ? "all known" : `missing ${w.stakeholders.missing.join(", ")}`}; open pipeline ${w.open_pipeline.amount} (${w.open_pipeline.weighted} weighted).`,
      markdownTable(
        ["Product not owned", "Kind", "Price", "Seats", "ARR"],
        w.products_unowned.map((p) => [p.name, p.kind, p.price, p.seats_basis, p.arr]),
      ),
    ].join("\n"),
  };
}

async function listWhitespace(ctx: ToolContext, args: WhitespaceArgs) {
  const probabilities = stageProbabilities(args);
  const db = ctx.env.DB;
  const ws = ctx.principal.workspaceId;
  // Every account in scope is valued for the ranking; stakeholders and pipeline only for the page.
  const book = await loadBook(db, ws);
  const basis = whitespaceBasis(book);
  const all = book.accounts
    .filter((a) => matchesFilters(a, args))
    .map((account) => ({ account, value: whitespaceValue(basis, account) }))
    .sort((a, b) => b.value.whitespace_arr - a.value.whitespace_arr || a.account.id.localeCompare(b.account.id));
  const fingerprint = queryFingerprint(["whitespace", args.segment, args.owner, probabilities]);
  const { page: pageRows, next } = rankedPage(
    all,
    (w) => ({ value: w.value.whitespace_arr, id: w.account.id }),
    fingerprint,
    args.limit,
    args.cursor,
  );
  const pageIds = pageRows.map((w) => w.account.id);
  const [stakeholders, pipeline] = await Promise.all([
    buyingCommitteeRoles(db, ws, pageIds),
    expansionPipeline(db, ws, pageIds),
  ]);
  const page = whitespaceOf(basis, pageRows, stakeholders, pipeline, probabilities);
  const total = all.reduce((s, w) => s + w.value.whitespace_arr, 0);
  return {
    data: {
      action: "list" as const,
      accounts_counted: all.length,
      stage_probabilities: probabilities,
      accounts: page,
      total_whitespace_arr: total,
      next_cursor: next,
    },
    text: [
      `${all.length} active accounts, whitespace ARR ${total} in total.`,
      markdownTable(
        ["Account", "Whitespace ARR", "Not owned", "Seat gap", "Stakeholders", "Open pipeline"],
        page.map((w) => [
          w.name,
          w.whitespace_arr,
          w.products_unowned.length,
          w.seat_gap,
          `${STAKEHOLDER_ROLES.length - w.stakeholders.missing.length}/${STAKEHOLDER_ROLES.length}`,
          w.open_pipeline.amount,
        ]),
      ),
    ].join("\n"),
  };
}

/** What valuing any account's whitespace needs from the whole book, computed once per call. */
interface WhitespaceBasis {
  book: Book;
  /** Add-ons and services of the catalog. */
  sellable: CatalogProduct[];
  /** Seats per employee by segment. */
  ratios: Map<string, number>;
  /** Median share of licensed seats the owners of each product buy. */
  shareMedians: Map<string, number>;
}

function whitespaceBasis(book: Book): WhitespaceBasis {
  return {
    book,
    sellable: [...book.products.values()].filter((p) => p.kind === "add_on" || p.kind === "service"),
    ratios: segmentSeatRatios(book.accounts),
    shareMedians: ownerSeatShareMedians(book.accounts),
  };
}

/** An account's unowned products, seat gap and whitespace ARR: all that ranking needs. */
function whitespaceValue(basis: WhitespaceBasis, a: BookAccount) {
  const owned = new Set(a.items.map((i) => i.product_id));
  const unowned: WhitespaceItem[] = basis.sellable
    .filter((p) => !owned.has(p.id))
    .map((p) => {
      const seats = seatsBasisOfShare(a.seats, basis.shareMedians.get(p.id) ?? null);
      return { product_id: p.id, name: p.name, kind: p.kind, price: p.price, seats_basis: seats, arr: p.price * seats };
    });
  const ratio = basis.ratios.get(a.segment ?? "");
  const gap = seatGap(a.employees, ratio, a.seats);
  const planPrice = planOf(a, basis.book.products)?.product.price ?? 0;
  const seatGapCount = gap?.gap ?? 0;
  return {
    unowned,
    ratio,
    gap,
    seatGapCount,
    planPrice,
    whitespace_arr: whitespaceArr(unowned, seatGapCount, planPrice),
  };
}

/** The whitespace answers of the accounts shown, with their stakeholders and open pipeline. */
function whitespaceOf(
  basis: WhitespaceBasis,
  ranked: readonly { account: BookAccount; value: ReturnType<typeof whitespaceValue> }[],
  stakeholders: ReadonlyMap<string, BuyingCommitteeRow>,
  pipeline: readonly PipelineOpportunityRow[],
  probabilities: Readonly<Record<string, number>>,
): Whitespace[] {
  const { products } = basis.book;
  const openByAccount = new Map<string, { opportunities: number; amount: number; weighted: number }>();
  for (const o of pipeline) {
    const g = openByAccount.get(o.account_id) ?? { opportunities: 0, amount: 0, weighted: 0 };
    g.opportunities += 1;
    g.amount += o.amount;
    g.weighted += o.amount * effectiveProbability(o, probabilities).probability;
    openByAccount.set(o.account_id, g);
  }
  return ranked.map(({ account: a, value: v }) => {
    const s = stakeholders.get(a.id);
    const presence = {
      champion: Boolean(s?.champion),
      decision_maker: Boolean(s?.decision_maker),
      economic_buyer: Boolean(s?.economic_buyer),
    };
    const coverage = stakeholderCoverage(presence);
    const open = openByAccount.get(a.id) ?? { opportunities: 0, amount: 0, weighted: 0 };
    const sellable = basis.sellable.length;
    return {
      account_id: a.id,
      name: a.name,
      segment: a.segment,
      owner_user_id: a.owner_user_id,
      health_band: a.health_band,
      arr: a.arr,
      products_owned: a.items.map((i) => ({
        product_id: i.product_id,
        name: products.get(i.product_id)?.name ?? i.product_id,
        kind: products.get(i.product_id)?.kind ?? "unknown",
        seats: i.seats,
      })),
      products_unowned: v.unowned,
      catalog_coverage: sellable > 0 ? round((sellable - v.unowned.length) / sellable, 4) : 1,
      seats: a.seats,
      employees: a.employees,
      seats_per_employee: v.ratio === undefined ? null : round(v.ratio, 4),
      seat_potential: v.gap?.potential ?? null,
      seat_gap: v.seatGapCount,
      seat_gap_arr: v.seatGapCount * v.planPrice,
      whitespace_arr: v.whitespace_arr,
      stakeholders: { ...presence, coverage: round(coverage.coverage, 4), missing: coverage.missing },
      open_pipeline: {
        opportunities: open.opportunities,
        amount: round(open.amount),
        weighted: round(open.weighted),
      },
    };
  });
}

function notFoundHint() {
  return new ToolError("action account needs account_id; use list to find accounts by whitespace.");
}
