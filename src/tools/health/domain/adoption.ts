/** Feature adoption figures from account-feature rollups, computed over plain rows. */

import { median } from "../../../platform/lib/stats";
import { daysBetween } from "../../../platform/lib/time";

/** One account's use of one feature in the window. */
export interface AdopterRow {
  account_id: string;
  /** Feature events in the window. */
  events: number;
  /** Days in the window with feature events. */
  active_days: number;
  /** First day with feature events, kept after the rollups are purged (may precede the window). */
  first_day: string;
  /** The account's `customer_since`, else its first usage day; null when neither is known. */
  start_day: string | null;
  health_score: number | null;
  status: string;
}

/** Counts over a group of accounts: how many, how many scored, their score sum, how many churned. */
export interface GroupTotals {
  accounts: number;
  scored: number;
  score_sum: number;
  churned: number;
}

/** Health and retention of a group of accounts. */
export interface GroupStats {
  accounts: number;
  scored_accounts: number;
  mean_health_score: number | null;
  churned: number;
  churned_share: number | null;
}

/** One feature's adoption over the active accounts. */
export interface FeatureAdoption {
  adopters: number;
  active_accounts: number;
  adoption_rate: number | null;
  /** Mean over adopters of (feature events / days the feature was used). */
  depth: number | null;
  time_to_adopt_median_days: number | null;
  time_to_adopt_counted: number;
  adopter_stats: GroupStats;
  non_adopter_stats: GroupStats;
}

function stats(t: GroupTotals): GroupStats {
  return {
    accounts: t.accounts,
    scored_accounts: t.scored,
    mean_health_score: t.scored > 0 ? t.score_sum / t.scored : null,
    churned: t.churned,
    churned_share: t.accounts > 0 ? t.churned / t.accounts : null,
  };
}

/**
 * One feature's adopters summed up: the group counts, the sum and count of per-adopter depth
 * (feature events / days used), and the days to adopt of adopters with a start day.
 */
export interface AdopterTotals extends GroupTotals {
  depth_sum: number;
  depth_counted: number;
  days_to_adopt: number[];
}

/** Sums adopter rows into {@link AdopterTotals}; a first use before the start counts as 0 days. */
export function adopterTotals(adopters: readonly AdopterRow[]): AdopterTotals {
  const totals: AdopterTotals = {
    accounts: adopters.length,
    scored: 0,
    score_sum: 0,
    churned: 0,
    depth_sum: 0,
    depth_counted: 0,
    days_to_adopt: [],
  };
  for (const row of adopters) {
    if (row.health_score !== null) {
      totals.scored += 1;
      totals.score_sum += row.health_score;
    }
    if (row.status === "churned") totals.churned += 1;
    if (row.active_days > 0) {
      totals.depth_sum += row.events / row.active_days;
      totals.depth_counted += 1;
    }
    if (row.start_day) totals.days_to_adopt.push(Math.max(0, daysBetween(row.start_day, row.first_day)));
  }
  return totals;
}

/**
 * Adoption of one feature from its adopters' totals. `active` totals cover every active account
 * (adopters included), so non-adopters are the difference.
 */
export function adoptionFromTotals(own: AdopterTotals, active: GroupTotals): FeatureAdoption {
  const rest: GroupTotals = {
    accounts: active.accounts - own.accounts,
    scored: active.scored - own.scored,
    score_sum: active.score_sum - own.score_sum,
    churned: active.churned - own.churned,
  };
  return {
    adopters: own.accounts,
    active_accounts: active.accounts,
    adoption_rate: active.accounts > 0 ? own.accounts / active.accounts : null,
    depth: own.depth_counted > 0 ? own.depth_sum / own.depth_counted : null,
    time_to_adopt_median_days: median(own.days_to_adopt),
    time_to_adopt_counted: own.days_to_adopt.length,
    adopter_stats: stats(own),
    non_adopter_stats: stats(rest),
  };
}

/**
 * Adoption of one feature from one row per adopter. Time to adopt is measured from `start_day`
 * to `first_day`; a first use before the start counts as 0 days.
 */
export function featureAdoption(adopters: readonly AdopterRow[], active: GroupTotals): FeatureAdoption {
  return adoptionFromTotals(adopterTotals(adopters), active);
}

/** A feature the account has not used that peers use. */
export interface FeatureGap {
  feature: string;
  peers_using: number;
  peer_share: number;
}

/** Features whose share of peers using them is at least `thresholdPct`, most used first. */
export function featureGaps(
  peerUse: readonly { feature: string; peers_using: number }[],
  peers: number,
  thresholdPct: number,
): FeatureGap[] {
  if (peers === 0) return [];
  return peerUse
    .map((p) => ({ feature: p.feature, peers_using: p.peers_using, peer_share: p.peers_using / peers }))
    .filter((p) => p.peer_share * 100 >= thresholdPct)
    .sort((a, b) => b.peer_share - a.peer_share || a.feature.localeCompare(b.feature));
}
