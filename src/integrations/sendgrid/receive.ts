import { arrayEvents, eventIdOf, type ProviderReceiver, refused, textOf, VERIFIED } from "../receive";
import { concatBytes, fromBase64, parseEpoch, toBase64, utf8, withinWindow } from "../signing";

const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
/** Bytes of one P-256 signature half (r or s). */
const P256_COORDINATE_BYTES = 32;

/**
 * An ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` ECDSA signature (what SendGrid sends) as the
 * fixed-width r||s form WebCrypto verifies; null when the encoding is malformed.
 */
export function derToP1363(der: Uint8Array, size = P256_COORDINATE_BYTES): Uint8Array | null {
  // P-256 signatures are at most 72 bytes, so every length is in DER's one-byte short form.
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const out = new Uint8Array(size * 2);
  let offset = 2;
  for (let half = 0; half < 2; half++) {
    if (der[offset] !== 0x02) return null;
    const length = der[offset + 1] ?? 0;
    let value = der.subarray(offset + 2, offset + 2 + length);
    if (length === 0 || value.length !== length) return null;
    offset += 2 + length;
    // DER integers are signed: a leading zero byte keeps a high bit from reading as negative.
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) return null;
    out.set(value, half * size + size - value.length);
  }
  return offset === der.length ? out : null;
}

/** The DER bytes of a public key given as base64 SPKI, with or without PEM armour and line breaks. */
function spkiBytes(text: string): Uint8Array | null {
  const base64 = text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return base64.length > 0 ? fromBase64(base64) : null;
}

async function importPublicKey(spki: Uint8Array): Promise<CryptoKey | null> {
  try {
    return await crypto.subtle.importKey("spki", spki, P256, false, ["verify"]);
  } catch {
    return null;
  }
}

/**
 * Checks a verification key as the SendGrid console shows it (base64 SPKI DER of a P-256 key,
 * PEM armour allowed) and returns it as plain base64, or null when it is not such a key.
 */
export async function normalizeSendGridPublicKey(text: string): Promise<string | null> {
  const spki = spkiBytes(text);
  if (!spki || !(await importPublicKey(spki))) return null;
  return toBase64(spki);
}

/**
 * SendGrid Event Webhook with signature verification on: `X-Twilio-Email-Event-Webhook-Signature`
 * is a base64 DER ECDSA P-256/SHA-256 signature over `X-Twilio-Email-Event-Webhook-Timestamp`
 * (unix seconds, within the window) followed by the raw body, checked with the account's
 * verification public key (the integration's "secret"). A body is an array of events, each
 * deduplicated on its `sg_event_id`.
 */
export const sendgrid: ProviderReceiver = {
  async verify(delivery, publicKey) {
    const der = fromBase64(delivery.headers.get("x-twilio-email-event-webhook-signature") ?? "");
    const timestamp = delivery.headers.get("x-twilio-email-event-webhook-timestamp");
    const signature = der ? derToP1363(der) : null;
    if (!signature) return refused("missing or malformed X-Twilio-Email-Event-Webhook-Signature header");
    const signedAt = parseEpoch(timestamp, "s");
    if (Number.isNaN(signedAt)) return refused("missing or malformed X-Twilio-Email-Event-Webhook-Timestamp header");
    const spki = spkiBytes(publicKey);
    const key = spki ? await importPublicKey(spki) : null;
    if (!key) return refused("the integration's verification key is not a P-256 public key");
    const valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      signature,
      concatBytes(utf8(timestamp ?? ""), delivery.body),
    );
    if (!valid) return refused("signature does not match");
    return withinWindow(signedAt, delivery.now) ? VERIFIED : refused("timestamp outside the 5-minute window");
  },
  events(body) {
    return arrayEvents(
      body,
      (item) => ({ eventId: eventIdOf(item.sg_event_id), eventType: textOf(item.event) }),
      "sg_event_id",
    );
  },
};
