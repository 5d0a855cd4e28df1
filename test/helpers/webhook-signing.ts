import { clock } from "../../src/platform/lib/clock";

/**
 * Signs webhook deliveries the way each provider documents it, written independently of the
 * verifiers under test (WebCrypto directly, no shared helpers).
 */
const encoder = new TextEncoder();

/** A raw body: text (sent as UTF-8) or bytes as they are (e.g. not UTF-8 at all). */
export type RawBody = string | Uint8Array;

/** The bytes of signed content: text parts as UTF-8, byte parts as they are, in order. */
function signedBytes(...parts: RawBody[]): Uint8Array {
  const encoded = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(encoded.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of encoded) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function hmacBytes(hash: "SHA-1" | "SHA-256", secret: string, ...message: RawBody[]): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, signedBytes(...message)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** Unix seconds of now, offset by `offsetSeconds`. */
export function unixSeconds(offsetSeconds = 0): number {
  return Math.floor(clock.now().getTime() / 1000) + offsetSeconds;
}

export async function segmentHeaders(secret: string, body: RawBody): Promise<Record<string, string>> {
  return { "X-Signature": hex(await hmacBytes("SHA-1", secret, body)) };
}

export async function zendeskHeaders(
  secret: string,
  body: RawBody,
  timestamp = clock
    .now()
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z"),
): Promise<Record<string, string>> {
  return {
    "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
    "X-Zendesk-Webhook-Invocation-Id": "8350205582",
    "X-Zendesk-Webhook-Signature": base64(await hmacBytes("SHA-256", secret, timestamp, body)),
    "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
  };
}

export async function intercomHeaders(secret: string, body: RawBody): Promise<Record<string, string>> {
  return { "X-Hub-Signature": `sha1=${hex(await hmacBytes("SHA-1", secret, body))}` };
}

export async function hubspotHeaders(
  secret: string,
  body: RawBody,
  uri: string,
  timestampMs = clock.now().getTime(),
): Promise<Record<string, string>> {
  const timestamp = String(timestampMs);
  return {
    "X-HubSpot-Signature-v3": base64(await hmacBytes("SHA-256", secret, `POST${uri}`, body, timestamp)),
    "X-HubSpot-Request-Timestamp": timestamp,
    "X-HubSpot-Signature-Version": "v3",
  };
}

export async function stripeHeaders(secret: string, body: RawBody, t = unixSeconds()): Promise<Record<string, string>> {
  return { "Stripe-Signature": `t=${t},v1=${hex(await hmacBytes("SHA-256", secret, `${t}.`, body))}` };
}

export async function genericHeaders(
  secret: string,
  body: RawBody,
  t = unixSeconds(),
): Promise<Record<string, string>> {
  return {
    "X-Webhook-Timestamp": String(t),
    "X-Webhook-Signature": `sha256=${hex(await hmacBytes("SHA-256", secret, `${t}.`, body))}`,
  };
}

/** A P-256 key pair like a SendGrid account's, with the public key as SendGrid shows it (base64 SPKI). */
export async function sendgridKeyPair(): Promise<{ privateKey: CryptoKey; publicKeyBase64: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return { privateKey: pair.privateKey, publicKeyBase64: base64(spki) };
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw r||s signature, as SendGrid's signer emits. */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array): number[] => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = Array.from(bytes.subarray(start));
    const value = trimmed[0]! & 0x80 ? [0, ...trimmed] : trimmed;
    return [0x02, value.length, ...value];
  };
  const half = signature.length / 2;
  const content = [...integer(signature.subarray(0, half)), ...integer(signature.subarray(half))];
  return Uint8Array.from([0x30, content.length, ...content]);
}

export async function sendgridHeaders(
  privateKey: CryptoKey,
  body: RawBody,
  t = unixSeconds(),
): Promise<Record<string, string>> {
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, signedBytes(String(t), body)),
  );
  return {
    "X-Twilio-Email-Event-Webhook-Signature": base64(p1363ToDer(raw)),
    "X-Twilio-Email-Event-Webhook-Timestamp": String(t),
  };
}
