import { mean, round } from "../../../platform/lib/stats";
import { fitLogistic, sigmoid } from "./logistic";
import { RISK_FACTORS, type RiskFactorName, type StoredRiskFactor } from "./risk-factor-names";
import { type FactorValues, isFlagged } from "./risk-library";
import { auc, brier, type CalibrationBin, calibrationByDecile, type Scored } from "./risk-metrics";

/** Days between the features' cut-off and the renewal point they predict. */
export const DEFAULT_HORIZON_DAYS = 90;
/** The L2 penalty on the standardized coefficients (not the intercept). */
export const RISK_LAMBDA = 1;
/** Fewer churned or fewer renewed examples than this → the prior model. */
export const MIN_EXAMPLES_PER_CLASS = 30;
/** Share of examples (oldest renewal points first) the holdout fit trains on; the newest rest tests it. */
export const HOLDOUT_TRAIN_SHARE = 0.75;
/** Standardized values are clipped to ±this, so one extreme raw value cannot dominate a score. */
export const STANDARDIZED_CLIP = 4;
/** A factor enters a fit only when at least this many training examples (and 5% of them) have a value. */
export const MIN_OBSERVED = 10;

/**
 * Factors kept out of every fitted model. With a fixed horizon before each renewal point,
 * days_to_renewal at the cut-off only measures how early the outcome was recorded (renewals are
 * often signed before the term ends, churn is recorded at it): not a property of the customer,
 * and a leak of the outcome. It stays in the library for its flag and the renewal-rescue rule.
 */
export const NOT_FITTED: ReadonlySet<RiskFactorName> = new Set(["days_to_renewal"]);

/** How one factor enters a model: its standardizing scale, or why it does not. */
export interface ModelFeature {
  factor: RiskFactorName;
  /** Mean of the observed training values (prior: the fixed scale's centre). */
  mean: number | null;
  /** Population standard deviation of the observed training values (prior: the fixed scale). */
  sd: number | null;
  /** Training examples with a value (0 for the prior). */
  observed: number;
  used: boolean;
  /** Why an unused factor is left out. */
  note: string | null;
}

/** Examples and their outcomes in one sample. */
export interface SampleSize {
  n: number;
  churned: number;
  renewed: number;
  /** Earliest and latest renewal point in the sample. */
  from: string | null;
  to: string | null;
}

/** Time-based holdout evaluation of a fitted model. */
export interface HoldoutMetrics {
  auc: number | null;
  brier: number | null;
  calibration: CalibrationBin[];
  train: SampleSize;
  test: SampleSize;
}

/** Everything stored in `risk_models.metrics`. */
export interface ModelMetrics {
  lambda: number;
  examples: SampleSize;
  /** Null for the prior, which is not fitted. */
  holdout: HoldoutMetrics | null;
  fit: { iterations: number; converged: boolean } | null;
  /** Why this kind of model was chosen. */
  basis: string;
}

/** A model as trained or chosen, before it is stored. */
export interface RiskModelSpec {
  kind: "logistic" | "prior";
  calibrated: boolean;
  horizon_days: number;
  features: ModelFeature[];
  coefficients: Record<RiskFactorName, number>;
  intercept: number;
  metrics: ModelMetrics;
}

/** A stored model (`risk_models` row). */
export interface StoredRiskModel extends RiskModelSpec {
  id: string;
  version: number;
  trained_at: string;
  trained_by: string | null;
}

/** One past renewal point with the features as they stood `horizon` days before it. */
export interface TrainingExample {
  id: string;
  account_id: string;
  /** The renewal point: the outcome date, else the contract end date. */
  point: string;
  cutoff: string;
  churned: 0 | 1;
  values: FactorValues;
}

