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
import { normalizeGeneric } from "../integrations/generic/normalize";
import { normalizeHubspot } from "../integrations/hubspot/normalize";
import { normalizeIntercom } from "../integrations/intercom/normalize";
import { normalizeSegment } from "../integrations/segment/normalize";
import { normalizeSendgrid } from "../integrations/sendgrid/normalize";
import { normalizeStripe } from "../integrations/stripe/normalize";
import { normalizeZendesk } from "../integrations/zendesk/normalize";
import { clock } from "../platform/lib/clock";
import type { QueueConsumer } from "../platform/queue/router";
import { loadIndexes } from "./lookup";
import { type EventMessage, eventMessageSchema, type WebhookProvider } from "./messages";
import { type MessagePlan, planMessage } from "./plan";
import { findReceipts, processedStatements, type ReceiptRow, receiptFailureStatements } from "./queries/receipts";
import { planStatements } from "./queries/writes";
import { parseJson } from "./read";
import type { Change, Normalizer } from "./records";

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
  /** Row changes about an erased contact: dropped, not failed. */
  skippedErased: number;
  /** Email events about messages not in the outbox (their suppressions still apply). */
  unmatchedEmails: number;
  /** Usage events older than the account agents keep (their day is final in D1): counted, not failed. */
  expiredUsage: number;
}

/** The consumer registered for `cs-events`. */
export const consumeEvents: QueueConsumer = async (messages, env) => (await processEvents(messages, env)).failures;

/** The failures of one batch: the first error of each message, and the error recorded on each receipt that exists. */
class BatchFailures {
  readonly byMessage = new Map<string, unknown>();
  /** Failures of receipts that exist, recorded on the receipt. */
  readonly byReceipt = new Map<string, { receipt: ReceiptRow; error: string }>();

  fail(messageId: string, error: unknown, receipt?: ReceiptRow): void {
    if (!this.byMessage.has(messageId)) this.byMessage.set(messageId, error);
    if (receipt) this.byReceipt.set(receipt.id, { receipt, error: errorText(error) });
  }
}

/** A valid reference message of the batch. */
interface ValidMessage {
  messageId: string;
  body: EventMessage;
}

/** Processes one batch of `cs-events` messages; see the module comment. */
export async function processEvents(messages: readonly Message<unknown>[], env: Env): Promise<EventBatchOutcome> {
  const started = performance.now();
  const failures = new BatchFailures();
  const outcome: EventBatchOutcome = {
    failures: failures.byMessage,
    processed: 0,
    duplicates: 0,
    skippedUsage: 0,
    skippedErased: 0,
    unmatchedEmails: 0,
    expiredUsage: 0,
  };
  const valid = validMessages(messages, failures);
  if (valid.length === 0) return outcome;

  const receipts = await findReceipts(
    env.DB,
    valid.flatMap((v) => v.body.receiptIds),
  );
  const work = normalizeReceipts(valid, new Map(receipts.map((row) => [row.id, row])), failures, outcome);
  const changes = changesByWorkspace(work);
  const normalized = performance.now();
  const planned = await planWork(env.DB, work, changes, failures);

  // Usage goes to the agents before D1 marks the receipts processed: if a call fails, its
  // messages are retried, and the agents' dedupe makes the repeat harmless.
  const delivering = performance.now();
  const { failed: failedAccounts, expired } = await deliverUsage(env, planned);
  outcome.expiredUsage = expired;
  const delivered = performance.now();
  const writable = planned.filter((item) => {
    const error = item.plan?.usage.map((u) => failedAccounts.get(`${u.workspaceId}:${u.accountId}`)).find(Boolean);
    if (error) failures.fail(item.messageId, error, item.receipt);
    return !error;
  });

  for (const item of await writeWork(env.DB, writable, failures)) {
    outcome.processed += 1;
    outcome.skippedUsage += item.plan?.skippedUsage ?? 0;
    outcome.skippedErased += item.plan?.skippedErased ?? 0;
    outcome.unmatchedEmails += item.plan?.unmatchedEmails ?? 0;
  }
  console.log(
    JSON.stringify({
      queue: "cs-events",
      messages: messages.length,
      processed: outcome.processed,
      duplicates: outcome.duplicates,
      failed: failures.byMessage.size,
      skipped_usage: outcome.skippedUsage,
      skipped_erased: outcome.skippedErased,
      unmatched_emails: outcome.unmatchedEmails,
      expired_usage: outcome.expiredUsage,
      ms: Math.round(performance.now() - started),
      load_ms: Math.round(normalized - started),
      plan_ms: Math.round(delivering - normalized),
      usage_ms: Math.round(delivered - delivering),
    }),
  );
  return outcome;
}

