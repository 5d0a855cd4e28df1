import { round } from "../../../platform/lib/stats";
import { isUsageDecline, RISK_SIGNALS } from "../../../records/risk-signals";
import { RISK_FACTORS, type RiskFactorName, type StoredRiskFactor } from "./risk-factor-names";

/** The usage-decline flag rule in words: the shared threshold as a percentage and as a change. */
const USAGE_DECLINE_RULE = `usage down ${RISK_SIGNALS.usageDeclinePct}% or more (≤ −${(RISK_SIGNALS.usageDeclinePct / 100).toFixed(2)})`;

/** Whether a higher raw value raises churn risk or lowers it. */
export type FactorDirection = "higher_raises_risk" | "lower_raises_risk";

/** One factor of the churn-risk library. */
export interface FactorDefinition {
  factor: RiskFactorName;
  /** How the raw value is computed from stored records, all dated strictly before the cut-off day. */
  definition: string;
  /** Days of history the value reads; 0 = the state at the cut-off. */
  window_days: number;
  direction: FactorDirection;
  /** The flag rule in words; {@link isFlagged} applies it. */
  flag_rule: string;
  /** The flag rule itself, on the raw value (a missing value is never flagged). */
  flag(value: number): boolean;
}

/** The library: every factor of RISK_FACTORS with its definition, window, direction and flag rule. */
export const FACTOR_LIBRARY: Record<RiskFactorName, FactorDefinition> = {
  usage_trend_30d: {
    factor: "usage_trend_30d",
    definition:
      "Usage events (usage_daily) of the 30 days before the cut-off ÷ events of the 30 days before those − 1; missing when the earlier window has no events.",
    window_days: 60,
    direction: "lower_raises_risk",
    flag_rule: USAGE_DECLINE_RULE,
    flag: isUsageDecline,
  },
  usage_trend_90d: {
    factor: "usage_trend_90d",
    definition:
      "Usage events of the 90 days before the cut-off ÷ events of the 90 days before those − 1; missing when the earlier window has no events.",
    window_days: 180,
    direction: "lower_raises_risk",
    flag_rule: USAGE_DECLINE_RULE,
    flag: isUsageDecline,
  },
  license_utilization: {
    factor: "license_utilization",
    definition:
      "Average daily active users over the days with usage data among the 30 days before the cut-off ÷ licensed seats (plan items of the contracts in force at the cut-off; a contract without a plan item counts its largest item), as the health score defines it; missing without usage days or seats.",
    window_days: 30,
    direction: "lower_raises_risk",
    flag_rule: `below ${RISK_SIGNALS.utilizationBelow} (under half the seats used)`,
    flag: (v) => v < RISK_SIGNALS.utilizationBelow,
  },
  health_score: {
    factor: "health_score",
    definition: "The latest stored health score (0–100) dated before the cut-off; missing without one.",
    window_days: 0,
    direction: "lower_raises_risk",
    flag_rule: "below 40 (the default red band)",
    flag: (v) => v < 40,
  },
  health_trend_30d: {
    factor: "health_trend_30d",
    definition:
      "The latest health score before the cut-off − the latest score dated more than 30 days before the cut-off; missing without both.",
    window_days: 30,
    direction: "lower_raises_risk",
    flag_rule: "down 10 points or more (≤ −10)",
    flag: (v) => v <= -10,
  },
  tickets_90d: {
    factor: "tickets_90d",
    definition: "Support tickets created in the 90 days before the cut-off.",
    window_days: 90,
    direction: "higher_raises_risk",
    flag_rule: "5 or more",
    flag: (v) => v >= 5,
  },
  escalations_90d: {
    factor: "escalations_90d",
    definition:
      "Urgent or high priority tickets created plus escalations (escalations table) opened in the 90 days before the cut-off.",
    window_days: 90,
    direction: "higher_raises_risk",
    flag_rule: "2 or more",
    flag: (v) => v >= 2,
  },
  latest_nps: {
    factor: "latest_nps",
    definition: "Score (0–10) of the latest NPS response before the cut-off; missing without one.",
    window_days: 0,
    direction: "lower_raises_risk",
    flag_rule: `detractor (${RISK_SIGNALS.detractorNpsAtMost} or lower)`,
    flag: (v) => v <= RISK_SIGNALS.detractorNpsAtMost,
  },
  latest_csat: {
    factor: "latest_csat",
    definition: "Score (1–5) of the latest CSAT response before the cut-off; missing without one.",
    window_days: 0,
    direction: "lower_raises_risk",
    flag_rule: "dissatisfied (2 or lower)",
    flag: (v) => v <= 2,
  },
  champion_gone: {
    factor: "champion_gone",
    definition:
      "1 when a contact marked champion or decision maker has left the customer (contacts.left_at before the cut-off), else 0.",
    window_days: 0,
    direction: "higher_raises_risk",
    flag_rule: "1 (a champion or decision maker left)",
    flag: (v) => v >= 1,
  },
  payment_failures_90d: {
    factor: "payment_failures_90d",
    definition:
      "Payments created before the cut-off that failed (failed_at, or the creation time of a payment whose status is failed) in the 90 days before it.",
    window_days: 90,
    direction: "higher_raises_risk",
    flag_rule: "1 or more",
    flag: (v) => v >= 1,
  },
  tenure_days: {
    factor: "tenure_days",
    definition:
      "Days from the earlier of customer_since and the first contract start (both before the cut-off) to the cut-off; missing without either.",
    window_days: 0,
    direction: "lower_raises_risk",
    flag_rule: "under 180 days (a new customer)",
    flag: (v) => v < 180,
  },
  days_to_renewal: {
    factor: "days_to_renewal",
    definition: "Days from the cut-off to the earliest end date of the contracts in force at it; missing without one.",
    window_days: 0,
    direction: "lower_raises_risk",
    flag_rule: `${RISK_SIGNALS.renewalWithinDays} days or fewer`,
    flag: (v) => v <= RISK_SIGNALS.renewalWithinDays,
  },
  arr_band: {
    factor: "arr_band",
    definition:
      "log10 of the ARR of the contracts in force at the cut-off (4 = 10,000; 5 = 100,000); missing when that ARR is 0.",
    window_days: 0,
    direction: "lower_raises_risk",
    flag_rule: "below 4 (ARR under 10,000)",
    flag: (v) => v < 4,
  },
};