/** The fixed scales and coefficients of the prior model, from customer-success practice. */
const PRIOR: Record<RiskFactorName, { mean: number; sd: number; coefficient: number }> = {
  usage_trend_30d: { mean: 0, sd: 0.3, coefficient: -0.5 },
  usage_trend_90d: { mean: 0, sd: 0.3, coefficient: -0.3 },
  license_utilization: { mean: 0.6, sd: 0.25, coefficient: -0.4 },
  health_score: { mean: 60, sd: 20, coefficient: -0.5 },
  health_trend_30d: { mean: 0, sd: 10, coefficient: -0.2 },
  tickets_90d: { mean: 3, sd: 3, coefficient: 0.15 },
  escalations_90d: { mean: 0.5, sd: 1, coefficient: 0.3 },
  latest_nps: { mean: 7.5, sd: 2, coefficient: -0.4 },
  latest_csat: { mean: 4, sd: 0.8, coefficient: -0.3 },
  champion_gone: { mean: 0, sd: 1, coefficient: 0.9 },
  payment_failures_90d: { mean: 0, sd: 1, coefficient: 0.5 },
  tenure_days: { mean: 730, sd: 500, coefficient: -0.2 },
  days_to_renewal: { mean: 0, sd: 1, coefficient: 0 },
  arr_band: { mean: 4.5, sd: 0.7, coefficient: -0.2 },
};
/** The prior's intercept: about 10% churn per renewal with every factor at its scale's centre. */
const PRIOR_INTERCEPT = -2.2;

/** Counts outcomes and the renewal-point range of a sample. */
export function sampleSize(examples: readonly TrainingExample[]): SampleSize {
  const churned = examples.filter((e) => e.churned === 1).length;
  const points = examples.map((e) => e.point).sort();
  return {
    n: examples.length,
    churned,
    renewed: examples.length - churned,
    from: points[0] ?? null,
    to: points.at(-1) ?? null,
  };
}

/**
 * The documented prior: fixed coefficients on fixed scales (standardized = (value − centre) / scale,
 * clipped to ±{@link STANDARDIZED_CLIP}, missing = 0), used while the workspace has fewer than
 * {@link MIN_EXAMPLES_PER_CLASS} churned or renewed renewal points. Signs: usage trends,
 * utilization, health, NPS, CSAT, tenure and ARR lower the risk as they rise; tickets,
 * escalations, a departed champion and payment failures raise it. Not calibrated on the workspace.
 */
export function priorModel(examples: SampleSize, horizonDays = DEFAULT_HORIZON_DAYS): RiskModelSpec {
  return {
    kind: "prior",
    calibrated: false,
    horizon_days: horizonDays,
    features: RISK_FACTORS.map((factor) => {
      const unused = NOT_FITTED.has(factor);
      return {
        factor,
        mean: unused ? null : PRIOR[factor].mean,
        sd: unused ? null : PRIOR[factor].sd,
        observed: 0,
        used: !unused,
        note: unused ? "days_to_renewal carries no weight: it drives the renewal-rescue rule only" : null,
      };
    }),
    coefficients: Object.fromEntries(RISK_FACTORS.map((f) => [f, PRIOR[f].coefficient])) as Record<
      RiskFactorName,
      number
    >,
    intercept: PRIOR_INTERCEPT,
    metrics: {
      lambda: RISK_LAMBDA,
      examples,
      holdout: null,
      fit: null,
      basis: `prior: ${examples.churned} churned and ${examples.renewed} renewed renewal points; a fitted model needs at least ${MIN_EXAMPLES_PER_CLASS} of each`,
    },
  };
}

/** The standardized value of one factor under a model: 0 for a missing value or an unused factor. */
export function standardize(feature: ModelFeature, value: number | null): number {
  if (!feature.used || value === null || feature.mean === null || feature.sd === null || feature.sd <= 0) return 0;
  const z = (value - feature.mean) / feature.sd;
  return Math.max(-STANDARDIZED_CLIP, Math.min(STANDARDIZED_CLIP, z));
}

/** The scales of each factor from training examples (observed values only). */
export function featureScales(examples: readonly TrainingExample[]): ModelFeature[] {
  const minimum = Math.max(MIN_OBSERVED, Math.ceil(0.05 * examples.length));
  return RISK_FACTORS.map((factor) => {
    const values = examples.map((e) => e.values[factor]).filter((v): v is number => v !== null);
    const centre = mean(values);
    const sd = centre === null ? null : Math.sqrt(values.reduce((s, v) => s + (v - centre) ** 2, 0) / values.length);
    let note: string | null = null;
    if (NOT_FITTED.has(factor))
      note = "not fitted: at a fixed horizon before each renewal it only measures how early the outcome was recorded";
    else if (values.length < minimum)
      note = `too few training values (${values.length} of ${examples.length}; at least ${minimum})`;
    else if (!sd) note = "the same value in every training example";
    return { factor, mean: centre, sd, observed: values.length, used: note === null, note };
  });
}

