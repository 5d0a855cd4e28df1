/**
 * Usage rollups of one account: an account-day row for every day with activity over its whole
 * life, and feature-day rows for the recent window whose events add up to the account-day events.
 */
import { seatsOn } from "./account";
import { FEATURES, type Feature } from "./catalog";
import type { SeedContext } from "./context";
import { type AccountProfile, demand, lastActiveDay, termOn } from "./profile";
import { Rng } from "./random";
import type { UsageDailyRow, UsageFeatureDailyRow } from "./rows";

/** Days (ending yesterday) that get feature-level rows. */
export const FEATURE_WINDOW_DAYS = 120;

/** Activity by weekday relative to a working day (Sunday first). */
const WEEKDAY_FACTOR = [0.07, 1, 1.02, 1.02, 1, 0.9, 0.1] as const;

/** Features everyone uses from day one; others are adopted later, and some never. */
const CORE_FEATURES = new Set(["dashboards", "reports"]);

interface FeatureUse {
  feature: Feature;
  /** First day the account uses it (when its product is on the contract). */
  from: number;
  /** Day it was abandoned (declining accounts), if ever. */
  until: number | null;
}

/** Generates the account's usage rollups. */
export function usageRows(
  ctx: SeedContext,
  p: AccountProfile,
): { daily: UsageDailyRow[]; features: UsageFeatureDailyRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:usage`);
  const uses = featureAdoption(ctx, p);
  const daily: UsageDailyRow[] = [];
  const features: UsageFeatureDailyRow[] = [];
  const last = lastActiveDay(p);
  for (let day = p.customerSince; day <= last; day++) {
    const seats = seatsOn(p, day);
    const noise = Math.exp(0.07 * rng.normal());
    let active = Math.min(seats, Math.round(demand(p, ctx.cal, day) * WEEKDAY_FACTOR[ctx.cal.weekday(day)]! * noise));
    // The value event happened that day, so someone was active.
    if (day === p.valueDay) active = Math.max(active, 1);
    if (active <= 0) continue;
    // Declining accounts also use the product less deeply, not only with fewer people.
    const depth = p.declineStart !== null && day >= p.declineStart ? 0.75 : 1;
    const events = Math.max(active, Math.round(active * p.eventsPerUser * depth * Math.exp(0.12 * rng.normal())));
    const sessions = Math.max(active, Math.round(active * p.sessionsPerUser * Math.exp(0.08 * rng.normal())));
    const dayText = ctx.cal.day(day);
    daily.push({
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      day: dayText,
      events,
      active_users: active,
      sessions,
    });
    if (day >= -FEATURE_WINDOW_DAYS) {
      splitByFeature(rng, p, uses, day, events, active, (feature, featureEvents, featureUsers) =>
        features.push({
          workspace_id: ctx.workspaceId,
          account_id: p.id,
          day: dayText,
          feature,
          events: featureEvents,
          active_users: featureUsers,
        }),
      );
    }
  }
  return { daily, features };
}

function featureAdoption(ctx: SeedContext, p: AccountProfile): FeatureUse[] {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:features`);
  const adoptChance: Record<AccountProfile["trajectory"], number> = {
    healthy: 0.8,
    growing: 0.9,
    declining: 0.6,
    seasonal: 0.7,
    churned: 0.55,
    onboarding: 0.75,
  };
  const uses: FeatureUse[] = [];
  for (const feature of FEATURES) {
    let from: number;
    if (CORE_FEATURES.has(feature.key)) from = p.customerSince;
    else if (feature.key === "report_shared") {
      if (p.valueDay === null) continue;
      from = p.valueDay;
    } else {
      if (!rng.chance(adoptChance[p.trajectory])) continue;
      from = p.customerSince + Math.round(rng.exponential(p.trajectory === "onboarding" ? 20 : 60));
    }
    const abandons = p.declineStart !== null && !CORE_FEATURES.has(feature.key) && rng.chance(0.6);
    uses.push({ feature, from, until: abandons && p.declineStart !== null ? p.declineStart + rng.int(10, 60) : null });
  }
  return uses;
}

/**
 * Splits a day's events across the features in use, in proportion to noisy weights, with the
 * rounding remainder handed out by largest fraction so the parts sum exactly to the total.
 */
function splitByFeature(
  rng: Rng,
  p: AccountProfile,
  uses: readonly FeatureUse[],
  day: number,
  events: number,
  active: number,
  emit: (feature: string, events: number, activeUsers: number) => void,
): void {
  const licensed = new Set(termOn(p, day)?.items.flatMap((i) => i.product.features) ?? []);
  const inUse = uses.filter((u) => day >= u.from && (u.until === null || day < u.until) && licensed.has(u.feature.key));
  const weights = inUse.map((u) => u.feature.weight * Math.exp(0.35 * rng.normal()));
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => (events * w) / total);
  const counts = shares.map(Math.floor);
  let remainder = events - counts.reduce((a, b) => a + b, 0);
  const order = shares.map((s, i) => ({ i, frac: s - Math.floor(s) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (remainder <= 0) break;
    counts[i]!++;
    remainder--;
  }
  if (day === p.valueDay) {
    // The value event must show in the data on its day: take one event from the largest feature.
    const shared = inUse.findIndex((u) => u.feature.key === "report_shared");
    if (shared >= 0 && counts[shared] === 0) {
      const largest = counts.indexOf(Math.max(...counts));
      counts[largest]!--;
      counts[shared]!++;
    }
  }
  inUse.forEach((u, i) => {
    const featureEvents = counts[i]!;
    if (featureEvents <= 0) return;
    const users = Math.round(active * u.feature.reach * Math.exp(0.2 * rng.normal()));
    emit(u.feature.key, featureEvents, Math.max(1, Math.min(active, featureEvents, users)));
  });
}
