import { clock } from "../lib/clock";
import { sha256Hex } from "../lib/crypto";
import { base64url } from "../lib/ids";
import type { AuthProps } from "./principal";
import { findApiKeyByHash, touchApiKeyUsedAt } from "./queries";

/** Every personal API key starts with this, so it is recognised (and found by secret scanners). */
export const API_KEY_PREFIX = "csk_";

/** A new random key; only its hash is stored. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(24)));
}

/** `last_used_at` is refreshed at most this often, so a busy key does not cost a D1 write per call. */
const LAST_USED_RESOLUTION_MS = 3_600_000;

/** Resolves a bearer API key to its props, or null when unknown, revoked or expired. */
export async function resolveApiKey(env: Pick<Env, "DB">, key: string, now = clock.now()): Promise<AuthProps | null> {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const row = await findApiKeyByHash(env.DB, await sha256Hex(key));
  if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now.toISOString())) return null;
  await touchApiKey(env, row, now);
  return { workspaceId: row.workspace_id, userId: row.user_id, keyId: row.id };
}

/** Records that a key was used, when the stored time is older than the resolution. */
export async function touchApiKey(
  env: Pick<Env, "DB">,
  key: { id: string; last_used_at: string | null },
  now = clock.now(),
): Promise<void> {
  const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString();
  if (key.last_used_at && key.last_used_at > staleBefore) return;
  await touchApiKeyUsedAt(env.DB, key.id, now.toISOString(), staleBefore);
}
