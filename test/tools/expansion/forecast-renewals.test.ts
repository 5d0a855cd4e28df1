import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import {
  bucketOf,
  bucketTotals,
  forecastGrr,
  percentile,
  periodOf,
  seededRandom,
  simulateRenewals,
} from "../../../src/tools/expansion/domain/renewal-forecast";
import { callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

describe("forecast simulation (pure)", () => {
  it("computes the analytic expectation exactly", () => {
    const contracts = [
      { period: "2031-01", arr: 1000, probability: 0.9 },
      { period: "2031-01", arr: 2000, probability: 0.5 },
      { period: "2031-02", arr: 500, probability: 0.2 },
    ];
    const result = simulateRenewals(contracts, 1000, 1);
    expect(result.total.expected_arr).toBe(2000);
    expect(result.total.arr_up_for_renewal).toBe(3500);
    expect(result.periods.map((p) => [p.period, p.contracts, p.arr_up_for_renewal, p.expected_arr])).toEqual([
      ["2031-01", 2, 3000, 1900],
      ["2031-02", 1, 500, 100],
    ]);
    expect(forecastGrr(2000, 3500)).toBe(0.5714);
    expect(forecastGrr(0, 0)).toBeNull();
  });

  it("gives exact percentiles when every outcome is certain", () => {
    const result = simulateRenewals(
      [
        { period: "2031-Q1", arr: 1000, probability: 1 },
        { period: "2031-Q1", arr: 2000, probability: 0 },
        { period: "2031-Q2", arr: 300, probability: 1 },
      ],
      500,
    );
    expect(result.total).toEqual({
      period: "horizon",
      contracts: 3,
      arr_up_for_renewal: 3300,
      expected_arr: 1300,
      p10: 1300,
      p50: 1300,
      p90: 1300,
    });
    expect(result.periods.map((p) => [p.p10, p.p50, p.p90])).toEqual([
      [1000, 1000, 1000],
      [300, 300, 300],
    ]);
  });

  it("centres P50 on the expectation for 200 contracts with known probabilities, P10 ≤ P50 ≤ P90", () => {
    // Probabilities 0.05, 0.15, …, 0.95, twenty contracts each, ARR 1,000: expectation 100,000,
    // variance Σ ARR² p(1 − p) = 1e6 × 20 × 1.675 = 33.5e6, sd ≈ 5,788.
    const contracts = Array.from({ length: 200 }, (_, i) => ({
      period: "2031-01",
      arr: 1000,
      probability: (i % 10) / 10 + 0.05,
    }));
    const { total } = simulateRenewals(contracts, 10_000);
    expect(total.expected_arr).toBe(100_000);
    expect(Math.abs(total.p50 - 100_000)).toBeLessThanOrEqual(1000);
    // Normal quantiles: 100,000 ∓ 1.2816 × 5,788 ≈ 92,582 and 107,418 (sums move in steps of 1,000).
    expect(Math.abs(total.p10 - 92_582)).toBeLessThanOrEqual(1500);
    expect(Math.abs(total.p90 - 107_418)).toBeLessThanOrEqual(1500);
    expect(total.p10).toBeLessThanOrEqual(total.p50);
    expect(total.p50).toBeLessThanOrEqual(total.p90);
  });

  it("answers the same for the same seed", () => {
    const contracts = Array.from({ length: 50 }, (_, i) => ({
      period: i % 2 ? "2031-01" : "2031-02",
      arr: 100 + i * 7,
      probability: (i % 7) / 7,
    }));
    expect(simulateRenewals(contracts, 2000, 42)).toEqual(simulateRenewals(contracts, 2000, 42));
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(first[0]);
  });

  it("uses nearest-rank percentiles, buckets at 0.8 and 0.5, and month or quarter periods", () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([percentile(sorted, 10), percentile(sorted, 50), percentile(sorted, 90)]).toEqual([1, 5, 9]);
    expect([bucketOf(0.8), bucketOf(0.7999), bucketOf(0.5), bucketOf(0.4999)]).toEqual([
      "commit",
      "best_case",
      "best_case",
      "at_risk",
    ]);
    expect(
      bucketTotals([
        { arr: 100, probability: 0.9 },
        { arr: 50, probability: 0.2 },
      ]),
    ).toEqual({
      commit: { contracts: 1, arr: 100, expected_arr: 90 },
      best_case: { contracts: 0, arr: 0, expected_arr: 0 },
      at_risk: { contracts: 1, arr: 50, expected_arr: 10 },
    });
    expect([
      periodOf("2026-11-03", "month"),
      periodOf("2026-11-03", "quarter"),
      periodOf("2027-03-31", "quarter"),
    ]).toEqual(["2026-11", "2026-Q4", "2027-Q1"]);
  });
});

