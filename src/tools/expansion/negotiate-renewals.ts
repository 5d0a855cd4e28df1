import { z } from "zod";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { findAccount } from "../../records/accounts";
import { refreshAccountRollups } from "../../records/rollups";
import type { WorkspaceSettings } from "../../records/settings";
import { workspaceSettings } from "../../records/workspace-settings";
import { addMonths } from "./domain/movements";
import {
  DECLINE_THRESHOLD,
  discountCap,
  GROWTH_THRESHOLD,
  MULTI_YEAR_DISCOUNT_PCT,
  offerArr,
  PRICE_CHANGE_RULES,
  priceChangeRule,
  renewalOutcome,
  termNpv,
  termOptions,
  USAGE_WINDOW_DAYS,
  usageWindows,
  valueTrend,
  type WindowUsage,
} from "./domain/negotiate";
import {
  acceptOfferStatements,
  type ContractTermRow,
  closeOffer,
  contractItems,
  contractTerm,
  currentTermOfAccount,
  insertOffer,
  listOffers as listOfferRows,
  type OfferRow,
  offerById,
  type TermUsageRow,
  termValueFacts,
} from "./queries/negotiation";

const ACTIONS = ["prepare", "offer", "list", "accept", "reject", "withdraw"] as const;
const OFFER_STATUSES = ["proposed", "accepted", "rejected", "withdrawn"] as const;
/** Outcome reason recorded on a term renewed through an accepted offer. */
const NEGOTIATED_REASON = "negotiated_renewal";

const contractOut = z.object({
  id: z.string(),
  account_id: z.string(),
  account_name: z.string(),
  tier: z.string().nullable(),
  segment: z.string().nullable(),
  start_date: z.string(),
  end_date: z.string().describe("End of the term: the renewal date."),
  status: z.enum(["active", "ended", "cancelled"]),
  outcome: z.string().nullable(),
  arr: z.number(),
  days_to_renewal: z.number().int().describe("Days from today (UTC) to end_date; negative when past."),
});

const range = z.object({ min: z.number(), max: z.number() });

const guardrailOut = z.object({
  tier: z.string().nullable(),
  max_discount_pct: z.number(),
  basis: z
    .enum(["tier", "smallest_configured"])
    .describe("tier: the tier's own cap in finance.max_discount_pct_by_tier; else the smallest configured cap."),
});

const offerOut = z.object({
  id: z.string(),
  contract_id: z.string(),
  account_id: z.string(),
  term_years: z.number().int(),
  price_change_pct: z.number(),
  discount_pct: z.number(),
  arr: z.number().describe("Contract ARR × (1 + price change) × (1 − discount), rounded to cents."),
  npv: z.number().nullable().describe("Σ_{t=0}^{years−1} ARR / (1 + discount rate)^t, paid yearly in advance."),
  status: z.enum(OFFER_STATUSES),
  notes: z.string().nullable().describe("Notes written by the team."),
  next_contract_id: z.string().nullable().describe("The contract term created when the offer was accepted."),
  created_by: z.string().nullable(),
  created_at: z.string(),
  decided_at: z.string().nullable(),
});

