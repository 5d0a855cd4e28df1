import { eventIdOf, isRecord, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { concatBytes, equalBytes, fromHex, hmac, parseEpoch, utf8, withinWindow } from "../signing";

/** The `t` and `v1` values of a `Stripe-Signature` header; other schemes (v0) are ignored. */
function parseStripeSignature(header: string): { timestamp: string | null; signatures: Uint8Array[] } {
  let timestamp: string | null = null;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const separator = part.indexOf("=");
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === "t" && timestamp === null) timestamp = value;
    if (key === "v1") {
      const bytes = fromHex(value);
      if (bytes && bytes.length > 0) signatures.push(bytes);
    }
  }
  return { timestamp, signatures };
}

/**
 * Stripe webhooks: `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>]`, where v1 is the
 * HMAC-SHA256 of `t + "." + raw body` under the endpoint's `whsec_…` secret. Any matching v1
 * is accepted (Stripe signs with both secrets while one is being rolled); `t` must be within
 * 300 s. The event's `id` is the event id, `type` its type.
 */
export const stripe: ProviderReceiver = {
  async verify(delivery, secret) {
    const { timestamp, signatures } = parseStripeSignature(delivery.headers.get("stripe-signature") ?? "");
    const signedAt = parseEpoch(timestamp, "s");
    if (Number.isNaN(signedAt) || signatures.length === 0) {
      return refused("missing or malformed Stripe-Signature header (t=…,v1=…)");
    }
    const expected = await hmac("SHA-256", secret, concatBytes(utf8(`${timestamp}.`), delivery.body));
    // Every candidate is compared, so the time does not depend on which one matches.
    const matches = signatures.map((given) => equalBytes(expected, given)).includes(true);
    if (!matches) return refused("no v1 signature matches");
    return withinWindow(signedAt, delivery.now) ? VERIFIED : refused("timestamp outside the 300-second tolerance");
  },
  events(body, text) {
    if (!isRecord(body)) return { kind: "invalid", reason: "expected a JSON object" };
    const eventId = eventIdOf(body.id);
    if (eventId === null) return { kind: "invalid", reason: "the event has no id" };
    return { kind: "events", events: [{ eventId, eventType: textOf(body.type), payload: text }] };
  },
};
