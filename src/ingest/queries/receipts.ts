/**
 * The SQL of webhook receipts (`webhook_receipts`, one row per provider event) and of the
 * counters they move on their integration: recorded by the receiver, read and settled by the
 * `cs-events` consumer, requeued by the stale-receipt sweep. Receipt ids are bound as a JSON
 * array (`IN (SELECT value FROM json_each(?1))`).
 */
import { JSON_PAYLOAD_CHARS, jsonChunks } from "../../platform/db/json-chunks";
import type { WebhookProvider } from "../messages";

/**
 * Starts the `error` of a receipt the receiver could not enqueue. Such a receipt stays `queued`:
 * a redelivery takes it over, else the stale-receipt sweep enqueues it, so it is processed even
 * when the sender never retries.
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
 * Records a delivery's receipts and the integration's counters in one batch (one transaction).
 * Each receipt that is new is stored `queued` under its fresh id; one that an earlier delivery
 * could not enqueue (and the sweep has not enqueued since) is taken over under the id it has, so
 * a message that did reach the queue after all still names it; any other (a redelivery) is left
 * as it is. Returns the ids stored or taken over, which are the ones to enqueue.
 *
 * Receipts are bound as JSON arrays of at most {@link JSON_PAYLOAD_CHARS} characters; one whose
 * JSON is longer has its payload bound on its own, as the raw text (at most the 1 MiB body), since
 * escaping can make the JSON of a legal body larger than the 2 MB D1 takes in one value.
 */
export async function recordReceipts(
  db: D1Database,
  source: ReceiptSource,
  receipts: NewReceipt[],
  receivedAt: string,
): Promise<string[]> {
  const { workspaceId, integrationId, provider } = source;
  const upsert = db.prepare(
    // `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
    `INSERT INTO webhook_receipts (id, workspace_id, integration_id, provider, event_id, event_type, payload, status, received_at)
     SELECT e.value ->> 'receipt_id', ?1, ?2, ?3, e.value ->> 'event_id', e.value ->> 'event_type',
            coalesce(?6, e.value ->> 'payload'), 'queued', ?4
       FROM json_each(?5) AS e WHERE true
     ON CONFLICT (integration_id, event_id) DO UPDATE SET
       event_type = excluded.event_type, payload = excluded.payload, status = 'queued',
       received_at = excluded.received_at, processed_at = NULL, error = NULL
     WHERE webhook_receipts.status = 'queued' AND webhook_receipts.error LIKE '${ENQUEUE_FAILURE_PREFIX}%'
     RETURNING id`,
  );
  const small: NewReceipt[] = [];
  const large: NewReceipt[] = [];
  for (const row of receipts) (JSON.stringify(row).length > JSON_PAYLOAD_CHARS ? large : small).push(row);
  const upserts = [
    ...jsonChunks(small).map((chunk) => upsert.bind(workspaceId, integrationId, provider, receivedAt, chunk, null)),
    ...large.map(({ payload, ...row }) =>
      upsert.bind(workspaceId, integrationId, provider, receivedAt, JSON.stringify([row]), payload),
    ),
  ];
  // Taken-over receipts keep their id, so they are counted before the upsert takes them over.
  // `+status` keeps SQLite on the (integration, event) index rather than every queued receipt.
  const takenOver = jsonChunks([...new Set(receipts.map((row) => row.event_id))]).map((chunk) =>
    db
      .prepare(
        `UPDATE integrations SET accepted_count = accepted_count + (
           SELECT count(*) FROM webhook_receipts
            WHERE integration_id = ?1 AND event_id IN (SELECT value FROM json_each(?2))
              AND +status = 'queued' AND error LIKE '${ENQUEUE_FAILURE_PREFIX}%')
          WHERE id = ?1`,
      )
      .bind(integrationId, chunk),
  );
  const freshIds = jsonChunks(receipts.map((row) => row.receipt_id));
  const inserted = (freshIds.length > 0 ? freshIds : ["[]"]).map((chunk) =>
    db
      .prepare(
        `UPDATE integrations SET last_received_at = ?2,
         accepted_count = accepted_count + (SELECT count(*) FROM webhook_receipts WHERE id IN (SELECT value FROM json_each(?3)))
       WHERE id = ?1`,
      )
      .bind(integrationId, receivedAt, chunk),
  );
  const results = await db.batch<{ id: string }>([...takenOver, ...upserts, ...inserted]);
  return results
    .slice(takenOver.length, takenOver.length + upserts.length)
    .flatMap((result) => result.results.map((row) => row.id));
}

/**
 * Records on receipts still `queued` why they could not be enqueued (`error`, starting with
 * {@link ENQUEUE_FAILURE_PREFIX}) and moves their count from accepted to failed, in one batch.
 * They stay `queued`, for the sender's retry or the stale-receipt sweep.
 */
export async function failUnsentReceipts(
  db: D1Database,
  integrationId: string,
  receiptIds: string[],
  error: string,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        // `+status`: found by id, not among every queued receipt.
        "UPDATE webhook_receipts SET error = ?2 WHERE id IN (SELECT value FROM json_each(?1)) AND +status = 'queued'",
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
 * receipt first fails in the consumer, not on each retry (a failure to enqueue it counted
 * apart).
 */
export function receiptFailureStatements(
  db: D1Database,
  failed: { receipt: { id: string }; error: string }[],
): D1PreparedStatement[] {
  if (failed.length === 0) return [];
  const rows = JSON.stringify(failed.map(({ receipt, error }) => ({ id: receipt.id, error })));
  return [
    // Unary `+`: the failed receipts are found by id, not among every queued receipt or every one of the integration.
    db
      .prepare(
        `UPDATE integrations SET failed_count = failed_count + (
           SELECT count(*) FROM webhook_receipts r
            WHERE +r.integration_id = integrations.id AND +r.status = 'queued'
              AND r.id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)))
          WHERE id IN (SELECT r.integration_id FROM webhook_receipts r
                        WHERE +r.status = 'queued' AND r.id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)))`,
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

/**
 * Claims an integration's stale receipts for the sweep to enqueue: those still `queued` get
 * `requeued_at` and lose a not-enqueued error (so a redelivery no longer takes them over), and
 * the ones the receiver had counted failed as not enqueued count as accepted again, in one
 * batch. Returns the ids claimed: a receipt a redelivery took over meanwhile has a new id and is
 * not among them (the receiver enqueued it).
 */
export async function claimStaleReceipts(
  db: D1Database,
  integrationId: string,
  receiptIds: string[],
  requeuedAt: string,
): Promise<string[]> {
  const ids = JSON.stringify(receiptIds);
  // `+status`: found by id, not among every queued receipt.
  const [, claimed] = await db.batch<{ id: string }>([
    db
      .prepare(
        `UPDATE integrations SET accepted_count = accepted_count + (
           SELECT count(*) FROM webhook_receipts
            WHERE id IN (SELECT value FROM json_each(?2)) AND +status = 'queued' AND error LIKE '${ENQUEUE_FAILURE_PREFIX}%')
          WHERE id = ?1`,
      )
      .bind(integrationId, ids),
    db
      .prepare(
        `UPDATE webhook_receipts SET requeued_at = ?2, error = NULL
          WHERE id IN (SELECT value FROM json_each(?1)) AND +status = 'queued' RETURNING id`,
      )
      .bind(ids, requeuedAt),
  ]);
  return claimed?.results.map((row) => row.id) ?? [];
}
