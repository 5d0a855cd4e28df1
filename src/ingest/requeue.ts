import type { CronJob } from "../platform/queue/cron";
import { type EventMessage, webhookMessages } from "./messages";

/** A receipt still `queued` this long after it arrived (or was last requeued) is enqueued again. */
const STALE_AFTER_MS = 15 * 60_000;
const MAX_PER_RUN = 500;

interface StaleReceipt {
  id: string;
  workspace_id: string;
  integration_id: string;
  provider: EventMessage extends { provider: infer P } ? P : never;
}

/**
 * Recovers receipts that were stored but never reached the queue (the Worker stopped between
 * the two): the provider's retry is answered as a duplicate, so without this sweep the event
 * would never be processed. Enqueueing twice is harmless: the consumer skips processed receipts.
 */
export const requeueStaleReceipts: CronJob = {
  name: "requeue_stale_receipts",
  async run(env, scheduledTime) {
    const cutoff = new Date(scheduledTime.getTime() - STALE_AFTER_MS).toISOString();
    const { results } = await env.DB.prepare(
      `SELECT id, workspace_id, integration_id, provider FROM webhook_receipts
        WHERE status = 'queued' AND received_at < ?1 AND (requeued_at IS NULL OR requeued_at < ?1)
        ORDER BY received_at LIMIT ?2`,
    )
      .bind(cutoff, MAX_PER_RUN)
      .all<StaleReceipt>();
    const groups = new Map<string, StaleReceipt[]>();
    for (const receipt of results) {
      const key = `${receipt.workspace_id}\u0000${receipt.integration_id}\u0000${receipt.provider}`;
      const group = groups.get(key);
      if (group) group.push(receipt);
      else groups.set(key, [receipt]);
    }
    for (const receipts of groups.values()) {
      const { workspace_id, integration_id, provider } = receipts[0] as StaleReceipt;
      const ids = receipts.map((receipt) => receipt.id);
      const messages = webhookMessages(workspace_id, integration_id, provider, ids);
      for (let i = 0; i < messages.length; i += 100) {
        await env.EVENTS_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
      }
      await env.DB.prepare("UPDATE webhook_receipts SET requeued_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(ids), scheduledTime.toISOString())
        .run();
    }
    return { receipts_requeued: results.length };
  },
};
