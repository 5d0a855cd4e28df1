/**
 * Escalation service levels and resolution metrics (pure, no bindings). Times are ISO-8601
 * instants; durations are hours.
 */

import { mean, median, round } from "../../../platform/lib/stats";

/** Escalation severities, most urgent first. */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Hours to resolve, by severity (workspace setting `escalation_sla_hours`). */
export type SlaHours = Record<Severity, number>;

/** Share of the SLA window below which an unresolved escalation is at risk. */
export const AT_RISK_SHARE = 0.25;

const HOUR_MS = 3_600_000;

/** Hours from one instant to another (negative when `to` is earlier). */
export function hoursBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / HOUR_MS;
}

/** The SLA due time: the start of the SLA window (opening or reopening) + the severity's hours. */
export function slaDueAt(windowStart: string, severity: Severity, hours: SlaHours): string {
  return new Date(Date.parse(windowStart) + hours[severity] * HOUR_MS).toISOString();
}

/** Where an escalation stands against its SLA. */
export type SlaState = "on_track" | "at_risk" | "breached" | "met";

/** An escalation's SLA state and the hours left (negative once past due; at resolution for resolved ones). */
export interface SlaStatus {
  state: SlaState;
  hours_left: number;
}

/**
 * Unresolved: `breached` once `now` is past the due time, `at_risk` when less than
 * {@link AT_RISK_SHARE} of the window (window start → due) is left, else `on_track`.
 * Resolved: `met` when resolved at or before the due time, else `breached`; hours_left is
 * measured at the resolution.
 */
export function slaStatus(input: { windowStart: string; dueAt: string; now: string; resolvedAt: string | null }) {
  if (input.resolvedAt !== null) {
    const left = hoursBetween(input.resolvedAt, input.dueAt);
    return { state: left >= 0 ? "met" : "breached", hours_left: round(left) } satisfies SlaStatus;
  }
  const left = hoursBetween(input.now, input.dueAt);
  const window = hoursBetween(input.windowStart, input.dueAt);
  const state: SlaState = left < 0 ? "breached" : left < window * AT_RISK_SHARE ? "at_risk" : "on_track";
  return { state, hours_left: round(left) } satisfies SlaStatus;
}

/** One escalation as the statistics read it. */
export interface EscalationFacts {
  severity: Severity;
  status: "open" | "in_progress" | "resolved";
  opened_at: string;
  resolved_at: string | null;
  sla_due_at: string;
  reopen_count: number;
}

/** Counts and resolution times for one severity (or all). */
export interface SeverityStats {
  opened: number;
  resolved: number;
  /** Hours from opening to the (latest) resolution, over resolved escalations. */
  median_hours_to_resolve: number | null;
  mean_hours_to_resolve: number | null;
  /** Resolved at or before the SLA due time, in percent of resolved. */
  sla_met_pct: number | null;
}

/** Escalation statistics: per severity and overall, with the reopen rate. */
export interface EscalationStats {
  by_severity: Record<Severity, SeverityStats>;
  overall: SeverityStats;
  /** Escalations resolved at least once (resolved now, or reopened since). */
  ever_resolved: number;
  /** Of those, reopened at least once. */
  reopened: number;
  /** reopened / ever_resolved in percent. */
  reopen_rate_pct: number | null;
}

function severityStats(rows: readonly EscalationFacts[]): SeverityStats {
  const resolved = rows.filter((r) => r.status === "resolved" && r.resolved_at !== null);
  const hours = resolved.map((r) => hoursBetween(r.opened_at, r.resolved_at as string));
  const met = resolved.filter((r) => hoursBetween(r.resolved_at as string, r.sla_due_at) >= 0).length;
  const medianHours = median(hours);
  const meanHours = mean(hours);
  return {
    opened: rows.length,
    resolved: resolved.length,
    median_hours_to_resolve: medianHours === null ? null : round(medianHours),
    mean_hours_to_resolve: meanHours === null ? null : round(meanHours),
    sla_met_pct: resolved.length === 0 ? null : round((met / resolved.length) * 100),
  };
}

/**
 * Statistics over a set of escalations: time-to-resolve (opening → latest resolution) median
 * and mean, SLA met rate (resolved by the due time in force at resolution) and reopen rate
 * (reopened at least once / resolved at least once).
 */
export function escalationStats(rows: readonly EscalationFacts[]): EscalationStats {
  const by_severity = Object.fromEntries(
    SEVERITIES.map((severity) => [severity, severityStats(rows.filter((r) => r.severity === severity))]),
  ) as Record<Severity, SeverityStats>;
  const everResolved = rows.filter((r) => r.status === "resolved" || r.reopen_count > 0);
  const reopened = everResolved.filter((r) => r.reopen_count > 0).length;
  return {
    by_severity,
    overall: severityStats(rows),
    ever_resolved: everResolved.length,
    reopened,
    reopen_rate_pct: everResolved.length === 0 ? null : round((reopened / everResolved.length) * 100),
  };
}

/** Mean of scores with its count, the mean rounded to two decimals. */
export function meanWithCount(scores: readonly number[]): { mean: number | null; n: number } {
  return meanOf(
    scores.reduce((a, b) => a + b, 0),
    scores.length,
  );
}

/** Mean from a sum over `n` values with the count, the mean rounded to two decimals. */
export function meanOf(sum: number, n: number): { mean: number | null; n: number } {
  return n === 0 ? { mean: null, n: 0 } : { mean: round(sum / n), n };
}

/** An account's time window (after, until]: ISO instants compared as stored text. */
export interface AccountWindow {
  account_id: string;
  after: string;
  until: string;
}

/**
 * Windows merged per account where they overlap or touch, so an instant inside several of them
 * lies in exactly one: a response after two resolutions of the same account is counted once.
 */
export function mergeAccountWindows(windows: readonly AccountWindow[]): AccountWindow[] {
  const sorted = [...windows].sort((x, y) =>
    x.account_id < y.account_id
      ? -1
      : x.account_id > y.account_id
        ? 1
        : x.after < y.after
          ? -1
          : x.after > y.after
            ? 1
            : 0,
  );
  const merged: AccountWindow[] = [];
  for (const window of sorted) {
    const last = merged.at(-1);
    if (last && last.account_id === window.account_id && window.after <= last.until) {
      if (window.until > last.until) last.until = window.until;
    } else {
      merged.push({ ...window });
    }
  }
  return merged;
}

/**
 * The windows (resolution, resolution + `days`] of the resolved escalations, merged per account
 * (see {@link mergeAccountWindows}): where an account's CSAT answers count as post-resolution.
 */
export function postResolutionWindows(
  rows: readonly (Pick<EscalationFacts, "status" | "resolved_at"> & { account_id: string })[],
  days: number,
): AccountWindow[] {
  return mergeAccountWindows(
    rows
      .filter((r) => r.status === "resolved" && r.resolved_at)
      .map((r) => ({
        account_id: r.account_id,
        after: r.resolved_at as string,
        until: new Date(Date.parse(r.resolved_at as string) + days * 86_400_000).toISOString(),
      })),
  );
}
