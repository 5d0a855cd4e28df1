/**
 * Renewal forecast: buckets by renewal probability and a seeded Monte Carlo simulation of renewed
 * ARR per period. Pure functions, no bindings.
 */
import { round } from "../../../platform/lib/stats";

/** Probability of renewal from which a contract counts as commit. */
export const COMMIT_FROM = 0.8;
/** Probability of renewal from which a contract counts as best case (below commit). */
export const BEST_CASE_FROM = 0.5;
/** The seed used when none is given, so the same data always gives the same answer. */
export const DEFAULT_SEED = 20_240_101;
/** The percentiles reported. */
export const PERCENTILES = [10, 50, 90] as const;

/** Forecast bucket of a contract: commit p ≥ 0.8, best case 0.5 ≤ p < 0.8, at risk p < 0.5. */
export type Bucket = "commit" | "best_case" | "at_risk";

/** The bucket of a renewal probability. */
export function bucketOf(probability: number): Bucket {
  if (probability >= COMMIT_FROM) return "commit";
  return probability >= BEST_CASE_FROM ? "best_case" : "at_risk";
}

/** The period key of a `YYYY-MM-DD` day: `YYYY-MM` by month, `YYYY-Qn` by quarter. */
export function periodOf(day: string, period: "month" | "quarter"): string {
  if (period === "month") return day.slice(0, 7);
  const month = Number(day.slice(5, 7));
  return `${day.slice(0, 4)}-Q${Math.ceil(month / 3)}`;
}

/**
 * mulberry32: a small, fast 32-bit PRNG. The same seed gives the same sequence of floats in
 * [0, 1) on every runtime, which is what makes a forecast reproducible.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The nearest-rank percentile of sorted values: the smallest value with at least q% of the
 * values at or below it.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((q / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** One contract up for renewal as the simulation sees it. */
export interface SimContract {
  /** Period key (see {@link periodOf}). */
  period: string;
  arr: number;
  /** Probability of renewal, 0–1. */
  probability: number;
}

/** Simulated and analytic renewed ARR of one period (or of the whole horizon). */
export interface SimulatedPeriod {
  period: string;
  contracts: number;
  arr_up_for_renewal: number;
  /** Σ probability × ARR. */
  expected_arr: number;
  p10: number;
  p50: number;
  p90: number;
}

/**
 * Simulates `simulations` renewal outcomes: in each run every contract renews independently with
 * its probability (one Bernoulli draw from the seeded PRNG), and the renewed ARR is summed per
 * period and over the horizon. Returns the nearest-rank P10/P50/P90 of those sums beside the
 * analytic expectation Σ p × ARR, per period in key order and for the total. Draws go contract
 * by contract in the given order, so the same contracts, order and seed give the same answer.
 */
export function simulateRenewals(
  contracts: readonly SimContract[],
  simulations: number,
  seed: number = DEFAULT_SEED,
): { periods: SimulatedPeriod[]; total: SimulatedPeriod } {
  const keys = [...new Set(contracts.map((c) => c.period))].sort();
  const sums = new Map(keys.map((key) => [key, new Float64Array(simulations)]));
  const total = new Float64Array(simulations);
  // The draws of seededRandom, inlined: this loop makes up to tens of millions of them. A draw
  // u / 2^32 < p exactly when u < p × 2^32 (scaling by a power of two is exact).
  let state = seed >>> 0;
  for (const contract of contracts) {
    const periodSums = sums.get(contract.period) as Float64Array;
    const arr = contract.arr;
    const threshold = contract.probability * 4_294_967_296;
    for (let run = 0; run < simulations; run++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      if ((t ^ (t >>> 14)) >>> 0 < threshold) {
        periodSums[run] = (periodSums[run] as number) + arr;
        total[run] = (total[run] as number) + arr;
      }
    }
  }
  const summarize = (period: string, members: readonly SimContract[], runs: Float64Array): SimulatedPeriod => {
    const sorted = runs.slice().sort();
    return {
      period,
      contracts: members.length,
      arr_up_for_renewal: round(members.reduce((sum, c) => sum + c.arr, 0)),
      expected_arr: round(members.reduce((sum, c) => sum + c.probability * c.arr, 0)),
      p10: round(percentile(sorted, 10)),
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
    };
  };
  return {
    periods: keys.map((key) =>
      summarize(
        key,
        contracts.filter((c) => c.period === key),
        sums.get(key) as Float64Array,
      ),
    ),
    total: summarize("horizon", contracts, total),
  };
}

/** Contracts, ARR and expected ARR per bucket. */
export type BucketTotals = Record<Bucket, { contracts: number; arr: number; expected_arr: number }>;

/** Sums contracts into the three buckets. */
export function bucketTotals(contracts: readonly Pick<SimContract, "arr" | "probability">[]): BucketTotals {
  const totals: BucketTotals = {
    commit: { contracts: 0, arr: 0, expected_arr: 0 },
    best_case: { contracts: 0, arr: 0, expected_arr: 0 },
    at_risk: { contracts: 0, arr: 0, expected_arr: 0 },
  };
  for (const c of contracts) {
    const bucket = totals[bucketOf(c.probability)];
    bucket.contracts += 1;
    bucket.arr += c.arr;
    bucket.expected_arr += c.probability * c.arr;
  }
  for (const bucket of Object.values(totals)) {
    bucket.arr = round(bucket.arr);
    bucket.expected_arr = round(bucket.expected_arr);
  }
  return totals;
}

/** Forecast GRR = expected renewed ARR / ARR up for renewal; null when nothing is up. */
export function forecastGrr(expectedArr: number, arrUp: number): number | null {
  return arrUp > 0 ? round(expectedArr / arrUp, 4) : null;
}
