import { z } from "zod";
import { clock } from "../platform/lib/clock";
import { defineJob } from "../platform/queue/jobs";
import { readSettings } from "../records/settings";
import { type EmailProvider, PermanentSendError, type SendReceipt } from "./provider";
import { emailProviderFor } from "./select-provider";
import { suppressionReasonSql } from "./suppression";

/** One `send_email` queue message. */
export interface SendEmailJob {
  /** The queue message id, the key of the returned failures. */
  messageId: string;
  workspaceId: string;
  outboxId: string;
}

interface DeliveryRow {
  id: string;
  workspace_id: string;
  to_email: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  origin: string;
  status: string;
  attempts: number;
  contact_name: string | null;
  settings: string;
  suppression: string | null;
}

type Outcome = { ok: true } | { ok: false; error: unknown };

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
  const keyOf = (workspaceId: string, outboxId: string) => `${workspaceId}\u0000${outboxId}`;
  const { results: rows } = await env.DB.prepare(
    `SELECT o.id, o.workspace_id, o.to_email, o.subject, o.body_text, o.body_html, o.origin, o.status, o.attempts,
            c.name AS contact_name, w.settings AS settings,
            ${suppressionReasonSql("o.workspace_id", "o.to_email", "o.contact_id")} AS suppression
       FROM json_each(?1) j
       JOIN outbox_messages o ON o.id = json_extract(j.value, '$[1]') AND o.workspace_id = json_extract(j.value, '$[0]')
       JOIN workspaces w ON w.id = o.workspace_id
       LEFT JOIN contacts c ON c.workspace_id = o.workspace_id AND c.id = o.contact_id`,
  )
    .bind(JSON.stringify(jobs.map((job) => [job.workspaceId, job.outboxId])))
    .all<DeliveryRow>();
  const rowsByKey = new Map(rows.map((row) => [keyOf(row.workspace_id, row.id), row]));

  const outcomes = new Map<string, Outcome>();
  const before: D1PreparedStatement[] = [];
  const claims: { row: DeliveryRow; from: { email: string; name: string } }[] = [];
  for (const row of rowsByKey.values()) {
    const key = keyOf(row.workspace_id, row.id);
    if (row.status !== "queued") {
      outcomes.set(key, { ok: true });
      continue;
    }
    const sender = readSettings(JSON.parse(row.settings)).email_sender;
    if (row.suppression || !sender) {
      const error =
        row.suppression ??
        "No email sender is configured for this workspace: set email_sender (name and email) with configure_workspace.";
      before.push(
        env.DB.prepare(
          "UPDATE outbox_messages SET status = ?3, error = ?4 WHERE workspace_id = ?1 AND id = ?2 AND status = 'queued'",
        ).bind(row.workspace_id, row.id, row.suppression ? "suppressed" : "failed", error),
      );
      outcomes.set(key, { ok: true });
      continue;
    }
    claims.push({ row, from: sender });
  }
  const claimStatements = claims.map(({ row }) =>
    env.DB.prepare(
      `UPDATE outbox_messages SET attempts = attempts + 1, provider = ?3
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'queued' AND attempts = ?4`,
    ).bind(row.workspace_id, row.id, provider.name, row.attempts),
  );
  const claimResults = before.length + claims.length > 0 ? await env.DB.batch([...before, ...claimStatements]) : [];
  const claimed = claims.filter((_, i) => (claimResults[before.length + i]?.meta.changes ?? 0) === 1);
  // A claim lost to another delivery of the same message leaves that delivery to finish it.
  for (const { row } of claims) outcomes.set(keyOf(row.workspace_id, row.id), { ok: true });

  const sends = await Promise.allSettled(
    claimed.map(({ row, from }) =>
      provider.send({
        outboxId: row.id,
        workspaceId: row.workspace_id,
        to: { email: row.to_email, name: row.contact_name },
        from,
        subject: row.subject,
        text: row.body_text,
        html: row.body_html,
        origin: row.origin,
      }),
    ),
  );
  const after = claimed.map(({ row }, i) => {
    const sent = sends[i] as PromiseSettledResult<SendReceipt>;
    const where = "WHERE workspace_id = ?1 AND id = ?2";
    if (sent.status === "fulfilled") {
      // Provider events may already have moved the status on; they are kept.
      return env.DB.prepare(
        `UPDATE outbox_messages SET status = CASE WHEN status = 'queued' THEN 'sent' ELSE status END,
                provider_message_id = COALESCE(provider_message_id, ?3), sent_at = COALESCE(sent_at, ?4), error = NULL
          ${where}`,
      ).bind(row.workspace_id, row.id, sent.value.providerMessageId, now.toISOString());
    }
    const permanent = sent.reason instanceof PermanentSendError;
    if (!permanent) outcomes.set(keyOf(row.workspace_id, row.id), { ok: false, error: sent.reason });
    return env.DB.prepare(
      `UPDATE outbox_messages SET error = ?3${permanent ? ", status = 'failed'" : ""} ${where} AND status = 'queued'`,
    ).bind(row.workspace_id, row.id, errorText(sent.reason));
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
