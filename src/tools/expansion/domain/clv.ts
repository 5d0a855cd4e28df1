import { round } from "../../../platform/lib/stats";
import type { MovementTotals } from "./movements";

/** A segment needs at least this many accounts at the start of the history window to use its own rates. */
export const MIN_SEGMENT_HISTORY = 10;

/** The assumptions one lifetime value is computed with (rates as fractions). */
export interface ClvInputs {
  arr: number;
  gross_margin: number;
  /** Annual churn probability. */
  churn_rate: number;
  /** Yearly net ARR growth of a retained account. */
  expansion_rate: number;
  discount_rate: number;
  max_lifetime_years: number;
}

/** Expected lifetime in years: 1 / annual churn, capped (no churn → the cap). */
export function expectedLifetime(churnRate: number, maxYears: number): number {
  if (churnRate <= 0) return maxYears;
  // Rounded so 1 / (1/6) is 6, not 6.000000000000001 with a seventh sliver of a year.
  return Math.min(maxYears, round(1 / churnRate, 6));
}

/**
 * Lifetime value: `clv` = ARR × gross margin × lifetime (the standard definition) and
 * `discounted_clv` = ARR × margin × Σ_{t=0}^{⌈L⌉−1} w_t × ((1 + g) / (1 + r))^t, where L is the
 * lifetime, w_t = min(1, L − t) counts the last, partial year pro rata, g is the expansion rate and
 * r the discount rate (yearly revenue in advance, the first year undiscounted).
 */
export function lifetimeValue(inputs: ClvInputs) {
  const lifetime = expectedLifetime(inputs.churn_rate, inputs.max_lifetime_years);
  const ratio = (1 + inputs.expansion_rate) / (1 + inputs.discount_rate);
  let factor = 0;
  for (let t = 0; t < Math.ceil(lifetime); t++) factor += Math.min(1, lifetime - t) * ratio ** t;
  const yearly = inputs.arr * inputs.gross_margin;
  return { lifetime_years: round(lifetime, 4), clv: yearly * lifetime, discounted_clv: yearly * factor };
}

/** Levers whose effect on discounted CLV the sensitivity measures. */
export type Lever = "retention_plus_1pt" | "expansion_plus_x" | "gross_margin_plus_1pt";

/** The inputs after pulling one lever. */
export function pullLever(inputs: ClvInputs, lever: Lever, expansionStep: number): ClvInputs {
  switch (lever) {
    case "retention_plus_1pt":
      return { ...inputs, churn_rate: Math.max(0, inputs.churn_rate - 0.01) };
    case "expansion_plus_x":
      return { ...inputs, expansion_rate: inputs.expansion_rate + expansionStep };
    case "gross_margin_plus_1pt":
      return { ...inputs, gross_margin: Math.min(1, inputs.gross_margin + 0.01) };
  }
}

/** What each lever changes, as the answers describe it. */
export const LEVERS: readonly { lever: Lever; change: string }[] = [
  { lever: "retention_plus_1pt", change: "annual churn rate − 1 point (not below 0)" },
  { lever: "expansion_plus_x", change: "expansion rate + x points" },
  { lever: "gross_margin_plus_1pt", change: "gross margin + 1 point (not above 100%)" },
];

/** A lever's total discounted-CLV gain over a group of accounts. */
export interface LeverGain {
  lever: Lever;
  change: string;
  gain: number;
  /** Gain / the group's discounted CLV (4 decimals); null when that is 0. */
  gain_share: number | null;
}

/**
 * Sums discounted CLV over accounts and the gain of each lever, ranked by gain (largest first,
 * ties in lever order).
 */
export function sensitivity(accounts: readonly ClvInputs[], expansionStep: number) {
  let base = 0;
  const gains = new Map<Lever, number>(LEVERS.map((l) => [l.lever, 0]));
  for (const inputs of accounts) {
    const value = lifetimeValue(inputs).discounted_clv;
    base += value;
    for (const { lever } of LEVERS) {
      gains.set(
        lever,
        gains.get(lever)! + lifetimeValue(pullLever(inputs, lever, expansionStep)).discounted_clv - value,
      );
    }
  }
  const levers: LeverGain[] = LEVERS.map(({ lever, change }) => ({
    lever,
    change,
    gain: round(gains.get(lever)!),
    gain_share: base > 0 ? round(gains.get(lever)! / base, 4) : null,
  }));
  levers.sort((a, b) => b.gain - a.gain);
  return { discounted_clv: round(base), levers };
}

/** A segment's churn and expansion rates from its ARR movements over the history window. */
export interface HistoryRates {
  /** Accounts churned / accounts at the window start (logo churn); null without accounts. */
  churn_rate: number | null;
  /** (expansion − contraction) / starting ARR of the accounts retained; null without any. */
  expansion_rate: number | null;
  accounts_at_start: number;
  accounts_churned: number;
}

/** Logo churn and net expansion of retained accounts from movement totals. */
export function historyRates(t: MovementTotals): HistoryRates {
  const retained = t.starting_arr - t.churned_arr;
  return {
    churn_rate: t.accounts_at_start > 0 ? t.accounts_churned / t.accounts_at_start : null,
    expansion_rate: retained > 0 ? (t.expansion_arr - t.contraction_arr) / retained : null,
    accounts_at_start: t.accounts_at_start,
    accounts_churned: t.accounts_churned,
  };
}

/**
 * The rates a segment uses: its own with at least {@link MIN_SEGMENT_HISTORY} accounts at the
 * window start, else the workspace's; `none` when the workspace has no history either.
 */
export function segmentRates(own: HistoryRates | undefined, workspace: HistoryRates) {
  if (own && own.accounts_at_start >= MIN_SEGMENT_HISTORY) return { ...own, basis: "segment" as const };
  if (workspace.churn_rate !== null) return { ...workspace, basis: "workspace" as const };
  return { ...workspace, basis: "none" as const };
}