export const negotiateRenewals = defineActionTool({
  name: "negotiate_renewals",
  title: "Negotiate renewals",
  toolset: "expansion",
  description:
    "Renewal negotiation for a contract term (contract_id, or account_id for the account's active term without an outcome that ends first). " +
    `prepare (read): value delivered — usage growth = events of the last ${USAGE_WINDOW_DAYS} complete UTC days vs the same days a year earlier (else vs the term's first ${USAGE_WINDOW_DAYS} days when they end before the recent window), mean daily active users of both windows, health score and band, tickets created in the term and solved, latest NPS answer and the account's NPS over 365 days; ` +
    `a price-change range from rules tested in order: at_risk (band red or usage growth ≤ ${DECLINE_THRESHOLD * 100}%) −5%..0%, growing (band green and growth ≥ ${GROWTH_THRESHOLD * 100}%) +3%..+8%, steady (otherwise) 0%..+3%; ` +
    "the discount guardrail = finance.max_discount_pct_by_tier for the account's tier (a tier not named gets the smallest cap); " +
    `multi-year options 1/2/3 years with discounts ${MULTI_YEAR_DISCOUNT_PCT[1]}/${MULTI_YEAR_DISCOUNT_PCT[2]}/${MULTI_YEAR_DISCOUNT_PCT[3]}%, each at both ends of the range. ` +
    "Offer ARR = contract ARR × (1 + price change %) × (1 − discount %), rounded to cents; NPV = Σ_{t=0}^{years−1} ARR / (1 + finance.discount_rate)^t (yearly payments in advance, the same ARR each year). " +
    "offer (csm): records a proposed offer; a discount above the tier's cap is refused. list: offers of a contract or account, newest first. " +
    "accept (csm): the offer's terms become the next contract term (start = current end_date, end = start + term years, ARR = offer ARR, previous_contract_id = current; line items copied with seats kept and ARR scaled by the same factor). " +
    "The current term gets outcome expanded/contracted/renewed by comparing ARR, outcome_date today and status ended at once (account ARR and renewal date sum active terms, so two active terms would count twice; revenue in force still follows the term dates). " +
    "Other proposed offers on the term are withdrawn; the account's ARR and renewal date are refreshed. reject / withdraw (csm): close a proposed offer.",
  input: {
    action: z.enum(ACTIONS).describe("prepare, offer, list, accept, reject or withdraw."),
    contract_id: z.string().min(1).max(100).optional().describe("prepare/offer/list: the contract term being renewed."),
    account_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("prepare/offer: use this account's current term; list: offers of this account."),
    offer_id: z.string().min(1).max(100).optional().describe("accept/reject/withdraw (required): the offer."),
    term_years: z.number().int().min(1).max(5).optional().describe("offer: term length in years (default 1)."),
    price_change_pct: z
      .number()
      .min(-50)
      .max(100)
      .optional()
      .describe("offer (required): list-price change in percent, e.g. 5 for +5%."),
    discount_pct: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe("offer: total discount in percent (default 0), at most the tier's guardrail."),
    notes: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .optional()
      .describe("offer/accept/reject/withdraw: a note by the team, kept with the offer."),
    status: z.enum(OFFER_STATUSES).optional().describe("list: only offers with this status."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS),
    contract: contractOut.optional().describe("prepare/offer: the term negotiated."),
    value: z
      .object({
        health_score: z.number().nullable(),
        health_band: z.enum(["red", "yellow", "green"]).nullable(),
        usage: z.object({
          basis: z
            .enum(["year_earlier", "term_opening"])
            .nullable()
            .describe("Base window used; null when neither has usage."),
          recent_window: z.object({ from: z.string(), to: z.string() }),
          base_window: z.object({ from: z.string(), to: z.string() }).nullable(),
          recent_events: z.number().int(),
          base_events: z.number().int().nullable(),
          usage_growth: z.number().nullable().describe("(recent − base) / base events."),
          recent_mean_active_users: z.number().describe("Daily active users summed over the window / 90."),
          base_mean_active_users: z.number().nullable(),
          active_users_change: z.number().nullable().describe("(recent − base) / base active-user days."),
        }),
        tickets: z.object({
          created_in_term: z.number().int().describe("Tickets created since the term's start_date."),
          solved: z.number().int().describe("Of those, solved or closed."),
        }),
        nps: z.object({
          latest_score: z.number().int().nullable().describe("The account's latest NPS answer (0–10)."),
          latest_at: z.string().nullable(),
          nps_365d: z.number().nullable().describe("%promoters − %detractors over the last 365 days."),
          responses_365d: z.number().int(),
        }),
      })
      .optional()
      .describe("prepare: value delivered."),
    price_change: z
      .object({
        rule: z.enum(["at_risk", "growing", "steady"]),
        condition: z.string(),
        min_pct: z.number(),
        max_pct: z.number(),
        rules: z
          .array(z.object({ name: z.string(), condition: z.string(), min_pct: z.number(), max_pct: z.number() }))
          .describe("All rules in the order they are tested."),
      })
      .optional()
      .describe("prepare: the price-change range and the rule that gave it."),
    guardrail: guardrailOut.optional().describe("prepare/offer: the discount cap for the account's tier."),
    options: z
      .array(
        z.object({
          term_years: z.number().int(),
          discount_pct: z.number().describe("Multi-year discount."),
          within_guardrail: z.boolean(),
          price_change_pct: range,
          arr: range.describe("Yearly ARR at the low and high end of the price range."),
          npv: range,
        }),
      )
      .optional()
      .describe("prepare: 1-, 2- and 3-year options."),
    discount_rate: z.number().optional().describe("prepare/offer: finance.discount_rate used for NPV."),
    offer: offerOut.optional().describe("offer/accept/reject/withdraw: the offer as stored now."),
    outside_price_range: z
      .boolean()
      .optional()
      .describe("offer: the price change lies outside the range the rules give (allowed, flagged)."),
    next_contract: z
      .object({
        id: z.string(),
        start_date: z.string(),
        end_date: z.string(),
        arr: z.number(),
        previous_contract_id: z.string(),
        items_copied: z.number().int(),
      })
      .optional()
      .describe("accept: the contract term created."),
    previous_outcome: z
      .enum(["expanded", "contracted", "renewed"])
      .optional()
      .describe("accept: the current term's outcome."),
    withdrawn_offers: z.number().int().optional().describe("accept: other proposed offers on the term withdrawn."),
    account_arr: z.number().optional().describe("accept: the account's ARR after the refresh (sum of active terms)."),
    offers: z.array(offerOut).optional().describe("list: this page, newest first."),
    next_cursor: nextCursorField.optional(),
  },
  minRole: "viewer",
  examples: [
    { title: "Prepare a renewal for a contract", args: (ids) => ({ action: "prepare", contract_id: ids.contractId }) },
    { title: "Prepare an account's next renewal", args: (ids) => ({ action: "prepare", account_id: ids.accountId }) },
    { title: "An account's offers", args: (ids) => ({ action: "list", account_id: ids.accountId }) },
    { title: "A contract's offers", args: (ids) => ({ action: "list", contract_id: ids.contractId }) },
  ],
  // Destructive: accept closes the current term (its status and outcome change).
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  commonFields: ["limit"],
  actions: {
    prepare: { writes: false, fields: ["contract_id", "account_id"], run: (args, ctx) => prepare(ctx, args) },
    offer: {
      writes: true,
      role: "csm",
      fields: ["contract_id", "account_id", "term_years", "price_change_pct", "discount_pct", "notes"],
      run: (args, ctx) => makeOffer(ctx, args),
    },
    list: {
      writes: false,
      fields: ["contract_id", "account_id", "status", "cursor"],
      run: (args, ctx) => listOffers(ctx, args),
    },
    accept: { writes: true, role: "csm", fields: ["offer_id", "notes"], run: (args, ctx) => accept(ctx, args) },
    reject: {
      writes: true,
      role: "csm",
      fields: ["offer_id", "notes"],
      run: (args, ctx) => close(ctx, "reject", args),
    },
    withdraw: {
      writes: true,
      role: "csm",
      fields: ["offer_id", "notes"],
      run: (args, ctx) => close(ctx, "withdraw", args),
    },
  },
});

