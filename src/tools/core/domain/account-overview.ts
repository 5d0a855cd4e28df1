/**
 * The account overview's sections, shaped from its stored rows: contracts and renewal, health
 * trend, usage windows, open tickets, touchpoints, opportunities, stakeholders and live usage.
 */
import type { AccountSnapshot } from "../../../agents/account-agent";
import { round } from "../../../platform/lib/stats";
import { addDays, daysBetween } from "../../../platform/lib/time";
import type { AccountOverviewRows } from "../queries/accounts";
import { percentChange } from "./risk-flags";

/** Length of each usage window, in complete days before today. */
export const USAGE_WINDOW_DAYS = 30;
/** Trend horizons for the health score, in days. */
export const HEALTH_TREND_DAYS = [7, 30] as const;
/** Champions who left within this many days are read for the risk rules. */
const CHAMPION_DAYS = 90;

/** A day range, both ends included (YYYY-MM-DD). */
export interface DayRange {
  from: string;
  to: string;
}

/** The overview's windows on `today`: the last 30 complete days, the 30 before, and the champion look-back. */
export function overviewWindows(today: string): { current: DayRange; prior: DayRange; championSince: string } {
  return {
    current: { from: addDays(today, -USAGE_WINDOW_DAYS), to: addDays(today, -1) },
    prior: { from: addDays(today, -2 * USAGE_WINDOW_DAYS), to: addDays(today, -USAGE_WINDOW_DAYS - 1) },
    championSince: addDays(today, -CHAMPION_DAYS),
  };
}

/** Active contracts with their items, ARR, licensed seats and the next renewal (earliest end). */
export function contractsSection(rows: AccountOverviewRows, today: string) {
  const active = rows.contracts.map((c) => ({
    id: c.id,
    external_id: c.external_id,
    start_date: c.start_date,
    end_date: c.end_date,
    days_left: daysBetween(today, c.end_date),
    auto_renew: c.auto_renew === 1,
    arr: c.arr,
    items: rows.items.filter((item) => item.contract_id === c.id).map(({ contract_id: _contract, ...item }) => item),
  }));
  const firstContract = active[0];
  return {
    active_count: rows.contracts[0]?.total_count ?? 0,
    arr: rows.contracts[0]?.total_arr ?? 0,
    licensed_seats: rows.licensedSeats,
    next_renewal: firstContract
      ? {
          contract_id: firstContract.id,
          date: firstContract.end_date,
          days_left: firstContract.days_left,
          auto_renew: firstContract.auto_renew,
        }
      : null,
    active,
  };
}

