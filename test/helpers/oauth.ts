import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { generateApiKey } from "../../src/platform/auth/api-keys";
import type { Role } from "../../src/platform/auth/principal";
import { hashPassword, sha256Hex } from "../../src/platform/lib/crypto";
import { base64url } from "../../src/platform/lib/ids";
import { createWorkspace, workerFetch } from "./mcp";

/**
 * The OAuth flow as an app and a browser go through it (register, authorize page, sign-in form,
 * code exchange), and the credentials the auth tests make: users with passwords, API keys.
 */
export const ORIGIN = "http://localhost";
export const RESOURCE = `${ORIGIN}/mcp`;
export const METADATA_URL = `${ORIGIN}/.well-known/oauth-protected-resource/mcp`;
export const CHALLENGE = `Bearer realm="OAuth", resource_metadata="${METADATA_URL}"`;
export const REDIRECT_URI = "http://localhost:9999/callback";
export const PASSWORD = "correct horse battery";

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};

/** A raw JSON-RPC POST to `/mcp` with the given headers. */
export function postMcp(headers: Record<string, string>, body: unknown = INITIALIZE, query = ""): Promise<Response> {
  return workerFetch(`/mcp${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
}

/** A workspace whose user also has a password. */
export async function workspaceWithPassword(slug: string, role: Role) {
  const created = await createWorkspace(slug, role);
  await env.DB.prepare("UPDATE users SET password_hash = ?2 WHERE id = ?1")
    .bind(created.userId, await hashPassword(PASSWORD))
    .run();
  return { ...created, email: `${role}@${slug}.test` };
}

/** Adds an API key row and returns the key. */
export async function addKey(
  workspaceId: string,
  userId: string | null,
  role: Role,
  extra: { expiresAt?: string; revokedAt?: string } = {},
): Promise<{ key: string; keyId: string }> {
  const key = generateApiKey();
  const keyId = `key_${base64url(crypto.getRandomValues(new Uint8Array(9)))}`;
  await env.DB.prepare(
    `INSERT INTO api_keys (id, workspace_id, user_id, name, role, prefix, key_hash, expires_at, revoked_at)
     VALUES (?1, ?2, ?3, 'test', ?4, ?5, ?6, ?7, ?8)`,
  )
    .bind(
      keyId,
      workspaceId,
      userId,
      role,
      key.slice(0, 12),
      await sha256Hex(key),
      extra.expiresAt ?? null,
      extra.revokedAt ?? null,
    )
    .run();
  return { key, keyId };
}

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)) };
}

export async function registerClient(name = "Test Client"): Promise<string> {
  const response = await workerFetch("/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      client_name: name,
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    }),
  });
  expect(response.status).toBe(201);
  const body = await response.json<{ client_id: string; redirect_uris: string[] }>();
  expect(body.redirect_uris).toEqual([REDIRECT_URI]);
  return body.client_id;
}

/** The sign-in page as a browser gets it: the form's handle and the cookie that binds it. */
export interface SignInPage {
  response: Response;
  html: string;
  handle: string;
  cookie: string;
}

export async function readPage(response: Response): Promise<SignInPage> {
  const html = await response.text();
  const handle = /name="handle" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const cookie = response.headers
    .getSetCookie()
    .filter((c) => !/Max-Age=0/.test(c))
    .map((c) => c.split(";")[0])
    .join("; ");
  return { response, html, handle, cookie };
}

export function authorizeUrl(
  clientId: string,
  challenge: string,
  state: string,
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    resource: RESOURCE,
    ...extra,
  });
  return `/authorize?${params}`;
}

/** A GET that leaves redirects to the test: the Worker's fetch would otherwise follow them. */
export function getManual(path: string): Promise<Response> {
  return workerFetch(path, { redirect: "manual" });
}

export async function openAuthorize(clientId: string, challenge: string, state = "st-1"): Promise<SignInPage> {
  return readPage(await getManual(authorizeUrl(clientId, challenge, state)));
}

/** Posts the sign-in form; `scope` lists the boxes ticked. */
export function submit(
  page: Pick<SignInPage, "cookie">,
  fields: Record<string, string> & { scope?: never },
  scope: readonly string[] = [],
): Promise<Response> {
  const body = new URLSearchParams(fields);
  for (const value of scope) body.append("scope", value);
  return workerFetch("/authorize", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(page.cookie ? { cookie: page.cookie } : {}) },
    body: body.toString(),
    redirect: "manual",
  });
}

export function exchangeCode(clientId: string, code: string, verifier: string): Promise<Response> {
  return workerFetch("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
      code_verifier: verifier,
      resource: RESOURCE,
    }).toString(),
  });
}

/** Runs the whole browser part of the flow and returns an access token. */
export async function oauthToken(
  workspace: string,
  email: string,
  secret: string = PASSWORD,
  ticked: readonly string[] = ["write", "send", "admin"],
): Promise<{ accessToken: string; scope: string }> {
  const clientId = await registerClient();
  const { verifier, challenge } = await pkcePair();
  const page = await openAuthorize(clientId, challenge);
  const approved = await submit(page, { handle: page.handle, decision: "approve", workspace, email, secret }, ticked);
  expect(approved.status).toBe(302);
  const code = new URL(approved.headers.get("location") ?? "").searchParams.get("code") ?? "";
  const token = await exchangeCode(clientId, code, verifier);
  expect(token.status).toBe(200);
  const body = await token.json<{ access_token: string; scope: string }>();
  return { accessToken: body.access_token, scope: body.scope };
}
