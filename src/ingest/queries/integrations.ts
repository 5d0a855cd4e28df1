/** The SQL the webhook receiver runs on the integration a delivery names (before any receipt exists). */

/** An integration as the receiver needs it to verify a delivery. */
export interface WebhookIntegrationRow {
  id: string;
  workspace_id: string;
  provider: string;
  status: "active" | "disabled";
  secret_ciphertext: string;
  rotated_at: string | null;
}

/** The integration with this id, of any workspace and status, or null. */
export async function findWebhookIntegration(
  db: D1Database,
  integrationId: string,
): Promise<WebhookIntegrationRow | null> {
  return db
    .prepare("SELECT id, workspace_id, provider, status, secret_ciphertext, rotated_at FROM integrations WHERE id = ?1")
    .bind(integrationId)
    .first<WebhookIntegrationRow>();
}

/** Counts one refused delivery on the integration (`rejected_count`), so its status shows it. */
export async function countRejectedDelivery(db: D1Database, integrationId: string): Promise<void> {
  await db
    .prepare("UPDATE integrations SET rejected_count = rejected_count + 1 WHERE id = ?1")
    .bind(integrationId)
    .run();
}

/** Records that the integration received a delivery at `receivedAt` (a ping: nothing to store). */
export async function touchIntegrationReceived(
  db: D1Database,
  integrationId: string,
  receivedAt: string,
): Promise<void> {
  await db.prepare("UPDATE integrations SET last_received_at = ?2 WHERE id = ?1").bind(integrationId, receivedAt).run();
}
