import { env, exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { generateApiKey } from "../../src/platform/auth/api-keys";
import type { Role } from "../../src/platform/auth/principal";
import { clock } from "../../src/platform/lib/clock";
import { sha256Hex } from "../../src/platform/lib/crypto";

/** Sends a request to the Worker under test, as a client on localhost would. */
export function workerFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input instanceof Request ? input : new URL(input, "http://localhost"), init);
  if (!request.headers.has("host")) request.headers.set("host", "localhost");
  return exports.default.fetch(request);
}

/** Creates a workspace with one user of the given role and an API key for that user. */
export async function createWorkspace(
  slug: string,
  role: Role = "admin",
): Promise<{ workspaceId: string; userId: string; key: string; keyId: string }> {
  const workspaceId = `ws_${slug}`;
  const userId = `usr_${slug}_${role}`;
  const keyId = `key_${slug}_${role}`;
  const key = generateApiKey();
  const now = clock.now().toISOString();
  await env.DB.batch([
    env.DB.prepare("INSERT OR IGNORE INTO workspaces (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)").bind(
      workspaceId,
      slug,
      `${slug} Inc`,
      now,
    ),
    env.DB.prepare(
      "INSERT INTO users (id, workspace_id, email, name, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    ).bind(userId, workspaceId, `${role}@${slug}.test`, `${role} of ${slug}`, role, now),
    env.DB.prepare(
      "INSERT INTO api_keys (id, workspace_id, user_id, name, role, prefix, key_hash, created_at) VALUES (?1, ?2, ?3, 'test', ?4, ?5, ?6, ?7)",
    ).bind(keyId, workspaceId, userId, role, key.slice(0, 8), await sha256Hex(key), now),
  ]);
  return { workspaceId, userId, key, keyId };
}

/** A connected MCP SDK client speaking Streamable HTTP to `/mcp` with the given bearer key (and headers). */
export async function connectClient(key: string, query = "", headers: Record<string, string> = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`http://localhost/mcp${query}`), {
    fetch: (url, init) => workerFetch(url.toString(), init),
    requestInit: { headers: { ...headers, Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: "test-client", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** Calls a tool and returns its structured content, failing the test when the tool errors. */
export async function callOk<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

/** Calls a tool expected to fail and returns its error text. */
export async function callError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  if (!result.isError) throw new Error(`${name} unexpectedly succeeded: ${JSON.stringify(result.structuredContent)}`);
  return (result.content as { type: string; text: string }[]).map((c) => c.text).join("\n");
}

/** One INSERT of a row given as column → value, for fixtures. */
export function insert(table: string, row: Record<string, string | number | null>): D1PreparedStatement {
  const columns = Object.keys(row);
  return env.DB.prepare(
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `?${i + 1}`).join(", ")})`,
  ).bind(...Object.values(row));
}
