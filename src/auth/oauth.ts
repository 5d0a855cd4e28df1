import { OAuthProvider } from "@cloudflare/workers-oauth-provider";
import { app } from "../http/app";
import { handleMcpRequest } from "../mcp/handler";
import { resolveApiKey } from "./api-keys";
import type { AuthProps } from "./principal";

/** The MCP resource URL: the configured public URL, else this request's own origin. */
export function resourceUrl(env: Env, request: Request): string {
  const base = env.PUBLIC_URL || new URL(request.url).origin;
  return new URL("/mcp", base).toString();
}

/**
 * OAuth 2.1 around the whole Worker: `/mcp` needs a bearer token (an OAuth access token or a
 * personal API key); everything else (login/consent, webhooks, health) goes to the Hono app.
 */
export function oauthProvider(env: Env, request: Request): OAuthProvider<Env> {
  const resource = resourceUrl(env, request);
  return new OAuthProvider<Env>({
    apiRoute: "/mcp",
    apiHandler: {
      fetch: (req, handlerEnv, ctx) =>
        handleMcpRequest(req, handlerEnv, ctx, (ctx as ExecutionContext & { props: AuthProps }).props),
    },
    defaultHandler: { fetch: (req, handlerEnv, ctx) => app.fetch(req, handlerEnv, ctx) },
    authorizeEndpoint: "/authorize",
    tokenEndpoint: "/token",
    clientRegistrationEndpoint: "/register",
    scopesSupported: ["viewer", "csm", "admin"],
    resourceMetadata: { resource, resource_name: "Customer Success MCP" },
    resolveExternalToken: async ({ token, env: tokenEnv }) => {
      const props = await resolveApiKey(tokenEnv, token);
      return props ? { props, audience: resource } : null;
    },
  });
}
