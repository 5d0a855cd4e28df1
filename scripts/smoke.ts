/**
 * End-to-end smoke test: starts `npm start` on fresh local state and a free port, lets it seed
 * the demo workspace, connects the MCP SDK client over HTTP, lists tools per toolset, makes every
 * read sample call of every tool in the registry on the demo's ids and a few writes, then stops
 * the server. Prints `Smoke: N passed, N failed`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { clock } from "../src/platform/lib/clock";
import { callWrites } from "../src/platform/mcp/define-tool";
import { exampleArgs } from "../src/platform/mcp/examples";
import { REGISTRY } from "../src/toolsets";
import { freePort } from "./lib/ports";
import { DEMO_WORKSPACE, demoGenerateOptions } from "./seed/demo";
import { demoIdsOf } from "./seed/demo-ids";
import { collectWorkspace } from "./seed/generate";

const STARTUP_TIMEOUT_MS = 300_000;

let passed = 0;
let failed = 0;

async function check(name: string, body: () => Promise<string | undefined>): Promise<void> {
  try {
    const detail = await body();
    passed++;
    console.log(`  ok   ${name}${detail ? ` — ${detail}` : ""}`);
  } catch (error) {
    failed++;
    console.log(`  FAIL ${name} — ${error instanceof Error ? error.message : String(error)}`);
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function waitForHealth(base: string, server: ChildProcess): Promise<void> {
  const deadline = performance.now() + STARTUP_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`npm start exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error("server did not become healthy in time");
}

async function connect(url: string, key: string): Promise<Client> {
  const client = new Client({ name: "smoke", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
  );
  return client;
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Record<string, unknown>;
}

function createKey(persistDir: string, role: string): string {
  const result = spawnSync("npm", ["run", "-s", "admin", "--", "create-key", "--workspace", "demo", "--role", role], {
    encoding: "utf8",
    env: { ...process.env, PERSIST_DIR: persistDir },
  });
  if (result.status !== 0) throw new Error(`admin create-key failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** The ids `npm start`'s demo holds: the same generator, options and anchor day. */
function demoIds() {
  return demoIdsOf(collectWorkspace(demoGenerateOptions(clock.now().toISOString().slice(0, 10))));
}

async function main(): Promise<void> {
  const persistDir = mkdtempSync(path.join(tmpdir(), "cs-mcp-smoke-"));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  console.log(`Smoke: npm start on port ${port}, state in a fresh folder`);
  const server = spawn("npm", ["start"], {
    env: { ...process.env, PORT: String(port), PERSIST_DIR: persistDir, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  server.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  server.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  try {
    await check("npm start seeds the demo workspace and serves /healthz", async () => {
      const started = performance.now();
      await waitForHealth(base, server);
      return `healthy after ${Math.round((performance.now() - started) / 1000)} s`;
    });
    if (failed > 0) throw new Error("server did not start");
    await check("npm start prints the MCP URL and a demo admin key", async () => {
      // The banner follows the server's own health check, a moment after ours.
      for (let waited = 0; waited < 30 && !output.includes(`${base}/mcp`); waited++) {
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert(output.includes(`${base}/mcp`), "MCP URL not printed");
      assert(/csk_[A-Za-z0-9_-]{20,}/.test(output), "no API key printed");
      return undefined;
    });
    const adminKey = createKey(persistDir, "admin");
    const viewerKey = createKey(persistDir, "viewer");

    // Each listed tool names its toolset in `_meta`; `toolsets=all` gives the full catalogue.
    const allClient = await connect(`${base}/mcp?toolsets=all`, adminKey);
    const catalogue = (await allClient.listTools()).tools;
    await allClient.close();
    for (const toolset of REGISTRY.toolsetNames) {
      const expected = catalogue.filter((t) => ["core", toolset].includes(String(t._meta?.["cs-mcp/toolset"]))).length;
      await check(`tools/list ?toolsets=${toolset}`, async () => {
        const client = await connect(`${base}/mcp?toolsets=${toolset}`, adminKey);
        const { tools } = await client.listTools();
        await client.close();
        assert(tools.length === expected, `expected ${expected} tools, got ${tools.length}`);
        return `${tools.length} tools`;
      });
    }
    await check("viewer sees only tools a viewer may call", async () => {
      const client = await connect(`${base}/mcp?toolsets=all`, viewerKey);
      const { tools } = await client.listTools();
      await client.close();
      const above = tools.filter((t) => t._meta?.["cs-mcp/min_role"] !== "viewer").map((t) => t.name);
      assert(above.length === 0, `listed for a viewer but above its role: ${above.join(", ")}`);
      assert(
        tools.length === catalogue.filter((t) => t._meta?.["cs-mcp/min_role"] === "viewer").length,
        "a viewer tool is missing",
      );
      return `${tools.length} tools`;
    });

    const client = await connect(`${base}/mcp?toolsets=all`, adminKey);
    const ids = demoIds();
    await check("get_workspace_overview counts the demo", async () => {
      const overview = await call(client, "get_workspace_overview");
      const counts = overview.counts as { accounts: number; tickets: number };
      assert(counts.accounts >= DEMO_WORKSPACE.accounts, `only ${counts.accounts} accounts`);
      return `${counts.accounts} accounts, ${counts.tickets} tickets`;
    });
    // Every read sample call of every tool, on the demo's ids; one a workspace lacks is skipped.
    for (const tool of REGISTRY.tools) {
      const reads = tool.examples
        .map((example) => ({ example, args: exampleArgs(example, ids) }))
        .filter(({ args }) => args === null || !callWrites(tool, args));
      if (reads.length === 0) continue;
      await check(`${tool.name}: its read sample calls`, async () => {
        let skipped = 0;
        for (const { example, args } of reads) {
          if (args === null) skipped++;
          else
            await call(client, tool.name, args).catch((error: Error) => {
              throw new Error(`${example.title}: ${error.message}`);
            });
        }
        return `${reads.length - skipped} calls${skipped > 0 ? `, ${skipped} skipped (no such record in the demo)` : ""}`;
      });
    }
    await check("calculate_health_score: nightly scores exist and explain themselves", async () => {
      const scored = await call(client, "calculate_health_score", { account_id: ids.accountId });
      const e = scored.explanation as { score: number; band: string; components: unknown[] } | null;
      assert(e && e.components.length === 5, "no explanation with five components");
      return `${e.score} (${e.band})`;
    });
    await check("log_activity", async () => {
      const logged = await call(client, "log_activity", {
        account_id: ids.accountId,
        kind: "note",
        subject: "Smoke test note",
      });
      return String((logged.activity as { id: string }).id);
    });
    await check("manage_tasks create and list", async () => {
      await call(client, "manage_tasks", { action: "create", title: "Smoke follow-up", account_id: ids.accountId });
      const list = await call(client, "manage_tasks", { action: "list", account_id: ids.accountId });
      assert((list.tasks as unknown[]).length > 0, "task not listed");
      return `${(list.tasks as unknown[]).length} tasks`;
    });
    await check("import_records twice is idempotent", async () => {
      const rows = [{ external_id: "smoke-1", name: "Smoke Test Co", domain: "smoke.example" }];
      await call(client, "import_records", { entity: "accounts", rows });
      const again = await call(client, "import_records", { entity: "accounts", rows });
      assert(again.unchanged === 1 && again.inserted === 0, `second import: ${JSON.stringify(again)}`);
      return undefined;
    });
    await client.close();
  } finally {
    if (server.pid) process.kill(-server.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(persistDir, { recursive: true, force: true });
    if (failed > 0) console.log(output.slice(-4000));
  }
  console.log(`Smoke: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  console.log(`Smoke: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
