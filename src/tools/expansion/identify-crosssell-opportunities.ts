import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound } from "../../platform/mcp/errors";
import { cursorArg, limitArg, nextCursorField, queryFingerprint } from "../../platform/mcp/pagination";
import { missingAccountIds } from "../../records/accounts";
import { type AssociationRule, associationRules } from "./domain/association";
import { matchesFilters, rankedPage } from "./domain/book";
import {
  bestRule,
  type CrossSellWeights,
  crossSellScore,
  DEFAULT_CROSSSELL_WEIGHTS,
  expectedArr,
  lookalikeCounts,
  ownerSeatShareMedians,
  seatsBasisOfShare,
} from "./domain/crosssell";
import { type OpenDealIndex, openDealIndex, type SameDealRule } from "./domain/opportunities";
import { accountFilters, type Book, loadBook } from "./queries/book";
import {
  createArgs,
  createdOpportunitiesField,
  createOpportunities,
  openOpportunitiesOfKind,
} from "./queries/opportunities";

/** The `source` stored on opportunities this tool creates. */
export const CROSSSELL_SOURCE = "crosssell_affinity";

/** Only an open cross-sell for the same product is the same deal: each add-on is its own sale. */
const SAME_CROSSSELL: SameDealRule = { kind: "cross_sell", unknownProductBlocks: false };

const ACTIONS = ["rules", "list", "create"] as const;

const num = z.number();

const ruleSchema = z.object({
  antecedent_product_id: z.string(),
  antecedent_name: z.string(),
  consequent_product_id: z.string(),
  consequent_name: z.string(),
  accounts_with_both: z.number().int(),
  accounts_with_antecedent: z.number().int(),
  accounts_with_consequent: z.number().int(),
  support: num.describe("Accounts owning both / accounts counted."),
  confidence: num.describe("support(A ∪ B) / support(A)."),
  lift: num.describe("confidence / support(B)."),
});

const candidateSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  owner_user_id: z.string().nullable(),
  health_band: z.string().nullable(),
  product_id: z.string(),
  product_name: z.string(),
  product_kind: z.string(),
  price: num.describe("List price per seat per year."),
  rule: ruleSchema.describe("The strongest rule toward the product from a product the account owns."),
  lookalikes: z.number().int().describe("Look-alike accounts (same industry and segment, employees within ×2)."),
  lookalikes_owning: z.number().int().describe("Look-alikes owning the product."),
  lookalike_adoption: num.describe("lookalikes_owning / lookalikes (0 without look-alikes)."),
  seats_basis: z
    .number()
    .int()
    .describe("max(1, round(licensed seats × median share of licensed seats the product's owners buy))."),
  expected_arr: num.describe("price × seats_basis × rule confidence."),
  score: num.describe("0–100."),
  open_opportunity_id: z.string().nullable().describe("An open cross-sell opportunity already held for this product."),
});

type Candidate = z.infer<typeof candidateSchema>;

