/**
 * Usage and engagement metrics over daily rollups (account-day or workspace-day rows). Daily
 * rollups hold a distinct-user count per day only, so weekly and monthly distinct users cannot
 * be recovered exactly; the proxies below say what they are.
 */

import { isoWeekMonday } from "../../../platform/lib/iso-week";
import { addDays } from "../../../platform/lib/time";

/** One day of a usage rollup. */
export interface UsageDay {
  day: string;
  active_users: number;
  events: number;
  sessions: number;
}

/** DAU/WAU/MAU and totals of one series of days. */
export interface UsageSummary {
  days_with_data: number;
  events: number;
  sessions: number;
  /** Mean daily active users over the days with data. */
  dau: number | null;
  /** Mean over ISO weeks with data of the week's highest daily active users. */
  wau: number | null;
  /** Highest daily active users in the window. */
  mau: number | null;
  /** DAU / MAU. */
  stickiness: number | null;
}

/** Summarizes a series of rollup days (any order; each day at most once). */
export function summarizeUsage(days: readonly UsageDay[]): UsageSummary {
  if (days.length === 0) {
    return { days_with_data: 0, events: 0, sessions: 0, dau: null, wau: null, mau: null, stickiness: null };
  }
  let users = 0;
  let events = 0;
  let sessions = 0;
  let mau = 0;
  const weekMax = new Map<string, number>();
  for (const d of days) {
    users += d.active_users;
    events += d.events;
    sessions += d.sessions;
    mau = Math.max(mau, d.active_users);
    const week = isoWeekMonday(d.day);
    weekMax.set(week, Math.max(weekMax.get(week) ?? 0, d.active_users));
  }
  const dau = users / days.length;
  const wau = [...weekMax.values()].reduce((a, b) => a + b, 0) / weekMax.size;
  return {
    days_with_data: days.length,
    events,
    sessions,
    dau,
    wau,
    mau,
    stickiness: mau > 0 ? dau / mau : null,
  };
}

/** Relative change in percent from `prior` to `current`; null when there is no prior base. */
export function changePct(current: number | null, prior: number | null): number | null {
  if (current === null || prior === null || prior === 0) return null;
  return ((current - prior) / prior) * 100;
}

/** Average active users per licensed seat; null without seats or usage. */
export function licenseUtilization(dau: number | null, seats: number): number | null {
  return dau === null || seats <= 0 ? null : dau / seats;
}

/** A window of whole UTC days, both ends included. */
export interface DayWindow {
  from: string;
  to: string;
  days: number;
}

/**
 * The `days`-day window ending on `to` (default: yesterday, the last complete day) and the
 * window of the same length just before it.
 */
export function usageWindows(today: string, days: number, to?: string): { current: DayWindow; prior: DayWindow } {
  const end = to ?? addDays(today, -1);
  const from = addDays(end, -(days - 1));
  return {
    current: { from, to: end, days },
    prior: { from: addDays(from, -days), to: addDays(from, -1), days },
  };
}
