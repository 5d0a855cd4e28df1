/**
 * The OAuth `/authorize` page: the person signs in (workspace, email, and a password or one of
 * their API keys), sees which app asks and where access goes, and allows or denies. The
 * authorization request stays server-side between the two requests; the form carries only
 * the provider's one-use consent handle, bound to this browser by a cookie, which is what
 * makes the form unforgeable from another site.
 */
import {
  AuthorizationError,
  type AuthRequest,
  authorizationErrorRedirect,
  CimdFetchError,
  type ConsentDescription,
  type OAuthHelpers,
} from "@cloudflare/workers-oauth-provider";
import { Hono } from "hono";
import { html } from "hono/html";
import { canonicalEmail, signIn } from "../auth/credentials";
import { type AuthProps, ROLES, type Role, SCOPES, type Scope } from "../auth/principal";
import { grantedScopes, SCOPE_ACCESS, scopesNamed } from "../auth/scopes";
import { signInThrottle } from "../auth/throttle";
import { base64url } from "../lib/ids";
import { oauthApi } from "./oauth";

/** `GET` and `POST /authorize`. */
export const authorizeRoutes = new Hono<{ Bindings: Env }>();

/** Which scopes each role can hold, as the page says it. */
const ROLE_SCOPES: Record<Role, string> = {
  viewer: "read",
  csm: "read, write and send",
  admin: "all four",
};

/** One message for every mismatch, so the page never tells which part was wrong. */
const SIGN_IN_FAILED = "Those sign-in details did not match. Check them and try again.";
const TOO_MANY_FAILURES = "Too many failed attempts for this email. Wait 15 minutes, then try again.";
const START_AGAIN =
  "This sign-in page expired, was already used, or was opened in another browser. Start again from your app.";

/** What the form shows again after a failed attempt (never the password or key). */
interface FormState {
  workspace: string;
  email: string;
  /** The optional scopes ticked (write, send, admin: each opt-in). */
  ticked: Scope[];
  error?: string;
}

/**
 * The scopes the page offers: those the app asked for (role names read as their scopes), or all
 * when it asked for none; `read` always, since every other scope builds on it.
 */
function offeredScopes(request: AuthRequest): Scope[] {
  const asked = scopesNamed(request.scope);
  return asked.length === 0 ? [...SCOPES] : SCOPES.filter((scope) => scope === "read" || asked.includes(scope));
}

authorizeRoutes.get("/authorize", async (c) => {
  const oauth = oauthApi(c.env, c.req.raw);
  const request = await parseAuthorizationRequest(oauth, c.req.raw);
  if (request instanceof Response) return request;
  return showForm(oauth, request, { workspace: "", email: "", ticked: [] }, 200);
});

authorizeRoutes.post("/authorize", async (c) => {
  const oauth = oauthApi(c.env, c.req.raw);
  const form = await c.req.parseBody({ all: true });
  const field = (name: string): string => {
    const value = form[name];
    return typeof value === "string" ? value : "";
  };
  const ticked = [form.scope ?? []].flat().filter((value): value is string => typeof value === "string");
  try {
    if (field("decision") === "deny") {
      const denied = await oauth.denyConsent(c.req.raw, field("handle"));
      return new Response(null, { status: 302, headers: denied.headers });
    }
    // Checked (and consumed) before the credentials: a forged or replayed form goes no further.
    const approved = await oauth.approveConsent(c.req.raw, field("handle"));
    const offered = offeredScopes(approved.request);
    const state: FormState = {
      workspace: field("workspace").trim(),
      email: canonicalEmail(field("email")),
      ticked: offered.filter((scope) => scope !== "read" && ticked.includes(scope)),
    };
    const kv = c.env.OAUTH_KV;
    if (await signInThrottle.blocked(kv, state.workspace, state.email)) {
      return showForm(oauth, approved.request, { ...state, error: TOO_MANY_FAILURES }, 429, approved.headers);
    }
    const principal = await signIn(c.env, { ...state, secret: field("secret") });
    if (!principal?.userId) {
      await signInThrottle.fail(kv, state.workspace, state.email);
      return showForm(oauth, approved.request, { ...state, error: SIGN_IN_FAILED }, 401, approved.headers);
    }
    await signInThrottle.clear(kv, state.workspace, state.email);
    const props: AuthProps = { workspaceId: principal.workspaceId, userId: principal.userId, keyId: principal.keyId };
    // The smaller of what was ticked and what the role (capped by a key's own role) can hold;
    // every call checks these scopes and the role re-read from D1, so a demotion applies at once.
    const scope = grantedScopes(principal.role, ["read", ...state.ticked]);
    const { redirectTo } = await oauth.completeAuthorization({
      request: approved.request,
      userId: principal.userId,
      metadata: { workspaceSlug: principal.workspaceSlug, signedInWith: principal.keyId ? "api_key" : "password" },
      scope,
      props,
    });
    approved.headers.set("Location", redirectTo);
    return new Response(null, { status: 302, headers: approved.headers });
  } catch (error) {
    if (error instanceof AuthorizationError) return messagePage(START_AGAIN, 400);
    throw error;
  }
});

