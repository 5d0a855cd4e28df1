/**
 * Integration secrets at rest. `secret_ciphertext` holds the current secret sealed with
 * {@link encryptSecret} under `ENCRYPTION_KEY`, so `decryptSecret(row.secret_ciphertext, key)`
 * yields it directly. For 24 hours after a rotation of a webhook integration, the previous
 * secret is kept too, sealed on its own and appended after {@link PREVIOUS_SEPARATOR}, so
 * deliveries signed with either secret verify while the provider is switched over.
 */
import { decryptSecret, encryptSecret, sha256Hex } from "../platform/lib/crypto";
import { base64url } from "../platform/lib/ids";

/** How long the previous secret still verifies after a rotation. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

/** Not in the base64url alphabet nor `.`, so it never occurs inside one sealed value. */
const PREVIOUS_SEPARATOR = "~";

/** The sealed value of an integration awaiting the provider's secret: no delivery verifies against it. */
export const AWAITING_SECRET = "";

/** A fresh secret: 32 random bytes, base64url. */
export function generateSecret(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The plain secrets of one integration. */
export interface OpenedSecrets {
  /** Empty while the integration awaits the provider's secret. */
  current: string;
  /** The secret before the last rotation, if it was kept. */
  previous: string | null;
}

/** Seals the current (and optionally previous) secret for `secret_ciphertext`. */
export async function sealSecrets(secrets: OpenedSecrets, encryptionKey: string): Promise<string> {
  const current = await encryptSecret(secrets.current, encryptionKey);
  if (!secrets.previous) return current;
  return `${current}${PREVIOUS_SEPARATOR}${await encryptSecret(secrets.previous, encryptionKey)}`;
}

/** Inverse of {@link sealSecrets}. */
export async function openSecrets(sealed: string, encryptionKey: string): Promise<OpenedSecrets> {
  const [current = "", previous] = sealed.split(PREVIOUS_SEPARATOR);
  return {
    current: await decryptSecret(current, encryptionKey),
    previous: previous ? await decryptSecret(previous, encryptionKey) : null,
  };
}

/**
 * The secrets, or null when they cannot be opened with this key: `ENCRYPTION_KEY` was changed, or
 * the database restored under another one. Such an integration is shown as unreadable and its
 * deliveries refused until its secret is set again, instead of failing every call that reads it.
 */
export async function readableSecrets(sealed: string, encryptionKey: string): Promise<OpenedSecrets | null> {
  try {
    return await openSecrets(sealed, encryptionKey);
  } catch {
    return null;
  }
}

/** The instant the previous secret stops verifying, or null when none is kept or it already has. */
export function previousValidUntil(secrets: OpenedSecrets, rotatedAt: string | null, now: Date): string | null {
  if (!secrets.previous || !rotatedAt) return null;
  const until = Date.parse(rotatedAt) + ROTATION_GRACE_MS;
  return until > now.getTime() ? new Date(until).toISOString() : null;
}

/** The secrets a delivery may be signed with now: the current one, and the previous one during the grace period. */
export function acceptedSecrets(secrets: OpenedSecrets, rotatedAt: string | null, now: Date): string[] {
  const accepted = [secrets.current];
  if (previousValidUntil(secrets, rotatedAt, now) && secrets.previous) accepted.push(secrets.previous);
  // An empty secret would let anyone sign (HMAC accepts an empty key): it never counts.
  return accepted.filter((secret) => secret !== AWAITING_SECRET);
}

/** A short, non-reversible tag of a secret for lists: the last 4 hex digits of its SHA-256; null when none is set. */
export async function secretFingerprint(secret: string): Promise<string | null> {
  return secret === AWAITING_SECRET ? null : (await sha256Hex(secret)).slice(-4);
}
