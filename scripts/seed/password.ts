/**
 * The demo users' password. Its PBKDF2 hash uses a salt derived from the seed and slug, not a
 * random one, so the same options give byte-identical seed SQL. The format is the one
 * `hashPassword` writes, so sign-in verifies it as usual. Demo data only: real users get random salts.
 */
import { base64url } from "../../src/platform/lib/ids";

/** Password of every demo user (printed by `npm start`). */
export const DEMO_PASSWORD = "demo-password";

const ITERATIONS = 100_000;

/** `pbkdf2$<iterations>$<salt>$<hash>` of the demo password with a salt fixed by seed and slug. */
export async function demoPasswordHash(seed: number, slug: string, password = DEMO_PASSWORD): Promise<string> {
  const encoder = new TextEncoder();
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`demo-salt:${seed}:${slug}`));
  const salt = new Uint8Array(digest).slice(0, 16);
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS },
    key,
    256,
  );
  return `pbkdf2$${ITERATIONS}$${base64url(salt)}$${base64url(new Uint8Array(bits))}`;
}
