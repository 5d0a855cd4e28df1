/**
 * The risk signal vocabulary the account overview's risk flags and the churn model's factor flags
 * share, so that "usage decline", "low utilization", "detractor" and "renewal near" each mean one
 * thing wherever the product says them.
 */
export const RISK_SIGNALS = {
  /** Usage is declining when events are down this many percent or more vs the window before, of the same length. */
  usageDeclinePct: 30,
  /** License utilization (average daily active users / licensed seats) below this share is low. */
  utilizationBelow: 0.5,
  /** An NPS score at or below this is a detractor's. */
  detractorNpsAtMost: 6,
  /** A renewal within this many days is near. */
  renewalWithinDays: 90,
} as const;

/** Usage change of a window vs the window before it (−0.3 = down 30%), or null without events before. */
export function usageChange(currentEvents: number, priorEvents: number): number | null {
  return priorEvents > 0 ? currentEvents / priorEvents - 1 : null;
}

/** Whether a usage change (as {@link usageChange} gives it) is a decline. */
export function isUsageDecline(change: number): boolean {
  return change <= -RISK_SIGNALS.usageDeclinePct / 100;
}
