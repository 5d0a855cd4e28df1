import { servedUnderOwnName } from "../http/hosts";

/**
 * The MCP resource URL (the OAuth audience): the configured public URL, else (or for a request
 * on loopback or an https `ALLOWED_HOSTS` name) this request's own origin.
 */
export function resourceUrl(env: Pick<Env, "PUBLIC_URL" | "ALLOWED_HOSTS">, request: Request): string {
  const base = env.PUBLIC_URL && !servedUnderOwnName(env, request) ? env.PUBLIC_URL : new URL(request.url).origin;
  return new URL("/mcp", base).toString();
}

/**
 * RFC 9728 metadata URL of a resource: the well-known prefix inserted before the resource's
 * path, exactly as the OAuth provider builds it for its own challenges.
 */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}
