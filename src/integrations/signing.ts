/**
 * Byte-level helpers shared by the webhook verifiers: HMAC over raw bytes, strict hex and
 * base64 decoding, a constant-time comparison and the timestamp window.
 */

const encoder = new TextEncoder();

/** How far a signed timestamp may be from our clock, either way. */
export const TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The concatenation of byte arrays, in order (signed content is built from these, never from decoded text). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** HMAC of `message` under the UTF-8 bytes of `secret`. */
export async function hmac(hash: "SHA-1" | "SHA-256", secret: string, message: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
}

/**
 * Constant-time equality of two byte arrays: every byte is compared whatever the first
 * difference, so the time taken says nothing about where a forged signature goes wrong.
 * Only the length (public for every scheme here) can end it early.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Bytes of a hex string (either case), or null when it is not whole hex. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of standard base64 (padding optional), or null when it is not base64. */
export function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Standard base64 (with padding) of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** True when the signed instant `signedAtMs` is within {@link TIMESTAMP_TOLERANCE_MS} of `now`. */
export function withinWindow(signedAtMs: number, now: Date): boolean {
  return Number.isFinite(signedAtMs) && Math.abs(now.getTime() - signedAtMs) <= TIMESTAMP_TOLERANCE_MS;
}

/** Milliseconds of a whole-number text (unix seconds or milliseconds), or NaN when it is not one. */
export function parseEpoch(text: string | null, unit: "s" | "ms"): number {
  if (text === null || !/^\d{1,16}$/.test(text)) return Number.NaN;
  return Number(text) * (unit === "s" ? 1000 : 1);
}
