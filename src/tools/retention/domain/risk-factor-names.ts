/**
 * The churn-risk factor library's names, shared by the risk model, its stored scores
 * (`risk_scores.factors`) and retention-campaign trigger rules ("factor present").
 */
export const RISK_FACTORS = [
  "usage_trend_30d",
  "usage_trend_90d",
  "license_utilization",
  "health_score",
  "health_trend_30d",
  "tickets_90d",
  "escalations_90d",
  "latest_nps",
  "latest_csat",
  "champion_gone",
  "payment_failures_90d",
  "tenure_days",
  "days_to_renewal",
  "arr_band",
] as const;
export type RiskFactorName = (typeof RISK_FACTORS)[number];

/** One factor of one account's stored score (`risk_scores.factors` holds a list of these). */
export interface StoredRiskFactor {
  factor: RiskFactorName;
  /** The raw value, null when the account has no data for it. */
  value: number | null;
  /** (value − training mean) / training standard deviation; 0 for missing values. */
  standardized: number;
  coefficient: number;
  /** coefficient × standardized: the factor's push on the log-odds of churn. */
  contribution: number;
  /** True when the factor's own flag rule holds (e.g. usage down 30%+), independent of the model. */
  flagged: boolean;
}
