import {
  getOAuthApi,
  type OAuthHelpers,
  OAuthProvider,
  type OAuthProviderOptions,
} from "@cloudflare/workers-oauth-provider";
import { resolveApiKey } from "../auth/api-keys";
import { type AuthProps, SCOPES } from "../auth/principal";
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
      fetch: (req, handlerEnv, ctx) => handlers.mcp(req, handlerEnv, ctx, verifiedProps(ctx)),
    },
    defaultHandler: { fetch: (req, handlerEnv, ctx) => handlers.app(req, handlerEnv, ctx) },
    authorizeEndpoint: "/authorize",
    tokenEndpoint: "/token",
    clientRegistrationEndpoint: "/register",
    // Every call is checked against these and the user's role, which is re-read each time.
    scopesSupported: [...SCOPES],
    resourceMetadata: { resource, resource_name: "Customer Success MCP" },
    // Personal and service API keys are opaque bearer tokens checked against their D1 hash.
    resolveExternalToken: async ({ token, env: tokenEnv }) => {
      const props = await resolveApiKey(tokenEnv, token);
      return props ? { props, audience: resource } : null;
    },
  };
}

/** What the provider verified about a request's bearer token. */
interface VerifiedContext {
  props: AuthProps;
  /** Set by the provider: `clientId` for its own access tokens, whose `scope` is what they were granted. */
  auth?: { scope?: string[]; clientId?: string };
}

/**
 * The props of a verified token, with an OAuth access token's own scopes (narrower than its
 * grant's when a refresh asked for less); an API key keeps its role's scopes.
 */
function verifiedProps(ctx: ExecutionContext): AuthProps {
  const { props, auth } = ctx as ExecutionContext & VerifiedContext;
  return auth?.clientId ? { ...props, scopes: auth.scope ?? [] } : props;
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
