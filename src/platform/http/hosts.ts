/** Host names that always reach a local server: a DNS-rebinding page cannot name them. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Why a request's Host is not one this server answers for, or null when it is (the MCP
 * transport's DNS-rebinding protection). Allowed: loopback; the host of `PUBLIC_URL`; the hosts
 * listed in `ALLOWED_HOSTS` (comma-separated). Without `PUBLIC_URL`, also any https request —
 * a deployment on its workers.dev name — while plain http from another host (a rebinding page
 * or a LAN address) is refused: OAuth needs an https resource there anyway.
 */
export function refusedHost(env: Pick<Env, "PUBLIC_URL" | "ALLOWED_HOSTS">, request: Request): string | null {
  const url = new URL(request.url);
  const host = url.hostname.toLowerCase();
  if (LOOPBACK.has(host)) return null;
  const allowed = (env.ALLOWED_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (allowed.includes(host)) return null;
  if (env.PUBLIC_URL) {
    if (new URL(env.PUBLIC_URL).hostname.toLowerCase() === host) return null;
    return `Host ${host} is not served here: use ${new URL(env.PUBLIC_URL).origin}, or add the host to ALLOWED_HOSTS.`;
  }
  if (url.protocol === "https:") return null;
  return `Host ${host} is not served over http: use localhost, set PUBLIC_URL to the https URL clients use, or add the host to ALLOWED_HOSTS.`;
}

/** The answer to a request for a host this server does not serve: 421 with a JSON body. */
export function misdirected(reason: string): Response {
  return Response.json({ error: "misdirected_request", error_description: reason }, { status: 421 });
}
