/**
 * Account risk flags: fixed rules over an account's stored signals. Each raised flag names its
 * rule and carries the numbers it was decided on, so a reader can check it.
 */

import { isUsageDecline, RISK_SIGNALS, usageChange } from "../../../records/risk-signals";

/** Health bands as stored on accounts and health scores. */
export type HealthBand = "red" | "yellow" | "green";

/** Thresholds of the rules; the rule texts below quote them. */
export const RISK_THRESHOLDS = {
  usageDeclinePct: RISK_SIGNALS.usageDeclinePct,
  utilizationBelow: RISK_SIGNALS.utilizationBelow,
  highPriorityTickets: 2,
  detractorNpsAtMost: RISK_SIGNALS.detractorNpsAtMost,
  championLeftWithinDays: 90,
  renewalWithinDays: RISK_SIGNALS.renewalWithinDays,
  noActivityDays: 30,
} as const;

/** The rule codes, in the order they are evaluated and reported. */
export const RISK_CODES = [
  "usage_decline",
  "low_license_utilization",
  "high_priority_tickets",
  "detractor_nps",
  "champion_left",
  "renewal_at_risk",
  "no_recent_activity",
] as const;

export type RiskCode = (typeof RISK_CODES)[number];

/** Each rule in words, as reported with a raised flag. */
export const RISK_RULES: Record<RiskCode, string> = {
  usage_decline: `Usage events in the last 30 complete days are down ≥ ${RISK_THRESHOLDS.usageDeclinePct}% vs the 30 days before (needs events in the prior window).`,
  low_license_utilization: `License utilization (avg daily active users over the last 30 complete days / licensed seats on active contracts) is below ${RISK_THRESHOLDS.utilizationBelow * 100}%.`,
  high_priority_tickets: `${RISK_THRESHOLDS.highPriorityTickets} or more open tickets with priority urgent or high.`,
  detractor_nps: `The latest NPS response scores ${RISK_THRESHOLDS.detractorNpsAtMost} or lower (detractor).`,
  champion_left: `A champion contact left the customer in the last ${RISK_THRESHOLDS.championLeftWithinDays} days.`,
  renewal_at_risk: `The next renewal is within ${RISK_THRESHOLDS.renewalWithinDays} days and the latest health band is red or yellow.`,
  no_recent_activity: `No logged activity (call, meeting, note, email) in the last ${RISK_THRESHOLDS.noActivityDays} days.`,
};

/** The stored signals of one account that the rules read. */
export interface RiskSignals {
  /** The day the rules are evaluated on (`YYYY-MM-DD`). */
  asOf: string;
  /** Usage event totals of the current and prior window. */
  usage: { windowDays: number; currentEvents: number; priorEvents: number };
  /** Average daily active users of the current window (null without usage rows) and seats on active contracts. */
  seats: { avgActiveUsers: number | null; licensedSeats: number };
  openTickets: { urgent: number; high: number };
  latestNps: { responseId: string; score: number; respondedAt: string } | null;
  /** Champion contacts that have a `left_at`, whenever they left; the rule applies its own window. */
  championsLeft: { contactId: string; leftAt: string }[];
  /** Next renewal date (earliest active contract end), or null. */
  renewalDate: string | null;
  health: { band: HealthBand | null; score: number | null };
  /** Latest logged activity instant, or null when there is none. */
  lastActivityAt: string | null;
}

/** Evidence values of a flag: numbers, dates and labels it was decided on. */
export type RiskEvidence = Record<string, number | string | null>;

/** One raised flag. */
export interface RiskFlag {
  code: RiskCode;
  rule: string;
  evidence: RiskEvidence;
}

const DAY_MS = 86_400_000;

function daysFrom(from: string, to: string): number {
  return Math.floor((Date.parse(to.slice(0, 10)) - Date.parse(from.slice(0, 10))) / DAY_MS);
}

/** Percent change from `prior` to `current`, one decimal; null when `prior` is zero. */
export function percentChange(current: number, prior: number): number | null {
  if (prior === 0) return null;
  return Math.round(((current - prior) / prior) * 1000) / 10;
}

/** Evaluates every rule of {@link RISK_CODES} and returns the raised flags in that order. */
export function evaluateRiskFlags(signals: RiskSignals): RiskFlag[] {
  const flags: RiskFlag[] = [];
  const raise = (code: RiskCode, evidence: RiskEvidence) => flags.push({ code, rule: RISK_RULES[code], evidence });

  const { usage } = signals;
  const change = usageChange(usage.currentEvents, usage.priorEvents);
  if (change !== null && isUsageDecline(change)) {
    raise("usage_decline", {
      window_days: usage.windowDays,
      current_events: usage.currentEvents,
      prior_events: usage.priorEvents,
      change_pct: percentChange(usage.currentEvents, usage.priorEvents) as number,
    });
  }

  const { avgActiveUsers, licensedSeats } = signals.seats;
  if (avgActiveUsers !== null && licensedSeats > 0) {
    const utilization = avgActiveUsers / licensedSeats;
    if (utilization < RISK_THRESHOLDS.utilizationBelow) {
      raise("low_license_utilization", {
        avg_active_users: Math.round(avgActiveUsers * 100) / 100,
        licensed_seats: licensedSeats,
        utilization: Math.round(utilization * 1000) / 1000,
      });
    }
  }

  const { urgent, high } = signals.openTickets;
  if (urgent + high >= RISK_THRESHOLDS.highPriorityTickets) {
    raise("high_priority_tickets", { open_urgent: urgent, open_high: high });
  }

  const nps = signals.latestNps;
  if (nps && nps.score <= RISK_THRESHOLDS.detractorNpsAtMost) {
    raise("detractor_nps", { score: nps.score, responded_at: nps.respondedAt, response_id: nps.responseId });
  }

  const recentLeavers = signals.championsLeft
    .filter((c) => {
      const ago = daysFrom(c.leftAt, signals.asOf);
      return ago >= 0 && ago <= RISK_THRESHOLDS.championLeftWithinDays;
    })
    .sort((a, b) => (a.leftAt < b.leftAt ? 1 : a.leftAt > b.leftAt ? -1 : 0));
  const latestLeaver = recentLeavers[0];
  if (latestLeaver) {
    raise("champion_left", {
      champions_left: recentLeavers.length,
      latest_contact_id: latestLeaver.contactId,
      latest_left_at: latestLeaver.leftAt,
    });
  }

  const { band, score } = signals.health;
  if (signals.renewalDate !== null && (band === "red" || band === "yellow")) {
    const daysToRenewal = daysFrom(signals.asOf, signals.renewalDate);
    if (daysToRenewal >= 0 && daysToRenewal <= RISK_THRESHOLDS.renewalWithinDays) {
      raise("renewal_at_risk", {
        renewal_date: signals.renewalDate,
        days_to_renewal: daysToRenewal,
        health_band: band,
        health_score: score,
      });
    }
  }

  const daysSinceActivity = signals.lastActivityAt === null ? null : daysFrom(signals.lastActivityAt, signals.asOf);
  if (daysSinceActivity === null || daysSinceActivity > RISK_THRESHOLDS.noActivityDays) {
    raise("no_recent_activity", { last_activity_at: signals.lastActivityAt, days_since: daysSinceActivity });
  }

  return flags;
}
