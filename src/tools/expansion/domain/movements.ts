import { round } from "../../../platform/lib/stats";

/** Period lengths the revenue reports group by. */
export type Granularity = "month" | "quarter";

/** One reporting period: ARR is compared on `start` and on `end` (the first day after it). */
export interface Period {
  label: string;
  /** First day of the period. */
  start: string;
  /** Exclusive end: the first day of the next period, or today for a period still running. */
  end: string;
  complete: boolean;
}

/**
 * The day `months` calendar months after `day`, clamped to the month's last day
 * (a term starting on 29 February ends on 28 February in a common year).
 */
export function addMonths(day: string, months: number): string {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12;
  const lastDate = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  return new Date(Date.UTC(targetYear, targetMonth, Math.min(date, lastDate))).toISOString().slice(0, 10);
}

function periodStartOf(day: string, granularity: Granularity): string {
  const [year, month] = day.split("-").map(Number) as [number, number];
  const first = granularity === "month" ? month : Math.floor((month - 1) / 3) * 3 + 1;
  return `${year}-${String(first).padStart(2, "0")}-01`;
}

function labelOf(start: string, granularity: Granularity): string {
  const [year, month] = start.split("-").map(Number) as [number, number];
  return granularity === "month" ? start.slice(0, 7) : `${year}-Q${Math.floor((month - 1) / 3) + 1}`;
}

/**
 * The last `count` periods before today, oldest first. Complete periods only, unless
 * `includeCurrent`: then the last one is the period running today, measured up to today.
 */
export function reportingPeriods(today: string, granularity: Granularity, count: number, includeCurrent: boolean) {
  const step = granularity === "month" ? 1 : 3;
  const currentStart = periodStartOf(today, granularity);
  const periods: Period[] = [];
  const lastStart = includeCurrent ? currentStart : addMonths(currentStart, -step);
  for (let i = count - 1; i >= 0; i--) {
    const start = addMonths(lastStart, -step * i);
    const next = addMonths(start, step);
    const running = start === currentStart;
    periods.push({ label: labelOf(start, granularity), start, end: running ? today : next, complete: !running });
  }
  return periods;
}

/** ARR movements of one group of accounts between two days, as summed by the movement query. */
export interface MovementTotals {
  /** ARR on the start day of the accounts with ARR > 0 then (the cohort). */
  starting_arr: number;
  accounts_at_start: number;
  /** Cohort accounts whose ARR rose: the sum of the rises. */
  expansion_arr: number;
  accounts_expanded: number;
  /** Cohort accounts whose ARR fell to a non-zero amount: the sum of the falls. */
  contraction_arr: number;
  accounts_contracted: number;
  /** Cohort accounts with no ARR on the end day: their starting ARR. */
  churned_arr: number;
  accounts_churned: number;
  /** Accounts with no ARR on the start day and ARR on the end day (new logos and win-backs): their ending ARR. */
  new_arr: number;
  new_accounts: number;
}

/** Totals with every figure zero. */
export function emptyTotals(): MovementTotals {
  return {
    starting_arr: 0,
    accounts_at_start: 0,
    expansion_arr: 0,
    accounts_expanded: 0,
    contraction_arr: 0,
    accounts_contracted: 0,
    churned_arr: 0,
    accounts_churned: 0,
    new_arr: 0,
    new_accounts: 0,
  };
}

/** Sums totals of several groups (e.g. segments) into one. */
export function addTotals(parts: readonly MovementTotals[]): MovementTotals {
  const sum = emptyTotals();
  for (const part of parts) {
    for (const key of Object.keys(sum) as (keyof MovementTotals)[]) sum[key] += part[key];
  }
  for (const key of Object.keys(sum) as (keyof MovementTotals)[]) sum[key] = round(sum[key]);
  return sum;
}

/** Retention and expansion ratios of one set of movements (fractions, 4 decimals; null without a base). */
export interface MovementRates {
  /** (starting − contraction − churn) / starting, capped at 1. */
  grr: number | null;
  /** (starting + expansion − contraction − churn) / starting. */
  nrr: number | null;
  /** expansion / (expansion + new ARR). */
  expansion_share: number | null;
  /** The cohort's ARR on the end day: starting + expansion − contraction − churn. */
  cohort_ending_arr: number;
}

/** GRR, NRR and expansion share from movement totals, by the standard definitions. */
export function movementRates(t: MovementTotals): MovementRates {
  const retained = t.starting_arr - t.contraction_arr - t.churned_arr;
  const grown = retained + t.expansion_arr;
  const growth = t.expansion_arr + t.new_arr;
  return {
    grr: t.starting_arr > 0 ? round(Math.min(1, retained / t.starting_arr), 4) : null,
    nrr: t.starting_arr > 0 ? round(grown / t.starting_arr, 4) : null,
    expansion_share: growth > 0 ? round(t.expansion_arr / growth, 4) : null,
    cohort_ending_arr: round(grown),
  };
}

/** Movement totals with their rates, as the answers show them. */
export function withRates(t: MovementTotals) {
  return { ...t, ...movementRates(t) };
}

/** A figure against its target: met when at or above it. */
export interface TargetCheck {
  actual: number | null;
  target: number;
  /** actual − target (4 decimals); null without an actual. */
  gap: number | null;
  status: "met" | "below" | "no_data";
}

/** Compares a ratio with a floor target. */
export function againstTarget(actual: number | null, target: number): TargetCheck {
  if (actual === null) return { actual, target, gap: null, status: "no_data" };
  return { actual, target, gap: round(actual - target, 4), status: actual >= target ? "met" : "below" };
}