/**
 * The contract named, or the account's current term: the active term without an outcome that
 * ends first.
 */
async function resolveContract(
  ctx: ToolContext,
  args: { contract_id?: string | undefined; account_id?: string | undefined },
): Promise<ContractTermRow> {
  const ws = ctx.principal.workspaceId;
  if (args.contract_id) {
    const row = await contractTerm(ctx.env.DB, ws, args.contract_id);
    if (!row) throw notFound("contract", args.contract_id);
    if (args.account_id && args.account_id !== row.account_id) {
      throw new ToolError(
        `Contract "${row.id}" belongs to account "${row.account_id}", not "${args.account_id}"; give one of them.`,
      );
    }
    return row;
  }
  if (!args.account_id) throw new ToolError("Give contract_id, or account_id to use the account's current term.");
  const row = await currentTermOfAccount(ctx.env.DB, ws, args.account_id);
  if (row) return row;
  const exists = await findAccount(ctx.env.DB, ws, args.account_id);
  if (!exists) throw notFound("account", args.account_id);
  throw new ToolError(
    `Account "${args.account_id}" has no active contract term awaiting renewal; give contract_id of the term to negotiate.`,
  );
}

/** Refuses a term that already has its outcome or is not active. */
function requireOpenTerm(contract: ContractTermRow): void {
  if (contract.status !== "active" || contract.outcome !== null) {
    throw new ToolError(
      `Contract "${contract.id}" is ${contract.status}${contract.outcome ? ` with outcome ${contract.outcome}` : ""}: only an active term without an outcome can be negotiated. Use prepare with the account_id to find its current term.`,
    );
  }
}

async function financeSettings(ctx: ToolContext): Promise<WorkspaceSettings["finance"]> {
  return (await workspaceSettings(ctx)).finance;
}

function contractData(c: ContractTermRow, today: string) {
  return {
    id: c.id,
    account_id: c.account_id,
    account_name: c.account_name,
    tier: c.tier,
    segment: c.segment,
    start_date: c.start_date,
    end_date: c.end_date,
    status: c.status,
    outcome: c.outcome,
    arr: c.arr,
    days_to_renewal: daysBetween(today, c.end_date),
  };
}

