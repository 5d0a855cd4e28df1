/**
 * The webhook receiver: finds the integration (the only source of the tenant), caps the body,
 * verifies the signature over the raw bytes, records one receipt per event (deduplicated on
 * the provider's event id) and enqueues references to the new receipts on `cs-events`, one
 * message per hundred.
 */

import { isWebhookProvider } from "../integrations/catalog";
import type { ProviderReceiver, SignedDelivery, WebhookEvent } from "../integrations/receive";
import { RECEIVERS } from "../integrations/receivers";
import { acceptedSecrets, readableSecrets } from "../integrations/secrets";
import { clock } from "../platform/lib/clock";
import { newId } from "../platform/lib/ids";
import { type EventMessage, type WebhookProvider, webhookMessages } from "./messages";
import {
  countRejectedDelivery,
  findWebhookIntegration,
  touchIntegrationReceived,
  type WebhookIntegrationRow,
} from "./queries/integrations";
import { ENQUEUE_FAILURE_PREFIX, failUnsentReceipts, recordReceipts } from "./queries/receipts";

/** Largest body accepted: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Queues take at most 100 messages per `sendBatch`. */
const QUEUE_BATCH_SIZE = 100;

function refusal(status: 400 | 401 | 404 | 413 | 500, error: string): Response {
  return Response.json({ error }, { status });
}

/**
 * The body's bytes, read no further than `limit` (a sender may omit or understate
 * Content-Length); null once the body is larger.
 */
async function readCapped(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The URL the sender called, as it knows it: the public URL when one is configured (behind a proxy the request's own differs). */
function publicRequestUrl(env: Env, request: Request): string {
  if (!env.PUBLIC_URL) return request.url;
  const url = new URL(request.url);
  return `${env.PUBLIC_URL.replace(/\/+$/, "")}${url.pathname}${url.search}`;
}

/**
 * Handles `POST /webhooks/<provider>/<integration id>`. Answers 404 for an unknown or disabled
 * integration or another provider's id, 413 for a body over 1 MiB, 401 for a bad signature or
 * a timestamp outside the window, 400 for a verified body without usable event ids; each
 * refusal stores nothing and only counts as rejected. Otherwise 200 `{ accepted, duplicates }`,
 * or 500 when the events could not be enqueued (so the sender retries, and the retry is
 * accepted again).
 */
export async function receiveWebhook(
  env: Env,
  providerName: string,
  integrationId: string,
  request: Request,
  now = clock.now(),
): Promise<Response> {
  if (!isWebhookProvider(providerName)) return refusal(404, "unknown webhook provider");
  const integration = await findWebhookIntegration(env.DB, integrationId);
  if (!integration) return refusal(404, "unknown integration");
  if (integration.provider !== providerName || integration.status !== "active") {
    await countRejectedDelivery(env.DB, integration.id);
    return refusal(404, "unknown integration");
  }
  const declaredLength = Number(request.headers.get("content-length") ?? "0");
  const body = declaredLength > MAX_BODY_BYTES ? null : await readCapped(request, MAX_BODY_BYTES);
  if (!body) {
    await countRejectedDelivery(env.DB, integration.id);
    return refusal(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  }
  const provider = RECEIVERS[providerName];
  const delivery: SignedDelivery = {
    method: request.method,
    url: publicRequestUrl(env, request),
    headers: request.headers,
    body,
    now,
  };
  const opened = await readableSecrets(integration.secret_ciphertext, env.ENCRYPTION_KEY);
  const reason = opened
    ? await signatureRefusal(provider, delivery, acceptedSecrets(opened, integration.rotated_at, now))
    : "This integration's secret cannot be read with the server's ENCRYPTION_KEY; set it again with manage_integrations rotate.";
  if (reason !== null) {
    await countRejectedDelivery(env.DB, integration.id);
    return refusal(401, reason);
  }
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
    parsed = JSON.parse(text);
  } catch {
    await countRejectedDelivery(env.DB, integration.id);
    return refusal(400, "the body is not UTF-8 JSON");
  }
  const extraction = provider.events(parsed, text, request.headers);
  if (extraction.kind === "invalid") {
    await countRejectedDelivery(env.DB, integration.id);
    return refusal(400, extraction.reason);
  }
  if (extraction.kind === "ping") {
    await touchIntegrationReceived(env.DB, integration.id, now.toISOString());
    return Response.json({ accepted: 0, duplicates: 0 });
  }
  return recordAndEnqueue(env, integration, providerName, extraction.events, now);
}

/** Null when one of the secrets verifies the delivery; else why the last one tried did not (or that there is none). */
async function signatureRefusal(
  provider: ProviderReceiver,
  delivery: SignedDelivery,
  secrets: readonly string[],
): Promise<string | null> {
  let reason = "the integration has no signing secret yet";
  for (const secret of secrets) {
    const verdict = await provider.verify(delivery, secret);
    if (verdict.ok) return null;
    reason = verdict.reason;
  }
  return reason;
}

/**
 * One D1 batch records the receipts and the integration's counters. Each receipt that is new
 * (under a fresh id), or that an earlier delivery could not enqueue (this one is the sender's
 * retry; the receipt keeps its id), is returned and is enqueued. A redelivery of any other
 * receipt (enqueued, processed, or failed in the consumer, whose message keeps its id for
 * retries and dead-letter replay) changes nothing and counts as a duplicate. A receipt that
 * cannot be enqueued stays `queued` with the reason: the answer is 500, and should no retry
 * come, the stale-receipt sweep enqueues it.
 */
async function recordAndEnqueue(
  env: Env,
  integration: WebhookIntegrationRow,
  provider: WebhookProvider,
  events: WebhookEvent[],
  now: Date,
): Promise<Response> {
  const receivedAt = now.toISOString();
  const rows = events.map((event) => ({
    receipt_id: newId("whr"),
    event_id: event.eventId,
    event_type: event.eventType,
    payload: event.payload,
  }));
  const accepted = await recordReceipts(
    env.DB,
    { workspaceId: integration.workspace_id, integrationId: integration.id, provider },
    rows,
    receivedAt,
  );
  const duplicates = events.length - accepted.length;
  const messages = webhookMessages(integration.workspace_id, integration.id, provider, accepted);
  const chunks: EventMessage[][] = [];
  for (let i = 0; i < messages.length; i += QUEUE_BATCH_SIZE) chunks.push(messages.slice(i, i + QUEUE_BATCH_SIZE));
  const sent = await Promise.allSettled(
    chunks.map((chunk) => env.EVENTS_QUEUE.sendBatch(chunk.map((body) => ({ body })))),
  );
  const unsent = chunks.flatMap((chunk, i) =>
    sent[i]?.status === "rejected" ? chunk.flatMap((message) => message.receiptIds) : [],
  );
  if (unsent.length === 0) return Response.json({ accepted: accepted.length, duplicates });
  const firstFailure = sent.find((outcome) => outcome.status === "rejected");
  const error =
    `${ENQUEUE_FAILURE_PREFIX}${String(firstFailure?.status === "rejected" ? firstFailure.reason : "")}`.slice(0, 500);
  console.error(JSON.stringify({ integrationId: integration.id, unsent: unsent.length, error }));
  await failUnsentReceipts(env.DB, integration.id, unsent, error);
  return refusal(500, "the events could not be queued; deliver them again");
}
