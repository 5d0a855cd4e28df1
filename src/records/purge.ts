import { addDays, isoDay } from "../platform/lib/time";
import type { CronJob } from "../platform/queue/cron";

/** Rows deleted per statement, so one run never holds D1's single writer for long. */
const DELETE_CHUNK = 5_000;
const MAX_CHUNKS_PER_RUN = 200;

/**
 * Keeps D1 inside its size budget: raw usage events older than USAGE_EVENT_RETENTION_DAYS and
 * feature-day rollups older than USAGE_FEATURE_RETENTION_DAYS are deleted (account-day rollups
 * are kept for the whole history), as are idempotency keys older than one day and Slack alert
 * delivery records older than 30 days (an alert is not redelivered that late), and quota windows
 * older than two days.
 */
export const purgeExpiredDetail: CronJob = {
  name: "purge_expired_detail",
  order: 10,
  async run(env, scheduledTime) {
    const today = isoDay(scheduledTime);
    const eventCutoff = addDays(today, -Number(env.USAGE_EVENT_RETENTION_DAYS || 14));
    const featureCutoff = addDays(today, -Number(env.USAGE_FEATURE_RETENTION_DAYS || 400));
    const keyCutoff = new Date(scheduledTime.getTime() - 86_400_000).toISOString();
    const alertCutoff = new Date(scheduledTime.getTime() - 30 * 86_400_000).toISOString();
    const quotaCutoff = new Date(scheduledTime.getTime() - 2 * 86_400_000).toISOString();
    return {
      usage_events_deleted: await deleteInChunks(
        env.DB,
        "DELETE FROM usage_events WHERE rowid IN (SELECT rowid FROM usage_events WHERE occurred_at < ?1 LIMIT ?2)",
        eventCutoff,
      ),
      usage_feature_days_deleted: await deleteInChunks(
        env.DB,
        `DELETE FROM usage_feature_daily WHERE (workspace_id, account_id, day, feature) IN
           (SELECT workspace_id, account_id, day, feature FROM usage_feature_daily WHERE day < ?1 LIMIT ?2)`,
        featureCutoff,
      ),
      idempotency_keys_deleted: await deleteInChunks(
        env.DB,
        "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
        keyCutoff,
      ),
      alert_deliveries_deleted: await deleteInChunks(
        env.DB,
        `DELETE FROM alert_deliveries WHERE (workspace_id, idempotency_key, destination) IN
           (SELECT workspace_id, idempotency_key, destination FROM alert_deliveries WHERE delivered_at < ?1 LIMIT ?2)`,
        alertCutoff,
      ),
      quota_windows_deleted: await deleteInChunks(
        env.DB,
        `DELETE FROM quota_counters WHERE (workspace_id, kind, window_start) IN
           (SELECT workspace_id, kind, window_start FROM quota_counters WHERE window_start < ?1 LIMIT ?2)`,
        quotaCutoff,
      ),
      usage_event_cutoff: eventCutoff,
      usage_feature_cutoff: featureCutoff,
    };
  },
};

async function deleteInChunks(db: D1Database, statement: string, cutoff: string): Promise<number> {
  let total = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS_PER_RUN; chunk++) {
    // Counts the rows the statement deleted: meta.changes also counts rows its triggers change.
    const result = await db.prepare(`${statement} RETURNING 1`).bind(cutoff, DELETE_CHUNK).run();
    total += result.results.length;
    if (result.results.length < DELETE_CHUNK) break;
  }
  return total;
}