function parseComponents(stored: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** Health: the latest stored score with its components and its change over each trend horizon. */
export function healthSection(rows: AccountOverviewRows, today: string) {
  const latestHealth = rows.latestHealth;
  return {
    latest: latestHealth
      ? {
          day: latestHealth.day,
          score: latestHealth.score,
          band: latestHealth.band,
          age_days: daysBetween(latestHealth.day, today),
          model_version: latestHealth.model_version,
          components: parseComponents(latestHealth.components),
        }
      : null,
    trend: HEALTH_TREND_DAYS.map((days, i) => {
      const compared = latestHealth ? (rows.trend[i] ?? undefined) : undefined;
      return {
        days,
        compared_day: compared?.day ?? null,
        compared_score: compared?.score ?? null,
        change: compared && latestHealth ? round(latestHealth.score - compared.score, 2) : null,
      };
    }),
    note: latestHealth ? null : "No health score computed yet for this account.",
  };
}

/**
 * Usage of the current window against the prior one, and license utilization; also the current
 * window's unrounded average daily active users, which the risk rules read.
 */
export function usageSection(rows: AccountOverviewRows, windows: { current: DayRange; prior: DayRange }) {
  const usageWindow = (name: "current" | "prior", range: DayRange) => {
    const row = rows.usage.find((r) => r.usage_window === name);
    const days = row?.days ?? 0;
    return {
      ...range,
      days_counted: days,
      events: row?.events ?? 0,
      avg_active_users: days > 0 ? row!.active_user_days / days : null,
    };
  };
  const currentUsage = usageWindow("current", windows.current);
  const priorUsage = usageWindow("prior", windows.prior);
  const licensedSeats = rows.licensedSeats;
  const utilization =
    currentUsage.avg_active_users !== null && licensedSeats > 0 ? currentUsage.avg_active_users / licensedSeats : null;
  const usage = {
    window_days: USAGE_WINDOW_DAYS,
    current: {
      ...currentUsage,
      avg_active_users: currentUsage.avg_active_users === null ? null : round(currentUsage.avg_active_users, 2),
    },
    prior: {
      ...priorUsage,
      avg_active_users: priorUsage.avg_active_users === null ? null : round(priorUsage.avg_active_users, 2),
    },
    events_change_pct: percentChange(currentUsage.events, priorUsage.events),
    avg_active_users_change_pct:
      currentUsage.avg_active_users !== null && priorUsage.avg_active_users !== null
        ? percentChange(currentUsage.avg_active_users, priorUsage.avg_active_users)
        : null,
    licensed_seats: licensedSeats,
    license_utilization: utilization === null ? null : round(utilization, 3),
  };
  return { usage, currentAvgActiveUsers: currentUsage.avg_active_users };
}

/** Open tickets by priority and the oldest one's age. */
export function openTicketsSection(rows: AccountOverviewRows, today: string) {
  const byPriority = { urgent: 0, high: 0, normal: 0, low: 0 };
  for (const row of rows.openTicketsByPriority) byPriority[row.priority] = row.n;
  const oldest = rows.oldestOpenTicket;
  return {
    open_count: byPriority.urgent + byPriority.high + byPriority.normal + byPriority.low,
    by_priority: byPriority,
    oldest_open: oldest
      ? { ticket_id: oldest.id, created_at: oldest.created_at, age_days: daysBetween(oldest.created_at, today) }
      : null,
  };
}

/** Latest activities and emails; inbound items were written by the customer. */
export function touchpointsSection(rows: AccountOverviewRows, today: string) {
  const lastActivityAt = rows.activities[0]?.occurred_at ?? null;
  return {
    last_activity_at: lastActivityAt,
    days_since_last_activity: lastActivityAt ? daysBetween(lastActivityAt, today) : null,
    activities: rows.activities.map(({ subject, ...activity }) => ({
      ...activity,
      subject: activity.direction === "inbound" ? null : subject,
      customer_text: activity.direction === "inbound" ? { subject } : null,
    })),
    emails: rows.emails,
  };
}

/** Open opportunities with their count and total amount. */
export function opportunitiesSection(rows: AccountOverviewRows) {
  return {
    open_count: rows.opportunities[0]?.total_count ?? 0,
    open_amount: rows.opportunities[0]?.total_amount ?? 0,
    open: rows.opportunities.map(({ total_count: _count, total_amount: _amount, ...opportunity }) => opportunity),
  };
}

/** Contacts with their roles and whether they left. */
export function stakeholdersSection(rows: AccountOverviewRows) {
  return {
    total: rows.stakeholders[0]?.total_count ?? 0,
    contacts: rows.stakeholders.map((c) => ({
      id: c.id,
      name: c.name,
      email: c.email,
      title: c.title,
      role: c.role,
      is_champion: c.is_champion === 1,
      is_decision_maker: c.is_decision_maker === 1,
      left: c.left_at !== null,
      left_at: c.left_at,
      last_seen_at: c.last_seen_at,
    })),
  };
}

/** Today's live usage from the account's own state. */
export function liveSection(snapshot: AccountSnapshot) {
  return {
    day: snapshot.day,
    events_today: snapshot.eventsToday,
    active_users_today: snapshot.activeUsersToday,
    features_today: snapshot.featuresToday.map((f) => ({
      feature: f.feature,
      events: f.events,
      active_users: f.activeUsers,
    })),
    last_seen_at: snapshot.lastSeenAt,
    unflushed: snapshot.unflushed,
  };
}
