/**
 * The explainable health model: pure functions over plain inputs.
 *
 * Five components, each the weighted mean of its available measures, each measure scored 0–100
 * by a scale kept as data (a linear range, a threshold grid or good/average/poor tiers) so the
 * answer can show it. The score is the weighted mean of the components with data; a component
 * without data is dropped and its weight shared out proportionally over the others. Every figure
 * is stored and shown rounded to 2 decimals (`round`).
 */

import { round } from "../../../platform/lib/stats";

/** The five components, in the order they are shown. */
export const COMPONENTS = ["usage", "engagement", "support", "satisfaction", "financial"] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** Model presets; see {@link PRESET_DESCRIPTIONS}. */
export const PRESETS = ["balanced", "gainsight_style", "totango_style"] as const;
export type Preset = (typeof PRESETS)[number];

/** What each preset means, shown in every answer. */
export const PRESET_DESCRIPTIONS: Record<Preset, string> = {
  balanced: "Each measure on its own scale: linear ranges for ratios and ratings, threshold grids for counts.",
  gainsight_style:
    "Weighted measure groups, every measure scored linearly between a worst and a best value (clamped to 0–100).",
  totango_style: "Every measure scored good/average/poor = 100/60/0 by two thresholds.",
};

/** Stored model version; bump when a formula changes so history is not compared across models. */
export const HEALTH_MODEL_VERSION = 2;

