import { SqlParams } from "../../../platform/db/sql-params";
import { FEATURES_USED_SQL, fillSql } from "../../../records/usage";
import type { AdopterTotals, GroupTotals } from "../domain/adoption";

/**
 * The feature rollups track_feature_adoption reads: active accounts, features used, per-feature
 * adopter sums and an account's peers' feature use.
 */

/** Packs an account-feature's events and days to date in one integer: events × PACK + days. */
const PACK = 65536;

/** A window of whole UTC days, both ends included, optionally one segment's accounts only. */
export interface AdoptionWindow {
  from: string;
  to: string;
  segment?: string | undefined;
}

/** One feature's adopters summed in SQL: the {@link AdopterTotals} sums, days to adopt as comma-separated text. */
export interface AdopterSumsRow extends Omit<AdopterTotals, "days_to_adopt"> {
  feature: string;
  days_to_adopt: string | null;
}

/** The active-account scope: its bound values (`?1` workspace, `?2` from, `?3` to, then the segment) and SQL. */
interface ActiveScope {
  values: (string | number)[];
  from: string;
  to: string;
  rollupInSegment: string;
  accountInSegment: string;
  activeSql: string;
}

function activeScope(workspaceId: string, window: AdoptionWindow): ActiveScope {
  // Active accounts: an account-day usage rollup in the window, optionally one segment.
  const p = new SqlParams();
  p.add(workspaceId);
  const from = p.add(window.from);
  const to = p.add(window.to);
  const segmentParam = window.segment ? p.add(window.segment) : null;
  const rollupInSegment = segmentParam
    ? ` AND f.account_id IN (SELECT id FROM accounts WHERE workspace_id = ?1 AND segment = ${segmentParam})`
    : "";
  const accountInSegment = segmentParam ? ` AND a.segment = ${segmentParam}` : "";
  // Feature rollups come from the same events as account-day rollups, so the latter name every active account.
  // Probing each account's primary-key range reads one row per account, not every account-day of the window.
  const activeSql = `SELECT a.id AS account_id FROM accounts a WHERE a.workspace_id = ?1${accountInSegment}
        AND EXISTS (SELECT 1 FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id AND u.day BETWEEN ${from} AND ${to})`;
  return { values: [...p.values], from, to, rollupInSegment, accountInSegment, activeSql };
}

/**
 * The active accounts' totals (accounts, scored, score sum, churned) and one page of the features
 * with events in the window, by name after `after` (limit + 1 names, so the caller sees whether
 * more follow); `feature` keeps that one only.
 */
export async function activeTotalsAndFeatures(
  db: D1Database,
  workspaceId: string,
  options: AdoptionWindow & { feature?: string | undefined; after: string; limit: number },
): Promise<{ active: GroupTotals; features: string[] }> {
  const { values: baseValues, from, to, rollupInSegment, activeSql } = activeScope(workspaceId, options);
  const q = new SqlParams();
  for (const v of baseValues) q.add(v);
  const featureFilter = options.feature ? ` AND f.feature = ${q.add(options.feature)}` : "";
  const afterParam = q.add(options.after);
  const limitParam = q.add(options.limit + 1);

  const [totalsResult, featuresResult] = await db.batch([
    db
      .prepare(
        `SELECT count(*) AS accounts, count(a.health_score) AS scored, coalesce(sum(a.health_score), 0) AS score_sum,
                coalesce(sum(a.status = 'churned'), 0) AS churned
           FROM (${activeSql}) act JOIN accounts a ON a.workspace_id = ?1 AND a.id = act.account_id`,
      )
      .bind(...baseValues),
    db
      .prepare(
        `${fillSql(FEATURES_USED_SQL, { from, to, after: afterParam, scope: `${rollupInSegment}${featureFilter}` })}
          ORDER BY feature LIMIT ${limitParam}`,
      )
      .bind(...q.values),
  ]);
  return {
    active: totalsResult!.results[0] as unknown as GroupTotals,
    features: (featuresResult!.results as { feature: string }[]).map((f) => f.feature),
  };
}

/**
 * Adopters of each of `features` in the window (accounts of the segment when given), summed per
 * feature: counts, health and churn, depth sums and the days to adopt. Empty for no features.
 */
