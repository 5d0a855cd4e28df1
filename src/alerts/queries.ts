/**
 * The SQL of Slack alerts: where a workspace's alerts go (its active `slack` integrations) and
 * which (alert, destination) pairs were already posted (`alert_deliveries`).
 */

/** Whether the workspace has an active `slack` integration. */
export async function hasActiveSlackIntegration(db: D1Database, workspaceId: string): Promise<boolean> {
  const integration = await db
    .prepare(
      "SELECT 1 AS found FROM integrations WHERE workspace_id = ?1 AND provider = 'slack' AND status = 'active' LIMIT 1",
    )
    .bind(workspaceId)
    .first<{ found: number }>();
  return integration !== null;
}

/** An active `slack` integration; its sealed secret is the incoming-webhook URL. */
export interface SlackIntegrationRow {
  id: string;
  workspace_id: string;
  secret_ciphertext: string;
}

/** The active `slack` integrations of the given workspaces, by id. */
export async function activeSlackIntegrations(db: D1Database, workspaceIds: string[]): Promise<SlackIntegrationRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, workspace_id, secret_ciphertext FROM integrations
      WHERE workspace_id IN (SELECT value FROM json_each(?1)) AND provider = 'slack' AND status = 'active'
      ORDER BY id`,
    )
    .bind(JSON.stringify(workspaceIds))
    .all<SlackIntegrationRow>();
  return results;
}

/** One (workspace, alert, destination) delivery. */
export interface AlertDelivery {
  workspaceId: string;
  /** The alert's idempotency key. */
  key: string;
  /** The integration id, or `env` for the deployment's SLACK_WEBHOOK_URL. */
  destination: string;
}

/** A delivery already recorded in `alert_deliveries`. */
export interface DeliveredAlertRow {
  workspace_id: string;
  idempotency_key: string;
  destination: string;
}

/** Which of the given deliveries are already recorded as posted. */
export async function deliveredAlerts(db: D1Database, deliveries: AlertDelivery[]): Promise<DeliveredAlertRow[]> {
  const { results } = await db
    .prepare(
      `SELECT d.workspace_id, d.idempotency_key, d.destination FROM json_each(?1) j
       JOIN alert_deliveries d ON d.workspace_id = json_extract(j.value, '$[0]')
        AND d.idempotency_key = json_extract(j.value, '$[1]') AND d.destination = json_extract(j.value, '$[2]')`,
    )
    .bind(JSON.stringify(deliveries.map((d) => [d.workspaceId, d.key, d.destination])))
    .all<DeliveredAlertRow>();
  return results;
}

/** Records the given deliveries as posted at `deliveredAt` (one already recorded is kept). */
export async function recordAlertDeliveries(
  db: D1Database,
  deliveries: AlertDelivery[],
  deliveredAt: string,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO alert_deliveries (workspace_id, idempotency_key, destination, delivered_at)
       SELECT json_extract(value, '$.workspaceId'), json_extract(value, '$.key'), json_extract(value, '$.destination'), ?2
         FROM json_each(?1) WHERE true
       ON CONFLICT (workspace_id, idempotency_key, destination) DO NOTHING`,
    )
    .bind(JSON.stringify(deliveries), deliveredAt)
    .run();
}