/** Fits the logistic model on examples: scales from these examples, then penalized IRLS. */
function fitExamples(examples: readonly TrainingExample[], lambda: number) {
  const features = featureScales(examples);
  const used = features.filter((f) => f.used);
  const rows = examples.map((e) => used.map((f) => standardize(f, e.values[f.factor])));
  const fit = fitLogistic(
    rows,
    examples.map((e) => e.churned),
    { lambda },
  );
  const coefficients = Object.fromEntries(RISK_FACTORS.map((f) => [f, 0])) as Record<RiskFactorName, number>;
  used.forEach((f, j) => {
    coefficients[f.factor] = fit.coefficients[j] as number;
  });
  return { features, coefficients, intercept: fit.intercept, fit };
}

/**
 * Trains the workspace's model from its renewal history. With at least
 * {@link MIN_EXAMPLES_PER_CLASS} churned and renewed examples: examples sorted by renewal point
 * (then id), a fit on the oldest {@link HOLDOUT_TRAIN_SHARE} evaluated on the newest rest (AUC,
 * Brier, calibration by decile), then the stored fit on all examples. Otherwise the prior.
 */
export function trainRiskModel(
  examples: readonly TrainingExample[],
  options: { horizonDays?: number; lambda?: number } = {},
): RiskModelSpec {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const lambda = options.lambda ?? RISK_LAMBDA;
  const all = sampleSize(examples);
  if (all.churned < MIN_EXAMPLES_PER_CLASS || all.renewed < MIN_EXAMPLES_PER_CLASS) return priorModel(all, horizonDays);

  const sorted = [...examples].sort((a, b) => a.point.localeCompare(b.point) || a.id.localeCompare(b.id));
  const split = Math.floor(sorted.length * HOLDOUT_TRAIN_SHARE);
  const trainSet = sorted.slice(0, split);
  const testSet = sorted.slice(split);
  const holdoutFit = fitExamples(trainSet, lambda);
  const scored: Scored[] = testSet.map((e) => ({
    predicted: probabilityOf(holdoutFit, e.values),
    outcome: e.churned,
  }));
  const final = fitExamples(sorted, lambda);
  return {
    kind: "logistic",
    calibrated: true,
    horizon_days: horizonDays,
    features: final.features,
    coefficients: final.coefficients,
    intercept: final.intercept,
    metrics: {
      lambda,
      examples: all,
      holdout: {
        auc: auc(scored),
        brier: brier(scored),
        calibration: calibrationByDecile(scored),
        train: sampleSize(trainSet),
        test: sampleSize(testSet),
      },
      fit: { iterations: final.fit.iterations, converged: final.fit.converged },
      basis: `logistic: fitted on ${all.n} renewal points of this workspace (${all.churned} churned, ${all.renewed} renewed), L2 λ = ${lambda} on standardized coefficients`,
    },
  };
}

/** P(churn) for raw factor values under a model. */
export function probabilityOf(
  model: Pick<RiskModelSpec, "features" | "coefficients" | "intercept">,
  values: FactorValues,
): number {
  let z = model.intercept;
  for (const feature of model.features)
    z += model.coefficients[feature.factor] * standardize(feature, values[feature.factor]);
  return sigmoid(z);
}

/** One account scored: its probability and every factor, largest contribution first. */
export interface AccountRisk {
  probability: number;
  factors: StoredRiskFactor[];
}

/**
 * Scores raw values: each factor's standardized value, coefficient and contribution
 * (coefficient × standardized, its push on the log-odds), and P(churn) = σ(intercept + Σ contributions).
 */
export function scoreAccount(
  model: Pick<RiskModelSpec, "features" | "coefficients" | "intercept">,
  values: FactorValues,
): AccountRisk {
  let z = model.intercept;
  const factors = model.features.map((feature) => {
    const value = values[feature.factor];
    const standardized = standardize(feature, value);
    const coefficient = model.coefficients[feature.factor];
    const contribution = coefficient * standardized;
    z += contribution;
    return {
      factor: feature.factor,
      value: value === null ? null : round(value, 4),
      standardized: round(standardized, 4),
      coefficient: round(coefficient, 4),
      contribution: round(contribution, 4),
      flagged: isFlagged(feature.factor, value),
    };
  });
  factors.sort((a, b) => b.contribution - a.contribution || a.factor.localeCompare(b.factor));
  return { probability: round(sigmoid(z), 4), factors };
}
