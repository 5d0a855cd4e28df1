import { z } from "zod";
import { canonicalEmail } from "../platform/auth/credentials";
import { clock } from "../platform/lib/clock";
import { newId } from "../platform/lib/ids";
import { isoDay } from "../platform/lib/time";
import { notFound, ToolError } from "../platform/mcp/errors";
import { readSettings } from "../records/settings";
import { NO_SENDER, type SendEmailMessage } from "./deliver";
import {
  type EmailContextRow,
  failQueuedOutboxMessage,
  findEmailContext,
  type OutboxStatus,
  storeOutboxMessage,
} from "./queries";
import { renderEmail, templateValues } from "./render";
import { emailProviderFor } from "./select-provider";

export type { OutboxStatus };

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
  const email = parseEmail(input);
  const provider = emailProviderFor(env);
  const context = await findEmailContext(env.DB, email.workspaceId, {
    contactId: email.contactId ?? null,
    accountId: email.accountId ?? null,
    idempotencyKey: email.idempotencyKey,
  });
  if (!context) throw new Error(`workspace ${email.workspaceId} does not exist`);
  if (context.existing_id && context.existing_status) {
    return { id: context.existing_id, status: context.existing_status, error: context.existing_error, created: false };
  }
  checkReferences(email, context);
  const settings = readSettings(JSON.parse(context.settings));
  const sender = settings.email_sender;
  if (!sender) throw new ToolError(NO_SENDER);
  const rendered = renderEmail(email, templateValues(context, sender));
  if (!rendered.ok) throw new ToolError(rendered.error);

  const id = newId("eml");
  const sentAt = clock.now();
  const row = await storeOutboxMessage(env.DB, {
    id,
    workspaceId: email.workspaceId,
    idempotencyKey: email.idempotencyKey,
    accountId: email.accountId ?? context.account_id,
    contactId: email.contactId ?? null,
    toEmail: canonicalEmail(email.to),
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    provider: provider.name,
    origin: email.origin,
    dailyQuota: settings.email.daily_quota,
    createdAt: sentAt.toISOString(),
    dayStart: `${isoDay(sentAt)}T00:00:00.000Z`,
  });
  if (!row) throw new Error("the outbox row was not stored");
  const created = row.id === id;
  if (created && row.status === "queued") await enqueueDelivery(env, email.workspaceId, id);
  return { id: row.id, status: row.status, error: row.error, created };
}

type ParsedEmail = z.output<typeof queueEmailSchema>;

/** The validated input; a {@link ToolError} listing every problem otherwise. */
function parseEmail(input: QueueEmailInput): ParsedEmail {
  const parsed = queueEmailSchema.safeParse(input);
  if (!parsed.success) {
    throw new ToolError(`The email cannot be queued: ${parsed.error.issues.map((i) => i.message).join("; ")}.`);
  }
  return parsed.data;
}

/** Refuses a contact or account that is not stored, and a contact of another account than the one given. */
function checkReferences(email: ParsedEmail, context: EmailContextRow): void {
  if (email.contactId && !context.contact_id) throw notFound("contact", email.contactId);
  if (email.accountId && !context.account_id) throw notFound("account", email.accountId);
  if (email.accountId && context.contact_account_id && context.contact_account_id !== email.accountId) {
    throw new ToolError(
      `Contact ${email.contactId} belongs to account ${context.contact_account_id}, not ${email.accountId}.`,
    );
  }
}

/** Enqueues the delivery of a newly queued row; if that fails the row is marked failed and the error thrown. */
async function enqueueDelivery(env: Env, workspaceId: string, outboxId: string): Promise<void> {
  const message: SendEmailMessage = { type: "send_email", workspaceId, outboxId };
  try {
    await env.JOBS_QUEUE.send(message);
  } catch (error) {
    await failQueuedOutboxMessage(
      env.DB,
      workspaceId,
      outboxId,
      "could not be queued for delivery; queue it again with a new idempotency key",
    );
    throw error;
  }
}
