import { describe, expect, it } from "vitest";
import { fitLogistic, predictProbability, sigmoid, solveSymmetric } from "./logistic";
import { RISK_FACTORS, type StoredRiskFactor } from "./risk-factor-names";
import { emptyValues, isFlagged, suggestIntervention, topFactors } from "./risk-library";
import { auc, brier, calibrationByDecile } from "./risk-metrics";
import {
  type ModelFeature,
  priorModel,
  type RiskModelSpec,
  scoreAccount,
  standardize,
  type TrainingExample,
  trainRiskModel,
} from "./risk-model";

describe("evaluation metrics on hand lists", () => {
  it("AUC is the share of (churned, renewed) pairs ordered right, ties ½", () => {
    // Churned 0.35 beats 0.1 but not 0.4; churned 0.8 beats both: 3 of 4 pairs.
    expect(
      auc([
        { predicted: 0.1, outcome: 0 },
        { predicted: 0.4, outcome: 0 },
        { predicted: 0.35, outcome: 1 },
        { predicted: 0.8, outcome: 1 },
      ]),
    ).toBe(0.75);
    // One tie (½) and one win (1) over two pairs.
    expect(
      auc([
        { predicted: 0.5, outcome: 1 },
        { predicted: 0.5, outcome: 0 },
        { predicted: 0.2, outcome: 0 },
      ]),
    ).toBe(0.75);
    expect(
      auc([
        { predicted: 0.9, outcome: 0 },
        { predicted: 0.1, outcome: 1 },
      ]),
    ).toBe(0);
    expect(auc([{ predicted: 0.3, outcome: 1 }])).toBeNull();
  });

  it("Brier is the mean squared error of the predictions", () => {
    const value = brier([
      { predicted: 0.8, outcome: 1 },
      { predicted: 0.3, outcome: 0 },
      { predicted: 0.5, outcome: 1 },
    ]);
    expect(value).toBeCloseTo((0.04 + 0.09 + 0.25) / 3, 12);
    expect(brier([])).toBeNull();
  });

  it("calibration cuts the sorted predictions into ten equal groups", () => {
    // 20 predictions (i+1)/20, every second one churned: decile k holds i = 2k−2 and 2k−1.
    const scored = Array.from({ length: 20 }, (_, i) => ({ predicted: (i + 1) / 20, outcome: (i % 2) as 0 | 1 }));
    const bins = calibrationByDecile([...scored].reverse());
    expect(bins).toHaveLength(10);
    bins.forEach((bin, index) => {
      const k = index + 1;
      expect(bin.decile).toBe(k);
      expect(bin.n).toBe(2);
      expect(bin.mean_predicted).toBeCloseTo((4 * k - 1) / 40, 12);
      expect(bin.observed_rate).toBe(0.5);
    });
    // Five examples fill deciles 1, 3, 5, 7 and 9 only; empty ones are left out.
    const five = calibrationByDecile(scored.slice(0, 5));
    expect(five.map((b) => b.decile)).toEqual([1, 3, 5, 7, 9]);
  });
});

