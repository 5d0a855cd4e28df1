import { eventIdOf, isRecord, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { concatBytes, equalBytes, fromBase64, hmac, utf8, withinWindow } from "../signing";

/** An ISO-8601 instant with a zone, as Zendesk sends it (`2021-03-25T05:09:27Z`). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Zendesk webhooks: `X-Zendesk-Webhook-Signature` is the base64 HMAC-SHA256 of the
 * `X-Zendesk-Webhook-Signature-Timestamp` value followed by the raw body, under the webhook's
 * signing secret; the timestamp must be within the window. Event webhooks carry an `id`;
 * trigger and automation bodies are written by the admin, so without one the event is keyed
 * by the webhook id and its invocation id (stable across retries), else the signed timestamp.
 */
export const zendesk: ProviderReceiver = {
  async verify(delivery, secret) {
    const given = fromBase64(delivery.headers.get("x-zendesk-webhook-signature") ?? "");
    const timestamp = delivery.headers.get("x-zendesk-webhook-signature-timestamp");
    if (!given || given.length === 0) return refused("missing or malformed X-Zendesk-Webhook-Signature header");
    if (!timestamp || !ISO_INSTANT.test(timestamp)) {
      return refused("missing or malformed X-Zendesk-Webhook-Signature-Timestamp header");
    }
    const expected = await hmac("SHA-256", secret, concatBytes(utf8(timestamp), delivery.body));
    if (!equalBytes(expected, given)) return refused("signature does not match");
    return withinWindow(Date.parse(timestamp), delivery.now)
      ? VERIFIED
      : refused("timestamp outside the 5-minute window");
  },
  events(body, text, headers) {
    if (!isRecord(body)) return { kind: "invalid", reason: "expected a JSON object" };
    const webhookId = headers.get("x-zendesk-webhook-id");
    const attempt =
      headers.get("x-zendesk-webhook-invocation-id") ?? headers.get("x-zendesk-webhook-signature-timestamp");
    const eventId = eventIdOf(body.id) ?? (webhookId && attempt ? eventIdOf(`${webhookId}:${attempt}`) : null);
    if (eventId === null) return { kind: "invalid", reason: "the event has no id and no X-Zendesk-Webhook-Id header" };
    return { kind: "events", events: [{ eventId, eventType: textOf(body.type), payload: text }] };
  },
};
