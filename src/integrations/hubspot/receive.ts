import { arrayEvents, eventIdOf, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { concatBytes, equalBytes, fromBase64, hmac, parseEpoch, utf8, withinWindow } from "../signing";

/** The percent-encodings HubSpot's v3 validation says to decode in the request URI; all others stay encoded. */
const DECODED_IN_URI: Record<string, string> = {
  "%3A": ":",
  "%2F": "/",
  "%3F": "?",
  "%40": "@",
  "%21": "!",
  "%24": "$",
  "%27": "'",
  "%28": "(",
  "%29": ")",
  "%2A": "*",
  "%2C": ",",
  "%3B": ";",
};

/** The request URI as HubSpot signs it: the called URL with the listed percent-encodings decoded. */
export function hubspotSignedUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (match) => DECODED_IN_URI[match.toUpperCase()]!);
}

/**
 * HubSpot webhooks, signature v3: `X-HubSpot-Signature-v3` is the base64 HMAC-SHA256, under the
 * app's client secret, of method + URI + raw body + `X-HubSpot-Request-Timestamp` (milliseconds,
 * within the window). The URI is the exact public URL HubSpot called. A body is an array of up
 * to 100 events, each deduplicated on its `eventId`.
 */
export const hubspot: ProviderReceiver = {
  async verify(delivery, secret) {
    const given = fromBase64(delivery.headers.get("x-hubspot-signature-v3") ?? "");
    const timestamp = delivery.headers.get("x-hubspot-request-timestamp");
    if (!given || given.length === 0) return refused("missing or malformed X-HubSpot-Signature-v3 header");
    const signedAt = parseEpoch(timestamp, "ms");
    if (Number.isNaN(signedAt)) return refused("missing or malformed X-HubSpot-Request-Timestamp header");
    const content = concatBytes(
      utf8(delivery.method + hubspotSignedUri(delivery.url)),
      delivery.body,
      utf8(timestamp ?? ""),
    );
    const expected = await hmac("SHA-256", secret, content);
    if (!equalBytes(expected, given)) return refused("signature does not match");
    return withinWindow(signedAt, delivery.now) ? VERIFIED : refused("timestamp outside the 5-minute window");
  },
  events(body) {
    return arrayEvents(
      body,
      (item) => ({ eventId: eventIdOf(item.eventId), eventType: textOf(item.subscriptionType) }),
      "eventId",
    );
  },
};
