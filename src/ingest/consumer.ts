/**
 * The `cs-events` consumer. Per batch: validate each reference message, load the receipts of
 * all of them in one query, skip receipts already processed (a redelivery is a no-op), normalize each payload
 * by provider, resolve references in one batch of reads, hand usage events to each account's
 * AccountAgent (one call per account, deduped there by receipt id), then write every row, the
 * receipts' outcome and the integrations' failure counts in one D1 batch. A receipt that cannot
 * be read, normalized or stored fails alone and fails its message: the message is retried (its
 * receipts already processed are skipped then) and ends in the dead-letter queue, while the
 * rest of the batch is written.
 */
import { accountAgentStub } from "../agents/account-agent-stub";
import { clock } from "../platform/lib/clock";
import type { QueueConsumer } from "../platform/queue/router";
import { loadIndexes } from "./lookup";
import { type EventMessage, eventMessageSchema, type WebhookProvider } from "./messages";
import { normalizeGeneric } from "./normalize/generic";
import { normalizeHubspot } from "./normalize/hubspot";
import { normalizeIntercom } from "./normalize/intercom";
import { normalizeSegment } from "./normalize/segment";
import { normalizeSendgrid } from "./normalize/sendgrid";
import { normalizeStripe } from "./normalize/stripe";
import { normalizeZendesk } from "./normalize/zendesk";
import { type MessagePlan, planMessage } from "./plan";
import { parseJson } from "./read";
import type { Change, Normalizer } from "./records";
import { planStatements } from "./write";

/** The normalizer of each provider. */
export const NORMALIZERS: Record<WebhookProvider, Normalizer> = {
  segment: normalizeSegment,
  zendesk: normalizeZendesk,
  intercom: normalizeIntercom,
  hubspot: normalizeHubspot,
  stripe: normalizeStripe,
  sendgrid: normalizeSendgrid,
  generic: normalizeGeneric,
};

interface ReceiptRow {
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

/** A receipt being processed in this batch, with the message that refers to it. */
interface Work {
  messageId: string;
  body: EventMessage;
  receipt: ReceiptRow;
  changes: Change[];
  plan?: MessagePlan;
}

/** What one batch did, for the log line and tests. */
export interface EventBatchOutcome {
  failures: Map<string, unknown>;
  processed: number;
  /** Receipts already processed, or repeated within the batch. */
  duplicates: number;
  /** Usage events for accounts that are not known (yet): counted, not failed. */
  skippedUsage: number;
  /** Email events about messages not in the outbox (their suppressions still apply). */
  unmatchedEmails: number;
}

/** The consumer registered for `cs-events`. */
export const consumeEvents: QueueConsumer = async (messages, env) => (await processEvents(messages, env)).failures;

/** Processes one batch of `cs-events` messages; see the module comment. */
export async function processEvents(messages: readonly Message<unknown>[], env: Env): Promise<EventBatchOutcome> {
  const started = performance.now();
  const failures = new Map<string, unknown>();
  const outcome: EventBatchOutcome = { failures, processed: 0, duplicates: 0, skippedUsage: 0, unmatchedEmails: 0 };
  const valid: { messageId: string; body: EventMessage }[] = [];
  for (const message of messages) {
    const parsed = eventMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ messageId: message.id, body: parsed.data });
    else
      failures.set(
        message.id,
        new Error(`invalid cs-events message: ${parsed.error.issues[0]?.message ?? "unknown shape"}`),
      );
  }
  if (valid.length === 0) return outcome;

  const receipts = await loadReceipts(
    env.DB,
    valid.flatMap((v) => v.body.receiptIds),
  );
  const work: Work[] = [];
  const seen = new Set<string>();
  /** Failures of receipts that exist, recorded on the receipt. */
  const receiptFailures = new Map<string, { receipt: ReceiptRow; error: string }>();
  const fail = (messageId: string, error: unknown, receipt?: ReceiptRow) => {
    if (!failures.has(messageId)) failures.set(messageId, error);
    if (receipt) receiptFailures.set(receipt.id, { receipt, error: errorText(error) });
  };
  for (const { messageId, body } of valid) {
    for (const receiptId of body.receiptIds) {
      const receipt = receipts.get(receiptId);
      if (!receipt) {
        fail(messageId, new Error(`webhook receipt ${receiptId} not found`));
        continue;
      }
      if (receipt.integration_workspace_id === null) {
        fail(messageId, new Error(`integration ${receipt.integration_id} not found`), receipt);
        continue;
      }
      if (!matches(body, receipt)) {
        // Not recorded on the receipt: the message, not the receipt, is wrong.
        fail(
          messageId,
          new Error(`webhook receipt ${receipt.id} does not match the message's workspace, integration or provider`),
        );
        continue;
      }
      if (receipt.status === "processed" || seen.has(receipt.id)) {
        outcome.duplicates += 1;
        continue;
      }
      seen.add(receipt.id);
      try {
        if (receipt.payload === null) throw new Error(`webhook receipt ${receipt.id} has no payload`);
        const changes = NORMALIZERS[body.provider](parseJson(receipt.payload), {
          receivedAt: receipt.received_at,
          eventType: receipt.event_type,
        });
        work.push({ messageId, body, receipt, changes });
      } catch (error) {
        fail(messageId, error, receipt);
      }
    }
  }

  const changesByWorkspace = new Map<string, Change[]>();
  for (const item of work) {
    const list = changesByWorkspace.get(item.receipt.workspace_id) ?? [];
    list.push(...item.changes);
    changesByWorkspace.set(item.receipt.workspace_id, list);
  }
  const normalized = performance.now();
  const indexes = await loadIndexes(env.DB, changesByWorkspace);
  const planned: Work[] = [];
  for (const item of work) {
    const index = indexes.get(item.receipt.workspace_id);
    if (!index) continue;
    try {
      item.plan = await planMessage(item.receipt.workspace_id, item.receipt.id, item.changes, index);
      planned.push(item);
    } catch (error) {
      fail(item.messageId, error, item.receipt);
    }
  }

  // Usage goes to the agents before D1 marks the receipts processed: if a call fails, its
  // messages are retried, and the agents' dedupe makes the repeat harmless.
  const delivering = performance.now();
  const failedAccounts = await deliverUsage(env, planned);
  const delivered = performance.now();
  const writable = planned.filter((item) => {
    const error = item.plan?.usage.map((u) => failedAccounts.get(`${u.workspaceId}:${u.accountId}`)).find(Boolean);
    if (error) fail(item.messageId, error, item.receipt);
    return !error;
  });

  const now = clock.now().toISOString();
  const failureStatements = () => receiptFailureStatements(env.DB, [...receiptFailures.values()]);
  try {
    const statements = [
      ...planStatements(
        env.DB,
        writable.map((item) => item.plan as MessagePlan),
      ),
      ...processedStatements(
        env.DB,
        writable.map((item) => item.receipt.id),
        now,
      ),
      ...failureStatements(),
    ];
    if (statements.length > 0) await env.DB.batch(statements);
  } catch (batchError) {
    // One message's rows broke the batch: write each message alone so the others still land.
    console.error(JSON.stringify({ queue: "cs-events", batchError: errorText(batchError) }));
    const alone = [...writable];
    writable.length = 0;
    for (const item of alone) {
      try {
        await env.DB.batch([
          ...planStatements(env.DB, [item.plan as MessagePlan]),
          ...processedStatements(env.DB, [item.receipt.id], now),
        ]);
        writable.push(item);
      } catch (error) {
        fail(item.messageId, error, item.receipt);
      }
    }
    const statements = failureStatements();
    if (statements.length > 0) await env.DB.batch(statements);
  }
  for (const item of writable) {
    outcome.processed += 1;
    outcome.skippedUsage += item.plan?.skippedUsage ?? 0;
    outcome.unmatchedEmails += item.plan?.unmatchedEmails ?? 0;
  }
  console.log(
    JSON.stringify({
      queue: "cs-events",
      messages: messages.length,
      processed: outcome.processed,
      duplicates: outcome.duplicates,
      failed: failures.size,
      skipped_usage: outcome.skippedUsage,
      unmatched_emails: outcome.unmatchedEmails,
      ms: Math.round(performance.now() - started),
      load_ms: Math.round(normalized - started),
      plan_ms: Math.round(delivering - normalized),
      usage_ms: Math.round(delivered - delivering),
    }),
  );
  return outcome;
}

