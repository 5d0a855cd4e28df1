import type { CronJob } from "../platform/queue/cron";
import { webhookMessages } from "./messages";
import { claimStaleReceipts, findStaleReceipts, type StaleReceiptRow } from "./queries/receipts";

/** A receipt still `queued` this long after it arrived (or was last requeued) is enqueued again. */
const STALE_AFTER_MS = 15 * 60_000;
const MAX_PER_RUN = 500;

/**
 * Recovers receipts that were stored but never reached the queue: the Worker stopped between
 * the two, or the queue refused them and the sender did not retry (or its retry was answered
 * as a duplicate while the first copy was still being enqueued). Without this sweep such an
 * event would never be processed. Each group is claimed before it is sent, so a send that fails
 * leaves its receipts for a later sweep; enqueueing twice is harmless (the consumer skips
 * processed receipts).
 */
export const requeueStaleReceipts: CronJob = {
  name: "requeue_stale_receipts",
  async run(env, scheduledTime) {
    const cutoff = new Date(scheduledTime.getTime() - STALE_AFTER_MS).toISOString();
    const results = await findStaleReceipts(env.DB, cutoff, MAX_PER_RUN);
    const groups = new Map<string, StaleReceiptRow[]>();
    for (const receipt of results) {
      const key = `${receipt.workspace_id}\u0000${receipt.integration_id}\u0000${receipt.provider}`;
      const group = groups.get(key);
      if (group) group.push(receipt);
      else groups.set(key, [receipt]);
    }
    let requeued = 0;
    for (const receipts of groups.values()) {
      const { workspace_id, integration_id, provider } = receipts[0] as StaleReceiptRow;
      const ids = await claimStaleReceipts(
        env.DB,
        integration_id,
        receipts.map((receipt) => receipt.id),
        scheduledTime.toISOString(),
      );
      const messages = webhookMessages(workspace_id, integration_id, provider, ids);
      for (let i = 0; i < messages.length; i += 100) {
        await env.EVENTS_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
      }
      requeued += ids.length;
    }
    return { receipts_requeued: requeued };
  },
};
