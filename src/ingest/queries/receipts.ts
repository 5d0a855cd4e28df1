/**
 * The SQL of webhook receipts (`webhook_receipts`, one row per provider event) and of the
 * counters they move on their integration: recorded by the receiver, read and settled by the
 * `cs-events` consumer, requeued by the stale-receipt sweep. Receipt ids are bound as one JSON
 * array (`IN (SELECT value FROM json_each(?1))`).
 */
import type { WebhookProvider } from "../messages";

/**
 * Starts the `error` of a receipt the receiver could not enqueue: the only failed receipts a
 * redelivery takes over (no message was ever sent for them).
 */
export const ENQUEUE_FAILURE_PREFIX = "not enqueued: ";

/** One verified event of a delivery, under the receipt id it gets if it is new. */
export interface NewReceipt {
  receipt_id: string;
  event_id: string;
  event_type: string | null;
  payload: string;
}

/** Where a delivery's receipts come from. */
export interface ReceiptSource {
  workspaceId: string;
  integrationId: string;
  provider: WebhookProvider;
}

/**
 * Records a delivery's receipts and the integration's counters in one batch. Each receipt that
 * is new, or that an earlier delivery could not enqueue, is stored `queued` under its fresh id;
 * any other (a redelivery) is left as it is. Returns the ids stored, which are the ones to enqueue.
 */
export async function recordReceipts(
  db: D1Database,
  source: ReceiptSource,
  receipts: NewReceipt[],
  receivedAt: string,
): Promise<string[]> {
  const receiptIds = JSON.stringify(receipts.map((row) => row.receipt_id));
  const [inserted] = await db.batch<{ id: string }>([
    // `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
    db
      .prepare(
        `INSERT INTO webhook_receipts (id, workspace_id, integration_id, provider, event_id, event_type, payload, status, received_at)
       SELECT e.value ->> 'receipt_id', ?1, ?2, ?3, e.value ->> 'event_id', e.value ->> 'event_type', e.value ->> 'payload', 'queued', ?4
         FROM json_each(?5) AS e WHERE true
       ON CONFLICT (integration_id, event_id) DO UPDATE SET
         id = excluded.id, event_type = excluded.event_type, payload = excluded.payload, status = 'queued',
         received_at = excluded.received_at, processed_at = NULL, error = NULL
       WHERE webhook_receipts.status = 'failed' AND webhook_receipts.error LIKE '${ENQUEUE_FAILURE_PREFIX}%'
       RETURNING id`,
      )
      .bind(source.workspaceId, source.integrationId, source.provider, receivedAt, JSON.stringify(receipts)),
    db
      .prepare(
        `UPDATE integrations SET last_received_at = ?2,
         accepted_count = accepted_count + (SELECT count(*) FROM webhook_receipts WHERE id IN (SELECT value FROM json_each(?3)))
       WHERE id = ?1`,
      )
      .bind(source.integrationId, receivedAt, receiptIds),
  ]);
  return inserted?.results.map((row) => row.id) ?? [];
}

/** Marks receipts still `queued` failed with `error` and moves their count from accepted to failed, in one batch. */
export async function failUnsentReceipts(
  db: D1Database,
  integrationId: string,
  receiptIds: string[],
  error: string,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        "UPDATE webhook_receipts SET status = 'failed', error = ?2 WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'queued'",
      )
      .bind(JSON.stringify(receiptIds), error),
    db
      .prepare(
        "UPDATE integrations SET failed_count = failed_count + ?2, accepted_count = accepted_count - ?2 WHERE id = ?1",
      )
      .bind(integrationId, receiptIds.length),
  ]);
}

/** A stored receipt with the workspace of its integration (null when the integration is gone). */
export interface ReceiptRow {
  id: string;
  workspace_id: string;
  integration_id: string;
  provider: string;
  event_type: string | null;
  payload: string | null;
  status: "queued" | "processed" | "failed";
  received_at: string;
  integration_workspace_id: string | null;
}

/** The stored receipts among the given ids (each id once), in one read. */
export async function findReceipts(db: D1Database, receiptIds: string[]): Promise<ReceiptRow[]> {
  const { results } = await db
    .prepare(
      `SELECT r.id, r.workspace_id, r.integration_id, r.provider, r.event_type, r.payload, r.status, r.received_at,
              i.workspace_id AS integration_workspace_id
         FROM webhook_receipts r LEFT JOIN integrations i ON i.id = r.integration_id
        WHERE r.id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify([...new Set(receiptIds)]))
    .all<ReceiptRow>();
  return results;
}

/** The statement (none for no ids) that marks receipts processed at `processedAt`. */
export function processedStatements(db: D1Database, receiptIds: string[], processedAt: string): D1PreparedStatement[] {
  if (receiptIds.length === 0) return [];
  return [
    db
      .prepare(
        `UPDATE webhook_receipts SET status = 'processed', processed_at = ?2, error = NULL
          WHERE id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(JSON.stringify(receiptIds), processedAt),
  ];
}

/**
 * The statements (none for no failures) that mark receipts failed with their error. An
 * integration's `failed_count` counts receipts that failed at least once: it grows when a
 * receipt first fails, not on each retry.
 */
export function receiptFailureStatements(
  db: D1Database,
  failed: { receipt: { id: string }; error: string }[],
): D1PreparedStatement[] {
  if (failed.length === 0) return [];
  const rows = JSON.stringify(failed.map(({ receipt, error }) => ({ id: receipt.id, error })));
  return [
    db
      .prepare(
        `UPDATE integrations SET failed_count = failed_count + (
           SELECT count(*) FROM webhook_receipts r
            WHERE r.integration_id = integrations.id AND r.status = 'queued'
              AND r.id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)))
          WHERE id IN (SELECT r.integration_id FROM webhook_receipts r
                        WHERE r.status = 'queued' AND r.id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)))`,
      )
      .bind(rows),
    db
      .prepare(
        `UPDATE webhook_receipts SET status = 'failed', error = j.error
           FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.error') AS error FROM json_each(?1)) AS j
          WHERE webhook_receipts.id = j.id AND webhook_receipts.status != 'processed'`,
      )
      .bind(rows),
  ];
}

/** A receipt still waiting for the consumer. */
export interface StaleReceiptRow {
  id: string;
  workspace_id: string;
  integration_id: string;
  provider: WebhookProvider;
}

/** Up to `limit` receipts still `queued` that arrived (and were last requeued, if ever) before `cutoff`, oldest first. */
export async function findStaleReceipts(db: D1Database, cutoff: string, limit: number): Promise<StaleReceiptRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, workspace_id, integration_id, provider FROM webhook_receipts
        WHERE status = 'queued' AND received_at < ?1 AND (requeued_at IS NULL OR requeued_at < ?1)
        ORDER BY received_at LIMIT ?2`,
    )
    .bind(cutoff, limit)
    .all<StaleReceiptRow>();
  return results;
}

/** Records that the given receipts were enqueued again at `requeuedAt`. */
export async function markReceiptsRequeued(db: D1Database, receiptIds: string[], requeuedAt: string): Promise<void> {
  await db
    .prepare("UPDATE webhook_receipts SET requeued_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(receiptIds), requeuedAt)
    .run();
}
