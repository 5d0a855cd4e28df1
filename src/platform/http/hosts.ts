/** Host names that always reach a local server: a DNS-rebinding page cannot name them. */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/** The lower-cased host names listed in `ALLOWED_HOSTS` (comma-separated). */
function allowedHosts(env: Pick<Env, "ALLOWED_HOSTS">): string[] {
  return (env.ALLOWED_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Why a request's Host is not one this server answers for, or null when it is (the MCP
 * transport's DNS-rebinding protection). Allowed: loopback; with `PUBLIC_URL`, its host and the
 * hosts listed in `ALLOWED_HOSTS`; without it, any https request — a deployment on its
 * workers.dev name — while plain http from another host (a rebinding page or a LAN address) is
 * refused, listed or not: the OAuth resource is then the request's own origin, which must be
 * https off loopback.
 */
export function refusedHost(env: Pick<Env, "PUBLIC_URL" | "ALLOWED_HOSTS">, request: Request): string | null {
  const url = new URL(request.url);
  const host = url.hostname.toLowerCase();
  if (LOOPBACK.includes(host)) return null;
  if (env.PUBLIC_URL) {
    const publicUrl = new URL(env.PUBLIC_URL);
    if (publicUrl.hostname.toLowerCase() === host || allowedHosts(env).includes(host)) return null;
    return `Host ${host} is not served here: use ${publicUrl.origin}, or add the host to ALLOWED_HOSTS.`;
  }
  if (url.protocol === "https:") return null;
  return `Host ${host} is not served over http: use localhost or https, or set PUBLIC_URL to the https URL clients use (ALLOWED_HOSTS then adds other names).`;
}

/**
 * Host names a browser `Origin` on `/mcp` may carry: those {@link refusedHost} serves as this
 * server's own — loopback, `PUBLIC_URL`'s host and `ALLOWED_HOSTS`, or without `PUBLIC_URL`
 * the request's own https host.
 */
export function allowedOriginHostnames(env: Pick<Env, "PUBLIC_URL" | "ALLOWED_HOSTS">, request: Request): string[] {
  const url = new URL(request.url);
  const own = env.PUBLIC_URL ? new URL(env.PUBLIC_URL) : url.protocol === "https:" ? url : null;
  return [...new Set([...LOOPBACK, ...(own ? [own.hostname.toLowerCase()] : []), ...allowedHosts(env)])];
}

/**
 * Whether a request is served under its own name rather than `PUBLIC_URL`'s: a loopback host,
 * or an https host listed in `ALLOWED_HOSTS`. Its OAuth resource (the token audience) is then its
 * own origin, so an API key works there too; an OAuth token stays bound to the resource it was
 * issued for.
 */
export function servedUnderOwnName(env: Pick<Env, "ALLOWED_HOSTS">, request: Request): boolean {
  const url = new URL(request.url);
  const host = url.hostname.toLowerCase();
  return LOOPBACK.includes(host) || (url.protocol === "https:" && allowedHosts(env).includes(host));
}

/** The answer to a request for a host this server does not serve: 421 with a JSON body. */
export function misdirected(reason: string): Response {
  return Response.json({ error: "misdirected_request", error_description: reason }, { status: 421 });
}
