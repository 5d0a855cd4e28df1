import {
  getOAuthApi,
  type OAuthHelpers,
  OAuthProvider,
  type OAuthProviderOptions,
} from "@cloudflare/workers-oauth-provider";
import { resolveApiKey } from "../auth/api-keys";
import { type AuthProps, ROLES } from "../auth/principal";
import { resourceUrl } from "../auth/resource";

/** What the provider hands requests to: `/mcp` with the verified props, and everything else. */
export interface ProviderHandlers {
  mcp(request: Request, env: Env, ctx: ExecutionContext, props: AuthProps): Promise<Response>;
  app(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/** For the helpers alone, which never route a request. */
const NO_ROUTES: ProviderHandlers = {
  mcp: async () => new Response(null, { status: 404 }),
  app: () => new Response(null, { status: 404 }),
};

/**
 * The provider's configuration for one request. The resource (the token audience) is the
 * configured public URL, else this request's origin, so it is built per request.
 */
function providerOptions(env: Env, request: Request, handlers: ProviderHandlers): OAuthProviderOptions<Env> {
  const resource = resourceUrl(env, request);
  return {
    apiRoute: "/mcp",
    apiHandler: {
      fetch: (req, handlerEnv, ctx) =>
        handlers.mcp(req, handlerEnv, ctx, (ctx as ExecutionContext & { props: AuthProps }).props),
    },
    defaultHandler: { fetch: (req, handlerEnv, ctx) => handlers.app(req, handlerEnv, ctx) },
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
export function oauthProvider(env: Env, request: Request, handlers: ProviderHandlers): OAuthProvider<Env> {
  return new OAuthProvider<Env>(providerOptions(env, request, handlers));
}

/**
 * The provider's helpers for this request. Not `env.OAUTH_PROVIDER`: the provider stores that
 * on the shared env once, bound to the resource of whichever request came first.
 */
export function oauthApi(env: Env, request: Request): OAuthHelpers {
  return getOAuthApi(providerOptions(env, request, NO_ROUTES), env);
}
