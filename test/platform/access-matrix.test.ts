import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type Role, roleAtLeast } from "../../src/platform/auth/principal";
import { type AnyTool, defaultAction } from "../../src/platform/mcp/define-tool";
import { REGISTRY } from "../../src/toolsets";
import { createWorkspace } from "../helpers/mcp";
import { addKey, oauthToken, postMcp, workspaceWithPassword } from "../helpers/oauth";
import { daysAgo } from "../helpers/time";

/**
 * Every tool and action against every kind of credential: API keys of each role, a read-only
 * session, revoked and expired keys, and OAuth tokens of an admin with each set of scopes. The
 * expected outcome is derived here from the action tables and the access rules as documented
 * (role, then scope, then read-only), independently of the server's own checks.
 */
interface Credential {
  name: string;
  token: string;
  query: string;
  role: Role | null;
  scopes: readonly string[];
  readOnly: boolean;
}

type Outcome = "allowed" | "forbidden-role" | "forbidden-scope" | "read-only" | "unauthenticated";

/** One (tool, action) pair, with what the call needs. */
interface Call {
  tool: AnyTool;
  action: string | null;
  role: Role;
  writes: boolean;
  sends: boolean;
  /** Sent without `action`, so its enum's default applies. */
  byDefault?: boolean;
}

/** Every (tool, action) pair of the registry. */
function calls(): Call[] {
  return REGISTRY.tools.flatMap((tool): Call[] => {
    const toolRole = tool.minRole ?? (tool.annotations.readOnlyHint ? "viewer" : "csm");
    const writes = !tool.annotations.readOnlyHint;
    if (!tool.actions) return [{ tool, action: null, role: toolRole, writes, sends: false }];
    const actions = Object.entries(tool.actions).map(([action, access]) => ({
      tool,
      action,
      role: access.role ?? toolRole,
      writes: writes && access.writes,
      sends: access.sends === true,
    }));
    const fallback = defaultAction(tool);
    const byDefault = actions.find((call) => call.action === fallback);
    return byDefault ? [...actions, { ...byDefault, byDefault: true }] : actions;
  });
}

function expected(credential: Credential, call: Call): Outcome {
  if (!credential.role) return "unauthenticated";
  if (!roleAtLeast(credential.role, call.role)) return "forbidden-role";
  const needs = [
    call.writes ? "write" : "read",
    ...(call.sends ? ["send"] : []),
    ...(call.role === "admin" ? ["admin"] : []),
  ];
  if (needs.some((scope) => !credential.scopes.includes(scope))) return "forbidden-scope";
  if (credential.readOnly && call.writes) return "read-only";
  return "allowed";
}

/** The JSON-RPC message of a `/mcp` answer, sent as JSON or as one server-sent event. */
async function rpcMessage(
  response: Response,
): Promise<{ result?: Record<string, unknown>; error?: { message: string } }> {
  const text = await response.text();
  if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) return JSON.parse(text);
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trim())
    .join("");
  return JSON.parse(data);
}

async function outcomeOf(credential: Credential, tool: string, action: string | null): Promise<Outcome> {
  return outcomeOfArgs(credential, tool, action, action ? { action } : {});
}

async function outcomeOfArgs(
  credential: Credential,
  tool: string,
  action: string | null,
  args: Record<string, unknown>,
): Promise<Outcome> {
  const response = await postMcp(
    { authorization: `Bearer ${credential.token}` },
    {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: tool, arguments: args },
    },
    credential.query,
  );
  if (response.status === 401) return "unauthenticated";
  if (response.status === 403) {
    const { error } = await rpcMessage(response);
    return / role; /.test(error?.message ?? "") ? "forbidden-role" : "forbidden-scope";
  }
  expect(response.status, `${credential.name} ${tool} ${action}`).toBe(200);
  const { result } = await rpcMessage(response);
  const text = JSON.stringify(result?.content ?? "");
  expect(text, `${credential.name} ${tool} ${action}`).not.toContain("Internal error");
  return result?.isError && /read-only/.test(text) ? "read-only" : "allowed";
}

describe("access matrix: every tool and action, every credential", () => {
  const credentials: Credential[] = [];

  beforeAll(async () => {
    const all = ["read", "write", "send", "admin"];
    for (const role of ["viewer", "csm", "admin"] as const) {
      const { key } = await createWorkspace(`matrix-${role}`, role);
      credentials.push({ name: `${role} key`, token: key, query: "?toolsets=all", role, scopes: all, readOnly: false });
    }
    const { key: adminKey, workspaceId, userId } = await createWorkspace("matrix-readonly", "admin");
    credentials.push({
      name: "admin key, readonly=1",
      token: adminKey,
      query: "?toolsets=all&readonly=1",
      role: "admin",
      scopes: all,
      readOnly: true,
    });
    const revoked = await addKey(workspaceId, userId, "admin", { revokedAt: daysAgo(1) });
    const expired = await addKey(workspaceId, userId, "admin", { expiresAt: daysAgo(1) });
    for (const [name, key] of [
      ["revoked key", revoked.key],
      ["expired key", expired.key],
    ] as const) {
      credentials.push({ name, token: key, query: "?toolsets=all", role: null, scopes: [], readOnly: false });
    }
    const { email } = await workspaceWithPassword("matrix-oauth", "admin");
    for (const ticked of [[], ["write"], ["write", "send"], ["write", "send", "admin"], ["admin"]]) {
      const { accessToken, scope } = await oauthToken("matrix-oauth", email, undefined, ticked);
      credentials.push({
        name: `OAuth ${scope}`,
        token: accessToken,
        query: "?toolsets=all",
        role: "admin",
        scopes: scope.split(" "),
        readOnly: false,
      });
    }
  }, 60_000);

  it("refuses or serves each call exactly as the role, scopes and session allow", async () => {
    const mismatches: string[] = [];
    let probes = 0;
    for (const credential of credentials) {
      for (const call of calls()) {
        const want = expected(credential, call);
        const got = call.byDefault
          ? await outcomeOfArgs(credential, call.tool.name, `${call.action} (default)`, {})
          : await outcomeOf(credential, call.tool.name, call.action);
        probes++;
        const action = `${call.action ?? ""}${call.byDefault ? " (by default)" : ""}`;
        if (got !== want) mismatches.push(`${credential.name}: ${call.tool.name} ${action} → ${got}, want ${want}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(probes).toBe(credentials.length * calls().length);
    console.log(`access matrix: ${calls().length} tool actions × ${credentials.length} credentials = ${probes} calls`);
  }, 300_000);

  it("lists exactly the tools with at least one call the credential may make", async () => {
    for (const credential of credentials.filter((c) => c.role)) {
      const response = await postMcp(
        { authorization: `Bearer ${credential.token}` },
        { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} },
        credential.query,
      );
      const { result } = await rpcMessage(response);
      const listed = ((result?.tools ?? []) as { name: string }[]).map((tool) => tool.name).sort();
      const usable = [
        ...new Set(
          calls()
            .filter((call) => expected(credential, call) === "allowed")
            .map((call) => call.tool.name),
        ),
      ].sort();
      expect(listed, credential.name).toEqual(usable);
    }
  });

  it("keeps the audit log to allowed writes", async () => {
    const refused = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE workspace_id IN ('ws_matrix-viewer', 'ws_matrix-readonly')",
    ).first<{ n: number }>();
    expect(refused?.n).toBe(0);
  });
});
