import { describe, expect, it } from "vitest";
import { allowedOriginHostnames, refusedHost } from "./hosts";

const req = (url: string) => new Request(url);

describe("refusedHost", () => {
  it("serves loopback always, and without PUBLIC_URL any https host but no other plain-http one", () => {
    const env = { PUBLIC_URL: "", ALLOWED_HOSTS: "" };
    for (const url of ["http://localhost:8787/mcp", "http://127.0.0.1/healthz", "http://[::1]:8787/mcp"]) {
      expect(refusedHost(env, req(url)), url).toBeNull();
    }
    expect(refusedHost(env, req("https://cs-mcp.acme.workers.dev/mcp"))).toBeNull();
    expect(refusedHost(env, req("http://rebind.attacker.example:8787/mcp"))).toMatch(
      /^Host rebind\.attacker\.example is not served over http/,
    );
    expect(refusedHost(env, req("http://192.168.1.20:8787/mcp"))).toMatch(/PUBLIC_URL/);
  });

  it("without PUBLIC_URL refuses a listed host over plain http: its OAuth resource would be http off loopback", () => {
    const env = { PUBLIC_URL: "", ALLOWED_HOSTS: "10.0.0.7" };
    expect(refusedHost(env, req("http://10.0.0.7:8787/mcp"))).toMatch(/^Host 10\.0\.0\.7 is not served over http/);
    expect(refusedHost(env, req("https://10.0.0.7/mcp"))).toBeNull();
  });

  it("with PUBLIC_URL serves its host, loopback and ALLOWED_HOSTS only, whatever the case", () => {
    const env = { PUBLIC_URL: "https://cs.acme.example", ALLOWED_HOSTS: " Tunnel.Acme.example , 10.0.0.7" };
    expect(refusedHost(env, req("https://cs.acme.example/mcp"))).toBeNull();
    expect(refusedHost(env, req("https://CS.ACME.EXAMPLE/mcp"))).toBeNull();
    expect(refusedHost(env, req("https://tunnel.acme.example/mcp"))).toBeNull();
    expect(refusedHost(env, req("http://10.0.0.7:8787/mcp"))).toBeNull();
    expect(refusedHost(env, req("http://localhost:8787/mcp"))).toBeNull();
    expect(refusedHost(env, req("https://cs-mcp.acme.workers.dev/mcp"))).toBe(
      "Host cs-mcp.acme.workers.dev is not served here: use https://cs.acme.example, or add the host to ALLOWED_HOSTS.",
    );
  });
});

describe("allowedOriginHostnames", () => {
  it("is loopback, PUBLIC_URL's host and ALLOWED_HOSTS, whatever the request's host", () => {
    const env = { PUBLIC_URL: "https://CS.acme.example", ALLOWED_HOSTS: " Tunnel.Acme.example ,10.0.0.7" };
    const expected = ["localhost", "127.0.0.1", "[::1]", "cs.acme.example", "tunnel.acme.example", "10.0.0.7"];
    expect(allowedOriginHostnames(env, req("https://cs.acme.example/mcp"))).toEqual(expected);
    expect(allowedOriginHostnames(env, req("http://localhost:8787/mcp"))).toEqual(expected);
  });

  it("without PUBLIC_URL adds the request's own host when it is https, and nothing for loopback http", () => {
    const env = { PUBLIC_URL: "", ALLOWED_HOSTS: "" };
    expect(allowedOriginHostnames(env, req("https://cs-mcp.acme.workers.dev/mcp"))).toEqual([
      "localhost",
      "127.0.0.1",
      "[::1]",
      "cs-mcp.acme.workers.dev",
    ]);
    expect(allowedOriginHostnames(env, req("http://localhost:8787/mcp"))).toEqual(["localhost", "127.0.0.1", "[::1]"]);
  });
});
