import { round } from "../../../platform/lib/stats";
import { addDays } from "../../../platform/lib/time";

/** Days in each usage window compared for growth. */
export const USAGE_WINDOW_DAYS = 90;
/** Usage growth at or above this (with a green band) supports a price rise. */
export const GROWTH_THRESHOLD = 0.2;
/** Usage growth at or below this (a fall of 10% or more) calls for a concession. */
export const DECLINE_THRESHOLD = -0.1;

/** Health band as stored on the account. */
export type Band = "red" | "yellow" | "green";

/** A price-change rule: the first rule whose condition holds gives the range (percent, both ends included). */
export interface PriceChangeRule {
  name: "at_risk" | "growing" | "steady";
  condition: string;
  min_pct: number;
  max_pct: number;
}

/** The price-change rules, in the order they are tested. */
export const PRICE_CHANGE_RULES: readonly PriceChangeRule[] = [
  {
    name: "at_risk",
    condition: "health band red, or usage growth ≤ −10%",
    min_pct: -5,
    max_pct: 0,
  },
  {
    name: "growing",
    condition: "health band green and usage growth ≥ 20%",
    min_pct: 3,
    max_pct: 8,
  },
  {
    name: "steady",
    condition: "otherwise (yellow, flat usage, or no band or usage baseline)",
    min_pct: 0,
    max_pct: 3,
  },
];

/** The rule that applies to an account's health band and usage growth (null: unknown). */
export function priceChangeRule(band: Band | null, usageGrowth: number | null): PriceChangeRule {
  const [atRisk, growing, steady] = PRICE_CHANGE_RULES as [PriceChangeRule, PriceChangeRule, PriceChangeRule];
  if (band === "red" || (usageGrowth !== null && usageGrowth <= DECLINE_THRESHOLD)) return atRisk;
  if (band === "green" && usageGrowth !== null && usageGrowth >= GROWTH_THRESHOLD) return growing;
  return steady;
}

/** Multi-year discount (percent) offered for each term length in years. */
export const MULTI_YEAR_DISCOUNT_PCT: Readonly<Record<1 | 2 | 3, number>> = { 1: 0, 2: 5, 3: 8 };

/** The discount cap of a tier: its own, or the smallest configured cap for a tier not named. */
export function discountCap(
  tier: string | null,
  capsByTier: Readonly<Record<string, number>>,
): { max_discount_pct: number; basis: "tier" | "smallest_configured" } {
  const own = tier === null ? undefined : capsByTier[tier];
  if (own !== undefined) return { max_discount_pct: own, basis: "tier" };
  const caps = Object.values(capsByTier);
  return { max_discount_pct: caps.length > 0 ? Math.min(...caps) : 0, basis: "smallest_configured" };
}

/** ARR of an offer: current ARR × (1 + price change) × (1 − discount), rounded to cents. */
export function offerArr(currentArr: number, priceChangePct: number, discountPct: number): number {
  return round(currentArr * (1 + priceChangePct / 100) * (1 - discountPct / 100));
}

/**
 * Net present value of a term paid yearly in advance: Σ_{t=0}^{years−1} ARR / (1 + rate)^t (the
 * first year undiscounted), rounded to cents.
 */
export function termNpv(annualArr: number, years: number, rate: number): number {
  let total = 0;
  for (let t = 0; t < years; t++) total += annualArr / (1 + rate) ** t;
  return round(total);
}

/** How a term ends when renewed at `nextArr`. */
export function renewalOutcome(currentArr: number, nextArr: number): "expanded" | "contracted" | "renewed" {
  if (nextArr > currentArr) return "expanded";
  if (nextArr < currentArr) return "contracted";
  return "renewed";
}

/** Relative change from a base (4 decimals); null without a positive base. */
export function growth(recent: number, base: number): number | null {
  return base > 0 ? round((recent - base) / base, 4) : null;
}

/** A window of whole UTC days, both ends included. */
export interface UsageWindow {
  from: string;
  to: string;
}

/**
 * The usage windows compared: the last 90 complete days, the same 90 days a year earlier, and
 * the first 90 days of the term (used when the year-earlier window has no usage), which counts
 * only when it ends before the recent window starts.
 */
export function usageWindows(today: string, termStart: string) {
  const recent = { from: addDays(today, -USAGE_WINDOW_DAYS), to: addDays(today, -1) };
  const yearEarlier = { from: addDays(recent.from, -365), to: addDays(recent.to, -365) };
  const termEnd = addDays(termStart, USAGE_WINDOW_DAYS - 1);
  const termOpening = termEnd < recent.from ? { from: termStart, to: termEnd } : null;
  return { recent, yearEarlier, termOpening };
}

/** Usage summed over one window. */
export interface WindowUsage {
  events: number;
  /** Sum of daily active users over the window's days. */
  active_user_days: number;
}

/**
 * Usage growth and active-user trend: recent window against the year-earlier window when it has
 * usage, else against the term's first 90 days when they have usage and do not overlap.
 */
export function valueTrend(recent: WindowUsage, yearEarlier: WindowUsage, termOpening: WindowUsage | null) {
  const basis: "year_earlier" | "term_opening" | null =
    yearEarlier.events > 0 ? "year_earlier" : termOpening !== null && termOpening.events > 0 ? "term_opening" : null;
  const base = basis === "year_earlier" ? yearEarlier : basis === "term_opening" ? termOpening : null;
  const meanUsers = (w: WindowUsage) => round(w.active_user_days / USAGE_WINDOW_DAYS);
  return {
    basis,
    recent_events: recent.events,
    base_events: base?.events ?? null,
    usage_growth: base ? growth(recent.events, base.events) : null,
    recent_mean_active_users: meanUsers(recent),
    base_mean_active_users: base ? meanUsers(base) : null,
    active_users_change: base ? growth(recent.active_user_days, base.active_user_days) : null,
  };
}

/** One multi-year option at both ends of the price-change range. */
export interface TermOption {
  term_years: number;
  discount_pct: number;
  within_guardrail: boolean;
  price_change_pct: { min: number; max: number };
  arr: { min: number; max: number };
  npv: { min: number; max: number };
}

/** The 1-, 2- and 3-year options for a contract's ARR, price range, discount cap and discount rate. */
export function termOptions(
  currentArr: number,
  rule: Pick<PriceChangeRule, "min_pct" | "max_pct">,
  maxDiscountPct: number,
  rate: number,
): TermOption[] {
  return ([1, 2, 3] as const).map((years) => {
    const discount = MULTI_YEAR_DISCOUNT_PCT[years];
    const low = offerArr(currentArr, rule.min_pct, discount);
    const high = offerArr(currentArr, rule.max_pct, discount);
    return {
      term_years: years,
      discount_pct: discount,
      within_guardrail: discount <= maxDiscountPct,
      price_change_pct: { min: rule.min_pct, max: rule.max_pct },
      arr: { min: low, max: high },
      npv: { min: termNpv(low, years, rate), max: termNpv(high, years, rate) },
    };
  });
}
