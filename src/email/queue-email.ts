import { z } from "zod";
import { canonicalEmail } from "../platform/auth/credentials";
import { clock } from "../platform/lib/clock";
import { newId } from "../platform/lib/ids";
import { isoDay } from "../platform/lib/time";
import { notFound, ToolError } from "../platform/mcp/errors";
import { readSettings } from "../records/settings";
import type { SendEmailMessage } from "./deliver";
import { renderEmail, templateValues } from "./render";
import { emailProviderFor } from "./select-provider";
import { suppressionReasonSql } from "./suppression";

/** Statuses an outbox row can have. */
export type OutboxStatus = "queued" | "sent" | "delivered" | "opened" | "clicked" | "bounced" | "failed" | "suppressed";

const queueEmailSchema = z.object({
  workspaceId: z.string().min(1),
  to: z.email("`to` must be an email address").max(254),
  contactId: z.string().min(1).max(100).optional(),
  accountId: z.string().min(1).max(100).optional(),
  subject: z
    .string()
    .trim()
    .min(1)
    .max(400)
    .refine((subject) => !/[\r\n]/.test(subject), "the subject must be one line"),
  text: z.string().min(1).max(100_000),
  html: z.string().min(1).max(200_000).optional(),
  idempotencyKey: z.string().min(1).max(200),
  origin: z.string().min(1).max(100),
});

/**
 * One email to queue. `subject`, `text` and `html` are templates: `{{contact.name}}`,
 * `{{account.name}}`, `{{csm.name}}`… are filled from the stored contact, its (or the given)
 * account and that account's owner (see `TEMPLATE_VARIABLES`).
 */
export type QueueEmailInput = z.input<typeof queueEmailSchema>;

/** The outbox row the call produced or found. */
export interface QueuedEmail {
  id: string;
  status: OutboxStatus;
  /** Why it will not be sent (suppression reason, quota), when it will not. */
  error: string | null;
  /** False when the idempotency key was seen before: the earlier row is returned and nothing new is sent. */
  created: boolean;
}

interface ContextRow {
  settings: string;
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  contact_title: string | null;
  contact_account_id: string | null;
  account_id: string | null;
  account_name: string | null;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
  existing_id: string | null;
  existing_status: OutboxStatus | null;
  existing_error: string | null;
}

/**
 * Renders and records an email in the outbox, then enqueues its delivery.
 *
 * In one statement, so concurrent calls cannot race past either check, the row is stored as:
 * `suppressed` when the address or the contact must not be emailed (visible, never sent);
 * `failed` ("daily send quota of N reached") when the workspace already has
 * `settings.email.daily_quota` messages today (UTC); else `queued`. Over-quota mail does not
 * wait for tomorrow: it is refused and visible, and can be queued again the next day under a
 * new idempotency key. The quota counts today's rows accepted for sending: every status but
 * `suppressed` and rows refused before any send attempt.
 *
 * The idempotency key is unique per workspace: a repeat returns the first row unchanged and
 * sends nothing new. Only a newly queued row is enqueued (`send_email` on `cs-jobs`); if that
 * enqueue fails the row is marked failed and the error is thrown.
 *
 * Throws a {@link ToolError} for what the caller must fix: an unknown contact or account, no
 * configured sender, or template variables that are unknown or have no stored value.
 */
