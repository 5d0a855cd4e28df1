import { eventIdOf, isRecord, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { equalBytes, fromHex, hmac } from "../signing";

/**
 * Intercom webhooks: `X-Hub-Signature: sha1=<hex>` is the HMAC-SHA1 of the raw body under the
 * app's client secret. A notification's `id` is the event id and `topic` its type; the `ping`
 * topic Intercom sends when the URL is saved is answered without recording anything.
 */
export const intercom: ProviderReceiver = {
  async verify(delivery, secret) {
    const header = delivery.headers.get("x-hub-signature") ?? "";
    const given = header.startsWith("sha1=") ? fromHex(header.slice(5)) : null;
    if (!given || given.length === 0) return refused("missing or malformed X-Hub-Signature header (sha1=<hex>)");
    const expected = await hmac("SHA-1", secret, delivery.body);
    return equalBytes(expected, given) ? VERIFIED : refused("signature does not match");
  },
  events(body, text) {
    if (!isRecord(body)) return { kind: "invalid", reason: "expected a JSON object" };
    if (body.topic === "ping") return { kind: "ping" };
    const eventId = eventIdOf(body.id);
    if (eventId === null) return { kind: "invalid", reason: "the notification has no id" };
    return { kind: "events", events: [{ eventId, eventType: textOf(body.topic), payload: text }] };
  },
};
