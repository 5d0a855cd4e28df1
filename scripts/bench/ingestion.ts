/**
 * Ingestion end to end: signed Segment batches posted to the webhook receiver until every event
 * is processed (its receipt `processed`: verified, recorded, queued, normalized and handed to
 * the account's Durable Object), against the storage floor: the same events written as raw
 * rows (a `webhook_receipts` row and a `usage_events` row each) into the same D1 file with
 * better-sqlite3, one transaction per batch, while wrangler is stopped.
 */
import Database from "better-sqlite3";
import { clock } from "../../src/platform/lib/clock";
import { FEATURES } from "../seed/catalog";
import { ratio, segmentSignature } from "./stats";
import type { Fixtures } from "./workspace";

/** One Segment `track` message. */
interface TrackEvent {
  type: "track";
  messageId: string;
  event: string;
  userId: string;
  context: { groupId: string };
  properties: Record<string, never>;
  timestamp: string;
}

/** The `i`-th event of a run tagged `tag`: accounts and features taken in turn. */
export function trackEvent(fixtures: Fixtures, i: number, tag: string, now: Date): TrackEvent {
  const account = fixtures.accounts[i % fixtures.accounts.length] as { externalId: string };
  return {
    type: "track",
    messageId: `bench-${tag}-${i}`,
    event: (FEATURES[i % FEATURES.length] as { key: string }).key,
    userId: `${account.externalId}-u${i % 7}`,
    context: { groupId: account.externalId },
    properties: {},
    // Within the last hour, so every event lands on today.
    timestamp: new Date(now.getTime() - (i % 3600) * 1000).toISOString(),
  };
}

