import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createWorkspace, workerFetch } from "../helpers/mcp";
import { INITIALIZE } from "../helpers/oauth";

/** One request through the Worker with other PUBLIC_URL and ALLOWED_HOSTS settings. */
async function fetchWith(
  settings: Pick<Env, "PUBLIC_URL" | "ALLOWED_HOSTS">,
  url: string,
  init: RequestInit = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  // The Worker's type expects an incoming request's `cf` fields, which a test request has none of.
  const request = new Request(url, init) as Request<unknown, IncomingRequestCfProperties>;
  request.headers.set("host", new URL(url).host);
  const response = await worker.fetch(request, { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** An MCP `initialize` with a bearer key and, when given, a browser Origin. */
function initialize(key: string, origin?: string): RequestInit {
  return {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(origin ? { origin } : {}),
    },
    body: JSON.stringify(INITIALIZE),
  };
}

/** Every route answers a foreign Host with a clean 421 (never a 500 or a stack), and serves allowed ones. */
describe("Host handling", () => {
  const paths = ["/mcp", "/healthz", "/authorize", "/.well-known/oauth-protected-resource/mcp", "/outbox", "/register"];

  it("refuses a plain-http foreign host on every route with a JSON 421", async () => {
    for (const host of ["http://rebind.attacker.example:8787", "http://192.168.1.20:8787"]) {
      for (const path of paths) {
        const response = await workerFetch(`${host}${path}`);
        expect(response.status, `${host}${path}`).toBe(421);
        const body = (await response.json()) as { error: string; error_description: string };
        expect(body.error).toBe("misdirected_request");
        expect(body.error_description).toMatch(/PUBLIC_URL/);
      }
    }
  });

  it("serves loopback, and an https host when no PUBLIC_URL is set, without a 5xx", async () => {
    expect((await workerFetch("http://localhost/healthz")).status).toBe(200);
    const deployed = await workerFetch("https://cs-mcp.acme.workers.dev/.well-known/oauth-protected-resource/mcp");
    expect(deployed.status).toBe(200);
    expect(((await deployed.json()) as { resource: string }).resource).toBe("https://cs-mcp.acme.workers.dev/mcp");
    const mcp = await workerFetch("https://cs-mcp.acme.workers.dev/mcp", { method: "POST", body: "{}" });
    expect(mcp.status).toBe(401);
  });
});

/** The Origin check on `/mcp` accepts the hosts the Host check serves, and no other. */
describe("Origin handling", () => {
  const deployed = { PUBLIC_URL: "https://cs.acme.example", ALLOWED_HOSTS: "tunnel.acme.example" };

  it("with PUBLIC_URL accepts loopback (IPv6 too), PUBLIC_URL's and ALLOWED_HOSTS origins, and refuses others with a JSON 403", async () => {
    const { key } = await createWorkspace("hosts-origin");
    for (const origin of [
      undefined,
      "http://localhost:6274",
      "http://[::1]:6274",
      "https://cs.acme.example",
      "https://tunnel.acme.example",
    ]) {
      const response = await fetchWith(deployed, "https://cs.acme.example/mcp", initialize(key, origin));
      expect(response.status, String(origin)).toBe(200);
      await response.body?.cancel();
    }
    const foreign = await fetchWith(deployed, "https://cs.acme.example/mcp", initialize(key, "https://evil.example"));
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { message: "Invalid Origin: evil.example" } });
  });

  it("without PUBLIC_URL accepts the request's own https host as an origin", async () => {
    const { key } = await createWorkspace("hosts-origin-own");
    const response = await fetchWith(
      { PUBLIC_URL: "", ALLOWED_HOSTS: "" },
      "https://cs.custom.example/mcp",
      initialize(key, "https://cs.custom.example"),
    );
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("refuses a plain-http ALLOWED_HOSTS host without PUBLIC_URL with a JSON 421, not a 500", async () => {
    for (const path of ["/mcp", "/healthz"]) {
      const response = await fetchWith({ PUBLIC_URL: "", ALLOWED_HOSTS: "10.0.0.7" }, `http://10.0.0.7:8787${path}`);
      expect(response.status, path).toBe(421);
      expect(((await response.json()) as { error_description: string }).error_description).toMatch(/PUBLIC_URL/);
    }
  });

  it("with PUBLIC_URL serves an API key on loopback and on an https ALLOWED_HOSTS name, each as its own resource", async () => {
    const { key } = await createWorkspace("hosts-audience");
    for (const base of ["http://localhost:8787", "https://tunnel.acme.example", "https://cs.acme.example"]) {
      const response = await fetchWith(deployed, `${base}/mcp`, initialize(key));
      expect(response.status, base).toBe(200);
      await response.body?.cancel();
      const metadata = await fetchWith(deployed, `${base}/.well-known/oauth-protected-resource/mcp`);
      expect(((await metadata.json()) as { resource: string }).resource).toBe(`${base}/mcp`);
    }
  });
});