/** Product affinity rules, cross-sell candidates with look-alikes, and their opportunities. */
export const identifyCrosssellOpportunities = defineActionTool({
  name: "identify_crosssell_opportunities",
  title: "Cross-sell opportunities",
  toolset: "expansion",
  description:
    "Product affinity across the customer base and the add-ons or services each account is likely to buy next. " +
    "Baskets: the products on the active contracts of each active account owning at least one (accounts_counted). " +
    "Rules A → B (B an add-on or service): support = accounts owning A and B / accounts counted; confidence = support(A ∪ B) / support(A); lift = confidence / support(B); kept when support ≥ `min_support` (default 0.05) and confidence ≥ `min_confidence` (default 0.3). " +
    "Candidate = an account (not red band) and a product it does not own with a kept rule from a product it owns; the best rule is the highest confidence (then lift). " +
    "Look-alikes: other counted accounts of the same industry and segment with employees within a factor of 2. " +
    "Seats basis = max(1, round(licensed seats × median over the product's owners of their product seats / licensed seats)); expected ARR = list price × seats basis × confidence. " +
    "Score 0–100 = 100 × (0.5 × confidence + 0.25 × min(1, max(0, (lift − 1) / 2)) + 0.25 × look-alike adoption) with adjustable weights. " +
    "action rules: the rule table by lift. list: candidates by score or expected ARR, paginated. create (csm): opens cross_sell opportunities (stage identified, source crosssell_affinity, amount = expected ARR, score, product) for the best candidate of each given account or the top N candidates; an account with an open cross-sell opportunity for that product gets no second one.",
  input: {
    action: z.enum(ACTIONS).describe("rules (read), list (read) or create (csm)."),
    min_support: z.number().min(0).max(1).default(0.05).describe("Least rule support, 0–1 (default 0.05)."),
    min_confidence: z.number().min(0).max(1).default(0.3).describe("Least rule confidence, 0–1 (default 0.3)."),
    ...accountFilters,
    product_id: z.string().min(1).max(100).optional().describe("list/create: only candidates for this product."),
    min_score: z.number().min(0).max(100).default(0).describe("list/create: only candidates scoring at least this."),
    sort: z
      .enum(["score", "expected_arr"])
      .default("score")
      .describe("list and top N: by score or expected ARR, descending."),
    weights: z
      .object({
        confidence: z.number().min(0).max(10).describe("Weight of rule confidence."),
        lift: z.number().min(0).max(10).describe("Weight of the lift component."),
        lookalike_adoption: z.number().min(0).max(10).describe("Weight of look-alike adoption."),
      })
      .strict()
      .optional()
      .describe("Score weights; default confidence 0.5, lift 0.25, look-alike adoption 0.25."),
    ...createArgs,
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS),
    accounts_counted: z.number().int().describe("Active accounts owning at least one product (the baskets)."),
    min_support: num,
    min_confidence: num,
    rules_found: z.number().int().describe("Rules meeting both thresholds."),
    candidates_found: z.number().int().describe("Candidates after filters and min_score."),
    total_expected_arr: num.describe("Σ expected ARR over those candidates."),
    rules: z.array(ruleSchema).optional().describe("rules: this page."),
    candidates: z.array(candidateSchema).optional().describe("list: this page."),
    next_cursor: nextCursorField.optional(),
    created: createdOpportunitiesField,
    already_open: z
      .array(z.object({ account_id: z.string(), product_id: z.string() }))
      .optional()
      .describe("create: candidates skipped because an open cross-sell opportunity for that product exists."),
    not_qualified: z
      .array(z.object({ account_id: z.string(), reason: z.string() }))
      .optional()
      .describe("create with account_ids: accounts without a candidate."),
  },
  minRole: "viewer",
  examples: [
    { title: "Products bought together", args: () => ({ action: "rules" }) },
    { title: "Cross-sell candidates", args: () => ({ action: "list" }) },
    { title: "Cross-sell candidates of a segment", args: (ids) => ({ action: "list", segment: ids.segment }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  commonFields: ["min_support", "min_confidence", "min_score", "sort", "top", "limit"],
  actions: {
    rules: {
      writes: false,
      fields: ["segment", "owner", "product_id", "weights", "cursor"],
      run: (args, ctx) => listRules(ctx, args),
    },
    list: {
      writes: false,
      fields: ["segment", "owner", "product_id", "weights", "cursor"],
      run: (args, ctx) => listCandidates(ctx, args),
    },
    create: {
      writes: true,
      role: "csm",
      fields: ["segment", "owner", "product_id", "weights", "account_ids"],
      run: (args, ctx) => createFromCandidates(ctx, args),
    },
  },
});

interface CrossSellArgs {
  min_support: number;
  min_confidence: number;
  segment?: string | undefined;
  owner?: string | undefined;
  product_id?: string | undefined;
  min_score: number;
  sort: "score" | "expected_arr";
  weights?: CrossSellWeights | undefined;
  account_ids?: string[] | undefined;
  top: number;
  limit: number;
  cursor?: string | undefined;
}

const candidateKey = (c: Candidate) => `${c.account_id}|${c.product_id}`;

/** The value candidates are ranked by: score or expected ARR. */
function sortValueOf(args: Pick<CrossSellArgs, "sort">) {
  return (c: Candidate) => (args.sort === "expected_arr" ? c.expected_arr : c.score);
}

/** The analysis of the book, the candidates in scope ranked, and the figures every action answers. */
async function analyzeBook(ctx: ToolContext, args: CrossSellArgs) {
  const db = ctx.env.DB;
  const ws = ctx.principal.workspaceId;
  const [book, open] = await Promise.all([loadBook(db, ws), openOpportunitiesOfKind(db, ws, SAME_CROSSSELL.kind)]);
  const analysis = analyze(
    book,
    { minSupport: args.min_support, minConfidence: args.min_confidence },
    args.weights ?? DEFAULT_CROSSSELL_WEIGHTS,
    openDealIndex(open, SAME_CROSSSELL),
  );
  const inScope = analysis.candidates.filter(
    (c) =>
      matchesFilters(c, args) &&
      (args.product_id === undefined || c.product_id === args.product_id) &&
      c.score >= args.min_score,
  );
  const sortValue = sortValueOf(args);
  // Sort keys are taken once per candidate, not once per comparison.
  const sorted = inScope
    .map((c) => ({ c, value: sortValue(c), key: candidateKey(c) }))
    .sort((a, b) => b.value - a.value || a.key.localeCompare(b.key))
    .map((k) => k.c);
  const base = {
    accounts_counted: analysis.accountsCounted,
    min_support: args.min_support,
    min_confidence: args.min_confidence,
    rules_found: analysis.rules.length,
    candidates_found: inScope.length,
    total_expected_arr: inScope.reduce((s, c) => s + c.expected_arr, 0),
  };
  const basis = `${analysis.accountsCounted} accounts, support ≥ ${args.min_support}, confidence ≥ ${args.min_confidence}`;
  return { book, analysis, sorted, base, basis };
}

async function listRules(ctx: ToolContext, args: CrossSellArgs) {
  const { analysis, base, basis } = await analyzeBook(ctx, args);
  const ruleKey = (r: z.infer<typeof ruleSchema>) => `${r.antecedent_product_id}|${r.consequent_product_id}`;
  const rules = [...analysis.rules].sort((a, b) => b.lift - a.lift || ruleKey(a).localeCompare(ruleKey(b)));
  const fingerprint = queryFingerprint(["crosssell-rules", args.min_support, args.min_confidence]);
  const { page, next } = rankedPage(
    rules,
    (r) => ({ value: r.lift, id: ruleKey(r) }),
    fingerprint,
    args.limit,
    args.cursor,
  );
  return {
    data: { action: "rules" as const, ...base, rules: page, next_cursor: next },
    text: [
      `${rules.length} product affinity rules (${basis}).`,
      markdownTable(
        ["If owns", "Then owns", "Both", "Support", "Confidence", "Lift"],
        page.map((r) => [r.antecedent_name, r.consequent_name, r.accounts_with_both, r.support, r.confidence, r.lift]),
      ),
    ].join("\n"),
  };
}

async function listCandidates(ctx: ToolContext, args: CrossSellArgs) {
  const { sorted, base, basis } = await analyzeBook(ctx, args);
  const fingerprint = queryFingerprint([
    "crosssell-list",
    args.min_support,
    args.min_confidence,
    args.segment,
    args.owner,
    args.product_id,
    args.min_score,
    args.sort,
    args.weights,
  ]);
  const sortValue = sortValueOf(args);
  const { page, next } = rankedPage(
    sorted,
    (c) => ({ value: sortValue(c), id: candidateKey(c) }),
    fingerprint,
    args.limit,
    args.cursor,
  );
  return {
    data: { action: "list" as const, ...base, candidates: page, next_cursor: next },
    text: [
      `${base.candidates_found} cross-sell candidates (${basis}); total expected ARR ${base.total_expected_arr}.`,
      markdownTable(
        ["Account", "Product", "Because owns", "Conf", "Lift", "Look-alikes", "Score", "Expected ARR"],
        page.map((c) => [
          c.name,
          c.product_name,
          c.rule.antecedent_name,
          c.rule.confidence,
          c.rule.lift,
          `${c.lookalikes_owning}/${c.lookalikes}`,
          c.score,
          c.expected_arr,
        ]),
      ),
    ].join("\n"),
  };
}

/** The best candidate of each given account (the others with the reason), or the top N candidates. */
function chooseCandidates(
  book: Book,
  sorted: readonly Candidate[],
  args: CrossSellArgs,
): { chosen: Candidate[]; notQualified: { account_id: string; reason: string }[] } {
  const notQualified: { account_id: string; reason: string }[] = [];
  if (!args.account_ids) return { chosen: sorted.slice(0, args.top), notQualified };
  const chosen: Candidate[] = [];
  const known = new Set(book.accounts.map((a) => a.id));
  for (const id of [...new Set(args.account_ids)]) {
    const best = sorted.find((c) => c.account_id === id);
    if (best) chosen.push(best);
    else
      notQualified.push({
        account_id: id,
        reason: known.has(id)
          ? "no cross-sell candidate (red band, owns every product with a rule, or below the filters)"
          : "not an active account of this workspace",
      });
  }
  return { chosen, notQualified };
}

async function createFromCandidates(ctx: ToolContext, args: CrossSellArgs) {
  // A write that names an account must find it: another workspace's id reads as one that does not exist.
  const [missing] = await missingAccountIds(ctx.env.DB, ctx.principal.workspaceId, args.account_ids ?? []);
  if (missing) throw notFound("account", missing);
  const { book, sorted, base } = await analyzeBook(ctx, args);
  const { chosen, notQualified } = chooseCandidates(book, sorted, args);
  const created = await createOpportunities(ctx.env.DB, ctx.principal.workspaceId, {
    rule: SAME_CROSSSELL,
    source: CROSSSELL_SOURCE,
    proposals: chosen.map((c) => ({
      account_id: c.account_id,
      product_id: c.product_id,
      name: `${c.name}: ${c.product_name}`,
      amount: c.expected_arr,
      score: c.score,
    })),
    now: ctx.now,
  });
  const byKey = new Map(chosen.map((c) => [candidateKey(c), c]));
  const createdOut = created.map((r) => {
    const c = byKey.get(`${r.account_id}|${r.product_id}`);
    return {
      opportunity_id: r.id,
      account_id: r.account_id,
      product_id: r.product_id,
      amount: c?.expected_arr ?? 0,
      score: c?.score ?? 0,
    };
  });
  const createdKeys = new Set(created.map((r) => `${r.account_id}|${r.product_id}`));
  const alreadyOpen = chosen
    .filter((c) => !createdKeys.has(candidateKey(c)))
    .map((c) => ({ account_id: c.account_id, product_id: c.product_id }));
  ctx.audit({
    action: "create_crosssell_opportunities",
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
      `Opened ${createdOut.length} cross-sell opportunities (${alreadyOpen.length} already open, ${notQualified.length} without a candidate).`,
      markdownTable(
        ["Opportunity", "Account", "Product", "Amount", "Score"],
        createdOut.map((c) => [c.opportunity_id, c.account_id, c.product_id, c.amount, c.score]),
      ),
    ].join("\n"),
  };
}

/** The affinity analysis of the whole book: baskets, rules, and every account's candidates. */
function analyze(
  book: Book,
  thresholds: { minSupport: number; minConfidence: number },
  weights: CrossSellWeights,
  open: OpenDealIndex,
) {
  const owning = book.accounts.filter((a) => a.items.length > 0);
  const sellable = new Set(
    [...book.products.values()].filter((p) => p.kind === "add_on" || p.kind === "service").map((p) => p.id),
  );
  const rules = associationRules(
    owning.map((a) => a.items.map((i) => i.product_id)),
    thresholds,
    sellable,
  );
  const name = (id: string) => book.products.get(id)?.name ?? id;
  const ruleOut = (r: AssociationRule) => ({
    antecedent_product_id: r.antecedent,
    antecedent_name: name(r.antecedent),
    consequent_product_id: r.consequent,
    consequent_name: name(r.consequent),
    accounts_with_both: r.accounts_with_both,
    accounts_with_antecedent: r.accounts_with_antecedent,
    accounts_with_consequent: r.accounts_with_consequent,
    support: round(r.support, 4),
    confidence: round(r.confidence, 4),
    lift: round(r.lift, 4),
  });
  // One answer object per rule, shared by its candidates.
  const ruleOuts = new Map(rules.map((r) => [r, ruleOut(r)]));
  const ownedSets = new Map(owning.map((a) => [a.id, new Set(a.items.map((i) => i.product_id))]));
  const shareMedians = ownerSeatShareMedians(owning);
  const lookalikes = lookalikeCounts(owning.map((a) => ({ ...a, products: ownedSets.get(a.id) ?? new Set<string>() })));
  const candidates: Candidate[] = [];
  for (const a of owning) {
    if (a.health_band === "red") continue;
    const owned = ownedSets.get(a.id) ?? new Set<string>();
    for (const productId of sellable) {
      if (owned.has(productId)) continue;
      const rule = bestRule(owned, productId, rules);
      if (!rule) continue;
      const product = book.products.get(productId);
      if (!product) continue;
      const peers = lookalikes.get(a.id);
      const peerCount = peers?.lookalikes ?? 0;
      const peersOwning = peers?.owning(productId) ?? 0;
      const adoption = peerCount > 0 ? peersOwning / peerCount : 0;
      const seats = seatsBasisOfShare(a.seats, shareMedians.get(productId) ?? null);
      candidates.push({
        account_id: a.id,
        name: a.name,
        segment: a.segment,
        owner_user_id: a.owner_user_id,
        health_band: a.health_band,
        product_id: productId,
        product_name: product.name,
        product_kind: product.kind,
        price: product.price,
        rule: ruleOuts.get(rule) ?? ruleOut(rule),
        lookalikes: peerCount,
        lookalikes_owning: peersOwning,
        lookalike_adoption: round(adoption, 4),
        seats_basis: seats,
        expected_arr: expectedArr(product.price, seats, rule.confidence),
        score: crossSellScore(rule.confidence, rule.lift, adoption, weights),
        open_opportunity_id: open.find(a.id, productId),
      });
    }
  }
  return { accountsCounted: owning.length, rules: [...ruleOuts.values()], candidates };
}