/**
 * Value delivered on a term: usage growth and active users against the base window the rules
 * choose, tickets created in the term and solved, the latest NPS answer and NPS over 365 days.
 */
async function loadValue(ctx: ToolContext, contract: ContractTermRow, today: string) {
  const windows = usageWindows(today, contract.start_date);
  const opening = windows.termOpening ?? { from: "", to: "" };
  const first =
    windows.termOpening && opening.from < windows.yearEarlier.from ? opening.from : windows.yearEarlier.from;
  const facts = await termValueFacts(ctx.env.DB, ctx.principal.workspaceId, {
    accountId: contract.account_id,
    startDate: contract.start_date,
    recent: windows.recent,
    yearEarlier: windows.yearEarlier,
    opening,
    first,
    since365: `${addDays(today, -365)}T00:00:00.000Z`,
  });
  const u = facts.usage;
  const windowUsage = (events: keyof TermUsageRow, users: keyof TermUsageRow): WindowUsage => ({
    events: u[events] ?? 0,
    active_user_days: u[users] ?? 0,
  });
  const trend = valueTrend(
    windowUsage("recent_events", "recent_users"),
    windowUsage("year_events", "year_users"),
    windows.termOpening ? windowUsage("opening_events", "opening_users") : null,
  );
  const { tickets: t, latest: l, nps: n } = facts;
  const baseWindow =
    trend.basis === "year_earlier" ? windows.yearEarlier : trend.basis === "term_opening" ? windows.termOpening : null;
  return {
    health_score: contract.health_score,
    health_band: contract.health_band,
    usage: { ...trend, recent_window: windows.recent, base_window: baseWindow },
    tickets: { created_in_term: t.created, solved: t.solved },
    nps: {
      latest_score: l?.score ?? null,
      latest_at: l?.responded_at ?? null,
      nps_365d: n.n > 0 ? Math.round(((n.promoters - n.detractors) / n.n) * 1000) / 10 : null,
      responses_365d: n.n,
    },
  };
}

async function prepare(ctx: ToolContext, args: { contract_id?: string | undefined; account_id?: string | undefined }) {
  const today = isoDay(ctx.now);
  const [contract, finance] = await Promise.all([resolveContract(ctx, args), financeSettings(ctx)]);
  const value = await loadValue(ctx, contract, today);
  const rule = priceChangeRule(contract.health_band, value.usage.usage_growth);
  const cap = discountCap(contract.tier, finance.max_discount_pct_by_tier);
  const options = termOptions(contract.arr, rule, cap.max_discount_pct, finance.discount_rate);
  const growthText =
    value.usage.usage_growth === null ? "no usage baseline" : `usage ${signedPct(value.usage.usage_growth * 100)}`;
  return {
    data: {
      action: "prepare" as const,
      contract: contractData(contract, today),
      value,
      price_change: {
        rule: rule.name,
        condition: rule.condition,
        min_pct: rule.min_pct,
        max_pct: rule.max_pct,
        rules: [...PRICE_CHANGE_RULES],
      },
      guardrail: { tier: contract.tier, ...cap },
      options,
      discount_rate: finance.discount_rate,
    },
    text: [
      `${contract.account_name} renews ${contract.end_date} at ARR ${contract.arr}: health ${contract.health_band ?? "unscored"}, ${growthText} → ${rule.name} ${signedPct(rule.min_pct)}..${signedPct(rule.max_pct)}; discount cap ${cap.max_discount_pct}% (${contract.tier ?? "no tier"}); NPV at ${finance.discount_rate * 100}%.`,
      markdownTable(
        ["Years", "Discount", "ARR low", "ARR high", "NPV low", "NPV high", "Within cap"],
        options.map((o) => [
          o.term_years,
          `${o.discount_pct}%`,
          o.arr.min,
          o.arr.max,
          o.npv.min,
          o.npv.max,
          o.within_guardrail,
        ]),
      ),
    ].join("\n"),
  };
}

/** A percentage with its sign, to 0.1. */
function signedPct(value: number): string {
  const rounded = round(value, 1);
  return `${rounded > 0 ? "+" : ""}${rounded}%`;
}