describe("penalized logistic regression (IRLS)", () => {
  it("solves a symmetric positive-definite system", () => {
    // [4 2; 2 3] x = [2; 1] → x = [0.5, 0].
    const x = solveSymmetric(
      [
        [4, 2],
        [2, 3],
      ],
      [2, 1],
    );
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBeCloseTo(0, 12);
  });

  it("reaches the closed-form maximum likelihood without a penalty", () => {
    // Intercept only: 3 churned of 10 → β₀ = logit(0.3) = ln(3/7).
    const interceptOnly = fitLogistic(
      Array.from({ length: 10 }, () => []),
      [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
      { lambda: 0 },
    );
    expect(interceptOnly.intercept).toBeCloseTo(Math.log(3 / 7), 10);
    // x = −1: 1 of 4 churned; x = +1: 3 of 4. Saturated fit: β₀ ± β₁ = ±logit(0.75) → β₀ = 0, β₁ = ln 3.
    const rows = [[-1], [-1], [-1], [-1], [1], [1], [1], [1]];
    const labels = [1, 0, 0, 0, 1, 1, 1, 0];
    const fit = fitLogistic(rows, labels, { lambda: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.intercept).toBeCloseTo(0, 10);
    expect(fit.coefficients[0]).toBeCloseTo(Math.log(3), 10);
    expect(predictProbability(fit, [1])).toBeCloseTo(0.75, 10);
  });

  it("shrinks the coefficient with λ and satisfies the penalized score equation", () => {
    const rows = [[-1], [-1], [-1], [-1], [1], [1], [1], [1]];
    const labels = [1, 0, 0, 0, 1, 1, 1, 0];
    const one = fitLogistic(rows, labels, { lambda: 1 });
    const ten = fitLogistic(rows, labels, { lambda: 10 });
    const b1 = one.coefficients[0] as number;
    const b10 = ten.coefficients[0] as number;
    // By symmetry the intercept stays 0; d/dβ₁: 8σ(β₁) − 6 + λβ₁ = 0.
    expect(one.intercept).toBeCloseTo(0, 10);
    expect(8 * sigmoid(b1) - 6 + 1 * b1).toBeCloseTo(0, 10);
    expect(8 * sigmoid(b10) - 6 + 10 * b10).toBeCloseTo(0, 10);
    expect(b1).toBeGreaterThan(0);
    expect(b1).toBeLessThan(Math.log(3));
    expect(b10).toBeLessThan(b1);
    expect(b10).toBeGreaterThan(0);
  });

  it("keeps coefficients finite on separable data and probabilities within [0, 1]", () => {
    const fit = fitLogistic([[-2], [-1], [1], [2]], [0, 0, 1, 1], { lambda: 1 });
    expect(Number.isFinite(fit.coefficients[0])).toBe(true);
    for (const x of [-1e6, -50, 0, 50, 1e6]) {
      const p = predictProbability(fit, [x]);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });
});

const feature = (factor: ModelFeature["factor"], mean: number, sd: number): ModelFeature => ({
  factor,
  mean,
  sd,
  observed: 100,
  used: true,
  note: null,
});

describe("scoring one account", () => {
  const model: Pick<RiskModelSpec, "features" | "coefficients" | "intercept"> = {
    intercept: -1,
    features: RISK_FACTORS.map((f) =>
      f === "latest_nps"
        ? feature(f, 7, 2)
        : f === "champion_gone"
          ? feature(f, 0.2, 0.4)
          : { factor: f, mean: null, sd: null, observed: 0, used: false, note: "unused" },
    ),
    coefficients: Object.fromEntries(
      RISK_FACTORS.map((f) => [f, f === "latest_nps" ? -0.5 : f === "champion_gone" ? 0.8 : 0]),
    ) as RiskModelSpec["coefficients"],
  };

  it("adds coefficient × standardized value to the intercept", () => {
    const values = { ...emptyValues(), latest_nps: 3, champion_gone: 1, tickets_90d: 9 };
    const risk = scoreAccount(model, values);
    // z: nps (3 − 7)/2 = −2 → +1.0; champion (1 − 0.2)/0.4 = 2 → +1.6; log-odds −1 + 2.6 = 1.6.
    expect(risk.probability).toBe(Math.round(10_000 / (1 + Math.exp(-1.6))) / 10_000);
    expect(risk.factors.slice(0, 2)).toEqual([
      { factor: "champion_gone", value: 1, standardized: 2, coefficient: 0.8, contribution: 1.6, flagged: true },
      { factor: "latest_nps", value: 3, standardized: -2, coefficient: -0.5, contribution: 1, flagged: true },
    ]);
    expect(risk.factors).toHaveLength(RISK_FACTORS.length);
    // An unused factor contributes nothing but still reports its value and flag.
    expect(risk.factors.find((f) => f.factor === "tickets_90d")).toEqual({
      factor: "tickets_90d",
      value: 9,
      standardized: 0,
      coefficient: 0,
      contribution: 0,
      flagged: true,
    });
  });

  it("treats a missing value as the training mean and clips extreme values at ±4", () => {
    expect(standardize(feature("latest_nps", 7, 2), null)).toBe(0);
    expect(standardize(feature("tickets_90d", 1, 0.5), 100)).toBe(4);
    expect(standardize(feature("tickets_90d", 1, 0.5), -100)).toBe(-4);
    expect(scoreAccount(model, emptyValues()).probability).toBe(Math.round(10_000 / (1 + Math.exp(1))) / 10_000);
  });
});

describe("interventions and flags", () => {
  const factor = (name: StoredRiskFactor["factor"], contribution: number, flagged = false): StoredRiskFactor => ({
    factor: name,
    value: 0,
    standardized: 0,
    coefficient: 0,
    contribution,
    flagged,
  });

  it("maps the top risk-raising factor to its play, and renewal with low health to the rescue plan", () => {
    expect(suggestIntervention([factor("latest_nps", 0.4), factor("usage_trend_30d", 0.9)])?.playbook).toBe(
      "adoption_workshop",
    );
    expect(suggestIntervention([factor("champion_gone", 1.2), factor("latest_nps", 0.4)])?.playbook).toBe(
      "executive_sponsor",
    );
    expect(suggestIntervention([factor("payment_failures_90d", 0.3)])?.playbook).toBe("billing_outreach");
    expect(
      suggestIntervention([
        factor("champion_gone", 1.2),
        factor("days_to_renewal", 0, true),
        factor("health_score", 0.1, true),
      ])?.playbook,
    ).toBe("renewal_rescue");
    expect(suggestIntervention([factor("latest_nps", -0.4)])).toBeNull();
    expect(topFactors([factor("tickets_90d", 0.1), factor("latest_nps", -1)]).map((f) => f.contribution)).toEqual([
      0.1,
    ]);
  });

  it("applies each factor's flag rule to its raw value", () => {
    expect(isFlagged("usage_trend_30d", -0.3)).toBe(true);
    expect(isFlagged("usage_trend_30d", -0.29)).toBe(false);
    expect(isFlagged("latest_nps", 6)).toBe(true);
    expect(isFlagged("latest_nps", 7)).toBe(false);
    expect(isFlagged("license_utilization", null)).toBe(false);
    expect(isFlagged("champion_gone", 1)).toBe(true);
  });
});

describe("model choice", () => {
  const example = (i: number, churned: 0 | 1): TrainingExample => ({
    id: `e${i}`,
    account_id: `a${i}`,
    point: `2025-01-${String((i % 28) + 1).padStart(2, "0")}`,
    cutoff: "2024-10-01",
    churned,
    values: { ...emptyValues(), latest_nps: churned ? 3 + (i % 4) : 6 + (i % 5) },
  });

  it("uses the uncalibrated prior below 30 examples of a class", () => {
    const examples = [
      ...Array.from({ length: 29 }, (_, i) => example(i, 1)),
      ...Array.from({ length: 100 }, (_, i) => example(100 + i, 0)),
    ];
    const model = trainRiskModel(examples);
    expect(model.kind).toBe("prior");
    expect(model.calibrated).toBe(false);
    expect(model.metrics.holdout).toBeNull();
    expect(model.metrics.examples).toMatchObject({ n: 129, churned: 29, renewed: 100 });
    expect(model).toEqual({ ...priorModel(model.metrics.examples), metrics: model.metrics });
  });

  it("fits, evaluates on the newest quarter and leaves out factors without data", () => {
    const examples = [
      ...Array.from({ length: 40 }, (_, i) => example(i, 1)),
      ...Array.from({ length: 40 }, (_, i) => example(100 + i, 0)),
    ];
    const model = trainRiskModel(examples);
    expect(model.kind).toBe("logistic");
    expect(model.calibrated).toBe(true);
    expect(model.metrics.holdout?.train.n).toBe(60);
    expect(model.metrics.holdout?.test.n).toBe(20);
    expect(model.coefficients.latest_nps).toBeLessThan(0);
    expect(model.features.find((f) => f.factor === "tickets_90d")).toMatchObject({ used: false, observed: 0 });
    expect(model.features.find((f) => f.factor === "days_to_renewal")?.used).toBe(false);
    expect(model.coefficients.tickets_90d).toBe(0);
  });
});
