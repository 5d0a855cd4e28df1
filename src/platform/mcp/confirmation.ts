import { base64url, fromBase64url } from "../lib/ids";
import { ToolError } from "./errors";

/** How long a confirmation token stays valid after the dry run that issued it. */
export const CONFIRMATION_TTL_SECONDS = 600;

const encoder = new TextEncoder();

/** Who may use a token and for what: it works only for the same workspace, caller and tool. */
export interface ConfirmationScope {
  workspaceId: string;
  /** The user or key the dry run was made by. */
  callerId: string;
  tool: string;
}

/** The scope of a confirmation made by this caller with this tool (a service key without user: its key id). */
export function confirmationScope(
  principal: { workspaceId: string; userId: string | null; keyId: string | null },
  tool: string,
): ConfirmationScope {
  return { workspaceId: principal.workspaceId, callerId: principal.userId ?? principal.keyId ?? "service", tool };
}

/** A token and when it stops working. */
export interface Confirmation {
  token: string;
  expires_at: string;
}

/** JSON with object keys sorted at every depth, so equal payloads give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

async function signingKey(secretBase64: string): Promise<CryptoKey> {
  const raw = Uint8Array.from(atob(secretBase64), (c) => c.charCodeAt(0));
  // A key of its own, so a confirmation signature can never double as anything else sealed with the secret.
  const derived = await crypto.subtle.digest(
    "SHA-256",
    new Uint8Array([...encoder.encode("confirmation:v1:"), ...raw]),
  );
  return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function message(scope: ConfirmationScope, payload: unknown, expires: number): Uint8Array {
  return encoder.encode(
    canonicalJson({ w: scope.workspaceId, c: scope.callerId, t: scope.tool, p: payload, e: expires }),
  );
}

/**
 * Issues a token bound to the exact payload (canonical JSON), the workspace, the caller and the
 * tool, valid for {@link CONFIRMATION_TTL_SECONDS}. Stateless: the token carries its expiry and
 * an HMAC under a key derived from `ENCRYPTION_KEY`.
 */
export async function issueConfirmation(
  env: Pick<Env, "ENCRYPTION_KEY">,
  scope: ConfirmationScope,
  payload: unknown,
  now: Date,
): Promise<Confirmation> {
  const expires = Math.floor(now.getTime() / 1000) + CONFIRMATION_TTL_SECONDS;
  const signature = await crypto.subtle.sign(
    "HMAC",
    await signingKey(env.ENCRYPTION_KEY),
    message(scope, payload, expires),
  );
  return {
    token: `cfm_${expires.toString(36)}_${base64url(new Uint8Array(signature))}`,
    expires_at: new Date(expires * 1000).toISOString(),
  };
}

/**
 * Throws a {@link ToolError} unless `token` was issued by {@link issueConfirmation} for this
 * scope and this exact payload and has not expired. Callers make the send itself idempotent on
 * the token, so a repeated call with the same token sends nothing new.
 */
export async function verifyConfirmation(
  env: Pick<Env, "ENCRYPTION_KEY">,
  scope: ConfirmationScope,
  payload: unknown,
  token: string,
  now: Date,
): Promise<void> {
  const rerun = "Run the same call with dry_run=true to get a new confirmation_token.";
  const match = /^cfm_([0-9a-z]{1,12})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match?.[1] || !match[2]) throw new ToolError(`The confirmation_token is malformed. ${rerun}`);
  const expires = Number.parseInt(match[1], 36);
  if (expires * 1000 < now.getTime()) throw new ToolError(`The confirmation_token has expired. ${rerun}`);
  const valid = await crypto.subtle.verify(
    "HMAC",
    await signingKey(env.ENCRYPTION_KEY),
    fromBase64url(match[2]),
    message(scope, payload, expires),
  );
  if (!valid) {
    throw new ToolError(
      `The confirmation_token does not match this payload: it was issued for a different request or caller. ${rerun}`,
    );
  }
}
