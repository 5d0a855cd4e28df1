import { sha256Hex } from "../lib/crypto";
import { base64url } from "../lib/ids";
import type { AuthProps, Role } from "./principal";

/** Every personal API key starts with this, so it is recognised (and found by secret scanners). */
export const API_KEY_PREFIX = "csk_";

/** A new random key; only its hash is stored. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(24)));
}

interface KeyRow {
  id: string;
  workspace_id: string;
  user_id: string | null;
  role: Role;
  revoked_at: string | null;
  expires_at: string | null;
}

/** Resolves a bearer API key to its props, or null when unknown, revoked or expired. */
export async function resolveApiKey(env: Pick<Env, "DB">, key: string, now = new Date()): Promise<AuthProps | null> {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const row = await env.DB.prepare(
    "SELECT id, workspace_id, user_id, role, revoked_at, expires_at FROM api_keys WHERE key_hash = ?1",
  )
    .bind(await sha256Hex(key))
    .first<KeyRow>();
  if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now.toISOString())) return null;
  return { workspaceId: row.workspace_id, userId: row.user_id, keyId: row.id };
}
