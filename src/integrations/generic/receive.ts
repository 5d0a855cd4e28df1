import { eventIdOf, isRecord, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { concatBytes, equalBytes, fromHex, hmac, parseEpoch, utf8, withinWindow } from "../signing";

/**
 * Our own scheme for any other sender: `X-Webhook-Timestamp` (unix seconds, within the window)
 * and `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`.
 * The body is one JSON object with a unique `id` and a `type`; everything else is passed on.
 */
export const generic: ProviderReceiver = {
  async verify(delivery, secret) {
    const header = delivery.headers.get("x-webhook-signature") ?? "";
    const given = header.startsWith("sha256=") ? fromHex(header.slice(7)) : null;
    if (!given || given.length === 0) return refused("missing or malformed X-Webhook-Signature header (sha256=<hex>)");
    const timestamp = delivery.headers.get("x-webhook-timestamp");
    const signedAt = parseEpoch(timestamp, "s");
    if (Number.isNaN(signedAt)) return refused("missing or malformed X-Webhook-Timestamp header (unix seconds)");
    const expected = await hmac("SHA-256", secret, concatBytes(utf8(`${timestamp}.`), delivery.body));
    if (!equalBytes(expected, given)) return refused("signature does not match");
    return withinWindow(signedAt, delivery.now) ? VERIFIED : refused("timestamp outside the 5-minute window");
  },
  events(body, text) {
    if (!isRecord(body)) return { kind: "invalid", reason: "expected a JSON object" };
    const eventId = typeof body.id === "string" ? eventIdOf(body.id) : null;
    const eventType = textOf(body.type);
    if (eventId === null) return { kind: "invalid", reason: 'the event has no "id" (a string of 1–255 characters)' };
    if (eventType === null) return { kind: "invalid", reason: 'the event has no "type" (a non-empty string)' };
    return { kind: "events", events: [{ eventId, eventType, payload: text }] };
  },
};