const WS = "ws_forecast";
const HIST_WS = "ws_forecast-hist";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);

const account = (ws: string, id: string, extra: Record<string, string | number | null> = {}) =>
  insert("accounts", { id, workspace_id: ws, name: `Name ${id}`, ...extra });
const contract = (ws: string, id: string, accountId: string, endOffset: number, arr: number, extra = {}) =>
  insert("contracts", {
    id,
    workspace_id: ws,
    account_id: accountId,
    start_date: day(endOffset - 365),
    end_date: day(endOffset),
    arr,
    ...extra,
  });
const score = (accountId: string, onDay: string, probability: number) =>
  insert("risk_scores", {
    workspace_id: WS,
    account_id: accountId,
    day: onDay,
    model_id: "rsm_fc3",
    probability,
    factors: "[]",
  });

interface ForecastAnswer {
  window: { from: string; to: string; horizon_months: number; period: string };
  contracts_counted: number;
  arr_up_for_renewal: number;
  expected_arr: number;
  forecast_grr: number | null;
  horizon: {
    p10: number;
    p50: number;
    p90: number;
    expected_arr: number;
    buckets: Record<string, { contracts: number; arr: number; expected_arr: number }>;
  };
  periods: { period: string; contracts: number; expected_arr: number; p10: number; p50: number; p90: number }[];
  simulation: { runs: number; runs_requested: number; seed: number };
  model: {
    versions: { version: number; kind: string; calibrated: boolean; contracts: number }[];
    historical_renewal_rate: { rate: number; outcomes_counted: number } | null;
  };
  probability_sources: Record<string, number>;
  contracts: {
    contract_id: string;
    period: string;
    renewal_probability: number;
    expected_arr: number;
    bucket: string;
    probability_source: string;
    model_version: number | null;
    score_day: string | null;
  }[];
  next_cursor: string | null;
}

let client: Client;
let histClient: Client;
let priorClient: Client;
let bigClient: Client;