/**
 * Validates the request's client, redirect URI, resource and PKCE. Errors go back to the client
 * only once its redirect URI is validated; otherwise they are shown here.
 */
async function parseAuthorizationRequest(oauth: OAuthHelpers, request: Request): Promise<AuthRequest | Response> {
  let parsed: AuthRequest;
  try {
    parsed = await oauth.parseAuthRequest(request);
  } catch (error) {
    if (error instanceof AuthorizationError && error.redirectTo) return redirect(error.redirectTo);
    if (error instanceof AuthorizationError)
      return messagePage(`This sign-in link is not valid: ${error.description}`, 400);
    if (error instanceof CimdFetchError) return messagePage("This app could not be verified.", 400);
    throw error;
  }
  // The provider lets confidential clients skip PKCE; OAuth 2.1 and MCP expect it from every client.
  if (!parsed.codeChallenge) {
    return redirect(authorizationErrorRedirect(parsed, "invalid_request", "PKCE (S256) is required"));
  }
  return parsed;
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { Location: location, "Cache-Control": "no-store" } });
}

/** Renders the sign-in form with a fresh consent handle (each handle works once). */
async function showForm(
  oauth: OAuthHelpers,
  request: AuthRequest,
  state: FormState,
  status: number,
  previous?: Headers,
): Promise<Response> {
  const details = await oauth.describeConsent(request);
  const consent = await oauth.beginConsent(request);
  const headers = consent.headers;
  // The previous response's headers clear the used handle's binding cookie.
  for (const cookie of previous?.getSetCookie() ?? []) headers.append("Set-Cookie", cookie);
  const nonce = newNonce();
  const body = await formPage(details, consent.handle, offeredScopes(request), state, nonce);
  return htmlResponse(body.toString(), status, nonce, headers);
}

async function messagePage(message: string, status: number): Promise<Response> {
  const nonce = newNonce();
  const body = await html`<!doctype html>
<html lang="en">
<head>${head(nonce)}</head>
<body><main><h1>Sign-in problem</h1><p class="error" role="alert">${message}</p></main></body>
</html>`;
  return htmlResponse(body.toString(), status, nonce, new Headers({ "Cache-Control": "no-store" }));
}

