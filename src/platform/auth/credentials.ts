import { clock } from "../lib/clock";
import { hashPassword, sha256Hex, verifyPassword } from "../lib/crypto";
import { API_KEY_PREFIX, touchApiKey } from "./api-keys";
import { loadPrincipal } from "./load";
import type { AuthProps, Principal } from "./principal";
import { findKeyCredential, findPasswordCredential } from "./queries";

/** Emails are matched case-insensitively: they are stored and looked up in this form. */
export function canonicalEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** What a person types on the sign-in page. */
export interface SignInInput {
  workspace: string;
  email: string;
  /** A password, or one of the user's own API keys (recognised by its `csk_` prefix). */
  secret: string;
}

let decoyHash: Promise<string> | undefined;

/**
 * A real hash of a random password, checked when there is no stored hash, so an unknown
 * workspace or email costs the same PBKDF2 work as a wrong password and timing tells nothing.
 */
function decoy(): Promise<string> {
  decoyHash ??= hashPassword(crypto.randomUUID());
  return decoyHash;
}

/**
 * Checks sign-in details and returns the caller as every later call will see them, or null
 * for any mismatch (unknown workspace or user, wrong secret, disabled user, revoked key) with
 * no hint of which. A key signs in only as its own user and caps the session at its role.
 */
export async function signIn(env: Pick<Env, "DB">, input: SignInInput, now = clock.now()): Promise<Principal | null> {
  const workspace = input.workspace.trim();
  const email = canonicalEmail(input.email);
  const props = input.secret.startsWith(API_KEY_PREFIX)
    ? await keyProps(env, workspace, email, input.secret)
    : await passwordProps(env, workspace, email, input.secret);
  const principal = props ? await loadPrincipal(env, props, now) : null;
  if (principal?.keyId) await touchApiKey(env, { id: principal.keyId, last_used_at: null }, now);
  return principal;
}

async function passwordProps(
  env: Pick<Env, "DB">,
  workspace: string,
  email: string,
  password: string,
): Promise<AuthProps | null> {
  const row = await findPasswordCredential(env.DB, workspace, email);
  const valid = await verifyPassword(password, row?.password_hash ?? (await decoy()));
  if (!row?.password_hash || !valid) return null;
  return { workspaceId: row.workspace_id, userId: row.user_id, keyId: null };
}

async function keyProps(
  env: Pick<Env, "DB">,
  workspace: string,
  email: string,
  key: string,
): Promise<AuthProps | null> {
  const row = await findKeyCredential(env.DB, await sha256Hex(key), workspace, email);
  if (!row) return null;
  // keyId stays in the grant, so revoking the key also ends the sessions it opened.
  return { workspaceId: row.workspace_id, userId: row.user_id, keyId: row.id };
}