async function loadReceipts(db: D1Database, receiptIds: string[]): Promise<Map<string, ReceiptRow>> {
  const { results } = await db
    .prepare(
      `SELECT r.id, r.workspace_id, r.integration_id, r.provider, r.event_type, r.payload, r.status, r.received_at,
              i.workspace_id AS integration_workspace_id
         FROM webhook_receipts r LEFT JOIN integrations i ON i.id = r.integration_id
        WHERE r.id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify([...new Set(receiptIds)]))
    .all<ReceiptRow>();
  return new Map(results.map((row) => [row.id, row]));
}

/** Whether a message agrees with its receipt and the receipt with its integration (the tenant is the integration's). */
function matches(body: EventMessage, receipt: ReceiptRow): boolean {
  return (
    receipt.workspace_id === body.workspaceId &&
    receipt.integration_workspace_id === receipt.workspace_id &&
    receipt.integration_id === body.integrationId &&
    receipt.provider === body.provider
  );
}

/** Sends each account its events in one call; returns the error of each account whose call failed. */
async function deliverUsage(env: Env, planned: Work[]): Promise<Map<string, unknown>> {
  const byAgent = new Map<string, MessagePlan["usage"]>();
  for (const item of planned) {
    for (const usage of item.plan?.usage ?? []) {
      const name = `${usage.workspaceId}:${usage.accountId}`;
      const list = byAgent.get(name) ?? [];
      list.push(usage);
      byAgent.set(name, list);
    }
  }
  const failed = new Map<string, unknown>();
  await Promise.all(
    [...byAgent].map(async ([name, events]) => {
      try {
        const agent = await accountAgentStub(env, name);
        await agent.ingest(
          events.map(({ id, occurredAt, feature, userRef }) => ({ id, occurredAt, feature, userRef })),
        );
      } catch (error) {
        failed.set(name, error);
      }
    }),
  );
  return failed;
}

function processedStatements(db: D1Database, receiptIds: string[], now: string): D1PreparedStatement[] {
  if (receiptIds.length === 0) return [];
  return [
    db
      .prepare(
        `UPDATE webhook_receipts SET status = 'processed', processed_at = ?2, error = NULL
          WHERE id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(JSON.stringify(receiptIds), now),
  ];
}

/**
 * Marks receipts failed with their error. An integration's `failed_count` counts receipts that
 * failed at least once: it grows when a receipt first fails, not on each retry.
 */
function receiptFailureStatements(
  db: D1Database,
  failed: { receipt: ReceiptRow; error: string }[],
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

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}