beforeAll(async () => {
  const { key } = await createWorkspace("forecast", "viewer");
  const hist = await createWorkspace("forecast-hist", "viewer");
  client = await connectClient(key, "?toolsets=expansion");
  histClient = await connectClient(hist.key, "?toolsets=expansion");
  priorClient = await connectClient((await createWorkspace("forecast-prior", "viewer")).key, "?toolsets=expansion");
  bigClient = await connectClient((await createWorkspace("forecast-big", "viewer")).key, "?toolsets=expansion");
  await env.DB.batch([
    // Latest model (v3, calibrated): no features, intercept ln(1/3) → P(churn) = 0.25 for anyone scored now.
    insert("risk_models", {
      id: "rsm_fc3",
      workspace_id: WS,
      version: 3,
      kind: "logistic",
      calibrated: 1,
      horizon_days: 90,
      features: "[]",
      coefficients: "{}",
      intercept: Math.log(1 / 3),
      metrics: "{}",
      trained_at: "2026-01-05T04:00:00.000Z",
    }),
    account(WS, "fa1"),
    account(WS, "fa2"),
    account(WS, "fa3"),
    account(WS, "fa4"),
    account(WS, "fa5"),
    account(WS, "fd1", { tier: "Det" }),
    account(WS, "fd2", { tier: "Det" }),
    score("fa1", day(-8), 0.5),
    score("fa1", day(-1), 0.1),
    score("fa2", day(-1), 0.4),
    score("fa3", day(-1), 0.7),
    score("fd1", day(-1), 0),
    score("fd2", day(-1), 1),
    contract(WS, "fc1", "fa1", 10, 10_000),
    contract(WS, "fc2", "fa2", 40, 5_000),
    contract(WS, "fc3", "fa3", 45, 2_000),
    // fa4 has no stored score: scored now with model v3.
    contract(WS, "fc4", "fa4", 200, 4_000),
    // Outside the 12-month horizon, and a renewal already closed.
    contract(WS, "fc5", "fa5", 400, 9_000),
    contract(WS, "fc6", "fa5", 20, 9_000, { outcome: "renewed", outcome_date: today }),
    contract(WS, "fd1c", "fd1", 30, 7_000),
    contract(WS, "fd2c", "fd2", 30, 3_000),
    // No model: the historical renewal rate, 3 renewed of 4 outcomes.
    account(HIST_WS, "ha1"),
    contract(HIST_WS, "hc1", "ha1", -300, 1_000, { status: "ended", outcome: "renewed" }),
    contract(HIST_WS, "hc2", "ha1", -200, 1_000, { status: "ended", outcome: "expanded" }),
    contract(HIST_WS, "hc3", "ha1", -100, 1_000, { status: "ended", outcome: "contracted" }),
    contract(HIST_WS, "hc4", "ha1", -50, 1_000, { status: "ended", outcome: "churned" }),
    contract(HIST_WS, "hc5", "ha1", 60, 8_000),
    // No model and no history: the documented prior.
    account("ws_forecast-prior", "pa1"),
    contract("ws_forecast-prior", "pc1", "pa1", 90, 1_000),
    // 250 contracts of one account that surely renews (churn probability 0).
    account("ws_forecast-big", "ba1"),
    insert("risk_scores", {
      workspace_id: "ws_forecast-big",
      account_id: "ba1",
      day: day(-1),
      model_id: "rsm_big",
      probability: 0,
      factors: "[]",
    }),
    env.DB.prepare(
      `INSERT INTO contracts (id, workspace_id, account_id, start_date, end_date, arr)
       SELECT 'bc' || value, 'ws_forecast-big', 'ba1', ?1, ?2, 100 FROM json_each(?3)`,
    ).bind(day(-300), day(65), JSON.stringify(Array.from({ length: 250 }, (_, i) => i))),
  ]);
});

