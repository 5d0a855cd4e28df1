import { daysBetween } from "../../lib/time";
import { median } from "../segments";

/**
 * Churn post-mortem arithmetic over plain data: loss by group, tenure bands, trajectory means,
 * and how well a rule would have caught churn ahead of time without flagging renewals.
 */

/** Days before an event a rule may fire and still count as catching it. */
export const CATCH_LOOKBACK_DAYS = 180;
/** Days before an event a signal (or a false alarm before a renewal) is looked for. */
export const SIGNAL_LOOKBACK_DAYS = 90;

/** The fixed signals (and prevention rules), each a fact stored before churn. */
export const SIGNALS = {
  urgent_high_ticket: "a ticket of priority urgent or high was opened",
  detractor_nps: "an NPS response of 0–6",
  champion_left: "a champion or decision maker left (contacts.left_at)",
  payment_failure: "a payment failed",
  usage_decline_30pct:
    "usage events of the 30 days before fell ≥ 30% against the 30 days before those (signal: at the churn day)",
  health_red: "a stored health score in the red band",
} as const;
export type SignalName = keyof typeof SIGNALS;

/** Tenure band of an account at churn. */
export type TenureBand = "<1y" | "1–2y" | "2y+" | "unknown";

/** Tenure band from days between the customer's start and churn. */
export function tenureBand(days: number | null): TenureBand {
  if (days === null || days < 0) return "unknown";
  return days < 365 ? "<1y" : days < 730 ? "1–2y" : "2y+";
}

/** Accounts and lost ARR per group, most ARR lost first, then by name. */
export function lossByGroup<T extends { lost_arr: number }>(
  events: readonly T[],
  groupOf: (event: T) => string,
): { group: string; accounts: number; lost_arr: number }[] {
  const groups = new Map<string, { group: string; accounts: number; lost_arr: number }>();
  for (const event of events) {
    const name = groupOf(event);
    const g = groups.get(name) ?? { group: name, accounts: 0, lost_arr: 0 };
    g.accounts += 1;
    g.lost_arr += event.lost_arr;
    groups.set(name, g);
  }
  return [...groups.values()].sort((a, b) => b.lost_arr - a.lost_arr || a.group.localeCompare(b.group));
}

/** Mean rounded to two decimals, or null for no values. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return Math.round((values.reduce((s, v) => s + v, 0) / values.length) * 100) / 100;
}

/** A share rounded to four decimals, or null when the whole is 0. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;
}

/** One churn or renewal, keyed by account and day. */
export interface OutcomeEvent {
  account_id: string;
  event_day: string;
}

/** The first and last day a rule held within {@link CATCH_LOOKBACK_DAYS} up to an event. */
export interface RuleFiring {
  first_day: string;
  last_day: string;
}

/** Key of an event in a firing map. */
export const eventKey = (e: OutcomeEvent) => `${e.account_id}|${e.event_day}`;

/** How a prevention rule did: churns caught ahead of time, and renewals it would have flagged. */
export interface RuleOutcome {
  caught: number;
  share: number | null;
  /** Median of (churn day − first day the rule fired within the 180 days before), over caught churns. */
  median_lead_days: number | null;
  renewed_counted: number;
  /** Renewals the rule fired for within the 90 days before. */
  renewed_flagged: number;
  false_alarm_rate: number | null;
}

/** Scores a rule from its firings, keyed by {@link eventKey}. */
export function ruleOutcome(
  churned: readonly OutcomeEvent[],
  renewed: readonly OutcomeEvent[],
  firings: ReadonlyMap<string, RuleFiring>,
): RuleOutcome {
  const leads = churned.flatMap((e) => {
    const fired = firings.get(eventKey(e));
    return fired ? [daysBetween(fired.first_day, e.event_day)] : [];
  });
  const flagged = renewed.filter((e) => {
    const fired = firings.get(eventKey(e));
    return fired !== undefined && daysBetween(fired.last_day, e.event_day) <= SIGNAL_LOOKBACK_DAYS;
  }).length;
  return {
    caught: leads.length,
    share: share(leads.length, churned.length),
    median_lead_days: median(leads),
    renewed_counted: renewed.length,
    renewed_flagged: flagged,
    false_alarm_rate: share(flagged, renewed.length),
  };
}

/** Whether a signal was present in the {@link SIGNAL_LOOKBACK_DAYS} before a churn, from the rule's firing. */
export function signalPresent(signal: SignalName, event: OutcomeEvent, firing: RuleFiring | undefined): boolean {
  if (!firing) return false;
  // Usage decline is measured at the churn day itself: the last 30 days against the 30 before.
  if (signal === "usage_decline_30pct") return firing.last_day === event.event_day;
  return daysBetween(firing.last_day, event.event_day) <= SIGNAL_LOOKBACK_DAYS;
}
