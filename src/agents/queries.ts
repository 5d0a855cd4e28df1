/**
 * The D1 statements of an AccountAgent's flush: absolute per-day counters of one account written
 * over `usage_daily` and `usage_feature_daily` (the agent's own SQLite storage is not here).
 */

/** One account-day as the flush writes it. */
export interface DailyUsageRow {
  day: string;
  events: number;
  active_users: number;
}

/** One account-feature-day as the flush writes it. */
export interface FeatureUsageRow extends DailyUsageRow {
  feature: string;
}

/** The upsert of an account's days into `usage_daily` (absolute values: writing twice is harmless). */
export function usageDailyStatement(
  db: D1Database,
  workspaceId: string,
  accountId: string,
  rows: DailyUsageRow[],
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage_daily (workspace_id, account_id, day, events, active_users)
             SELECT ?1, ?2, json_extract(value, '$.day'), json_extract(value, '$.events'), json_extract(value, '$.active_users')
               FROM json_each(?3) WHERE true
             ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET events = excluded.events, active_users = excluded.active_users`,
    )
    .bind(workspaceId, accountId, JSON.stringify(rows));
}

/** The upsert of an account's feature-days into `usage_feature_daily` (absolute values). */
export function usageFeatureDailyStatement(
  db: D1Database,
  workspaceId: string,
  accountId: string,
  rows: FeatureUsageRow[],
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage_feature_daily (workspace_id, account_id, day, feature, events, active_users)
               SELECT ?1, ?2, json_extract(value, '$.day'), json_extract(value, '$.feature'),
                      json_extract(value, '$.events'), json_extract(value, '$.active_users')
                 FROM json_each(?3) WHERE true
               ON CONFLICT (workspace_id, account_id, day, feature) DO UPDATE SET
                 events = excluded.events, active_users = excluded.active_users`,
    )
    .bind(workspaceId, accountId, JSON.stringify(rows));
}
