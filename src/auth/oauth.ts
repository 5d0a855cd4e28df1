import {
  getOAuthApi,
  type OAuthHelpers,
  OAuthProvider,
  type OAuthProviderOptions,
} from "@cloudflare/workers-oauth-provider";
import { app } from "../http/app";
import { handleMcpRequest } from "../mcp/handler";
import { resolveApiKey } from "./api-keys";
import { type AuthProps, ROLES } from "./principal";
import { resourceUrl } from "./resource";

/**
 * The provider's configuration for one request. The resource (the token audience) is the
 * configured public URL, else this request's origin, so it is built per request.
 */
function providerOptions(env: Env, request: Request): OAuthProviderOptions<Env> {
  const resource = resourceUrl(env, request);
  return {
    apiRoute: "/mcp",
    apiHandler: {
      fetch: (req, handlerEnv, ctx) =>
        handleMcpRequest(req, handlerEnv, ctx, (ctx as ExecutionContext & { props: AuthProps }).props),
    },
    defaultHandler: { fetch: (req, handlerEnv, ctx) => app.fetch(req, handlerEnv, ctx) },
    authorizeEndpoint: "/authorize",
    tokenEndpoint: "/token",
    clientRegistrationEndpoint: "/register",
    // A granted scope names the user's role at sign-in; the role itself is re-read on every call.
    scopesSupported: [...ROLES],
    resourceMetadata: { resource, resource_name: "Customer Success MCP" },
    // Personal and service API keys are opaque bearer tokens checked against their D1 hash.
    resolveExternalToken: async ({ token, env: tokenEnv }) => {
      const props = await resolveApiKey(tokenEnv, token);
      return props ? { props, audience: resource } : null;
    },
  };
}

/**
 * OAuth 2.1 around the whole Worker: `/mcp` needs a bearer token (an OAuth access token or a
 * personal API key); the provider serves discovery, `/token` and `/register`; everything else
 * (the `/authorize` page, webhooks, health) goes to the Hono app.
 */
export function oauthProvider(env: Env, request: Request): OAuthProvider<Env> {
  return new OAuthProvider<Env>(providerOptions(env, request));
}

/**
 * The provider's helpers for this request. Not `env.OAUTH_PROVIDER`: the provider stores that
 * on the shared env once, bound to the resource of whichever request came first.
 */
export function oauthApi(env: Env, request: Request): OAuthHelpers {
  return getOAuthApi(providerOptions(env, request), env);
}
