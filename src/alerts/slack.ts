import { z } from "zod";
import { clock } from "../platform/lib/clock";
import { decryptSecret } from "../platform/lib/crypto";
import { defineJob } from "../platform/queue/jobs";
import {
  type AlertDelivery,
  activeSlackIntegrations,
  deliveredAlerts,
  hasActiveSlackIntegration,
  recordAlertDeliveries,
  type SlackIntegrationRow,
} from "./queries";

/** Slack's limit for a message's text that we keep to (the queue message schema enforces it). */
const MAX_ALERT_LENGTH = 3000;
/** Why an alert is not posted when its workspace has no Slack destination any more. */
const NO_DESTINATION = new Error(
  "no Slack destination: the workspace's Slack integrations are disabled or removed and SLACK_WEBHOOK_URL is not set; enable one, then replay this dead letter",
);
/** A slow webhook is treated like a network failure and retried by the queue. */
const REQUEST_TIMEOUT_MS = 10_000;

/** What {@link queueAlert} needs. */
export interface AlertInput {
  workspaceId: string;
  /** Plain text; Slack's control characters (&, <, >) are escaped, so it cannot mention or link. */
  text: string;
  /** The same key delivers the alert once, however often it is queued or redelivered. */
  idempotencyKey: string;
}

/** Messages per `sendBatch` call (the queue's limit). */
const SEND_BATCH_SIZE = 100;

/**
 * Queues a Slack alert for the workspace's active `slack` integrations (their secret is an
 * incoming-webhook URL), or, when it has none, for the deployment's `SLACK_WEBHOOK_URL`.
 * Returns `queued: false` without queueing when there is nowhere to post.
 */
export async function queueAlert(env: Env, input: AlertInput): Promise<{ queued: boolean }> {
  return queueAlerts(env, input.workspaceId, [input]);
}

/**
 * {@link queueAlert} for many alerts of one workspace: one check for somewhere to post, then the
 * messages in batches. All are queued or none is.
 */
export async function queueAlerts(
  env: Env,
  workspaceId: string,
  inputs: readonly Omit<AlertInput, "workspaceId">[],
): Promise<{ queued: boolean }> {
  for (const input of inputs) {
    if (input.text.trim() === "" || input.text.length > MAX_ALERT_LENGTH) {
      throw new Error(`an alert's text must be 1–${MAX_ALERT_LENGTH} characters`);
    }
  }
  if (inputs.length === 0) return { queued: false };
  if (!env.SLACK_WEBHOOK_URL && !(await hasActiveSlackIntegration(env.DB, workspaceId))) return { queued: false };
  const messages: SlackAlertMessage[] = inputs.map((input) => ({
    type: "slack_alert",
    workspaceId,
    idempotencyKey: input.idempotencyKey,
    text: input.text,
  }));
  const [only] = messages;
  if (messages.length === 1 && only) {
    await env.JOBS_QUEUE.send(only);
    return { queued: true };
  }
  for (let i = 0; i < messages.length; i += SEND_BATCH_SIZE) {
    await env.JOBS_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH_SIZE).map((body) => ({ body })));
  }
  return { queued: true };
}

/** One `slack_alert` queue message. */
export interface SlackAlertJob {
  /** The queue message id, the key of the returned failures. */
  messageId: string;
  workspaceId: string;
  idempotencyKey: string;
  text: string;
}

interface Destination {
  /** The integration id, or `env` for the deployment's SLACK_WEBHOOK_URL. */
  id: string;
  /** Named in errors instead of the URL, which is a secret. */
  label: string;
  url: () => Promise<string>;
}

/** One alert to post to one destination, with the messages (of this batch) that asked for it. */
interface PendingDelivery {
  workspaceId: string;
  key: string;
  text: string;
  destination: Destination;
  jobs: SlackAlertJob[];
}

/**
 * Posts a batch of `slack_alert` messages, one `{ text }` request per alert and destination not
 * yet delivered. Returns the error of each message that could not be posted everywhere, by
 * message id; the queue retries it and only the missing destinations are posted again. Delivery
 * is at least once: a crash between a post and its record can repeat that post.
 */
