import { z } from "zod";
import { clock } from "../platform/lib/clock";
import { defineJob } from "../platform/queue/jobs";
import { readSettings } from "../records/settings";
import { type EmailProvider, PermanentSendError, type SendReceipt } from "./provider";
import {
  claimDeliveryStatement,
  type DeliveryRow,
  findDeliveryRows,
  refuseDeliveryStatement,
  sendFailedStatement,
  sentDeliveryStatement,
} from "./queries";
import { emailProviderFor } from "./select-provider";

/** One `send_email` queue message. */
export interface SendEmailJob {
  /** The queue message id, the key of the returned failures. */
  messageId: string;
  workspaceId: string;
  outboxId: string;
}

/** Why a workspace's email cannot be sent (nor queued) yet. */
export const NO_SENDER =
  "No email sender is configured for this workspace: set email_sender (name and email) with configure_workspace.";

type Outcome = { ok: true } | { ok: false; error: unknown };

/** A row this delivery may send, with its sender. */
interface Claim {
  row: DeliveryRow;
  from: { email: string; name: string };
}

const keyOf = (workspaceId: string, outboxId: string) => `${workspaceId}\u0000${outboxId}`;

/**
 * Delivers the outbox rows named by a batch of `send_email` messages, with one read, one write
 * batch before sending and one after. Returns the error of each message to retry, by message id.
 *
 * A row that is no longer `queued` (already sent, suppressed, failed) is acknowledged: repeats
 * are no-ops. Suppression is checked again, since an unsubscribe may have arrived after queueing.
 * Each send first claims the row by advancing `attempts` from the value just read, so two
 * deliveries of the same message never both reach the provider. A permanent provider refusal
 * marks the row failed (not retried); anything else keeps it queued with the error and is
 * returned for the queue to retry, ending as a dead letter when retries run out.
 */
export async function deliverEmails(
  env: Env,
  jobs: readonly SendEmailJob[],
  now = clock.now(),
): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  if (jobs.length === 0) return failures;
  let provider: EmailProvider;
  try {
    provider = emailProviderFor(env);
  } catch (error) {
    for (const job of jobs) failures.set(job.messageId, error);
    return failures;
  }
  const rows = await findDeliveryRows(env.DB, jobs);
  const rowsByKey = new Map(rows.map((row) => [keyOf(row.workspace_id, row.id), row]));

  const outcomes = new Map<string, Outcome>();
  const { before, claims } = triage(env.DB, rowsByKey.values(), outcomes);
  const claimStatements = claims.map(({ row }) => claimDeliveryStatement(env.DB, row, provider.name));
  const claimResults = before.length + claims.length > 0 ? await env.DB.batch([...before, ...claimStatements]) : [];
  const claimed = claims.filter((_, i) => (claimResults[before.length + i]?.meta.changes ?? 0) === 1);
  // A claim lost to another delivery of the same message leaves that delivery to finish it.
  for (const { row } of claims) outcomes.set(keyOf(row.workspace_id, row.id), { ok: true });

  const sends = await Promise.allSettled(claimed.map((claim) => send(provider, claim)));
  const after = claimed.map(({ row }, i) => {
    const sent = sends[i] as PromiseSettledResult<SendReceipt>;
    if (sent.status === "fulfilled") {
      return sentDeliveryStatement(env.DB, row, sent.value.providerMessageId, now.toISOString());
    }
    const permanent = sent.reason instanceof PermanentSendError;
    if (!permanent) outcomes.set(keyOf(row.workspace_id, row.id), { ok: false, error: sent.reason });
    return sendFailedStatement(env.DB, row, errorText(sent.reason), permanent);
  });
  if (after.length > 0) await env.DB.batch(after);

  for (const job of jobs) {
    const outcome = outcomes.get(keyOf(job.workspaceId, job.outboxId));
    if (!outcome) {
      failures.set(job.messageId, new Error(`outbox message ${job.outboxId} does not exist in its workspace`));
    } else if (!outcome.ok) {
      failures.set(job.messageId, outcome.error);
    }
  }
  return failures;
}

/**
 * Sorts the rows read: one no longer `queued` is done; one suppressed, or of a workspace without
 * a sender, is ended unsent by a statement of `before`; the rest are to be claimed and sent.
 */
function triage(
  db: D1Database,
  rows: Iterable<DeliveryRow>,
  outcomes: Map<string, Outcome>,
): { before: D1PreparedStatement[]; claims: Claim[] } {
  const before: D1PreparedStatement[] = [];
  const claims: Claim[] = [];
  for (const row of rows) {
    const key = keyOf(row.workspace_id, row.id);
    if (row.status !== "queued") {
      outcomes.set(key, { ok: true });
      continue;
    }
    const sender = readSettings(JSON.parse(row.settings)).email_sender;
    if (row.suppression || !sender) {
      const error = row.suppression ?? NO_SENDER;
      before.push(refuseDeliveryStatement(db, row, row.suppression ? "suppressed" : "failed", error));
      outcomes.set(key, { ok: true });
      continue;
    }
    claims.push({ row, from: sender });
  }
  return { before, claims };
}

/** Hands one claimed row to the provider. */
function send(provider: EmailProvider, { row, from }: Claim): Promise<SendReceipt> {
  return provider.send({
    outboxId: row.id,
    workspaceId: row.workspace_id,
    to: { email: row.to_email, name: row.contact_name },
    from,
    subject: row.subject,
    text: row.body_text,
    html: row.body_html,
    origin: row.origin,
  });
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1000);
}

/** The `cs-jobs` message that sends one outbox email. */
export const sendEmailMessage = z.object({
  type: z.literal("send_email"),
  workspaceId: z.string(),
  /** The outbox row holding the rendered message. */
  outboxId: z.string(),
});
export type SendEmailMessage = z.infer<typeof sendEmailMessage>;

/** Sends queued outbox emails. */
export const sendEmailJob = defineJob({ schema: sendEmailMessage, handleBatch: deliverEmails });
