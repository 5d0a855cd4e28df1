import { arrayEvents, eventIdOf, isRecord, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { equalBytes, fromHex, hmac } from "../signing";

/**
 * Segment Webhooks destination: `X-Signature` is the hex HMAC-SHA1 of the raw body under the
 * destination's shared secret. A body is one event, or an array of events when batching is on;
 * each is deduplicated on its `messageId`.
 */
export const segment: ProviderReceiver = {
  async verify(delivery, secret) {
    const given = fromHex(delivery.headers.get("x-signature") ?? "");
    if (!given || given.length === 0) return refused("missing or malformed X-Signature header");
    const expected = await hmac("SHA-1", secret, delivery.body);
    return equalBytes(expected, given) ? VERIFIED : refused("signature does not match");
  },
  events(body, text) {
    const describe = (item: Record<string, unknown>) => ({
      eventId: eventIdOf(item.messageId),
      eventType: textOf(item.type),
    });
    if (Array.isArray(body)) return arrayEvents(body, describe, "messageId");
    if (!isRecord(body)) return { kind: "invalid", reason: "expected a JSON object" };
    const { eventId, eventType } = describe(body);
    if (eventId === null) return { kind: "invalid", reason: "the event has no messageId" };
    return { kind: "events", events: [{ eventId, eventType, payload: text }] };
  },
};
