import { daysBetween } from "../../../platform/lib/time";

/** One lifecycle rule as stored in settings `lifecycle_rules`. */
export interface LifecycleRule {
  stage: string;
  when: "contract_age_days_below" | "renewal_within_days" | "health_band_is" | "status_is";
  value: number | string;
}

/** The account fields the rules read. */
export interface StageInputs {
  status: string;
  customerSince: string | null;
  renewalDate: string | null;
  healthBand: string | null;
}

/** The stage the first matching rule gives, with that rule's 1-based position; null when none matches. */
export function computeStage(
  account: StageInputs,
  rules: readonly LifecycleRule[],
  today: string,
): { stage: string; rule: number } | null {
  for (const [i, rule] of rules.entries()) {
    if (ruleMatches(account, rule, today)) return { stage: rule.stage, rule: i + 1 };
  }
  return null;
}

/** Whether one rule holds for an account on `today`; a rule needing a missing date never matches. */
export function ruleMatches(account: StageInputs, rule: LifecycleRule, today: string): boolean {
  switch (rule.when) {
    case "contract_age_days_below":
      // Contract age = days since customer_since.
      return account.customerSince !== null && daysBetween(account.customerSince, today) < Number(rule.value);
    case "renewal_within_days": {
      if (account.renewalDate === null) return false;
      const days = daysBetween(today, account.renewalDate);
      return days >= 0 && days <= Number(rule.value);
    }
    case "health_band_is":
      return account.healthBand === String(rule.value);
    case "status_is":
      return account.status === String(rule.value);
  }
}

/** Days in stage above which an account counts as stuck, per stage, unless the caller overrides them. */
export const DEFAULT_STUCK_DAYS: Readonly<Record<string, number>> = {
  onboarding: 90,
  adoption: 180,
  renewal: 120,
  at_risk: 60,
};

/** One stage change with how long the account stayed in the stage it entered. */
export interface StageSpan {
  from_stage: string | null;
  to_stage: string;
  reason: string | null;
  changed_at: string;
  days_in_stage: number;
  current: boolean;
}

/** Durations of consecutive stage changes (ordered by changed_at); the last runs to `today`. */
export function stageSpans(
  changes: readonly { from_stage: string | null; to_stage: string; reason: string | null; changed_at: string }[],
  today: string,
): StageSpan[] {
  return changes.map((c, i) => {
    const next = changes[i + 1];
    return {
      ...c,
      days_in_stage: daysBetween(c.changed_at, next ? next.changed_at : today),
      current: next === undefined,
    };
  });
}
