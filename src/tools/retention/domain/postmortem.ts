import { median } from "../../../platform/lib/stats";
import { addDays, daysBetween } from "../../../platform/lib/time";

/**
 * Churn post-mortem arithmetic over plain data: loss by group, tenure bands, trajectory means,
 * and how well a rule would have caught churn ahead of time without flagging renewals.
 */

/** Days before an event a rule may fire and still count as catching it. */
export const CATCH_LOOKBACK_DAYS = 180;
/** Days before an event a signal (or a false alarm before a renewal) is looked for. */
export const SIGNAL_LOOKBACK_DAYS = 90;
/** Days of usage each usage-decline checkpoint compares: this many before it against this many before those. */
export const DECLINE_WINDOW_DAYS = 30;
/** Days of usage read before a churn: every checkpoint of the catch lookback needs two decline windows. */
export const USAGE_SERIES_DAYS = CATCH_LOOKBACK_DAYS + 2 * DECLINE_WINDOW_DAYS;
/** Days of usage read before a renewal: only a decline in the signal lookback makes a false alarm. */
export const RENEWAL_USAGE_SERIES_DAYS = SIGNAL_LOOKBACK_DAYS + 2 * DECLINE_WINDOW_DAYS;

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

const WHOLE_NUMBER_PAIRS = /^[0-9:,]*$/;
const COLON = ":".charCodeAt(0);
const COMMA = ",".charCodeAt(0);
const ZERO = "0".charCodeAt(0);

/**
 * Usage before an event from "day:events" pairs (comma-separated, any order), each day counted
 * from a fixed origin and the event on day `eventDay` of that count: index `d` of the series holds
 * the events of the day `d` days before the event (index 0 unused), 0 for a day without usage, up
 * to {@link USAGE_SERIES_DAYS}.
 */
export function usageSeries(pairs: string | null, eventDay: number): number[] {
  const series = new Array<number>(USAGE_SERIES_DAYS + 1).fill(0);
  const add = (day: number, events: number) => {
    const daysBefore = eventDay - day;
    if (daysBefore >= 1 && daysBefore <= USAGE_SERIES_DAYS) series[daysBefore] = (series[daysBefore] ?? 0) + events;
  };
  if (!pairs) return series;
  if (!WHOLE_NUMBER_PAIRS.test(pairs)) {
    for (const pair of pairs.split(",")) {
      const [day, events] = pair.split(":").map(Number) as [number, number];
      add(day, events);
    }
    return series;
  }
  // Whole numbers are read digit by digit: split() over thousands of events is the slow part.
  let day = 0;
  let value = 0;
  for (let i = 0; i <= pairs.length; i++) {
    const code = i < pairs.length ? pairs.charCodeAt(i) : COMMA;
    if (code === COLON) {
      day = value;
      value = 0;
    } else if (code === COMMA) {
      add(day, value);
      value = 0;
    } else {
      value = value * 10 + (code - ZERO);
    }
  }
  return series;
}

/** Sum of a usage series over the days `from`..`to` before the event (both included). */
export function usageBetween(series: readonly number[], from: number, to: number): number {
  let sum = 0;
  for (let d = from; d <= to; d++) sum += series[d] ?? 0;
  return sum;
}

/**
 * When usage declined ≥ 30% within `lookback` days up to an event ({@link CATCH_LOOKBACK_DAYS};
 * {@link SIGNAL_LOOKBACK_DAYS} is enough for a renewal, where only the last firing counts): each
 * day of the lookback is a checkpoint comparing the events of the 30 days before it with the 30
 * before those (prior > 0 and last ≤ 0.7 × prior, in integers); the first and last checkpoint it
 * held, or undefined when it never did.
 */
export function usageDeclineFiring(
  series: readonly number[],
  eventDay: string,
  lookback: number = CATCH_LOOKBACK_DAYS,
): RuleFiring | undefined {
  // upTo[d] = events of the days 1..d before the event, so each window sum is one subtraction.
  const upTo = [0];
  for (let d = 1; d <= USAGE_SERIES_DAYS; d++) upTo.push((upTo[d - 1] ?? 0) + (series[d] ?? 0));
  const between = (from: number, to: number) => (upTo[to] ?? 0) - (upTo[from - 1] ?? 0);
  let earliest: number | null = null;
  let latest: number | null = null;
  for (let checkpoint = 0; checkpoint <= lookback; checkpoint++) {
    const last = between(checkpoint + 1, checkpoint + DECLINE_WINDOW_DAYS);
    const prior = between(checkpoint + DECLINE_WINDOW_DAYS + 1, checkpoint + 2 * DECLINE_WINDOW_DAYS);
    if (prior > 0 && 10 * last <= 7 * prior) {
      earliest = checkpoint;
      latest ??= checkpoint;
    }
  }
  return earliest === null || latest === null
    ? undefined
    : { first_day: addDays(eventDay, -earliest), last_day: addDays(eventDay, -latest) };
}
