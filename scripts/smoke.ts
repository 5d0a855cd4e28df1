/**
 * End-to-end smoke test: starts `npm start` on fresh local state and a free port, lets it seed
 * the demo workspace, connects the MCP SDK client over HTTP, lists tools per toolset, calls the
 * core tools and every read of the health, retention and expansion toolsets on the demo data, then stops the server. Prints `Smoke: N passed, N failed`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { freePort } from "./lib/ports";

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
    // The toolset names as the server reports them (the registry itself runs only in workerd).
    const overview = await allClient.callTool({ name: "get_workspace_overview", arguments: {} });
    const toolsetNames = (overview.structuredContent as { toolsets: { name: string }[] }).toolsets.map((t) => t.name);
    await allClient.close();
    assert(toolsetNames.length === 8, `expected 8 toolsets, got ${toolsetNames.join(", ")}`);
    for (const toolset of toolsetNames) {
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

    const client = await connect(`${base}/mcp`, adminKey);
    let accountId = "";
    await check("get_workspace_overview", async () => {
      const overview = await call(client, "get_workspace_overview");
      const counts = overview.counts as { accounts: number; tickets: number };
      assert(counts.accounts >= 300, `only ${counts.accounts} accounts`);
      return `${counts.accounts} accounts, ${counts.tickets} tickets`;
    });
    await check("list_accounts", async () => {
      const page = await call(client, "list_accounts", { sort: "arr", order: "desc", limit: 5 });
      const accounts = page.accounts as { id: string; name: string }[];
      assert(accounts.length === 5 && page.next_cursor, "expected 5 accounts and a next page");
      accountId = accounts[0]!.id;
      return `top account ${accounts[0]!.name}`;
    });
    await check("get_account_overview", async () => {
      const overview = await call(client, "get_account_overview", { account_id: accountId });
      return `${Object.keys(overview).length} sections`;
    });
    await check("get_account_timeline", async () => {
      const timeline = await call(client, "get_account_timeline", { account_id: accountId, limit: 10 });
      assert((timeline.entries as unknown[]).length > 0, "empty timeline");
      return `${(timeline.entries as unknown[]).length} entries`;
    });
    let firstHit = "";
    await check("search", async () => {
      const found = await call(client, "search", { query: "invoice" });
      const results = found.results as { id: string }[];
      assert(results.length > 0, "no results for 'invoice'");
      firstHit = results[0]!.id;
      return `${results.length} results`;
    });
    await check("fetch", async () => {
      const doc = await call(client, "fetch", { id: firstHit });
      assert(typeof doc.text === "string" && doc.text.length > 0, "empty document");
      return firstHit;
    });
    await check("configure_workspace get", async () => {
      const settings = await call(client, "configure_workspace", { action: "get" });
      return `version ${settings.version}`;
    });
    await check("log_activity", async () => {
      const logged = await call(client, "log_activity", {
        account_id: accountId,
        kind: "note",
        subject: "Smoke test note",
      });
      return String((logged.activity as { id: string }).id);
    });
    await check("manage_tasks create and list", async () => {
      await call(client, "manage_tasks", { action: "create", title: "Smoke follow-up", account_id: accountId });
      const list = await call(client, "manage_tasks", { action: "list", account_id: accountId });
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
    await check("calculate_health_score: nightly scores exist and explain themselves", async () => {
      const scored = await call(client, "calculate_health_score", { account_id: accountId });
      const e = scored.explanation as { score: number; band: string; components: unknown[] } | null;
      assert(e && e.components.length === 5, "no explanation with five components");
      return `${e.score} (${e.band})`;
    });
    await check("track_usage_engagement", async () => {
      const usage = await call(client, "track_usage_engagement", { limit: 5 });
      assert((usage.accounts_counted as number) > 0, "no account with usage");
      return `${usage.accounts_counted} accounts with usage`;
    });
    await check("track_feature_adoption", async () => {
      const adoption = await call(client, "track_feature_adoption", { limit: 5 });
      assert((adoption.features as unknown[]).length > 0, "no feature adopted");
      return `${(adoption.features as unknown[]).length} features`;
    });
    await check("analyze_engagement_patterns", async () => {
      const patterns = await call(client, "analyze_engagement_patterns", { account_id: accountId });
      return `best channel ${JSON.stringify(patterns.best_channel)}`.slice(0, 80);
    });
    await check("segment_customers list", async () => {
      const segments = await call(client, "segment_customers", { action: "list" });
      assert((segments.segments as unknown[]).length >= 3, "fewer than three segments");
      return `${segments.accounts_counted} accounts`;
    });
    await check("segment_by_value_tier check_sla", async () => {
      const tiers = await call(client, "segment_by_value_tier", { action: "check_sla" });
      return `${tiers.in_breach} of ${tiers.accounts_checked} in breach`;
    });
    await check("manage_lifecycle_stages list", async () => {
      const stages = await call(client, "manage_lifecycle_stages", { action: "list" });
      assert((stages.stages as unknown[]).length > 0, "no stages");
      return `${(stages.stages as unknown[]).length} stages`;
    });
    await check("track_adoption_milestones", async () => {
      const milestones = await call(client, "track_adoption_milestones", { limit: 5 });
      assert((milestones.accounts_counted as number) > 0, "no account counted");
      return `${milestones.accounts_counted} accounts`;
    });
    await check("identify_churn_risk", async () => {
      const risk = await call(client, "identify_churn_risk", { limit: 5 });
      const accounts = risk.accounts as unknown[];
      assert(accounts.length > 0, "no account scored");
      return `${accounts.length} accounts on this page`;
    });
    await check("score_risk_factors model", async () => {
      const model = await call(client, "score_risk_factors", { action: "model" });
      return JSON.stringify(model.model).slice(0, 100);
    });
    await check("monitor_satisfaction scores", async () => {
      const scores = await call(client, "monitor_satisfaction", { action: "scores" });
      return JSON.stringify(scores).slice(0, 100);
    });
    await check("manage_escalations list and stats", async () => {
      const open = await call(client, "manage_escalations", { action: "list" });
      assert((open.escalations as unknown[]).length > 0, "no open escalation in the demo");
      await call(client, "manage_escalations", { action: "stats" });
      return `${(open.escalations as unknown[]).length} open`;
    });
    await check("analyze_churn_postmortem", async () => {
      const postmortem = await call(client, "analyze_churn_postmortem", {});
      return JSON.stringify(postmortem).slice(0, 100);
    });
    await check("execute_retention_campaign stats", async () => {
      const stats = await call(client, "execute_retention_campaign", { action: "stats" });
      return JSON.stringify(stats).slice(0, 100);
    });
    await check("automate_retention_campaigns report", async () => {
      const list = await call(client, "automate_retention_campaigns", { action: "list" });
      const campaigns = list.campaigns as { id: string }[];
      assert(campaigns.length > 0, "no campaign in the demo");
      await call(client, "automate_retention_campaigns", { action: "report", campaign_id: campaigns[0]!.id });
      return `${campaigns.length} campaigns`;
    });
    await check("identify_upsell_opportunities", async () => {
      const upsell = await call(client, "identify_upsell_opportunities", { action: "list", limit: 5 });
      assert((upsell.accounts_counted as number) > 0, "no account counted");
      return `${upsell.qualified} qualified of ${upsell.accounts_counted}`;
    });
    await check("identify_crosssell_opportunities rules", async () => {
      const rules = await call(client, "identify_crosssell_opportunities", { action: "rules" });
      assert((rules.rules_found as number) > 0, "no association rule");
      return `${rules.rules_found} rules`;
    });
    await check("identify_expansion_opportunities pipeline", async () => {
      const pipeline = await call(client, "identify_expansion_opportunities", { action: "pipeline" });
      return JSON.stringify(pipeline.pipeline).slice(0, 80);
    });
    await check("track_renewals", async () => {
      const renewals = await call(client, "track_renewals", { action: "list", limit: 5 });
      assert((renewals.contracts_counted as number) > 0, "no renewal in the window");
      return `${renewals.contracts_counted} renewals, ARR ${renewals.arr_renewing}`;
    });
    await check("forecast_renewals", async () => {
      const forecast = await call(client, "forecast_renewals", { limit: 5 });
      assert((forecast.contracts_counted as number) > 0, "nothing to forecast");
      return `forecast GRR ${forecast.forecast_grr}`;
    });
    await check("negotiate_renewals prepare", async () => {
      const prepared = await call(client, "negotiate_renewals", { action: "prepare", account_id: accountId });
      return JSON.stringify(prepared.price_change).slice(0, 80);
    });
    await check("track_revenue_expansion", async () => {
      const revenue = await call(client, "track_revenue_expansion", {});
      assert((revenue.periods as unknown[]).length === 4, "expected the last 4 quarters");
      return JSON.stringify(revenue.window).slice(0, 80);
    });
    await check("optimize_customer_lifetime_value", async () => {
      const clv = await call(client, "optimize_customer_lifetime_value", { limit: 5 });
      assert((clv.segments as unknown[]).length > 0, "no segment");
      return `${(clv.segments as unknown[]).length} segments`;
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