/** The events of one run: `count` track calls spread over the sampled accounts and features. */
export function benchEvents(fixtures: Fixtures, count: number, tag: string, now = clock.now()): TrackEvent[] {
  return Array.from({ length: count }, (_, i) => trackEvent(fixtures, i, tag, now));
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The storage floor's figures. */
export interface IngestionFloor {
  events: number;
  batch_size: number;
  seconds: number;
  events_per_second: number;
  method: string;
}

/**
 * Writes the events as raw rows into the D1 file (WAL, SQLite's default synchronous=FULL, one
 * transaction per batch as the receiver gets them), times it, then deletes those rows again.
 */
export function ingestionFloor(
  file: string,
  fixtures: Fixtures,
  events: readonly TrackEvent[],
  batchSize: number,
): IngestionFloor {
  const accountOf = new Map(fixtures.accounts.map((a) => [a.externalId, a.id]));
  const db = new Database(file);
  const floorIntegration = "int_bench_floor";
  try {
    db.pragma("journal_mode = WAL");
    const receipt = db.prepare(
      `INSERT INTO webhook_receipts (id, workspace_id, integration_id, provider, event_id, event_type, payload, status, received_at, processed_at)
       VALUES (?, ?, ?, 'segment', ?, ?, ?, 'processed', ?, ?)`,
    );
    const usage = db.prepare(
      `INSERT INTO usage_events (id, workspace_id, account_id, user_ref, event, feature, occurred_at, message_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const writeBatch = db.transaction((batch: TrackEvent[]) => {
      const at = clock.now().toISOString();
      for (const e of batch) {
        receipt.run(
          `whr_floor_${e.messageId}`,
          fixtures.workspaceId,
          floorIntegration,
          e.messageId,
          e.type,
          JSON.stringify(e),
          at,
          at,
        );
        usage.run(
          `uev_floor_${e.messageId}`,
          fixtures.workspaceId,
          accountOf.get(e.context.groupId) ?? null,
          e.userId,
          e.event,
          e.event,
          e.timestamp,
          e.messageId,
        );
      }
    });
    const t0 = performance.now();
    for (const batch of batches(events, batchSize)) writeBatch(batch);
    const seconds = (performance.now() - t0) / 1000;
    db.transaction(() => {
      db.prepare("DELETE FROM webhook_receipts WHERE integration_id = ?").run(floorIntegration);
      db.prepare("DELETE FROM usage_events WHERE id LIKE 'uev_floor_%'").run();
    })();
    return {
      events: events.length,
      batch_size: batchSize,
      seconds,
      events_per_second: events.length / seconds,
      method:
        "better-sqlite3 on the local D1 file, wrangler stopped: per event one webhook_receipts and one usage_events row, one transaction per batch, WAL with synchronous=FULL",
    };
  } finally {
    db.close();
  }
}

/** The end-to-end figures. */
export interface IngestionResult {
  events: number;
  /** Distinct accounts the events are about. */
  accounts: number;
  batch_size: number;
  concurrency: number;
  posts: number;
  /** Events the receiver answered as accepted. */
  accepted: number;
  processed: number;
  failed: number;
  /** Until the last POST was answered (receipts recorded and queued). */
  accept_seconds: number;
  /** Until every receipt was processed or failed (or the timeout). */
  seconds: number;
  events_per_second: number;
  timed_out: boolean;
  floor: IngestionFloor;
  /** End-to-end rate over the floor's rate (target ≥ 0.5). */
  share_of_floor: number | null;
}

/** Counts receipts of the integration by status, reading the live D1 file (WAL: readers never block the server). */
export function receiptCounter(
  file: string,
  integrationId: string,
): { count(): { processed: number; failed: number }; close(): void } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const statement = db.prepare(
    "SELECT status, count(*) AS n FROM webhook_receipts WHERE integration_id = ? AND status != 'queued' GROUP BY status",
  );
  return {
    count() {
      const rows = statement.all(integrationId) as { status: string; n: number }[];
      const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
      return { processed: of("processed"), failed: of("failed") };
    },
    close: () => db.close(),
  };
}

/** Posts the events in signed batches, `concurrency` at a time, and waits until all are processed. */
export async function ingest(
  base: string,
  file: string,
  integrationId: string,
  secret: string,
  events: readonly TrackEvent[],
  options: { batchSize: number; concurrency: number; timeoutSeconds: number; floor: IngestionFloor },
): Promise<IngestionResult> {
  const url = `${base}/webhooks/segment/${integrationId}`;
  const queue = batches(events, options.batchSize);
  let accepted = 0;
  let posts = 0;
  const counter = receiptCounter(file, integrationId);
  // An earlier pass's receipts belong to the same integration: only this pass's count.
  const before = counter.count();
  const t0 = performance.now();
  const post = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      const body = JSON.stringify(batch);
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Signature": segmentSignature(secret, body) },
        body,
      });
      const answer = await response.text();
      if (!response.ok) throw new Error(`webhook answered ${response.status}: ${answer.slice(0, 300)}`);
      accepted += (JSON.parse(answer) as { accepted: number }).accepted;
      posts++;
    }
  };
  let acceptSeconds = 0;
  let counts = { processed: 0, failed: 0 };
  let timedOut = false;
  try {
    await Promise.all(Array.from({ length: options.concurrency }, post));
    acceptSeconds = (performance.now() - t0) / 1000;
    for (;;) {
      const now = counter.count();
      counts = { processed: now.processed - before.processed, failed: now.failed - before.failed };
      if (counts.processed + counts.failed >= accepted) break;
      if ((performance.now() - t0) / 1000 > options.timeoutSeconds) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    counter.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const rate = counts.processed / seconds;
  return {
    events: events.length,
    accounts: new Set(events.map((event) => event.context.groupId)).size,
    batch_size: options.batchSize,
    concurrency: options.concurrency,
    posts,
    accepted,
    processed: counts.processed,
    failed: counts.failed,
    accept_seconds: acceptSeconds,
    seconds,
    events_per_second: rate,
    timed_out: timedOut,
    floor: options.floor,
    share_of_floor: ratio(rate, options.floor.events_per_second),
  };
}