async function makeOffer(
  ctx: ToolContext,
  args: {
    contract_id?: string | undefined;
    account_id?: string | undefined;
    term_years?: number | undefined;
    price_change_pct?: number | undefined;
    discount_pct?: number | undefined;
    notes?: string | undefined;
  },
) {
  if (args.price_change_pct === undefined) {
    throw new ToolError("offer needs price_change_pct (percent, e.g. 3 for +3%); run prepare for the suggested range.");
  }
  const contract = await resolveContract(ctx, args);
  requireOpenTerm(contract);
  const finance = await financeSettings(ctx);
  const cap = discountCap(contract.tier, finance.max_discount_pct_by_tier);
  const discount = args.discount_pct ?? 0;
  if (discount > cap.max_discount_pct) {
    throw new ToolError(
      `discount_pct ${discount} exceeds the ${contract.tier ?? "untiered"} guardrail of ${cap.max_discount_pct}%: offer at most ${cap.max_discount_pct}%, or have an admin change finance.max_discount_pct_by_tier with configure_workspace.`,
    );
  }
  // The range the rules give today, to flag an offer outside it.
  const value = await loadValue(ctx, contract, isoDay(ctx.now));
  const suggested = priceChangeRule(contract.health_band, value.usage.usage_growth);
  const outside = args.price_change_pct < suggested.min_pct || args.price_change_pct > suggested.max_pct;
  const years = args.term_years ?? 1;
  const arr = offerArr(contract.arr, args.price_change_pct, discount);
  const npv = termNpv(arr, years, finance.discount_rate);
  const id = newId("rof");
  const created = ctx.now.toISOString();
  const createdBy = ctx.principal.userId ?? ctx.principal.keyId ?? null;
  const offer: OfferRow = {
    id,
    contract_id: contract.id,
    account_id: contract.account_id,
    term_years: years,
    price_change_pct: args.price_change_pct,
    discount_pct: discount,
    arr,
    npv,
    status: "proposed",
    notes: args.notes ?? null,
    next_contract_id: null,
    created_by: createdBy,
    created_at: created,
    decided_at: null,
  };
  await insertOffer(ctx.env.DB, ctx.principal.workspaceId, offer);
  ctx.audit({
    action: "offer",
    targetType: "renewal_offer",
    targetId: id,
    details: {
      contract_id: contract.id,
      term_years: years,
      price_change_pct: args.price_change_pct,
      discount_pct: discount,
      arr,
      npv,
    },
  });
  return {
    data: {
      action: "offer" as const,
      contract: contractData(contract, isoDay(ctx.now)),
      offer,
      guardrail: { tier: contract.tier, ...cap },
      discount_rate: finance.discount_rate,
      outside_price_range: outside,
    },
    text: `Offer ${id} on ${contract.id}: ${years} year(s), price ${signedPct(args.price_change_pct)}, discount ${discount}% → ARR ${arr}, NPV ${npv} at ${finance.discount_rate * 100}%${outside ? ` (outside the ${suggested.name} range ${signedPct(suggested.min_pct)}..${signedPct(suggested.max_pct)})` : ""}.`,
  };
}

async function loadOffer(ctx: ToolContext, offerId: string | undefined): Promise<OfferRow> {
  if (!offerId) throw new ToolError("Give offer_id (rof_…); list the contract's offers to find it.");
  const offer = await offerById(ctx.env.DB, ctx.principal.workspaceId, offerId);
  if (!offer) throw notFound("renewal offer", offerId);
  return offer;
}

function requireProposed(offer: OfferRow): void {
  if (offer.status !== "proposed") {
    throw new ToolError(
      `Offer "${offer.id}" is already ${offer.status}; only a proposed offer can change. Make a new offer instead.`,
    );
  }
}

