/**
 * Cross-sell candidates: products an account does not own, backed by an association rule from a
 * product it owns and by look-alike accounts that own them.
 */
import { median } from "../../../platform/lib/stats";
import type { AssociationRule } from "./association";

/** Relative weights of the cross-sell score components (normalized by their sum). */
export interface CrossSellWeights {
  confidence: number;
  lift: number;
  lookalike_adoption: number;
}

/** Default weights: rule confidence half, lift and look-alike adoption a quarter each. */
export const DEFAULT_CROSSSELL_WEIGHTS: CrossSellWeights = { confidence: 0.5, lift: 0.25, lookalike_adoption: 0.25 };

/** What look-alike matching needs of an account. */
export interface Firmographics {
  id: string;
  industry: string | null;
  segment: string | null;
  employees: number | null;
}

/**
 * Look-alike rule: same industry and same segment (both known), and employees (both known)
 * within a factor of 2 of each other (b in [a / 2, 2a]); never the account itself.
 */
export function isLookalike(a: Firmographics, b: Firmographics): boolean {
  if (a.id === b.id || !a.industry || !a.segment || a.employees === null || b.employees === null) return false;
  return (
    a.industry === b.industry &&
    a.segment === b.segment &&
    b.employees >= a.employees / 2 &&
    b.employees <= a.employees * 2
  );
}

/** How many look-alikes an account has, and how many of them own a given product. */
export interface LookalikeCounts {
  lookalikes: number;
  owning(productId: string): number;
}

const NO_LOOKALIKES: LookalikeCounts = { lookalikes: 0, owning: () => 0 };

/**
 * Look-alike counts of every account (see {@link isLookalike}) without listing the look-alikes.
 * Each industry-segment group is sorted by employees once, so an account's look-alikes are one
 * contiguous range (employees within [e / 2, 2e], the account itself left out) found by binary
 * search, and running counts of each product's owners along the group give how many in the
 * range own it.
 */
export function lookalikeCounts<A extends Firmographics & { products: ReadonlySet<string> }>(
  accounts: readonly A[],
): Map<string, LookalikeCounts> {
  const groups = new Map<string, (A & { employees: number })[]>();
  for (const a of accounts) {
    if (!a.industry || !a.segment || a.employees === null) continue;
    const key = JSON.stringify([a.industry, a.segment]);
    const group = groups.get(key);
    const member = a as A & { employees: number };
    if (group) group.push(member);
    else groups.set(key, [member]);
  }
  const result = new Map<string, LookalikeCounts>();
  for (const a of accounts) result.set(a.id, NO_LOOKALIKES);
  for (const group of groups.values()) {
    group.sort((x, y) => x.employees - y.employees);
    const employees = group.map((g) => g.employees);
    // owners.get(p)[i] = owners of p among the first i accounts of the group.
    const owners = new Map<string, Int32Array>();
    group.forEach((g, i) => {
      for (const p of g.products) {
        if (!owners.has(p)) owners.set(p, new Int32Array(group.length + 1));
      }
      for (const [p, counts] of owners) counts[i + 1] = (counts[i] as number) + (g.products.has(p) ? 1 : 0);
    });
    for (const a of group) {
      const from = firstIndexFrom(employees, a.employees / 2, true);
      const to = firstIndexFrom(employees, a.employees * 2, false);
      const self = a.employees >= a.employees / 2 && a.employees <= a.employees * 2 ? 1 : 0;
      result.set(a.id, {
        lookalikes: Math.max(0, to - from - self),
        owning: (productId) => {
          const counts = owners.get(productId);
          if (!counts || to <= from) return 0;
          return (counts[to] as number) - (counts[from] as number) - (self && a.products.has(productId) ? 1 : 0);
        },
      });
    }
  }
  return result;
}

/**
 * Index of the first value of ascending `values` at or past `bound`: `≥ bound` when `inclusive`,
 * else `> bound` (their length when none).
 */
function firstIndexFrom(values: readonly number[], bound: number, inclusive: boolean): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const value = values[mid] as number;
    if (inclusive ? value < bound : value <= bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Seats basis of a product for an account: max(1, round(licensed seats × the median share of
 * licensed seats that the product's current owners buy)); the share is 1 when no owner has
 * licensed seats to compare with.
 */
export function seatsBasis(licensedSeats: number, ownerSeatShares: readonly number[]): number {
  return seatsBasisOfShare(licensedSeats, median(ownerSeatShares));
}

/**
 * Seats basis from the owners' median share already taken (see {@link ownerSeatShareMedians}),
 * so ranking a whole book sorts each product's shares once, not once per account.
 */
export function seatsBasisOfShare(licensedSeats: number, medianShare: number | null): number {
  return Math.max(1, Math.round(licensedSeats * (medianShare ?? 1)));
}

/**
 * Per product, the median over its owners with licensed seats of product seats / licensed
 * seats: the share {@link seatsBasis} scales an account's seats by.
 */
export function ownerSeatShareMedians(
  accounts: readonly { seats: number; items: readonly { product_id: string; seats: number }[] }[],
): Map<string, number> {
  const shares = new Map<string, number[]>();
  for (const a of accounts) {
    if (a.seats <= 0) continue;
    for (const i of a.items) {
      const list = shares.get(i.product_id);
      if (list) list.push(i.seats / a.seats);
      else shares.set(i.product_id, [i.seats / a.seats]);
    }
  }
  const medians = new Map<string, number>();
  for (const [productId, list] of shares) medians.set(productId, median(list) ?? 1);
  return medians;
}

/** The strongest rule toward `product` among those from products the account owns. */
export function bestRule(
  owned: ReadonlySet<string>,
  product: string,
  rules: readonly AssociationRule[],
): AssociationRule | null {
  let best: AssociationRule | null = null;
  for (const r of rules) {
    if (r.consequent !== product || !owned.has(r.antecedent)) continue;
    if (
      !best ||
      r.confidence > best.confidence ||
      (r.confidence === best.confidence &&
        (r.lift > best.lift || (r.lift === best.lift && r.antecedent < best.antecedent)))
    )
      best = r;
  }
  return best;
}

/**
 * Score 0–100 = 100 × (w_c × confidence + w_l × min(1, max(0, (lift − 1) / 2)) + w_a × look-alike
 * adoption) / Σ w, rounded to 0.1. Lift 1 (no affinity) adds nothing, lift 3 or more adds fully;
 * look-alike adoption = look-alikes owning the product / look-alikes (0 without look-alikes).
 */
export function crossSellScore(
  ruleConfidence: number,
  ruleLift: number,
  lookalikeAdoption: number,
  weights: CrossSellWeights = DEFAULT_CROSSSELL_WEIGHTS,
): number {
  const total = weights.confidence + weights.lift + weights.lookalike_adoption;
  if (total <= 0) return 0;
  const liftPart = Math.min(1, Math.max(0, (ruleLift - 1) / 2));
  const sum =
    weights.confidence * ruleConfidence + weights.lift * liftPart + weights.lookalike_adoption * lookalikeAdoption;
  return Math.round((1000 * sum) / total) / 10;
}

/** Expected ARR = list price × seats basis × rule confidence, whole currency units. */
export function expectedArr(price: number, seats: number, ruleConfidence: number): number {
  return Math.round(price * seats * ruleConfidence);
}