export async function deliverAlerts(
  env: Env,
  jobs: readonly SlackAlertJob[],
  now = clock.now(),
): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  if (jobs.length === 0) return failures;
  const workspaceIds = [...new Set(jobs.map((job) => job.workspaceId))];
  const integrations = await activeSlackIntegrations(env.DB, workspaceIds);
  const destinationsOf = destinationsIn(env, integrations);
  // Queued only with somewhere to post: an alert whose destinations went away since fails, so
  // the queue retries it and keeps it as a dead letter to replay, rather than dropping it unsent.
  for (const job of jobs) if (destinationsOf(job.workspaceId).length === 0) failures.set(job.messageId, NO_DESTINATION);
  const deliveries = pendingDeliveries(jobs, destinationsOf);
  if (deliveries.size === 0) return failures;

  const done = await deliveredAlerts(
    env.DB,
    [...deliveries.values()].map((d) => ({ workspaceId: d.workspaceId, key: d.key, destination: d.destination.id })),
  );
  for (const row of done) deliveries.delete([row.workspace_id, row.idempotency_key, row.destination].join("\u0000"));

  const pending = [...deliveries.values()];
  const posts = await Promise.allSettled(
    pending.map(async (delivery) => postToSlack(await delivery.destination.url(), delivery.text, delivery.destination)),
  );
  const delivered: AlertDelivery[] = [];
  for (const [i, delivery] of pending.entries()) {
    const post = posts[i];
    if (post?.status === "fulfilled") {
      delivered.push({ workspaceId: delivery.workspaceId, key: delivery.key, destination: delivery.destination.id });
    } else {
      for (const job of delivery.jobs) failures.set(job.messageId, post?.reason);
    }
  }
  if (delivered.length > 0) await recordAlertDeliveries(env.DB, delivered, now.toISOString());
  return failures;
}

/**
 * Where a workspace's alerts go: each of its active Slack integrations, or, when it has none,
 * the deployment's SLACK_WEBHOOK_URL; nowhere without either.
 */
function destinationsIn(env: Env, integrations: SlackIntegrationRow[]): (workspaceId: string) => Destination[] {
  return (workspaceId) => {
    const own = integrations.filter((row) => row.workspace_id === workspaceId);
    if (own.length > 0) {
      return own.map((row) => ({
        id: row.id,
        label: `integration ${row.id}`,
        url: () =>
          decryptSecret(row.secret_ciphertext, env.ENCRYPTION_KEY).catch(() => {
            throw new Error(`the Slack webhook of integration ${row.id} cannot be decrypted with ENCRYPTION_KEY`);
          }),
      }));
    }
    const fallback = env.SLACK_WEBHOOK_URL;
    return fallback ? [{ id: "env", label: "SLACK_WEBHOOK_URL", url: async () => fallback }] : [];
  };
}

/**
 * Each (workspace, alert, destination) once per batch, even when a message is repeated in it,
 * keyed by the three joined with NUL; delivered ones are recorded in `alert_deliveries`, so a
 * redelivered alert posts only where it has not been posted yet.
 */
function pendingDeliveries(
  jobs: readonly SlackAlertJob[],
  destinationsOf: (workspaceId: string) => Destination[],
): Map<string, PendingDelivery> {
  const deliveries = new Map<string, PendingDelivery>();
  for (const job of jobs) {
    for (const destination of destinationsOf(job.workspaceId)) {
      const deliveryKey = [job.workspaceId, job.idempotencyKey, destination.id].join("\u0000");
      const existing = deliveries.get(deliveryKey);
      if (existing) existing.jobs.push(job);
      else
        deliveries.set(deliveryKey, {
          workspaceId: job.workspaceId,
          key: job.idempotencyKey,
          text: job.text,
          destination,
          jobs: [job],
        });
    }
  }
  return deliveries;
}

/** Escapes the three characters Slack reads as markup, so stored names cannot mention or link. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Posts one message to an incoming webhook; throws with the destination's label, never its URL. */
async function postToSlack(url: string, text: string, destination: Destination): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`the Slack webhook of ${destination.label} is not a valid URL`);
  }
  if (parsed.protocol !== "https:") throw new Error(`the Slack webhook of ${destination.label} is not an https URL`);
  const response = await fetch(parsed.toString(), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: slackEscape(text) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) {
    const detail = (await response.text().catch(() => "")).slice(0, 100);
    throw new Error(
      `the Slack webhook of ${destination.label} answered ${response.status}${detail ? `: ${detail}` : ""}`,
    );
  }
}

/** The `cs-jobs` message that posts one Slack alert. */
export const slackAlertMessage = z.object({
  type: z.literal("slack_alert"),
  workspaceId: z.string(),
  /** Deduplicates repeated deliveries of one alert. */
  idempotencyKey: z.string(),
  text: z.string().max(MAX_ALERT_LENGTH),
});
export type SlackAlertMessage = z.infer<typeof slackAlertMessage>;

/** Posts queued Slack alerts. */
export const slackAlertJob = defineJob({ schema: slackAlertMessage, handleBatch: deliverAlerts });