async function accept(ctx: ToolContext, args: { offer_id?: string | undefined; notes?: string | undefined }) {
  const offer = await loadOffer(ctx, args.offer_id);
  requireProposed(offer);
  const contract = await resolveContract(ctx, { contract_id: offer.contract_id });
  requireOpenTerm(contract);
  const ws = ctx.principal.workspaceId;
  const nextId = newId("ctr");
  const start = contract.end_date;
  const end = addMonths(start, 12 * offer.term_years);
  const outcome = renewalOutcome(contract.arr, offer.arr);
  const factor = contract.arr > 0 ? offer.arr / contract.arr : 0;
  const copies = (await contractItems(ctx.env.DB, ws, contract.id)).map((i) => ({
    id: newId("cti"),
    product_id: i.product_id,
    seats: i.seats,
    arr: round(i.arr * factor),
  }));
  const acceptance = acceptOfferStatements(ctx.env.DB, ws, {
    offerId: offer.id,
    nextContractId: nextId,
    decidedAt: ctx.now.toISOString(),
    notes: args.notes ?? null,
    contract,
    start,
    end,
    arr: offer.arr,
    items: copies,
    outcome,
    outcomeReason: NEGOTIATED_REASON,
    outcomeDate: isoDay(ctx.now),
  });
  const results = await ctx.env.DB.batch([...acceptance, refreshAccountRollups(ctx.env.DB, ws, [contract.account_id])]);
  if ((results[0]?.meta.changes ?? 0) === 0) {
    throw new ToolError(
      `Offer "${offer.id}" or its contract term changed meanwhile (no longer proposed, or the term is closed); list the offers and try again.`,
    );
  }
  const [stored, account] = await Promise.all([
    loadOffer(ctx, offer.id),
    findAccount(ctx.env.DB, ws, contract.account_id),
  ]);
  const withdrawn = results[4]?.meta.changes ?? 0;
  ctx.audit({
    action: "accept",
    targetType: "renewal_offer",
    targetId: offer.id,
    details: { contract_id: contract.id, next_contract_id: nextId, outcome, arr: offer.arr, start, end, withdrawn },
  });
  return {
    data: {
      action: "accept" as const,
      offer: stored,
      next_contract: {
        id: nextId,
        start_date: start,
        end_date: end,
        arr: offer.arr,
        previous_contract_id: contract.id,
        items_copied: copies.length,
      },
      previous_outcome: outcome,
      withdrawn_offers: withdrawn,
      account_arr: account?.arr ?? 0,
    },
    text: `Accepted ${offer.id}: ${contract.id} ${outcome} (ARR ${contract.arr} → ${offer.arr}); new term ${nextId} ${start} to ${end}, ${copies.length} line items copied; ${withdrawn} other offer(s) withdrawn; account ARR now ${account?.arr ?? 0}.`,
  };
}

async function close(
  ctx: ToolContext,
  action: "reject" | "withdraw",
  args: { offer_id?: string | undefined; notes?: string | undefined },
) {
  const offer = await loadOffer(ctx, args.offer_id);
  requireProposed(offer);
  const status = action === "reject" ? "rejected" : "withdrawn";
  const changes = await closeOffer(ctx.env.DB, ctx.principal.workspaceId, {
    offerId: offer.id,
    status,
    decidedAt: ctx.now.toISOString(),
    notes: args.notes ?? null,
  });
  if (changes === 0) {
    throw new ToolError(`Offer "${offer.id}" changed meanwhile and is no longer proposed; list the offers to see it.`);
  }
  ctx.audit({ action, targetType: "renewal_offer", targetId: offer.id, details: { contract_id: offer.contract_id } });
  const stored = await loadOffer(ctx, offer.id);
  return { data: { action, offer: stored }, text: `Offer ${offer.id} ${status}.` };
}

async function listOffers(
  ctx: ToolContext,
  args: {
    contract_id?: string | undefined;
    account_id?: string | undefined;
    status?: (typeof OFFER_STATUSES)[number] | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  if (!args.contract_id && !args.account_id) throw new ToolError("list needs contract_id or account_id.");
  const fingerprint = queryFingerprint([
    "negotiate_renewals.list",
    args.contract_id ?? null,
    args.account_id ?? null,
    args.status ?? null,
  ]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const rows = await listOfferRows(ctx.env.DB, ctx.principal.workspaceId, {
    contractId: args.contract_id ?? null,
    accountId: args.account_id ?? null,
    status: args.status ?? null,
    after: position ? { createdAt: String(position.k[0]), id: position.id } : null,
    limit: args.limit + 1,
  });
  const shown = rows.slice(0, args.limit);
  const last = shown[shown.length - 1];
  const next =
    rows.length > args.limit && last ? encodeCursor({ k: [last.created_at], id: last.id, q: fingerprint }) : null;
  return {
    data: { action: "list" as const, offers: shown, next_cursor: next },
    text: [
      `${shown.length} offer(s)${next ? " (more with next_cursor)" : ""}.`,
      markdownTable(
        ["Offer", "Contract", "Years", "Price", "Discount", "ARR", "NPV", "Status"],
        shown.map((o) => [
          o.id,
          o.contract_id,
          o.term_years,
          signedPct(o.price_change_pct),
          `${o.discount_pct}%`,
          o.arr,
          o.npv,
          o.status,
        ]),
      ),
    ].join("\n"),
  };
}