export async function queueEmail(env: Env, input: QueueEmailInput): Promise<QueuedEmail> {
  const parsed = queueEmailSchema.safeParse(input);
  if (!parsed.success) {
    throw new ToolError(`The email cannot be queued: ${parsed.error.issues.map((i) => i.message).join("; ")}.`);
  }
  const email = parsed.data;
  const provider = emailProviderFor(env);
  const context = await env.DB.prepare(
    `SELECT w.settings AS settings,
            c.id AS contact_id, c.name AS contact_name, c.email AS contact_email, c.title AS contact_title,
            c.account_id AS contact_account_id,
            a.id AS account_id, a.name AS account_name, a.domain AS account_domain,
            u.name AS csm_name, u.email AS csm_email,
            o.id AS existing_id, o.status AS existing_status, o.error AS existing_error
       FROM workspaces w
       LEFT JOIN contacts c ON c.workspace_id = w.id AND c.id = ?2
       LEFT JOIN accounts a ON a.workspace_id = w.id AND a.id = COALESCE(?3, c.account_id)
       LEFT JOIN users u ON u.workspace_id = w.id AND u.id = a.owner_user_id
       LEFT JOIN outbox_messages o ON o.workspace_id = w.id AND o.idempotency_key = ?4
      WHERE w.id = ?1`,
  )
    .bind(email.workspaceId, email.contactId ?? null, email.accountId ?? null, email.idempotencyKey)
    .first<ContextRow>();
  if (!context) throw new Error(`workspace ${email.workspaceId} does not exist`);
  if (context.existing_id && context.existing_status) {
    return { id: context.existing_id, status: context.existing_status, error: context.existing_error, created: false };
  }
  if (email.contactId && !context.contact_id) throw notFound("contact", email.contactId);
  if (email.accountId && !context.account_id) throw notFound("account", email.accountId);
  if (email.accountId && context.contact_account_id && context.contact_account_id !== email.accountId) {
    throw new ToolError(
      `Contact ${email.contactId} belongs to account ${context.contact_account_id}, not ${email.accountId}.`,
    );
  }
  const settings = readSettings(JSON.parse(context.settings));
  const sender = settings.email_sender;
  if (!sender) {
    throw new ToolError(
      "No email sender is configured for this workspace: set email_sender (name and email) with configure_workspace.",
    );
  }
  const rendered = renderEmail(email, templateValues(context, sender));
  if (!rendered.ok) throw new ToolError(rendered.error);

  const id = newId("eml");
  const sentAt = clock.now();
  const quota = settings.email.daily_quota;
  const [, stored] = await env.DB.batch<{ id: string; status: OutboxStatus; error: string | null }>([
    // The WHERE clause is required by SQLite to read ON CONFLICT as an upsert after a SELECT.
    env.DB.prepare(
      `INSERT INTO outbox_messages (id, workspace_id, idempotency_key, account_id, contact_id, to_email, subject,
                                    body_text, body_html, provider, origin, status, error, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
              CASE WHEN r.reason IS NOT NULL THEN 'suppressed' WHEN q.sent >= ?12 THEN 'failed' ELSE 'queued' END,
              CASE WHEN r.reason IS NOT NULL THEN r.reason
                   WHEN q.sent >= ?12 THEN ?13 END,
              ?14
         FROM (SELECT ${suppressionReasonSql("?2", "?6", "?5")} AS reason) r,
              (SELECT count(*) AS sent FROM outbox_messages
                WHERE workspace_id = ?2 AND created_at >= ?15
                  AND status <> 'suppressed' AND NOT (status = 'failed' AND attempts = 0)) q
        WHERE true
       ON CONFLICT (workspace_id, idempotency_key) DO NOTHING`,
    ).bind(
      id,
      email.workspaceId,
      email.idempotencyKey,
      email.accountId ?? context.account_id,
      email.contactId ?? null,
      canonicalEmail(email.to),
      rendered.subject,
      rendered.text,
      rendered.html,
      provider.name,
      email.origin,
      quota,
      `daily send quota of ${quota} reached`,
      sentAt.toISOString(),
      `${isoDay(sentAt)}T00:00:00.000Z`,
    ),
    env.DB.prepare(
      "SELECT id, status, error FROM outbox_messages WHERE workspace_id = ?1 AND idempotency_key = ?2",
    ).bind(email.workspaceId, email.idempotencyKey),
  ]);
  const row = stored?.results[0];
  if (!row) throw new Error("the outbox row was not stored");
  const created = row.id === id;
  if (created && row.status === "queued") {
    const message: SendEmailMessage = { type: "send_email", workspaceId: email.workspaceId, outboxId: id };
    try {
      await env.JOBS_QUEUE.send(message);
    } catch (error) {
      await env.DB.prepare(
        "UPDATE outbox_messages SET status = 'failed', error = ?3 WHERE workspace_id = ?1 AND id = ?2 AND status = 'queued'",
      )
        .bind(email.workspaceId, id, "could not be queued for delivery; queue it again with a new idempotency key")
        .run();
      throw error;
    }
  }
  return { id: row.id, status: row.status, error: row.error, created };
}