/** A per-response nonce: the page's only style block carries it, nothing else may run or load. */
function newNonce(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

function htmlResponse(body: string, status: number, nonce: string, headers: Headers): Response {
  headers.set("Content-Type", "text/html; charset=utf-8");
  // No form-action: browsers apply it to the redirect back to the client after the post.
  headers.set(
    "Content-Security-Policy",
    `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`,
  );
  headers.set("X-Frame-Options", "DENY");
  headers.set("Referrer-Policy", "no-referrer");
  headers.set("X-Content-Type-Options", "nosniff");
  return new Response(body, { status, headers });
}

function head(nonce: string) {
  return html`<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Customer Success MCP</title>
<style nonce="${nonce}">
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.45; }
  body { margin: 0; padding: 2rem 1rem; background: Canvas; color: CanvasText; }
  main { max-width: 28rem; margin: 0 auto; }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; }
  .muted { opacity: 0.75; font-size: 0.9rem; }
  .box { border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: 8px; padding: 0.75rem 1rem; margin: 1rem 0; }
  .box ul { margin: 0.25rem 0 0; padding-left: 1.2rem; }
  .warn { border-color: #b7791f; }
  .error { color: #c53030; font-weight: 600; }
  label { display: block; margin: 0.75rem 0 0.25rem; font-weight: 600; }
  input { box-sizing: border-box; width: 100%; padding: 0.5rem; font: inherit; border-radius: 6px; border: 1px solid color-mix(in srgb, CanvasText 35%, transparent); }
  .actions { display: flex; gap: 0.75rem; margin-top: 1.25rem; }
  button { flex: 1; padding: 0.6rem; font: inherit; font-weight: 600; border-radius: 6px; cursor: pointer; border: 1px solid #2b6cb0; }
  button.allow { background: #2b6cb0; color: #fff; }
  button.deny { background: transparent; color: inherit; border-color: color-mix(in srgb, CanvasText 35%, transparent); }
  code { font-size: 0.95em; }
  fieldset { margin: 1rem 0 0; }
  ul.scopes { list-style: none; padding-left: 0; }
  label.scope { display: flex; gap: 0.5rem; align-items: baseline; font-weight: normal; margin: 0.35rem 0; }
  label.scope input { width: auto; }
</style>`;
}

function formPage(details: ConsentDescription, handle: string, offered: Scope[], state: FormState, nonce: string) {
  const origin = details.clientDomain
    ? html`Published by <strong>${details.clientDomain}</strong>.`
    : html`This app registered itself, so its name is not verified.`;
  const scopes = offered.map((scope) =>
    scope === "read"
      ? html`<li><label class="scope"><input type="checkbox" checked disabled> <strong>read</strong>: ${SCOPE_ACCESS.read} (always)</label></li>`
      : html`<li><label class="scope"><input type="checkbox" name="scope" value="${scope}"${state.ticked.includes(scope) ? " checked" : ""}> <strong>${scope}</strong>: ${SCOPE_ACCESS[scope]}</label></li>`,
  );
  const roles = ROLES.map((role) => `${role}: ${ROLE_SCOPES[role]}`).join("; ");
  const loopback = details.redirectIsLoopback
    ? html`<p class="box warn">Access goes to an app on this computer. Continue only if you just started connecting from it.</p>`
    : "";
  const error = state.error ? html`<p class="error" role="alert">${state.error}</p>` : "";
  return html`<!doctype html>
<html lang="en">
<head>${head(nonce)}</head>
<body>
<main>
  <h1>Allow <span class="client">${details.clientName}</span> to use Customer Success MCP?</h1>
  <p class="muted">${origin}</p>
  <div class="box">
    <p>Access will be sent to <code>${details.redirectHost}</code>.</p>
  </div>
  ${loopback}
  ${error}
  <form method="post" action="/authorize">
    <input type="hidden" name="handle" value="${handle}">
    <label for="workspace">Workspace</label>
    <input id="workspace" name="workspace" required autocapitalize="none" spellcheck="false" value="${state.workspace}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" required autocomplete="username" value="${state.email}">
    <label for="secret">Password or personal API key</label>
    <input id="secret" name="secret" type="password" required autocomplete="current-password">
    <fieldset class="box">
      <legend>What the app may do</legend>
      <ul class="scopes">${scopes}</ul>
      <p class="muted">It gets what you tick, within your role in the workspace (${roles}). Your role is checked again on every request: if it changes or your account is disabled, the app's access changes at once.</p>
    </fieldset>
    <div class="actions">
      <button class="allow" name="decision" value="approve">Allow</button>
      <button class="deny" name="decision" value="deny" formnovalidate>Deny</button>
    </div>
  </form>
</main>
</body>
</html>`;
}