/** True when the factor's own flag rule holds for the raw value; a missing value is never flagged. */
export function isFlagged(factor: RiskFactorName, value: number | null): boolean {
  return value !== null && FACTOR_LIBRARY[factor].flag(value);
}

/** Raw factor values of one account at one cut-off; null = no data. */
export type FactorValues = Record<RiskFactorName, number | null>;

/** A values record with every factor missing. */
export function emptyValues(): FactorValues {
  return Object.fromEntries(RISK_FACTORS.map((f) => [f, null])) as FactorValues;
}

/** A suggested retention play and the rule that chose it. */
export interface Intervention {
  playbook: string;
  label: string;
  rule: string;
}

/** The play suggested when a factor is the account's top risk-raising factor. */
export const INTERVENTION_BY_FACTOR: Record<RiskFactorName, { playbook: string; label: string }> = {
  usage_trend_30d: { playbook: "adoption_workshop", label: "Adoption workshop" },
  usage_trend_90d: { playbook: "adoption_workshop", label: "Adoption workshop" },
  license_utilization: { playbook: "adoption_workshop", label: "Adoption workshop" },
  health_score: { playbook: "health_check", label: "Health check call with the account team" },
  health_trend_30d: { playbook: "health_check", label: "Health check call with the account team" },
  tickets_90d: { playbook: "support_review", label: "Support review of open and recent tickets" },
  escalations_90d: { playbook: "support_review", label: "Support review of open and recent tickets" },
  latest_nps: { playbook: "detractor_call", label: "Detractor call to close the loop" },
  latest_csat: { playbook: "detractor_call", label: "Detractor call to close the loop" },
  champion_gone: { playbook: "executive_sponsor", label: "Executive sponsor outreach to rebuild the relationship" },
  payment_failures_90d: { playbook: "billing_outreach", label: "Billing outreach to fix the payment method" },
  tenure_days: { playbook: "onboarding_review", label: "Onboarding review of value reached so far" },
  days_to_renewal: { playbook: "renewal_rescue", label: "Renewal rescue plan" },
  arr_band: { playbook: "digital_success", label: "Scaled (digital) success program touch" },
};

/** The intervention rule in words, as stated by the tools. */
export const INTERVENTION_RULE =
  "If days_to_renewal and health_score are both flagged (renewal in 90 days or fewer with health below 40): renewal_rescue. " +
  "Otherwise the play of the top risk-raising factor (largest positive contribution): usage trends and license utilization → adoption_workshop; " +
  "health score or trend → health_check; tickets or escalations → support_review; latest NPS or CSAT → detractor_call; champion_gone → executive_sponsor; " +
  "payment failures → billing_outreach; tenure → onboarding_review; ARR band → digital_success. No positive contribution → none.";

/**
 * Chooses the intervention for one scored account by {@link INTERVENTION_RULE}; null when no
 * factor raises its risk and the renewal rule does not hold.
 */
export function suggestIntervention(factors: readonly StoredRiskFactor[]): Intervention | null {
  const byName = new Map(factors.map((f) => [f.factor, f]));
  if (byName.get("days_to_renewal")?.flagged && byName.get("health_score")?.flagged) {
    return {
      ...INTERVENTION_BY_FACTOR.days_to_renewal,
      rule: "days_to_renewal and health_score both flagged: renewal in 90 days or fewer with health below 40",
    };
  }
  const top = topFactors(factors, 1)[0];
  if (!top) return null;
  return {
    ...INTERVENTION_BY_FACTOR[top.factor],
    rule: `top risk-raising factor is ${top.factor} (contribution ${round(top.contribution, 4)})`,
  };
}

/** The risk-raising factors (contribution > 0), largest first, at most `count`. */
export function topFactors(factors: readonly StoredRiskFactor[], count = 3): StoredRiskFactor[] {
  return factors
    .filter((f) => f.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution || a.factor.localeCompare(b.factor))
    .slice(0, count);
}
