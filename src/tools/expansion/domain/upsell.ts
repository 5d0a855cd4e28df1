/**
 * Upsell signals of one account near its plan's limits: seat utilization, usage growth,
 * features of a higher plan in use and health, combined into a 0–100 score, with the suggested
 * product and its ARR uplift.
 */
import { addDays } from "../../../platform/lib/time";

/** Relative weights of the score components (normalized by their sum). */
export interface UpsellWeights {
  utilization: number;
  growth: number;
  gated_features: number;
  health: number;
}

/** Default weights: seat pressure dominates, then growth and gated features, then health. */
export const DEFAULT_UPSELL_WEIGHTS: UpsellWeights = {
  utilization: 0.5,
  growth: 0.2,
  gated_features: 0.2,
  health: 0.1,
};

/** Thresholds that decide who qualifies and how many seats are suggested. */
export interface UpsellThresholds {
  /** Utilization (p90 daily active users / seats) at or above which an account is near its seat limit. */
  nearLimitUtilization: number;
  /** Utilization the suggested seat count brings the p90 daily active users down to. */
  targetUtilization: number;
  /** Least score a yellow-band account needs; green accounts qualify at any score. */
  yellowMinScore: number;
}

/** Default thresholds: near the limit from 80 % utilization, seats for 80 %, yellow from 60. */
export const DEFAULT_UPSELL_THRESHOLDS: UpsellThresholds = {
  nearLimitUtilization: 0.8,
  targetUtilization: 0.8,
  yellowMinScore: 60,
};

/** A priced product of the catalog. */
export interface PricedProduct {
  id: string;
  name: string;
  /** List price per seat per year. */
  price: number;
}

/** What is known of one account. */
export interface UpsellFacts {
  /** Licensed seats (plan items of active contracts). */
  seats: number;
  /** The 90th percentile of daily active users in the recent window (see {@link p90RankFromTop}). */
  p90ActiveUsers: number;
  /** Usage events in the recent window and in the equally long window before it. */
  eventsRecent: number;
  eventsPrior: number;
  /** Features in use that the account's plan does not include and a higher plan does. */
  gatedFeatures: readonly string[];
  healthScore: number | null;
  healthBand: string | null;
  /** The account's plan product, and the next plan up the price ladder (null at the top). */
  plan: PricedProduct | null;
  nextPlan: PricedProduct | null;
  /** The account's discount off list on its plan (0–1). */
  discount: number;
}

/**
 * Rank from the top of the 90th percentile of daily values over a window of `windowDays` days
 * (nearest rank, days without a row counting as 0): windowDays − ceil(0.9 × windowDays) + 1,
 * e.g. the 4th highest of 30 days, so a spike on one to three days does not count as pressure.
 */
export function p90RankFromTop(windowDays: number): number {
  return windowDays - Math.ceil((9 * windowDays) / 10) + 1;
}

/**
 * The 90th percentile of a window's daily active users from the days that have a row: the
 * {@link p90RankFromTop}-th highest, 0 when fewer days have one (idle days count as 0).
 */
export function p90ActiveUsers(dailyActiveUsers: readonly number[], windowDays: number): number {
  const sorted = [...dailyActiveUsers].sort((a, b) => b - a);
  return sorted[p90RankFromTop(windowDays) - 1] ?? 0;
}

/** Each component's raw value and its normalized 0–1 value. */
export interface UpsellComponents {
  utilization: number | null;
  utilization_normalized: number;
  growth: number | null;
  growth_normalized: number;
  gated_features: number;
  gated_features_normalized: number;
  health_normalized: number;
}

/** The suggested product and the ARR it adds. */
export interface UpsellSuggestion {
  kind: "more_seats" | "next_plan";
  product: PricedProduct;
  /** Seats after the change (current seats for a plan change without extra seats). */
  seats_after: number;
  /** Seats added (0 for a plan change at the current seat count). */
  seats_added: number;
  /** ARR after − ARR before, at list price × (1 − discount), whole currency units. */
  arr_uplift: number;
}

