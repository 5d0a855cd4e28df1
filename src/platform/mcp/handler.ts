import { createMcpHandler } from "agents/mcp/server";
import { loadPrincipal } from "../auth/load";
import type { AuthProps, Principal } from "../auth/principal";
import { roleAtLeast } from "../auth/principal";
import { resourceMetadataUrl, resourceUrl } from "../auth/resource";
import { missingScopes, scopeRefusal } from "../auth/scopes";
import { allowedOriginHostnames } from "../http/hosts";
import { newId } from "../lib/ids";
import type { Registry } from "../toolset";
import { callWrites, readActionsOf, readOnlyActions, requiredRoleForCall, scopesNeededForCall } from "./define-tool";
import type { DebugD1 } from "./server";
import { buildServer } from "./server";
import { parseSessionOptions, type SessionOptions } from "./session";

/** The resource-metadata challenge sent with every 401 from `/mcp`, in the OAuth provider's own form. */
export function unauthorized(
  env: Pick<Env, "PUBLIC_URL" | "ALLOWED_HOSTS">,
  request: Request,
  description: string,
): Response {
  const metadata = resourceMetadataUrl(resourceUrl(env, request));
  return Response.json(
    { error: "invalid_token", error_description: description },
    {
      status: 401,
      headers: {
        "Cache-Control": "no-store",
        "WWW-Authenticate": `Bearer realm="OAuth", resource_metadata="${metadata}", error="invalid_token", error_description="${description}"`,
      },
    },
  );
}

/**
 * Serves `/mcp` for an authenticated request: re-reads the caller's role, applies the session
 * options, refuses calls above the caller's role with 403, and hands the rest to a stateless
 * MCP server built for this caller.
 */
export async function handleMcpRequest(
  registry: Registry,
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  props: AuthProps,
): Promise<Response> {
  const session = parseSessionOptions(request, registry);
  if ("error" in session)
    return Response.json({ error: "invalid_request", error_description: session.error }, { status: 400 });
  const principal = await loadPrincipal(env, props);
  if (!principal) return unauthorized(env, request, "The credential was revoked, expired or its user disabled.");
  const refusal = await refuseForbiddenCall(registry, request, principal, session);
  if (refusal) return refusal;
  const requestId = newId("req");
  const debugD1 = debugD1Mode(request, env);
  const handler = createMcpHandler(
    () =>
      buildServer(registry, env, principal, session, {
        id: requestId,
        origin: env.PUBLIC_URL || new URL(request.url).origin,
        debugD1,
      }),
    {
      route: "/mcp",
      // The same hosts the Host check serves; a browser page anywhere else gets 403.
      allowedOriginHostnames: allowedOriginHostnames(env, request),
    },
  );
  const response = await handler(request, env, ctx);
  const headers = new Headers(response.headers);
  headers.set("X-Request-Id", requestId);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Whether and how a call reports its D1 cost: only where the deployment enables it. */
export function debugD1Mode(request: Request, env: Pick<Env, "DEBUG_D1">): DebugD1 {
  if (env.DEBUG_D1 !== "1") return "off";
  const asked = request.headers.get("x-debug-d1");
  return asked === "sql" ? "sql" : asked === "1" ? "counts" : "off";
}

/**
 * A `tools/call` for a tool the caller's role may not use, or outside its token's scopes, gets
 * HTTP 403 (as MCP's authorization rules prescribe for insufficient rights); one for a write tool in a read-only session gets a
 * tool error saying why. Anything else passes through.
 */
async function refuseForbiddenCall(
  registry: Registry,
  request: Request,
  principal: Principal,
  session: SessionOptions,
): Promise<Response | null> {
  if (request.method !== "POST") return null;
  let message: unknown;
  try {
    message = await request.clone().json();
  } catch {
    return null;
  }
  const calls = (Array.isArray(message) ? message : [message]).filter(
    (m): m is { id: string | number; method: string; params: { name: string; arguments?: Record<string, unknown> } } =>
      typeof m === "object" && m !== null && m.method === "tools/call" && typeof m.params?.name === "string",
  );
  for (const call of calls) {
    const tool = registry.toolByName.get(call.params.name);
    if (!tool) continue;
    const needed = requiredRoleForCall(tool, call.params.arguments);
    if (!roleAtLeast(principal.role, needed)) {
      return Response.json(
        {
          jsonrpc: "2.0",
          id: call.id,
          error: {
            code: -32003,
            message: `Forbidden: ${tool.name} needs the ${needed} role; this credential has ${principal.role}.`,
          },
        },
        // No `scope` parameter: signing in again grants the same role, so a step-up would loop.
        {
          status: 403,
          headers: {
            "WWW-Authenticate": `Bearer error="insufficient_scope", error_description="${tool.name} needs the ${needed} role"`,
          },
        },
      );
    }
    const missing = missingScopes(principal.scopes, scopesNeededForCall(tool, call.params.arguments));
    if (missing.length > 0) {
      const message = scopeRefusal(tool.name, principal.scopes, missing);
      // With a `scope` parameter: consenting again to these scopes can grant them (RFC 6750 §3.1).
      return Response.json(
        { jsonrpc: "2.0", id: call.id, error: { code: -32003, message: `Forbidden: ${message}` } },
        {
          status: 403,
          headers: {
            "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${[...principal.scopes, ...missing].join(" ")}", error_description="${tool.name} needs the ${missing.join(" ")} scope"`,
          },
        },
      );
    }
    if (session.readOnly && callWrites(tool, call.params.arguments)) {
      return Response.json({
        jsonrpc: "2.0",
        id: call.id,
        result: {
          content: [
            {
              type: "text",
              text:
                readOnlyActions(tool) === null
                  ? `${tool.name} writes data, and this session is read-only (readonly=1). Reconnect without readonly to use it.`
                  : `In this read-only session (readonly=1) ${tool.name} offers its read actions only (${readActionsOf(tool).join(", ")}); action ${JSON.stringify(call.params.arguments?.action ?? null)} is not one of them. Reconnect without readonly to use the others.`,
            },
          ],
          isError: true,
        },
      });
    }
  }
  return null;
}
