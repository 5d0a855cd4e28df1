import { describe, expect, it } from "vitest";
import { workspaceSettingsSchema } from "../../../records/settings";
import {
  applyScale,
  bandMoves,
  bandOf,
  configForSegment,
  type HealthConfig,
  type MeasureValues,
  scoreHealth,
  trend,
} from "./model";

const BANDS = { red_below: 40, green_from: 70 };
const WEIGHTS = { usage: 30, engagement: 20, support: 15, satisfaction: 20, financial: 15 };
const balanced: HealthConfig = { preset: "balanced", weights: WEIGHTS, bands: BANDS };

/** An account with every measure present. */
const full: MeasureValues = {
  license_utilization: 0.45,
  events_trend: 0.2,
  touchpoints: 3,
  open_urgent_high_tickets: 1,
  tickets_created: 4,
  latest_nps: 8,
  csat_mean: 4,
  problem_payments: 0,
  days_to_renewal: 200,
};

const normalizedOf = (values: MeasureValues, config: HealthConfig) =>
  Object.fromEntries(scoreHealth(values, config).components.map((c) => [c.component, c.normalized]));

describe("health model scales", () => {
  it("scores linear ranges, grids and tiers", () => {
    expect(applyScale({ kind: "linear", x0: 0.1, y0: 0, x1: 0.8, y1: 100 }, 0.45)).toBeCloseTo(50, 10);
    expect(applyScale({ kind: "linear", x0: 0.1, y0: 0, x1: 0.8, y1: 100 }, 0.05)).toBe(0);
    expect(applyScale({ kind: "linear", x0: 0, y0: 100, x1: 3, y1: 0 }, 9)).toBe(0);
    const grid = {
      kind: "grid" as const,
      steps: [
        { up_to: 0, score: 0 },
        { up_to: 3, score: 50 },
        { up_to: null, score: 100 },
      ],
    };
    expect([0, 1, 3, 4].map((v) => applyScale(grid, v))).toEqual([0, 50, 50, 100]);
    const tiers = { kind: "tiers" as const, direction: "lower" as const, good: 2, average: 5 };
    expect([2, 5, 6].map((v) => applyScale(tiers, v))).toEqual([100, 60, 0]);
  });

  it("bands at the boundaries: 39.99 red, 40 yellow, 69.99 yellow, 70 green", () => {
    expect([39.99, 40, 69.99, 70].map((s) => bandOf(s, BANDS))).toEqual(["red", "yellow", "yellow", "green"]);
  });
});

describe("scoreHealth", () => {
  it("balanced: each measure, component and the weighted score", () => {
    const result = scoreHealth(full, balanced);
    const usage = result.components[0];
    // utilization (0.45 − 0.1) / 0.7 × 100 = 50; trend (0.2 + 0.5) / 0.7 × 100 = 100
    expect(usage?.measures.map((m) => [m.name, m.raw, m.score])).toEqual([
      ["license_utilization", 0.45, 50],
      ["events_trend", 0.2, 100],
    ]);
    // usage 50×0.7 + 100×0.3 = 65; engagement 3 touchpoints → grid 50; support 1 open → 50, 4 tickets → 70:
    // 50×0.6 + 70×0.4 = 58; satisfaction NPS 8 → 80, CSAT 4 → 75: 77.5; financial 100 and 100 → 100
    expect(normalizedOf(full, balanced)).toEqual({
      usage: 65,
      engagement: 50,
      support: 58,
      satisfaction: 77.5,
      financial: 100,
    });
    // 65×0.30 + 50×0.20 + 58×0.15 + 77.5×0.20 + 100×0.15 = 19.5 + 10 + 8.7 + 15.5 + 15 = 68.7
    expect(result.components.map((c) => c.contribution)).toEqual([19.5, 10, 8.7, 15.5, 15]);
    expect(result.components.map((c) => c.weight_effective)).toEqual([30, 20, 15, 20, 15]);
    expect(result.score).toBe(68.7);
    expect(result.band).toBe("yellow");
    expect(result.dropped).toEqual([]);
  });

  it("redistributes the weight of components without data", () => {
    const values = { ...full, latest_nps: null, csat_mean: null, problem_payments: null, days_to_renewal: null };
    const result = scoreHealth(values, balanced);
    expect(result.dropped.map((d) => d.component)).toEqual(["satisfaction", "financial"]);
    // present weight 30 + 20 + 15 = 65: effective 30/65 = 46.15, 20/65 = 30.77, 15/65 = 23.08
    expect(result.components.map((c) => c.weight_effective)).toEqual([46.15, 30.77, 23.08, 0, 0]);
    // (65×30 + 50×20 + 58×15) / 65 = 3820 / 65 = 58.769…
    expect(result.score).toBe(58.77);
    expect(result.components.map((c) => c.contribution)).toEqual([30, 15.38, 13.38, 0, 0]);
  });

  it("totango_style scores good/average/poor as 100/60/0", () => {
    const config: HealthConfig = { ...balanced, preset: "totango_style" };
    // usage 60×0.7 + 100×0.3 = 72; touchpoints 3 ≥ 1 → 60; support 60/60; satisfaction 60/60; financial 100
    expect(normalizedOf(full, config)).toEqual({
      usage: 72,
      engagement: 60,
      support: 60,
      satisfaction: 60,
      financial: 100,
    });
    // 72×0.3 + 60×0.2 + 60×0.15 + 60×0.2 + 100×0.15 = 21.6 + 12 + 9 + 12 + 15 = 69.6
    expect(scoreHealth(full, config).score).toBe(69.6);
  });

  it("gainsight_style scores every measure linearly", () => {
    const config: HealthConfig = { ...balanced, preset: "gainsight_style" };
    // touchpoints 3/8 → 37.5; open 1 of 0..3 → 66.67; tickets 4 of 0..12 → 66.67
    expect(normalizedOf(full, config)).toEqual({
      usage: 65,
      engagement: 37.5,
      support: 66.67,
      satisfaction: 77.5,
      financial: 100,
    });
    // 19.5 + 7.5 + 66.67×0.15 (10.0005) + 15.5 + 15 = 67.5005
    expect(scoreHealth(full, config).score).toBe(67.5);
  });
});