describe("forecast_renewals", () => {
  it("forecasts each contract from its latest score or the model, with buckets, expectation and GRR", async () => {
    const answer = await callOk<ForecastAnswer>(client, "forecast_renewals", { simulations: 2000 });
    // The default seed is fixed: the same call gives the same simulation.
    expect(await callOk<ForecastAnswer>(client, "forecast_renewals", { simulations: 2000 })).toEqual(answer);
    expect(answer.contracts_counted).toBe(6);
    expect(
      answer.contracts.map((c) => [
        c.contract_id,
        c.renewal_probability,
        c.expected_arr,
        c.bucket,
        c.probability_source,
        c.model_version,
        c.score_day,
      ]),
    ).toEqual([
      ["fc1", 0.9, 9000, "commit", "risk_score", 3, day(-1)],
      ["fd1c", 1, 7000, "commit", "risk_score", 3, day(-1)],
      ["fd2c", 0, 0, "at_risk", "risk_score", 3, day(-1)],
      ["fc2", 0.6, 3000, "best_case", "risk_score", 3, day(-1)],
      ["fc3", 0.3, 600, "at_risk", "risk_score", 3, day(-1)],
      ["fc4", 0.75, 3000, "best_case", "model_scored_now", 3, null],
    ]);
    // ARR up 10,000 + 7,000 + 3,000 + 5,000 + 2,000 + 4,000 = 31,000; expected 9,000 + 7,000 + 3,000 + 600 + 3,000 = 22,600.
    expect(answer.arr_up_for_renewal).toBe(31_000);
    expect(answer.expected_arr).toBe(22_600);
    expect(answer.forecast_grr).toBe(0.729);
    expect(answer.horizon.buckets).toEqual({
      commit: { contracts: 2, arr: 17_000, expected_arr: 16_000 },
      best_case: { contracts: 2, arr: 9_000, expected_arr: 6_000 },
      at_risk: { contracts: 2, arr: 5_000, expected_arr: 600 },
    });
    expect(answer.model.versions).toEqual([
      { version: 3, kind: "logistic", calibrated: true, trained_at: "2026-01-05T04:00:00.000Z", contracts: 6 },
    ]);
    expect(answer.probability_sources).toEqual({ risk_score: 5, model_scored_now: 1 });
    expect(answer.periods.map((p) => p.period)).toEqual([
      ...new Set([10, 30, 40, 45, 200].map((o) => day(o).slice(0, 7))),
    ]);
    expect(answer.periods.reduce((sum, p) => sum + p.expected_arr, 0)).toBe(22_600);
    const { p10, p50, p90 } = answer.horizon;
    expect(p10).toBeLessThanOrEqual(p50);
    expect(p50).toBeLessThanOrEqual(p90);
    // Certain outcomes (fc1 renews with 0.9, fd1c always): at least 7,000 renews in every run.
    expect(p10).toBeGreaterThanOrEqual(7000);
    expect(answer.simulation).toMatchObject({ runs: 2000, seed: 20_240_101 });
  });

  it("gives exact percentiles on certain outcomes and pages by renewal date", async () => {
    const det = await callOk<ForecastAnswer>(client, "forecast_renewals", { tier: "Det", period: "quarter" });
    expect(det.contracts_counted).toBe(2);
    expect(det.horizon).toMatchObject({ expected_arr: 7000, p10: 7000, p50: 7000, p90: 7000 });
    expect(det.forecast_grr).toBe(0.7);
    expect(det.periods).toEqual([
      expect.objectContaining({ period: `${day(30).slice(0, 4)}-Q${Math.ceil(Number(day(30).slice(5, 7)) / 3)}` }),
    ]);
    const first = await callOk<ForecastAnswer>(client, "forecast_renewals", { simulations: 500, limit: 4 });
    expect(first.contracts.map((c) => c.contract_id)).toEqual(["fc1", "fd1c", "fd2c", "fc2"]);
    const second = await callOk<ForecastAnswer>(client, "forecast_renewals", {
      simulations: 500,
      limit: 4,
      cursor: first.next_cursor,
    });
    expect(second.contracts.map((c) => c.contract_id)).toEqual(["fc3", "fc4"]);
    expect(second.next_cursor).toBeNull();
    expect(second.horizon).toEqual(first.horizon);
  });

  it("falls back to the historical renewal rate when the workspace has no model", async () => {
    const answer = await callOk<ForecastAnswer>(histClient, "forecast_renewals", {});
    expect(answer.model).toEqual({ versions: [], historical_renewal_rate: { rate: 0.75, outcomes_counted: 4 } });
    expect(answer.contracts).toEqual([
      expect.objectContaining({
        contract_id: "hc5",
        renewal_probability: 0.75,
        expected_arr: 6000,
        probability_source: "historical_renewal_rate",
        model_version: null,
      }),
    ]);
  });

  it("says when no model and no history exist: the documented prior", async () => {
    const answer = await callOk<ForecastAnswer>(priorClient, "forecast_renewals", {});
    expect(answer.model).toEqual({ versions: [], historical_renewal_rate: null });
    expect(answer.probability_sources).toEqual({ prior_model: 1 });
    expect(answer.contracts[0]).toMatchObject({
      contract_id: "pc1",
      probability_source: "prior_model",
      model_version: null,
    });
  });

  it("reduces the runs to stay within 20 million draws and says so", async () => {
    const answer = await callOk<ForecastAnswer>(bigClient, "forecast_renewals", { simulations: 100_000, limit: 1 });
    expect(answer.contracts_counted).toBe(250);
    // 20,000,000 / 250 contracts = 80,000 runs.
    expect(answer.simulation).toMatchObject({ runs: 80_000, runs_requested: 100_000 });
    expect(answer.horizon).toMatchObject({
      arr_up_for_renewal: 25_000,
      expected_arr: 25_000,
      p10: 25_000,
      p90: 25_000,
    });
    expect(answer.forecast_grr).toBe(1);
  });
});
