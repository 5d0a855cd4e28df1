/**
 * The SQL of authentication: credentials checked at sign-in, API keys resolved per request, and
 * the caller re-read for each call. Every statement reads or writes by a unique key.
 */
import type { AuthProps, Role } from "./principal";

/** A user of a workspace found by workspace slug and canonical email, with their password hash. */
export interface PasswordCredentialRow {
  workspace_id: string;
  user_id: string;
  password_hash: string | null;
}

/** The user with this canonical email in the workspace with this slug, or null. */
export async function findPasswordCredential(
  db: D1Database,
  workspaceSlug: string,
  email: string,
): Promise<PasswordCredentialRow | null> {
  return db
    .prepare(
      `SELECT w.id AS workspace_id, u.id AS user_id, u.password_hash
       FROM workspaces w JOIN users u ON u.workspace_id = w.id AND u.email = ?2
      WHERE w.slug = ?1`,
    )
    .bind(workspaceSlug, email)
    .first<PasswordCredentialRow>();
}

/** An API key with its workspace and user. */
export interface KeyCredentialRow {
  id: string;
  workspace_id: string;
  user_id: string;
}

/** The key with this hash, when it belongs to the user with this email in the workspace with this slug; else null. */
export async function findKeyCredential(
  db: D1Database,
  keyHash: string,
  workspaceSlug: string,
  email: string,
): Promise<KeyCredentialRow | null> {
  return db
    .prepare(
      `SELECT k.id, k.workspace_id, k.user_id
       FROM api_keys k
       JOIN workspaces w ON w.id = k.workspace_id
       JOIN users u ON u.id = k.user_id AND u.workspace_id = k.workspace_id
      WHERE k.key_hash = ?1 AND w.slug = ?2 AND u.email = ?3`,
    )
    .bind(keyHash, workspaceSlug, email)
    .first<KeyCredentialRow>();
}

/** An API key as a bearer token resolves it. */
export interface ApiKeyRow {
  id: string;
  workspace_id: string;
  user_id: string | null;
  role: Role;
  revoked_at: string | null;
  expires_at: string | null;
  last_used_at: string | null;
}

/** The API key with this hash (revoked and expired ones included), or null. */
export async function findApiKeyByHash(db: D1Database, keyHash: string): Promise<ApiKeyRow | null> {
  return db
    .prepare(
      "SELECT id, workspace_id, user_id, role, revoked_at, expires_at, last_used_at FROM api_keys WHERE key_hash = ?1",
    )
    .bind(keyHash)
    .first<ApiKeyRow>();
}

/** Sets a key's `last_used_at` to `usedAt` unless it was already set after `staleBefore`. */
export async function touchApiKeyUsedAt(
  db: D1Database,
  keyId: string,
  usedAt: string,
  staleBefore: string,
): Promise<void> {
  await db
    .prepare("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)")
    .bind(keyId, usedAt, staleBefore)
    .run();
}

/** The workspace of a caller with the current state of its user and key (null columns when absent). */
export interface PrincipalRow {
  slug: string;
  user_role: Role | null;
  user_disabled: string | null;
  key_role: Role | null;
  key_revoked: string | null;
  key_expires: string | null;
}

/** The caller's workspace with its user's and key's current role and state, or null when the workspace is gone. */
export async function findPrincipalRow(db: D1Database, props: AuthProps): Promise<PrincipalRow | null> {
  return db
    .prepare(
      `SELECT w.slug AS slug, u.role AS user_role, u.disabled_at AS user_disabled,
            k.role AS key_role, k.revoked_at AS key_revoked, k.expires_at AS key_expires
       FROM workspaces w
       LEFT JOIN users u ON u.id = ?2 AND u.workspace_id = w.id
       LEFT JOIN api_keys k ON k.id = ?3 AND k.workspace_id = w.id
      WHERE w.id = ?1`,
    )
    .bind(props.workspaceId, props.userId, props.keyId)
    .first<PrincipalRow>();
}
