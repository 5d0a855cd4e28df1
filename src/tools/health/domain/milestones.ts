/** Adoption milestone status over plain rows: progress, newly achieved, stalled. */
import { daysBetween } from "../../../platform/lib/time";

/** Progress towards a milestone target: best / target capped at 1, rounded to 4 places. */
export function milestoneProgress(best: number, target: number): number {
  return Math.round(Math.min(1, best / target) * 10_000) / 10_000;
}

/** One milestone of one account: when it was first reached, the best single-day value so far and the target. */
export interface MilestoneReading {
  name: string;
  achievedOn: string | null;
  best: number;
  target: number;
}

/** How an account stands on one milestone. */
export interface MilestoneStatus {
  name: string;
  achieved_on: string | null;
  best: number;
  target: number;
  progress: number;
  newly_achieved: boolean;
  /** Not achieved although a customer for more than the stall limit; null when customer_since is unknown. */
  stalled: boolean | null;
}

/**
 * A milestone's status on `today`: newly achieved when reached on or after `newlyFrom`, stalled
 * when not reached and the account has been a customer for more than `stalledAfterDays` days.
 */
export function milestoneStatus(
  reading: MilestoneReading,
  customerSince: string | null,
  options: { today: string; newlyFrom: string; stalledAfterDays: number },
): MilestoneStatus {
  const { achievedOn, best } = reading;
  return {
    name: reading.name,
    achieved_on: achievedOn,
    best,
    target: reading.target,
    progress: milestoneProgress(best, reading.target),
    newly_achieved: achievedOn !== null && achievedOn >= options.newlyFrom,
    stalled:
      achievedOn !== null
        ? false
        : customerSince === null
          ? null
          : daysBetween(customerSince, options.today) > options.stalledAfterDays,
  };
}