/** The messages of the expected shape; each other one fails. */
function validMessages(messages: readonly Message<unknown>[], failures: BatchFailures): ValidMessage[] {
  const valid: ValidMessage[] = [];
  for (const message of messages) {
    const parsed = eventMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ messageId: message.id, body: parsed.data });
    else
      failures.byMessage.set(
        message.id,
        new Error(`invalid cs-events message: ${parsed.error.issues[0]?.message ?? "unknown shape"}`),
      );
  }
  return valid;
}

/**
 * Normalizes the payload of each receipt the messages refer to, once per batch. A missing
 * receipt, a receipt of another tenant than its message says, or a payload that cannot be
 * normalized fails its message; a receipt already processed (or repeated) counts as a duplicate.
 */
function normalizeReceipts(
  valid: ValidMessage[],
  receipts: Map<string, ReceiptRow>,
  failures: BatchFailures,
  outcome: EventBatchOutcome,
): Work[] {
  const work: Work[] = [];
  const seen = new Set<string>();
  for (const { messageId, body } of valid) {
    for (const receiptId of body.receiptIds) {
      const receipt = receipts.get(receiptId);
      if (!receipt) {
        failures.fail(messageId, new Error(`webhook receipt ${receiptId} not found`));
        continue;
      }
      if (receipt.integration_workspace_id === null) {
        failures.fail(messageId, new Error(`integration ${receipt.integration_id} not found`), receipt);
        continue;
      }
      if (!matches(body, receipt)) {
        // Not recorded on the receipt: the message, not the receipt, is wrong.
        failures.fail(
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
        failures.fail(messageId, error, receipt);
      }
    }
  }
  return work;
}

/** Every change of the batch, by the workspace of its receipt. */
function changesByWorkspace(work: Work[]): Map<string, Change[]> {
  const byWorkspace = new Map<string, Change[]>();
  for (const item of work) {
    const list = byWorkspace.get(item.receipt.workspace_id) ?? [];
    list.push(...item.changes);
    byWorkspace.set(item.receipt.workspace_id, list);
  }
  return byWorkspace;
}

/** Resolves the batch's references in one batch of reads and plans each receipt's changes; a refused change fails its message. */
async function planWork(
  db: D1Database,
  work: Work[],
  changes: Map<string, Change[]>,
  failures: BatchFailures,
): Promise<Work[]> {
  const indexes = await loadIndexes(db, changes);
  const planned: Work[] = [];
  for (const item of work) {
    try {
      // Never acked unplanned: a receipt without an index fails (and is retried) instead.
      const index = indexes.get(item.receipt.workspace_id);
      if (!index) throw new Error(`no lookup index was loaded for workspace ${item.receipt.workspace_id}`);
      item.plan = await planMessage(item.receipt.workspace_id, item.receipt.id, item.changes, index);
      planned.push(item);
    } catch (error) {
      failures.fail(item.messageId, error, item.receipt);
    }
  }
  return planned;
}

/**
 * Writes the planned rows, marks their receipts processed and records the failures, in one D1
 * batch. When that batch fails, one message's rows broke it: each message is then written alone
 * so the others still land, and the failures after them. Returns the items written.
 */
async function writeWork(db: D1Database, writable: Work[], failures: BatchFailures): Promise<Work[]> {
  const now = clock.now().toISOString();
  const failureStatements = () => receiptFailureStatements(db, [...failures.byReceipt.values()]);
  try {
    const statements = [
      ...planStatements(
        db,
        writable.map((item) => item.plan as MessagePlan),
        now,
      ),
      ...processedStatements(
        db,
        writable.map((item) => item.receipt.id),
        now,
      ),
      ...failureStatements(),
    ];
    if (statements.length > 0) await db.batch(statements);
    return writable;
  } catch (batchError) {
    console.error(JSON.stringify({ queue: "cs-events", batchError: errorText(batchError) }));
    const written: Work[] = [];
    for (const item of writable) {
      try {
        await db.batch([
          ...planStatements(db, [item.plan as MessagePlan], now),
          ...processedStatements(db, [item.receipt.id], now),
        ]);
        written.push(item);
      } catch (error) {
        failures.fail(item.messageId, error, item.receipt);
      }
    }
    const statements = failureStatements();
    if (statements.length > 0) await db.batch(statements);
    return written;
  }
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

/**
 * Sends each account its events in one call; returns the error of each account whose call
 * failed, and how many events the agents refused as older than they keep.
 */
async function deliverUsage(env: Env, planned: Work[]): Promise<{ failed: Map<string, unknown>; expired: number }> {
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
  let expired = 0;
  await Promise.all(
    [...byAgent].map(async ([name, events]) => {
      try {
        const agent = await accountAgentStub(env, name);
        const result = await agent.ingest(
          events.map(({ id, occurredAt, feature, userRef }) => ({ id, occurredAt, feature, userRef })),
        );
        expired += result.expired;
      } catch (error) {
        failed.set(name, error);
      }
    }),
  );
  return { failed, expired };
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}
