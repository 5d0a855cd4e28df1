import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateApiKey } from "../../src/platform/auth/api-keys";
import { type Principal, type Role, roleAtLeast, SCOPES } from "../../src/platform/auth/principal";
import { scopesOfRole } from "../../src/platform/auth/scopes";
import { MAX_SIGN_IN_FAILURES } from "../../src/platform/auth/throttle";
import { base64url } from "../../src/platform/lib/ids";
import { requiredRole } from "../../src/platform/mcp/define-tool";
import { visibleTools } from "../../src/platform/mcp/server";
import { parseSessionOptions } from "../../src/platform/mcp/session";
import { REGISTRY } from "../../src/toolsets";
import { callOk, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";
import {
  addKey,
  authorizeUrl,
  CHALLENGE,
  exchangeCode,
  getManual,
  METADATA_URL,
  ORIGIN,
  oauthToken,
  openAuthorize,
  PASSWORD,
  pkcePair,
  postMcp,
  REDIRECT_URI,
  RESOURCE,
  readPage,
  registerClient,
  submit,
  workspaceWithPassword,
} from "../helpers/oauth";
import { daysAgo } from "../helpers/time";

/** The tool names a caller of this role sees in a default session. */
function expectedTools(role: Role): string[] {
  const session = parseSessionOptions(new Request(RESOURCE), REGISTRY);
  if ("error" in session) throw new Error(session.error);
  const principal: Principal = {
    workspaceId: "w",
    userId: "u",
    keyId: null,
    role,
    scopes: scopesOfRole(role),
    workspaceSlug: "s",
  };
  return visibleTools(REGISTRY, session, principal)
    .map((t) => t.name)
    .sort();
}

describe("bearer credentials on /mcp", () => {
  it("answers a missing Authorization header with the resource-metadata challenge", async () => {
    const response = await postMcp({});
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(CHALLENGE);
  });

  it("answers malformed Authorization headers with the same challenge", async () => {
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer two words", "csk_no_scheme"]) {
      const response = await postMcp({ authorization: header });
      expect(response.status, header).toBe(401);
      expect(response.headers.get("www-authenticate"), header).toBe(CHALLENGE);
    }
  });

  it("refuses unknown, revoked and expired keys with invalid_token", async () => {
    const { workspaceId, userId } = await createWorkspace("auth-keys", "csm");
    const revoked = await addKey(workspaceId, userId, "csm", { revokedAt: daysAgo(30) });
    const expired = await addKey(workspaceId, userId, "csm", { expiresAt: daysAgo(30) });
    for (const key of [generateApiKey(), revoked.key, expired.key, "not-a-key"]) {
      const response = await postMcp({ authorization: `Bearer ${key}` });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(`${CHALLENGE}, error="invalid_token"`);
      expect(await response.json()).toEqual({ error: "invalid_token", error_description: "Invalid access token" });
    }
  });

  it("refuses the key of a disabled user with the same challenge", async () => {
    const { key, userId } = await createWorkspace("auth-disabled", "csm");
    expect((await postMcp({ authorization: `Bearer ${key}` })).status).toBe(200);
    await env.DB.prepare("UPDATE users SET disabled_at = ?2 WHERE id = ?1").bind(userId, daysAgo(30)).run();
    const response = await postMcp({ authorization: `Bearer ${key}` });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `${CHALLENGE}, error="invalid_token", error_description="The credential was revoked, expired or its user disabled."`,
    );
  });

  it("accepts a workspace service key and records when a key was last used", async () => {
    const { workspaceId } = await createWorkspace("auth-service", "admin");
    const service = await addKey(workspaceId, null, "viewer");
    const client = await connectClient(service.key);
    const overview = await callOk<{ workspace: { slug: string } }>(client, "get_workspace_overview");
    expect(overview.workspace.slug).toBe("auth-service");
    const row = await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?1")
      .bind(service.keyId)
      .first<{ last_used_at: string | null }>();
    expect(row?.last_used_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("refuses a foreign browser Origin with 403 and accepts a local one", async () => {
    const { key } = await createWorkspace("auth-origin", "viewer");
    const foreign = await postMcp({ authorization: `Bearer ${key}`, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    const local = await postMcp({ authorization: `Bearer ${key}`, origin: "http://localhost:6274" });
    expect(local.status).toBe(200);
  });

  it("refuses a write tool to a viewer key with HTTP 403", async () => {
    const tool = REGISTRY.tools.find((t) => t.name === "log_activity")!;
    const { key } = await createWorkspace("auth-viewer-write", "viewer");
    const response = await postMcp(
      { authorization: `Bearer ${key}` },
      { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: tool.name, arguments: {} } },
    );
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", error_description="log_activity needs the ${requiredRole(tool)} role"`,
    );
  });
});

describe("OAuth discovery", () => {
  it("publishes protected-resource and authorization-server metadata", async () => {
    const resource = await workerFetch("/.well-known/oauth-protected-resource/mcp");
    expect(resource.status).toBe(200);
    expect(await resource.json()).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [ORIGIN],
      bearer_methods_supported: ["header"],
      resource_name: "Customer Success MCP",
    });
    const server = await workerFetch("/.well-known/oauth-authorization-server");
    expect(server.status).toBe(200);
    expect(await server.json()).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/authorize`,
      token_endpoint: `${ORIGIN}/token`,
      registration_endpoint: `${ORIGIN}/register`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: [...SCOPES],
    });
  });
});

describe("OAuth authorization code flow", () => {
  it("goes from discovery to an MCP call with PKCE S256", async () => {
    const { email } = await workspaceWithPassword("auth-flow", "csm");

    const challenge = await postMcp({});
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge.headers.get("www-authenticate") ?? "")?.[1];
    expect(metadataUrl).toBe(METADATA_URL);
    const resource = await (await workerFetch(metadataUrl!)).json<{ authorization_servers: string[] }>();
    const issuer = resource.authorization_servers[0];
    const server = await (await workerFetch(`${issuer}/.well-known/oauth-authorization-server`)).json<{
      registration_endpoint: string;
      authorization_endpoint: string;
      token_endpoint: string;
    }>();
    expect(server.authorization_endpoint).toBe(`${ORIGIN}/authorize`);

    const clientId = await registerClient("Flow Client");
    const { verifier, challenge: codeChallenge } = await pkcePair();
    const page = await openAuthorize(clientId, codeChallenge, "state-42");
    expect(page.response.status).toBe(200);
    expect(page.response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.response.headers.get("x-frame-options")).toBe("DENY");
    expect(page.response.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'nonce-/);
    expect(page.html).toContain("Flow Client");
    expect(page.html).toContain("<code>localhost</code>");
    expect(page.html).toContain("Access goes to an app on this computer.");
    expect(page.handle).not.toBe("");
    expect(page.cookie).toMatch(/^__Host-oauth-consent-[0-9a-f]{16}=[0-9a-f]{64}$/);

    const approved = await submit(
      page,
      {
        handle: page.handle,
        decision: "approve",
        workspace: "auth-flow",
        email: email.toUpperCase(),
        secret: PASSWORD,
      },
      ["write", "send"],
    );
    expect(approved.status).toBe(302);
    const location = new URL(approved.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("state")).toBe("state-42");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    const code = location.searchParams.get("code") ?? "";
    expect(code).not.toBe("");

    const token = await exchangeCode(clientId, code, verifier);
    expect(token.status).toBe(200);
    const body = await token.json<{ access_token: string; token_type: string; scope: string; resource: string }>();
    expect(body.token_type).toBe("bearer");
    expect(body.scope).toBe("read write send");
    expect(body.resource).toBe(RESOURCE);

    const client = await connectClient(body.access_token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(expectedTools("csm"));
    const overview = await callOk<{ workspace: { slug: string } }>(client, "get_workspace_overview");
    expect(overview.workspace.slug).toBe("auth-flow");

    // The code works once.
    const replay = await exchangeCode(clientId, code, verifier);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a wrong code_verifier", async () => {
    const { email } = await workspaceWithPassword("auth-pkce", "viewer");
    const clientId = await registerClient();
    const { challenge } = await pkcePair();
    const page = await openAuthorize(clientId, challenge);
    const approved = await submit(page, {
      handle: page.handle,
      decision: "approve",
      workspace: "auth-pkce",
      email,
      secret: PASSWORD,
    });
    const code = new URL(approved.headers.get("location") ?? "").searchParams.get("code") ?? "";
    const wrong = await exchangeCode(clientId, code, (await pkcePair()).verifier);
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("requires PKCE and the configured resource", async () => {
    const clientId = await registerClient();
    const params = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      state: "s",
    });
    const noPkce = await getManual(`/authorize?${params}`);
    expect(noPkce.status).toBe(302);
    const noPkceLocation = new URL(noPkce.headers.get("location") ?? "");
    expect(noPkceLocation.searchParams.get("error")).toBe("invalid_request");
    expect(noPkceLocation.searchParams.get("state")).toBe("s");

    // The provider lets a confidential client skip PKCE; the page does not.
    const confidential = await workerFetch("/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "client_secret_basic" }),
    });
    const confidentialId = (await confidential.json<{ client_id: string }>()).client_id;
    const confidentialNoPkce = await getManual(
      `/authorize?${new URLSearchParams({ ...Object.fromEntries(params), client_id: confidentialId })}`,
    );
    expect(confidentialNoPkce.status).toBe(302);
    const confidentialLocation = new URL(confidentialNoPkce.headers.get("location") ?? "");
    expect(confidentialLocation.searchParams.get("error")).toBe("invalid_request");
    expect(confidentialLocation.searchParams.get("error_description")).toBe("PKCE (S256) is required");

    const { challenge } = await pkcePair();
    const otherResource = await getManual(
      authorizeUrl(clientId, challenge, "s", { resource: "https://other.example/mcp" }),
    );
    expect(otherResource.status).toBe(302);
    expect(new URL(otherResource.headers.get("location") ?? "").searchParams.get("error")).toBe("invalid_target");
  });

  it("shows errors locally for an unknown client or redirect URI", async () => {
    const { challenge } = await pkcePair();
    const unknown = await getManual(authorizeUrl("no-such-client", challenge, "s"));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("location")).toBeNull();
    const clientId = await registerClient();
    const params = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: "http://localhost:9999/elsewhere",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const badRedirect = await getManual(`/authorize?${params}`);
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.get("location")).toBeNull();
  });

  it("escapes the client's self-chosen name", async () => {
    const clientId = await registerClient(`<script>alert("x")</script>`);
    const page = await openAuthorize(clientId, (await pkcePair()).challenge);
    expect(page.html).not.toContain("<script>");
    expect(page.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("re-renders the form with one generic error for any wrong sign-in detail", async () => {
    const { email } = await workspaceWithPassword("auth-wrong", "csm");
    const clientId = await registerClient();
    const { challenge } = await pkcePair();
    let page = await openAuthorize(clientId, challenge);
    const attempts = [
      { workspace: "auth-wrong", email, secret: "wrong password" },
      { workspace: "auth-wrong", email: "nobody@auth-wrong.test", secret: PASSWORD },
      { workspace: "no-such-workspace", email, secret: PASSWORD },
      { workspace: "auth-wrong", email, secret: generateApiKey() },
    ];
    const errors = new Set<string>();
    for (const attempt of attempts) {
      const response = await submit(page, { handle: page.handle, decision: "approve", ...attempt });
      expect(response.status).toBe(401);
      expect(response.headers.get("location")).toBeNull();
      const next = await readPage(response);
      errors.add(/role="alert">([^<]*)</.exec(next.html)?.[1] ?? "");
      expect(next.html).not.toContain(attempt.secret);
      expect(next.html).toContain(`value="${attempt.workspace}"`);
      expect(next.handle).not.toBe(page.handle);
      page = next;
    }
    expect([...errors]).toEqual(["Those sign-in details did not match. Check them and try again."]);

    // The re-rendered form still completes the same authorization.
    const approved = await submit(page, {
      handle: page.handle,
      decision: "approve",
      workspace: "auth-wrong",
      email,
      secret: PASSWORD,
    });
    expect(approved.status).toBe(302);
    expect(new URL(approved.headers.get("location") ?? "").searchParams.get("state")).toBe("st-1");
  });

  it("refuses a missing, forged, unbound or replayed form handle", async () => {
    const { email } = await workspaceWithPassword("auth-csrf", "csm");
    const clientId = await registerClient();
    const page = await openAuthorize(clientId, (await pkcePair()).challenge);
    const credentials = { decision: "approve", workspace: "auth-csrf", email, secret: PASSWORD };

    const cases: [string, Promise<Response>][] = [
      ["missing", submit(page, credentials)],
      ["forged", submit(page, { ...credentials, handle: base64url(crypto.getRandomValues(new Uint8Array(32))) })],
      ["no cookie", submit({ cookie: "" }, { ...credentials, handle: page.handle })],
    ];
    for (const [name, pending] of cases) {
      const response = await pending;
      expect(response.status, name).toBe(400);
      expect(response.headers.get("location"), name).toBeNull();
      expect(await response.text(), name).toContain("Start again from your app.");
    }

    const first = await submit(page, { ...credentials, handle: page.handle });
    expect(first.status).toBe(302);
    const replay = await submit(page, { ...credentials, handle: page.handle });
    expect(replay.status).toBe(400);
    expect(replay.headers.get("location")).toBeNull();
  });

  it("sends the client access_denied when the person denies", async () => {
    const clientId = await registerClient();
    const page = await openAuthorize(clientId, (await pkcePair()).challenge, "deny-state");
    const denied = await submit(page, { handle: page.handle, decision: "deny" });
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get("location") ?? "");
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("deny-state");
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("pauses sign-in for an email after repeated failures", async () => {
    const { email } = await workspaceWithPassword("auth-throttle", "viewer");
    const clientId = await registerClient();
    let page = await openAuthorize(clientId, (await pkcePair()).challenge);
    const fields = { decision: "approve", workspace: "auth-throttle", email };
    for (let i = 0; i < MAX_SIGN_IN_FAILURES; i++) {
      const response = await submit(page, { ...fields, handle: page.handle, secret: `wrong ${i}` });
      expect(response.status).toBe(401);
      page = await readPage(response);
    }
    const blocked = await submit(page, { ...fields, handle: page.handle, secret: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("location")).toBeNull();
    expect(await blocked.text()).toContain("Too many failed attempts for this email.");
  });

  it("signs in with a personal API key, capped by the key's role and ended by its revocation", async () => {
    const { workspaceId, userId, email } = await workspaceWithPassword("auth-keysignin", "admin");
    const viewerKey = await addKey(workspaceId, userId, "viewer");
    const { accessToken, scope } = await oauthToken("auth-keysignin", email, viewerKey.key);
    expect(scope).toBe("read");
    expect((await postMcp({ authorization: `Bearer ${accessToken}` })).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1").bind(viewerKey.keyId, daysAgo(30)).run();
    expect((await postMcp({ authorization: `Bearer ${accessToken}` })).status).toBe(401);
  });

  it("never signs in with a service key or another user's key", async () => {
    const { workspaceId, email } = await workspaceWithPassword("auth-keyowner", "admin");
    const service = await addKey(workspaceId, null, "admin");
    const other = await createWorkspace("auth-keyowner-b", "admin");
    const clientId = await registerClient();
    let page = await openAuthorize(clientId, (await pkcePair()).challenge);
    for (const secret of [service.key, other.key]) {
      const response = await submit(page, {
        handle: page.handle,
        decision: "approve",
        workspace: "auth-keyowner",
        email,
        secret,
      });
      expect(response.status).toBe(401);
      page = await readPage(response);
    }
  });
});

describe("OAuth tokens and live authorization", () => {
  it("keeps a token to its own workspace", async () => {
    const a = await workspaceWithPassword("auth-tenant-a", "admin");
    const b = await workspaceWithPassword("auth-tenant-b", "admin");
    await env.DB.prepare("INSERT INTO accounts (id, workspace_id, name) VALUES ('acc_tenant_b', ?1, 'B only')")
      .bind(b.workspaceId)
      .run();
    const { accessToken } = await oauthToken("auth-tenant-a", a.email);
    const client = await connectClient(accessToken);
    const overview = await callOk<{ workspace: { id: string; slug: string }; counts: { accounts: number } }>(
      client,
      "get_workspace_overview",
    );
    expect(overview.workspace).toMatchObject({ id: a.workspaceId, slug: "auth-tenant-a" });
    expect(overview.counts.accounts).toBe(0);
    // A's password does not open B, even with A's email typed for B.
    const clientId = await registerClient();
    const page = await openAuthorize(clientId, (await pkcePair()).challenge);
    const cross = await submit(page, {
      handle: page.handle,
      decision: "approve",
      workspace: "auth-tenant-b",
      email: a.email,
      secret: PASSWORD,
    });
    expect(cross.status).toBe(401);
  });

  it("applies a role change and a disabled account on the next call", async () => {
    const { userId, email } = await workspaceWithPassword("auth-live", "csm");
    const { accessToken, scope } = await oauthToken("auth-live", email);
    expect(scope).toBe("read write send");
    const before = await connectClient(accessToken);
    const csmTools = (await before.listTools()).tools.map((t) => t.name).sort();
    expect(csmTools).toEqual(expectedTools("csm"));

    await env.DB.prepare("UPDATE users SET role = 'viewer' WHERE id = ?1").bind(userId).run();
    const after = await connectClient(accessToken);
    const viewerTools = (await after.listTools()).tools.map((t) => t.name).sort();
    expect(viewerTools).toEqual(expectedTools("viewer"));
    for (const name of viewerTools) {
      const tool = REGISTRY.tools.find((t) => t.name === name);
      expect(tool && roleAtLeast("viewer", requiredRole(tool))).toBe(true);
    }
    // Exactly the tools above viewer (the write tools) went away.
    const aboveViewer = REGISTRY.tools.filter((t) => requiredRole(t) !== "viewer" && csmTools.includes(t.name));
    expect(csmTools.filter((name) => !viewerTools.includes(name))).toEqual(aboveViewer.map((t) => t.name).sort());

    await env.DB.prepare("UPDATE users SET disabled_at = ?2 WHERE id = ?1").bind(userId, daysAgo(30)).run();
    const refused = await postMcp({ authorization: `Bearer ${accessToken}` });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain(`resource_metadata="${METADATA_URL}"`);
  });
});

describe("OAuth scopes", () => {
  it("offers write, send and admin unticked, and grants read alone when none is ticked", async () => {
    const { email } = await workspaceWithPassword("auth-scope-read", "admin");
    const page = await openAuthorize(await registerClient(), (await pkcePair()).challenge);
    for (const scope of ["write", "send", "admin"]) {
      expect(page.html).toContain(`<input type="checkbox" name="scope" value="${scope}">`);
    }
    expect(page.html).toContain("<strong>read</strong>");
    const { accessToken, scope } = await oauthToken("auth-scope-read", email, PASSWORD, []);
    expect(scope).toBe("read");
    const client = await connectClient(accessToken, "?toolsets=all");
    const listed = await client.listTools();
    // Listed as in a read-only session, and without the admin tools.
    const principal: Principal = {
      workspaceId: "w",
      userId: "u",
      keyId: null,
      role: "admin",
      scopes: ["read"],
      workspaceSlug: "s",
    };
    const session = parseSessionOptions(new Request(`${RESOURCE}?toolsets=all`), REGISTRY);
    if ("error" in session) throw new Error(session.error);
    expect(listed.tools.map((t) => t.name).sort()).toEqual(
      visibleTools(REGISTRY, session, principal)
        .map((t) => t.name)
        .sort(),
    );
    expect(listed.tools.map((t) => t.name)).not.toContain("configure_workspace");
    expect(listed.tools.map((t) => t.name)).not.toContain("log_activity");
    const write = await postMcp(
      { authorization: `Bearer ${accessToken}` },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "log_activity", arguments: {} } },
    );
    expect(write.status).toBe(403);
    expect(write.headers.get("www-authenticate")).toBe(
      'Bearer error="insufficient_scope", scope="read write", error_description="log_activity needs the write scope"',
    );
    expect(((await write.json()) as { error: { message: string } }).error.message).toMatch(
      /^Forbidden: log_activity needs the write scope; this token was granted read\. Sign in again/,
    );
  });

  it("grants an admin who is asked for csm (a role name) read, write and send, never admin", async () => {
    const { email } = await workspaceWithPassword("auth-scope-csm", "admin");
    const clientId = await registerClient();
    const { verifier, challenge } = await pkcePair();
    const page = await readPage(await getManual(authorizeUrl(clientId, challenge, "st", { scope: "csm" })));
    expect(page.html).not.toContain('value="admin"');
    // A forged form that ticks admin anyway gets no more than was asked for.
    const approved = await submit(
      page,
      { handle: page.handle, decision: "approve", workspace: "auth-scope-csm", email, secret: PASSWORD },
      ["write", "send", "admin"],
    );
    const code = new URL(approved.headers.get("location") ?? "").searchParams.get("code") ?? "";
    const token = await (await exchangeCode(clientId, code, verifier)).json<{ scope: string; access_token: string }>();
    expect(token.scope).toBe("read write send");
    const admin = await postMcp(
      { authorization: `Bearer ${token.access_token}` },
      {
        jsonrpc: "2.0",
        id: 4,
        method: "tools/call",
        params: { name: "configure_workspace", arguments: { action: "get" } },
      },
    );
    expect(admin.status).toBe(403);
  });

  it("caps the ticked scopes at the role, then at the role as it changes", async () => {
    const { userId, email } = await workspaceWithPassword("auth-scope-cap", "csm");
    const { accessToken, scope } = await oauthToken("auth-scope-cap", email, PASSWORD, ["write", "send", "admin"]);
    expect(scope).toBe("read write send");
    await env.DB.prepare("UPDATE users SET role = 'viewer' WHERE id = ?1").bind(userId).run();
    const demoted = await postMcp(
      { authorization: `Bearer ${accessToken}` },
      { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "log_activity", arguments: {} } },
    );
    expect(demoted.status).toBe(403);
    expect(demoted.headers.get("www-authenticate")).toContain("needs the csm role");
  });
});