/** Points on a linear range: x0 scores y0, x1 scores y1, clamped to 0–100 in between and beyond. */
export interface LinearScale {
  kind: "linear";
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A threshold grid: the first step whose `up_to` is ≥ the value gives the score (null = no upper bound). */
export interface GridScale {
  kind: "grid";
  steps: { up_to: number | null; score: number }[];
}

/** Good/average/poor tiers (100/60/0): `higher` means value ≥ good is good; `lower` means value ≤ good is good. */
export interface TierScale {
  kind: "tiers";
  direction: "higher" | "lower";
  good: number;
  average: number;
}

export type Scale = LinearScale | GridScale | TierScale;

/** One measure of a component: its unit, window and its scale under each preset. */
export interface MeasureDefinition {
  component: ComponentName;
  name: string;
  description: string;
  window_days: number;
  /** Share of the component (sub-weights of one component sum to 100). */
  weight: number;
  scales: Record<Preset, Scale>;
}

const TIER_SCORES = { good: 100, average: 60, poor: 0 } as const;

/** The measures and their scales. */
export const MEASURES: readonly MeasureDefinition[] = [
  {
    component: "usage",
    name: "license_utilization",
    description:
      "Average daily active users over the days with data among the last 30 complete days ÷ licensed seats (plan items of active contracts).",
    window_days: 30,
    weight: 70,
    scales: {
      balanced: { kind: "linear", x0: 0.1, y0: 0, x1: 0.8, y1: 100 },
      gainsight_style: { kind: "linear", x0: 0.1, y0: 0, x1: 0.8, y1: 100 },
      totango_style: { kind: "tiers", direction: "higher", good: 0.6, average: 0.3 },
    },
  },
  {
    component: "usage",
    name: "events_trend",
    description: "Events in the last 30 complete days ÷ events in the 30 days before, minus 1.",
    window_days: 60,
    weight: 30,
    scales: {
      balanced: { kind: "linear", x0: -0.5, y0: 0, x1: 0.2, y1: 100 },
      gainsight_style: { kind: "linear", x0: -0.5, y0: 0, x1: 0.2, y1: 100 },
      totango_style: { kind: "tiers", direction: "higher", good: 0, average: -0.25 },
    },
  },
  {
    component: "engagement",
    name: "touchpoints",
    description: "Logged activities (calls, meetings, notes, emails) plus email opens and clicks in the last 30 days.",
    window_days: 30,
    weight: 100,
    scales: {
      balanced: {
        kind: "grid",
        steps: [
          { up_to: 0, score: 0 },
          { up_to: 1, score: 25 },
          { up_to: 3, score: 50 },
          { up_to: 7, score: 75 },
          { up_to: null, score: 100 },
        ],
      },
      gainsight_style: { kind: "linear", x0: 0, y0: 0, x1: 8, y1: 100 },
      totango_style: { kind: "tiers", direction: "higher", good: 4, average: 1 },
    },
  },
  {
    component: "support",
    name: "open_urgent_high_tickets",
    description: "Tickets of priority urgent or high not solved or closed (any age).",
    window_days: 0,
    weight: 60,
    scales: {
      balanced: {
        kind: "grid",
        steps: [
          { up_to: 0, score: 100 },
          { up_to: 1, score: 50 },
          { up_to: null, score: 0 },
        ],
      },
      gainsight_style: { kind: "linear", x0: 0, y0: 100, x1: 3, y1: 0 },
      totango_style: { kind: "tiers", direction: "lower", good: 0, average: 1 },
    },
  },
  {
    component: "support",
    name: "tickets_created",
    description: "Tickets created in the last 30 days.",
    window_days: 30,
    weight: 40,
    scales: {
      balanced: {
        kind: "grid",
        steps: [
          { up_to: 2, score: 100 },
          { up_to: 5, score: 70 },
          { up_to: 10, score: 40 },
          { up_to: null, score: 0 },
        ],
      },
      gainsight_style: { kind: "linear", x0: 0, y0: 100, x1: 12, y1: 0 },
      totango_style: { kind: "tiers", direction: "lower", good: 2, average: 5 },
    },
  },
  {
    component: "satisfaction",
    name: "latest_nps",
    description: "The latest NPS answer (0–10) of any contact, any age.",
    window_days: 0,
    weight: 50,
    scales: {
      balanced: { kind: "linear", x0: 0, y0: 0, x1: 10, y1: 100 },
      gainsight_style: { kind: "linear", x0: 0, y0: 0, x1: 10, y1: 100 },
      totango_style: { kind: "tiers", direction: "higher", good: 9, average: 7 },
    },
  },
  {
    component: "satisfaction",
    name: "csat_mean",
    description: "Mean CSAT survey answer (1–5) in the last 90 days.",
    window_days: 90,
    weight: 50,
    scales: {
      balanced: { kind: "linear", x0: 1, y0: 0, x1: 5, y1: 100 },
      gainsight_style: { kind: "linear", x0: 1, y0: 0, x1: 5, y1: 100 },
      totango_style: { kind: "tiers", direction: "higher", good: 4.5, average: 3.5 },
    },
  },
  {
    component: "financial",
    name: "problem_payments",
    description: "Payments failed, or open and past their due date, created in the last 90 days.",
    window_days: 90,
    weight: 70,
    scales: {
      balanced: {
        kind: "grid",
        steps: [
          { up_to: 0, score: 100 },
          { up_to: 1, score: 40 },
          { up_to: null, score: 0 },
        ],
      },
      gainsight_style: { kind: "linear", x0: 0, y0: 100, x1: 2, y1: 0 },
      totango_style: { kind: "tiers", direction: "lower", good: 0, average: 1 },
    },
  },
  {
    component: "financial",
    name: "days_to_renewal",
    description: "Days from today to the account's next renewal (earliest active contract end); negative = lapsed.",
    window_days: 0,
    weight: 30,
    scales: {
      balanced: {
        kind: "grid",
        steps: [
          { up_to: -1, score: 0 },
          { up_to: 30, score: 40 },
          { up_to: 90, score: 70 },
          { up_to: null, score: 100 },
        ],
      },
      gainsight_style: { kind: "linear", x0: 0, y0: 0, x1: 120, y1: 100 },
      totango_style: { kind: "tiers", direction: "higher", good: 90, average: 30 },
    },
  },
];

/** Raw measure values of one account; null = no data for that measure. */
export type MeasureValues = Record<string, number | null>;

/** Why each component had no data, for the `dropped` list. */
export const DROP_REASONS: Record<ComponentName, string> = {
  usage: "no usage rollups with licensed seats in the last 30 days and no events in the 30 days before",
  engagement: "no touchpoint data",
  support: "no ticket data",
  satisfaction: "no NPS answer and no CSAT in the last 90 days",
  financial: "no payments in the last 90 days and no renewal date",
};

/** Health settings the model needs (a subset of the workspace settings). */
export interface HealthConfig {
  preset: Preset;
  weights: Record<ComponentName, number>;
  bands: { red_below: number; green_from: number };
}

/** A segment's own scorecard; what it leaves out falls back to the workspace model. */
export interface Scorecard {
  segment: string;
  weights?: Record<ComponentName, number> | undefined;
  bands?: HealthConfig["bands"] | undefined;
  preset?: Preset | undefined;
}

/**
 * The model one account is scored with: the scorecard of its stored segment over the workspace
 * model, and the name of the segment whose scorecard applied (null = the workspace model).
 */
export function configForSegment(
  base: HealthConfig,
  scorecards: readonly Scorecard[],
  segment: string | null,
): HealthConfig & { scorecard: string | null } {
  const card = segment === null ? undefined : scorecards.find((s) => s.segment === segment);
  if (!card) return { ...base, scorecard: null };
  return {
    preset: card.preset ?? base.preset,
    weights: card.weights ?? base.weights,
    bands: card.bands ?? base.bands,
    scorecard: card.segment,
  };
}

export type Band = "red" | "yellow" | "green";

/** One measure as scored. */
export interface ScoredMeasure {
  name: string;
  raw: number | null;
  score: number | null;
  weight: number;
  window_days: number;
  scale: Scale;
}

/** One component as scored. */
export interface ScoredComponent {
  component: ComponentName;
  normalized: number | null;
  weight_configured: number;
  weight_effective: number;
  contribution: number;
  measures: ScoredMeasure[];
}

/** A full explained score. */
export interface HealthResult {
  score: number | null;
  band: Band | null;
  preset: Preset;
  components: ScoredComponent[];
  dropped: { component: ComponentName; reason: string }[];
}

function clamp(value: number): number {
  return Math.min(100, Math.max(0, value));
}

/** Scores one raw value on a scale (0–100). */
export function applyScale(scale: Scale, value: number): number {
  if (scale.kind === "linear") {
    return clamp(scale.y0 + ((value - scale.x0) * (scale.y1 - scale.y0)) / (scale.x1 - scale.x0));
  }
  if (scale.kind === "grid") {
    const step = scale.steps.find((s) => s.up_to === null || value <= s.up_to);
    return step ? step.score : 0;
  }
  const good = scale.direction === "higher" ? value >= scale.good : value <= scale.good;
  if (good) return TIER_SCORES.good;
  const average = scale.direction === "higher" ? value >= scale.average : value <= scale.average;
  return average ? TIER_SCORES.average : TIER_SCORES.poor;
}

/** The band of a score: below red_below is red, from green_from on is green. */
export function bandOf(score: number, bands: HealthConfig["bands"]): Band {
  if (score < bands.red_below) return "red";
  return score >= bands.green_from ? "green" : "yellow";
}

/** Scores one account's measures under a configuration. */
export function scoreHealth(values: MeasureValues, config: HealthConfig): HealthResult {
  const partial = COMPONENTS.map((component) => {
    const measures: ScoredMeasure[] = MEASURES.filter((m) => m.component === component).map((m) => {
      const raw = values[m.name] ?? null;
      const scale = m.scales[config.preset];
      return {
        name: m.name,
        raw,
        score: raw === null ? null : round(applyScale(scale, raw)),
        weight: m.weight,
        window_days: m.window_days,
        scale,
      };
    });
    const present = measures.filter((m) => m.score !== null);
    const subWeight = present.reduce((sum, m) => sum + m.weight, 0);
    const normalized =
      present.length === 0 || subWeight === 0
        ? null
        : round(present.reduce((sum, m) => sum + (m.score ?? 0) * m.weight, 0) / subWeight);
    return { component, normalized, weight_configured: config.weights[component], measures };
  });
  const presentWeight = partial.filter((c) => c.normalized !== null).reduce((sum, c) => sum + c.weight_configured, 0);
  const components: ScoredComponent[] = partial.map((c) => {
    const effective = c.normalized === null || presentWeight === 0 ? 0 : (c.weight_configured * 100) / presentWeight;
    return {
      ...c,
      weight_effective: round(effective),
      contribution: c.normalized === null ? 0 : round((c.normalized * effective) / 100),
    };
  });
  const dropped = components
    .filter((c) => c.normalized === null)
    .map((c) => ({ component: c.component, reason: DROP_REASONS[c.component] }));
  if (presentWeight === 0) return { score: null, band: null, preset: config.preset, components, dropped };
  // Sum the unrounded contributions so rounding each one cannot move the score across a band edge.
  const score = round(
    partial.reduce(
      (sum, c) => sum + (c.normalized === null ? 0 : (c.normalized * c.weight_configured) / presentWeight),
      0,
    ),
  );
  return { score, band: bandOf(score, config.bands), preset: config.preset, components, dropped };
}

/** A single-component change that moves the score across a band threshold. */
export interface BandMove {
  direction: "up" | "down";
  to_band: Band;
  threshold: number;
  /** Score points to the threshold (up: reach it; down: fall below it, i.e. more than this). */
  score_points: number;
  component: ComponentName;
  /** Normalized points the component must gain (up) or lose (down). */
  normalized_points: number;
  normalized_target: number;
  /** The same move in raw terms of each measure of the component, changed alone, where invertible. */
  raw_targets: { measure: string; raw_now: number; raw_target: number | null }[];
}

/**
 * Raw value at which a scale reaches `score` (up: at least; down: at most). Linear ranges are
 * inverted exactly; grids (whose measures are whole counts) give the nearest whole value in a
 * step that scores enough; tiers are shown as data only.
 */
function invertScale(scale: Scale, score: number, raw: number, direction: "up" | "down"): number | null {
  if (scale.kind === "linear") {
    if (scale.y1 === scale.y0) return null;
    if (score < Math.min(scale.y0, scale.y1) || score > Math.max(scale.y0, scale.y1)) return null;
    return round(scale.x0 + ((score - scale.y0) * (scale.x1 - scale.x0)) / (scale.y1 - scale.y0));
  }
  if (scale.kind !== "grid") return null;
  let best: number | null = null;
  scale.steps.forEach((step, i) => {
    if (direction === "up" ? step.score < score : step.score > score) return;
    const previous = i > 0 ? scale.steps[i - 1]?.up_to : null;
    const low = previous === null || previous === undefined ? Number.NEGATIVE_INFINITY : previous + 1;
    const high = step.up_to ?? Number.POSITIVE_INFINITY;
    const candidate = Math.min(Math.max(raw, low), high);
    if (Number.isFinite(candidate) && (best === null || Math.abs(candidate - raw) < Math.abs(best - raw))) {
      best = candidate;
    }
  });
  return best;
}

function moveFor(result: HealthResult, direction: "up" | "down", threshold: number, toBand: Band): BandMove | null {
  if (result.score === null) return null;
  const points = round(Math.abs(threshold - result.score));
  let best: BandMove | null = null;
  for (const c of result.components) {
    if (c.normalized === null || c.weight_effective <= 0) continue;
    const needed = round((points * 100) / c.weight_effective);
    const target = round(direction === "up" ? c.normalized + needed : c.normalized - needed);
    if (target > 100 || target < 0) continue;
    if (best && best.normalized_points <= needed) continue;
    const subWeight = c.measures.filter((m) => m.score !== null).reduce((sum, m) => sum + m.weight, 0);
    const raw_targets = c.measures
      .filter((m) => m.raw !== null && m.score !== null)
      .map((m) => {
        // The measure alone must carry the component's change, scaled by its share of the component.
        const measureTarget = (m.score ?? 0) + ((direction === "up" ? needed : -needed) * subWeight) / m.weight;
        return {
          measure: m.name,
          raw_now: m.raw ?? 0,
          raw_target: invertScale(m.scale, measureTarget, m.raw ?? 0, direction),
        };
      });
    best = {
      direction,
      to_band: toBand,
      threshold,
      score_points: points,
      component: c.component,
      normalized_points: needed,
      normalized_target: target,
      raw_targets,
    };
  }
  return best;
}

/**
 * The smallest single-component change (in normalized points) that would lift the score into
 * the next band up, and the one that would drop it a band; null where there is no such band or
 * no single component can do it alone.
 */
export function bandMoves(
  result: HealthResult,
  bands: HealthConfig["bands"],
): { up: BandMove | null; down: BandMove | null } {
  if (result.band === null) return { up: null, down: null };
  const up =
    result.band === "red"
      ? moveFor(result, "up", bands.red_below, "yellow")
      : result.band === "yellow"
        ? moveFor(result, "up", bands.green_from, "green")
        : null;
  const down =
    result.band === "green"
      ? moveFor(result, "down", bands.green_from, "yellow")
      : result.band === "yellow"
        ? moveFor(result, "down", bands.red_below, "red")
        : null;
  return { up, down };
}

/** Change against a past score, or null without history. */
export function trend(score: number | null, past: number | null): number | null {
  return score === null || past === null ? null : round(score - past);
}