/** An account's upsell evaluation. */
export interface UpsellEvaluation {
  components: UpsellComponents;
  score: number;
  near_limit: boolean;
  /** Near the limit, healthy (green, or yellow with score ≥ the threshold) and with a suggestion. */
  qualified: boolean;
  /** Why it does not qualify, when it does not. */
  reason: string | null;
  suggestion: UpsellSuggestion | null;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/**
 * Normalized components: utilization 50 % → 0 … 100 % → 1 (linear, clamped); growth 0 → 0 …
 * +50 % → 1 (null when the prior window had no events, counted as 0); gated features 1 → 0.5,
 * 2 or more → 1; health = health score / 100 (unscored counts as 0).
 */
export function upsellComponents(f: UpsellFacts): UpsellComponents {
  const utilization = f.seats > 0 ? f.p90ActiveUsers / f.seats : null;
  const growth = f.eventsPrior > 0 ? (f.eventsRecent - f.eventsPrior) / f.eventsPrior : null;
  return {
    utilization,
    utilization_normalized: utilization === null ? 0 : clamp01((utilization - 0.5) / 0.5),
    growth,
    growth_normalized: growth === null ? 0 : clamp01(growth / 0.5),
    gated_features: f.gatedFeatures.length,
    gated_features_normalized: Math.min(1, f.gatedFeatures.length / 2),
    health_normalized: clamp01((f.healthScore ?? 0) / 100),
  };
}

/** Score 0–100 = 100 × Σ weight × normalized component / Σ weights, rounded to 0.1. */
export function upsellScore(c: UpsellComponents, weights: UpsellWeights): number {
  const total = weights.utilization + weights.growth + weights.gated_features + weights.health;
  if (total <= 0) return 0;
  const sum =
    weights.utilization * c.utilization_normalized +
    weights.growth * c.growth_normalized +
    weights.gated_features * c.gated_features_normalized +
    weights.health * c.health_normalized;
  return Math.round((1000 * sum) / total) / 10;
}

/**
 * The suggestion: with gated features in use and a higher plan, the next plan at
 * max(current seats, seats needed); otherwise, when utilization exceeds the target, the seats
 * needed = ceil(p90 daily active users / target utilization) of the current plan. Uplift = seats
 * after × new price × (1 − discount) − current seats × current price × (1 − discount).
 */
export function upsellSuggestion(f: UpsellFacts, thresholds: UpsellThresholds): UpsellSuggestion | null {
  if (!f.plan) return null;
  const seatsNeeded = Math.ceil(f.p90ActiveUsers / thresholds.targetUtilization);
  const seatsAfter = Math.max(f.seats, seatsNeeded);
  const net = 1 - f.discount;
  const before = f.seats * f.plan.price * net;
  if (f.gatedFeatures.length > 0 && f.nextPlan) {
    return {
      kind: "next_plan",
      product: f.nextPlan,
      seats_after: seatsAfter,
      seats_added: seatsAfter - f.seats,
      arr_uplift: Math.round(seatsAfter * f.nextPlan.price * net - before),
    };
  }
  if (seatsAfter <= f.seats) return null;
  return {
    kind: "more_seats",
    product: f.plan,
    seats_after: seatsAfter,
    seats_added: seatsAfter - f.seats,
    arr_uplift: Math.round((seatsAfter - f.seats) * f.plan.price * net),
  };
}

/** Evaluates one account: components, score, qualification and suggestion. */
export function evaluateUpsell(
  f: UpsellFacts,
  weights: UpsellWeights = DEFAULT_UPSELL_WEIGHTS,
  thresholds: UpsellThresholds = DEFAULT_UPSELL_THRESHOLDS,
): UpsellEvaluation {
  const components = upsellComponents(f);
  const score = upsellScore(components, weights);
  const nearLimit =
    (components.utilization !== null && components.utilization >= thresholds.nearLimitUtilization) ||
    components.gated_features > 0;
  const suggestion = upsellSuggestion(f, thresholds);
  let reason: string | null = null;
  if (!nearLimit) reason = "not near a plan limit";
  else if (f.healthBand !== "green" && f.healthBand !== "yellow") reason = `health band ${f.healthBand ?? "unscored"}`;
  else if (f.healthBand === "yellow" && score < thresholds.yellowMinScore)
    reason = `yellow band with score below ${thresholds.yellowMinScore}`;
  else if (!suggestion) reason = f.plan ? "no seats or higher plan to suggest" : "no plan product on active contracts";
  return { components, score, near_limit: nearLimit, qualified: reason === null, reason, suggestion };
}

/**
 * Discount off list on a set of items: 1 − Σ item ARR / Σ (seats × list price), clamped to
 * 0–1; 0 when the list value is 0.
 */
export function discountOffList(items: readonly { seats: number; arr: number; price: number }[]): number {
  const list = items.reduce((s, i) => s + i.seats * i.price, 0);
  if (list <= 0) return 0;
  const paid = items.reduce((s, i) => s + i.arr, 0);
  return Math.min(1, Math.max(0, 1 - paid / list));
}

/**
 * The plan ladder step above `plan`: the cheapest plan product priced above it, in the same
 * family when the plan has one (ties by name).
 */
export function nextPlanUp<P extends PricedProduct & { family: string | null }>(
  plan: P,
  plans: readonly P[],
): P | null {
  const higher = plans
    .filter((p) => p.id !== plan.id && p.price > plan.price && (plan.family === null || p.family === plan.family))
    .sort((a, b) => a.price - b.price || a.name.localeCompare(b.name));
  return higher[0] ?? null;
}

/**
 * Gated features: features in use that `plan` does not include but a higher plan does.
 * `planFeatures` maps plan id → included features.
 */
export function gatedFeatures(
  used: readonly string[],
  plan: PricedProduct,
  plans: readonly PricedProduct[],
  planFeatures: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const included = planFeatures.get(plan.id) ?? new Set<string>();
  const higher = plans.filter((p) => p.price > plan.price);
  return [...new Set(used)]
    .filter((f) => !included.has(f) && higher.some((p) => planFeatures.get(p.id)?.has(f)))
    .sort();
}

/** The recent usage window and the equally long one before it (inclusive UTC days). */
export interface UpsellWindows {
  recent_from: string;
  recent_to: string;
  prior_from: string;
  prior_to: string;
}

/** The last `windowDays` complete days before `today` and the `windowDays` days before them. */
export function upsellWindows(today: string, windowDays: number): UpsellWindows {
  return {
    recent_from: addDays(today, -windowDays),
    recent_to: addDays(today, -1),
    prior_from: addDays(today, -2 * windowDays),
    prior_to: addDays(today, -windowDays - 1),
  };
}