describe("bandMoves", () => {
  it("yellow: the smallest single-component change up to green, none that drops it alone", () => {
    const result = scoreHealth(full, balanced);
    const moves = bandMoves(result, BANDS);
    // 70 − 68.7 = 1.3 points; usage needs 1.3 × 100 / 30 = 4.33 (engagement and satisfaction 6.5, support 8.67)
    expect(moves.up).toMatchObject({
      to_band: "green",
      score_points: 1.3,
      component: "usage",
      normalized_points: 4.33,
      normalized_target: 69.33,
    });
    // utilization alone: 50 + 4.33 × 100/70 = 56.19 → 0.1 + 56.19 × 0.007 = 0.49; the trend is already at 100
    expect(moves.up?.raw_targets).toEqual([
      { measure: "license_utilization", raw_now: 0.45, raw_target: 0.49 },
      { measure: "events_trend", raw_now: 0.2, raw_target: null },
    ]);
    // 68.7 − 40 = 28.7 points needs ≥ 95.67 normalized points of any one component: none can
    expect(moves.down).toBeNull();
  });

  it("red: lifting usage alone to yellow, in raw utilization", () => {
    const values: MeasureValues = {
      license_utilization: 0.3,
      events_trend: null,
      touchpoints: 0,
      open_urgent_high_tickets: 2,
      tickets_created: 11,
      latest_nps: 0,
      csat_mean: 1,
      problem_payments: 0,
      days_to_renewal: 200,
    };
    const result = scoreHealth(values, balanced);
    // usage = utilization only: (0.3 − 0.1)/0.7 × 100 = 28.57; 28.57 × 0.3 + 100 × 0.15 = 23.57
    expect(result.score).toBe(23.57);
    expect(result.band).toBe("red");
    const moves = bandMoves(result, BANDS);
    // 40 − 23.57 = 16.43; usage 16.43 × 100/30 = 54.77 → 83.34; raw 0.1 + 83.34 × 0.007 = 0.68
    expect(moves.up).toMatchObject({ component: "usage", normalized_points: 54.77, normalized_target: 83.34 });
    expect(moves.up?.raw_targets).toEqual([{ measure: "license_utilization", raw_now: 0.3, raw_target: 0.68 }]);
    expect(moves.down).toBeNull();
  });

  it("inverts a threshold grid to the nearest whole count", () => {
    const config: HealthConfig = {
      ...balanced,
      weights: { usage: 10, engagement: 40, support: 15, satisfaction: 20, financial: 15 },
    };
    const values = { ...full, touchpoints: 0, latest_nps: 10, csat_mean: 5 };
    const result = scoreHealth(values, config);
    // 65 × 0.1 + 0 × 0.4 + 58 × 0.15 + 100 × 0.2 + 100 × 0.15 = 6.5 + 0 + 8.7 + 20 + 15 = 50.2
    expect(result.score).toBe(50.2);
    const moves = bandMoves(result, BANDS);
    // 70 − 50.2 = 19.8 points: engagement 19.8 × 100/40 = 49.5 → the grid step scoring 50 starts at 2 touchpoints
    expect(moves.up).toMatchObject({ component: "engagement", normalized_points: 49.5, normalized_target: 49.5 });
    expect(moves.up?.raw_targets).toEqual([{ measure: "touchpoints", raw_now: 0, raw_target: 2 }]);
    // 50.2 − 40 = 10.2 points: satisfaction 10.2 × 100/20 = 51 (financial needs 68, support and usage cannot)
    expect(moves.down).toMatchObject({ component: "satisfaction", normalized_points: 51, normalized_target: 49 });
  });

  it("trend is the difference to a past score", () => {
    expect(trend(68.7, 60.2)).toBe(8.5);
    expect(trend(68.7, null)).toBeNull();
  });
});

describe("per-segment scorecards", () => {
  const cards = [{ segment: "Enterprise", bands: { red_below: 50, green_from: 80 } }];

  it("applies what a scorecard sets and keeps the workspace model for the rest", () => {
    expect(configForSegment(balanced, cards, "Enterprise")).toEqual({
      preset: "balanced",
      weights: WEIGHTS,
      bands: { red_below: 50, green_from: 80 },
      scorecard: "Enterprise",
    });
    expect(configForSegment(balanced, cards, "SMB")).toEqual({ ...balanced, scorecard: null });
    expect(configForSegment(balanced, cards, null)).toEqual({ ...balanced, scorecard: null });
  });

  it("refuses scorecard weights not summing to 100 and a segment named twice", () => {
    const bad = workspaceSettingsSchema.safeParse({
      health: { scorecards: [{ segment: "SMB", weights: { ...WEIGHTS, usage: 31 } }] },
    });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.message)).toEqual(["scorecard weights must sum to 100"]);
    const twice = workspaceSettingsSchema.safeParse({
      health: { scorecards: [{ segment: "SMB" }, { segment: "SMB" }] },
    });
    expect(twice.success ? [] : twice.error.issues.map((i) => i.message)).toEqual([
      "health.scorecards must name each segment once",
    ]);
  });
});
