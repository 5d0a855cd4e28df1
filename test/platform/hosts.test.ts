import { describe, expect, it } from "vitest";
import { workerFetch } from "../helpers/mcp";

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