export async function adopterSums(
  db: D1Database,
  workspaceId: string,
  options: AdoptionWindow & { features: readonly string[] },
): Promise<AdopterSumsRow[]> {
  if (options.features.length === 0) return [];
  const { values: baseValues, from, to, accountInSegment } = activeScope(workspaceId, options);
  // Adopters of each feature of this page, summed per feature in SQL (tens of thousands of adopters
  // at scale). An account's events and active days in the window are the difference of the running
  // totals at its last day with events up to the window's end and just before its first day with
  // events in the window: two seeks, not a read of every day. Each seek yields both totals packed
  // in one integer (events × 65536 + days; days to date stay far below 65536), so the difference
  // unpacks into events and days. The account's feature first uses are read along its primary-key
  // range (the `+` keeps the page's names a filter, not one probe each). Days to adopt: whole days
  // from the start to the first use, 0 when the use came first, none without a start day.
  const fp = new SqlParams();
  for (const v of baseValues) fp.add(v);
  const names = fp.add(JSON.stringify(options.features));
  return (
    (
      await db
        .prepare(
          `WITH adopters AS MATERIALIZED (
               SELECT p.feature, p.first_day, a.health_score, a.status,
                      coalesce(substr(a.customer_since, 1, 10),
                        (SELECT min(u.day) FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id)) AS start_day,
                      (SELECT r.events_to_date * ${PACK} + r.days_to_date FROM usage_feature_running r
                        WHERE r.workspace_id = ?1 AND r.account_id = a.id AND r.feature = p.feature AND r.day <= ${to}
                        ORDER BY r.day DESC LIMIT 1)
                      - (SELECT (r.events_to_date - r.events) * ${PACK} + r.days_to_date - 1 FROM usage_feature_running r
                        WHERE r.workspace_id = ?1 AND r.account_id = a.id AND r.feature = p.feature
                          AND r.day BETWEEN ${from} AND ${to}
                        ORDER BY r.day LIMIT 1) AS in_window
                 FROM accounts a
                 CROSS JOIN feature_first_use p
                   ON p.workspace_id = ?1 AND p.account_id = a.id AND +p.feature IN (SELECT value FROM json_each(${names}))
                  AND p.first_day <= ${to}
                WHERE a.workspace_id = ?1${accountInSegment})
             SELECT feature, count(*) AS accounts, count(health_score) AS scored,
                    coalesce(sum(health_score), 0) AS score_sum, coalesce(sum(status = 'churned'), 0) AS churned,
                    coalesce(sum(CASE WHEN in_window % ${PACK} > 0
                                      THEN (in_window / ${PACK}) * 1.0 / (in_window % ${PACK}) END), 0) AS depth_sum,
                    coalesce(sum(in_window % ${PACK} > 0), 0) AS depth_counted,
                    group_concat(max(0, CAST(round(julianday(first_day) - julianday(start_day)) AS INTEGER))) AS days_to_adopt
               FROM adopters WHERE in_window IS NOT NULL
              GROUP BY feature`,
        )
        .bind(...fp.values)
        .all<AdopterSumsRow>()
    ).results ?? []
  );
}

/**
 * An account's active peers in the window (active accounts of its segment, all active accounts
 * when it has none; itself excluded) and, per feature it did not use in the window, how many of
 * them used it.
 */
export async function peerFeatureUse(
  db: D1Database,
  workspaceId: string,
  options: { from: string; to: string; accountId: string; segment: string | null },
): Promise<{ peers: number; use: { feature: string; peers_using: number }[] }> {
  const g = new SqlParams();
  g.add(workspaceId);
  const gFrom = g.add(options.from);
  const gTo = g.add(options.to);
  const self = g.add(options.accountId);
  const peerFilter = options.segment === null ? "" : ` AND a.segment = ${g.add(options.segment)}`;
  const peersSql = `SELECT a.id AS account_id FROM accounts a WHERE a.workspace_id = ?1 AND a.id <> ${self}${peerFilter}
          AND EXISTS (SELECT 1 FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id AND u.day BETWEEN ${gFrom} AND ${gTo})`;
  const [peerCount, peerUse] = await db.batch([
    db.prepare(`SELECT count(*) AS n FROM (${peersSql})`).bind(...g.values),
    db
      .prepare(
        // A peer used a feature in the window when one of its running-total rows falls in it (one seek).
        `SELECT p.feature, count(*) AS peers_using
             FROM (${peersSql}) peer
             CROSS JOIN feature_first_use p ON p.workspace_id = ?1 AND p.account_id = peer.account_id AND p.first_day <= ${gTo}
            WHERE EXISTS (SELECT 1 FROM usage_feature_running r WHERE r.workspace_id = ?1 AND r.account_id = p.account_id
                    AND r.feature = p.feature AND r.day BETWEEN ${gFrom} AND ${gTo})
              AND p.feature NOT IN (SELECT feature FROM usage_feature_daily
                    WHERE workspace_id = ?1 AND account_id = ${self} AND day BETWEEN ${gFrom} AND ${gTo} AND events > 0)
            GROUP BY p.feature`,
      )
      .bind(...g.values),
  ]);
  return {
    peers: (peerCount!.results[0] as { n: number }).n,
    use: peerUse!.results as { feature: string; peers_using: number }[],
  };
}
