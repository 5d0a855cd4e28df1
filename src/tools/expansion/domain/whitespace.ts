/**
 * Whitespace of an account (what it could still buy), its stakeholder coverage, and the
 * probability-weighted expansion pipeline.
 */
import { median, round } from "../../../platform/lib/stats";

/** Which buying-committee roles are known among the account's current contacts. */
export interface StakeholderPresence {
  champion: boolean;
  decision_maker: boolean;
  economic_buyer: boolean;
}

/** The roles coverage looks for, in order. */
export const STAKEHOLDER_ROLES = ["champion", "decision_maker", "economic_buyer"] as const;

/** Coverage = known roles / 3, with the missing roles named. */
export function stakeholderCoverage(presence: StakeholderPresence): {
  known: number;
  coverage: number;
  missing: string[];
} {
  const missing = STAKEHOLDER_ROLES.filter((r) => !presence[r]);
  const known = STAKEHOLDER_ROLES.length - missing.length;
  return { known, coverage: known / STAKEHOLDER_ROLES.length, missing };
}

/**
 * Seats per employee of each segment: the median of licensed seats / employees over the
 * segment's accounts with both known and positive. Accounts without a segment count under "".
 */
export function segmentSeatRatios(
  accounts: readonly { segment: string | null; employees: number | null; seats: number }[],
): Map<string, number> {
  const bySegment = new Map<string, number[]>();
  for (const a of accounts) {
    if (!a.employees || a.employees <= 0 || a.seats <= 0) continue;
    const key = a.segment ?? "";
    const ratios = bySegment.get(key);
    if (ratios) ratios.push(a.seats / a.employees);
    else bySegment.set(key, [a.seats / a.employees]);
  }
  const result = new Map<string, number>();
  for (const [segment, ratios] of bySegment) result.set(segment, median(ratios) ?? 0);
  return result;
}

/**
 * Seat potential = round(employees × the segment's seats-per-employee ratio); the gap is what
 * exceeds the licensed seats (never negative). Null without employees or a ratio.
 */
export function seatGap(
  employees: number | null,
  ratio: number | undefined,
  seats: number,
): { potential: number; gap: number } | null {
  if (!employees || employees <= 0 || ratio === undefined) return null;
  const potential = Math.round(employees * ratio);
  return { potential, gap: Math.max(0, potential - seats) };
}

/** One product the account does not own, valued for it. */
export interface WhitespaceItem {
  product_id: string;
  name: string;
  kind: string;
  price: number;
  seats_basis: number;
  /** price × seats basis. */
  arr: number;
}

/**
 * Whitespace ARR = Σ unowned products' (list price × seats basis) + seat gap × plan list price,
 * whole currency units.
 */
export function whitespaceArr(items: readonly WhitespaceItem[], gap: number, planPrice: number): number {
  return Math.round(items.reduce((s, i) => s + i.arr, 0) + gap * planPrice);
}

/** Default win probability by stage, applied where an opportunity has none stored. */
export const DEFAULT_STAGE_PROBABILITIES: Readonly<Record<string, number>> = {
  identified: 0.1,
  qualified: 0.25,
  proposal: 0.5,
  negotiation: 0.75,
  closed_won: 1,
  closed_lost: 0,
};

/** An open opportunity as the pipeline needs it. */
export interface PipelineOpportunity {
  stage: string;
  amount: number;
  probability: number | null;
  close_date: string | null;
}

/** One group of the pipeline. */
export interface PipelineGroup {
  key: string;
  opportunities: number;
  amount: number;
  weighted: number;
}

/** The probability used: the stored one, else the stage default, else 0 (unknown stage). */
export function effectiveProbability(
  o: Pick<PipelineOpportunity, "stage" | "probability">,
  stageProbabilities: Readonly<Record<string, number>>,
): { probability: number; basis: "stored" | "stage_default" | "unknown_stage" } {
  if (o.probability !== null) return { probability: o.probability, basis: "stored" };
  const fallback = stageProbabilities[o.stage];
  return fallback === undefined
    ? { probability: 0, basis: "unknown_stage" }
    : { probability: fallback, basis: "stage_default" };
}

/**
 * Weighted forecast = Σ amount × probability, in total, by stage (sorted by stage order of the
 * probability table, unknown stages last by name) and by close month (`YYYY-MM`, "none" last).
 */
export function weightedPipeline(
  opportunities: readonly PipelineOpportunity[],
  stageProbabilities: Readonly<Record<string, number>>,
): { total: PipelineGroup; by_stage: PipelineGroup[]; by_close_month: PipelineGroup[] } {
  const total: PipelineGroup = { key: "all", opportunities: 0, amount: 0, weighted: 0 };
  const stages = new Map<string, PipelineGroup>();
  const months = new Map<string, PipelineGroup>();
  const add = (map: Map<string, PipelineGroup>, key: string, amount: number, weighted: number) => {
    const g = map.get(key) ?? { key, opportunities: 0, amount: 0, weighted: 0 };
    g.opportunities += 1;
    g.amount += amount;
    g.weighted += weighted;
    map.set(key, g);
  };
  for (const o of opportunities) {
    const weighted = o.amount * effectiveProbability(o, stageProbabilities).probability;
    total.opportunities += 1;
    total.amount += o.amount;
    total.weighted += weighted;
    add(stages, o.stage, o.amount, weighted);
    add(months, o.close_date ? o.close_date.slice(0, 7) : "none", o.amount, weighted);
  }
  const order = Object.keys(stageProbabilities);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const rounded = (g: PipelineGroup) => ({ ...g, amount: round(g.amount), weighted: round(g.weighted) });
  return {
    total: rounded(total),
    by_stage: [...stages.values()].sort((a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key)).map(rounded),
    by_close_month: [...months.values()]
      .sort((a, b) => (a.key === "none" ? 1 : b.key === "none" ? -1 : a.key.localeCompare(b.key)))
      .map(rounded),
  };
}
