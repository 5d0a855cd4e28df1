/**
 * `npm run conformance`: the MCP conformance suite's server scenarios against a local server.
 *
 *   npx tsx scripts/conformance.ts [--scenario <name>]… [--timeout 120] [--verbose]
 *
 * 1. Generates the demo workspace into a fresh state folder and creates an admin API key, as the
 *    benchmark does, then starts `wrangler dev` on a snapshot of the sources.
 * 2. Starts a loopback proxy that forwards every request unchanged (method, path, body, and the
 *    client's own Host and Origin, which the DNS-rebinding scenario sets) and adds
 *    `Authorization: Bearer <key>`: the suite sends no credential, and `/mcp` needs one.
 * 3. Runs each applicable scenario through `conformance server --url http://localhost:<proxy>/mcp
 *    --scenario <name>` (the package `@modelcontextprotocol/conformance`, resolved from
 *    node_modules), prints every check (`--verbose`: with the details the suite recorded, such
 *    as each status code) and a summary, and exits non-zero on any failed check.
 *
 * Scenarios left out need what only the suite's reference server has: its test tools
 * (`tools-call-*`, `json-schema-2020-12`, `elicitation-*`, `server-sse-polling`'s
 * `test_reconnection`), resources (`resources-*`), prompts (`prompts-*`, and
 * `completion-complete`, which completes a test prompt's argument), or the logging capability
 * this server does not declare (`logging-set-level`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { clock } from "../src/platform/lib/clock";
import { createAccess } from "./bench/access";
import { type DevServer, startServer, workerSnapshot } from "./bench/server";
import { d1File, loadWorkspace } from "./bench/workspace";
import { DEMO_WORKSPACE, demoGenerateOptions } from "./seed/demo";

/** The server scenarios that apply to a server with tools only. */
export const SCENARIOS = [
  "server-initialize",
  "ping",
  "tools-list",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
] as const;

const root = path.resolve(import.meta.dirname, "..");

/** One check as the suite records it in `checks.json`. */
interface Check {
  id: string;
  name: string;
  description: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  errorMessage?: string;
  details?: unknown;
}

/** A scenario's checks, and the suite's own exit status and output (shown when it ran no check). */
interface ScenarioResult {
  scenario: string;
  checks: Check[];
  exitCode: number | null;
  output: string;
}

function log(line: string): void {
  console.error(`[conformance] ${line}`);
}

/** The suite's CLI from node_modules (NODE_PATH is honoured, for a copy installed elsewhere). */
function conformanceBin(): string {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve("@modelcontextprotocol/conformance/package.json");
  } catch {
    throw new Error(
      'the conformance suite is not installed: add "@modelcontextprotocol/conformance": "0.1.16" to devDependencies and run npm install',
    );
  }
  const { bin } = JSON.parse(readFileSync(manifest, "utf8")) as { bin: Record<string, string> };
  return path.join(path.dirname(manifest), bin.conformance as string);
}

/** A loopback proxy to `targetPort` that adds the bearer key and changes nothing else. */
export function startProxy(targetPort: number, apiKey: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: "localhost",
        port: targetPort,
        method: req.method,
        path: req.url,
        // The client's Host and Origin go through as sent: they are what the Host check judges.
        headers: { ...req.headers, authorization: `Bearer ${apiKey}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (res.headersSent) res.destroy(error);
      else res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: error.message }));
    });
    // A client that hangs up (the suite cancels SSE streams) ends the upstream request too.
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (typeof address !== "object" || !address) return reject(new Error("the proxy has no port"));
      resolve({
        port: address.port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

/** Runs one scenario through the suite's CLI and reads the checks it saved. */
async function runScenario(bin: string, url: string, scenario: string, timeoutMs: number): Promise<ScenarioResult> {
  const outDir = mkdtempSync(path.join(tmpdir(), "cs-mcp-conformance-out-"));
  try {
    const child = spawn(process.execPath, [bin, "server", "--url", url, "--scenario", scenario, "-o", outDir], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const exitCode = await exited(child);
    clearTimeout(timer);
    // The suite writes <outDir>/server-<scenario>-<time>/checks.json.
    const dir = readdirSync(outDir).find((name) => name.startsWith(`server-${scenario}-`));
    const checks = dir ? (JSON.parse(readFileSync(path.join(outDir, dir, "checks.json"), "utf8")) as Check[]) : [];
    return { scenario, checks, exitCode, output };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Whether a scenario passed: at least one check, none failed, and the suite exited cleanly. */
function passed(result: ScenarioResult): boolean {
  return result.checks.length > 0 && result.exitCode === 0 && !result.checks.some((c) => c.status === "FAILURE");
}

function printScenario(result: ScenarioResult, verbose: boolean): void {
  console.log(`\n${result.scenario}`);
  for (const check of result.checks) {
    console.log(`  ${check.status.padEnd(7)} ${check.id}: ${check.description}`);
    if (check.errorMessage) console.log(`          ${check.errorMessage}`);
    if (verbose && check.details !== undefined) console.log(`          ${JSON.stringify(check.details)}`);
  }
  if (result.checks.length === 0 || (result.exitCode !== 0 && !result.checks.some((c) => c.status === "FAILURE"))) {
    console.log(`  the suite exited with status ${result.exitCode} after ${result.checks.length} checks:`);
    console.log(result.output.replace(/^/gm, "    "));
  }
}

function printSummary(results: ScenarioResult[]): void {
  console.log("\nSummary");
  const count = (r: ScenarioResult, status: Check["status"]) => r.checks.filter((c) => c.status === status).length;
  for (const r of results) {
    // "warn": nothing failed, but the suite flagged a SHOULD or could not test everything.
    const verdict = !passed(r) ? "FAIL" : count(r, "WARNING") > 0 ? "warn" : "pass";
    console.log(
      `  ${verdict}  ${r.scenario.padEnd(30)} ${count(r, "SUCCESS")} passed, ${count(r, "FAILURE")} failed, ${count(r, "WARNING")} warnings`,
    );
  }
  const failing = results.filter((r) => !passed(r)).length;
  console.log(`\n${results.length - failing}/${results.length} scenarios passed`);
}

function options() {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", multiple: true },
      timeout: { type: "string", default: "120" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const scenarios = values.scenario ?? [...SCENARIOS];
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)
    throw new Error(`--timeout must be a whole number of seconds, got ${values.timeout}`);
  return { scenarios, timeoutMs: timeoutSeconds * 1000, verbose: values.verbose, help: values.help };
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.help) {
    console.log(readFileSync(import.meta.filename, "utf8").split("*/")[0]);
    return;
  }
  const bin = conformanceBin();
  const state = mkdtempSync(path.join(tmpdir(), "cs-mcp-conformance-state-"));
  // Outside the project, so linters and editors never see the copied sources.
  const snapshot = mkdtempSync(path.join(tmpdir(), "cs-mcp-conformance-worker-"));
  let server: DevServer | null = null;
  let proxy: Awaited<ReturnType<typeof startProxy>> | null = null;
  const stop = async () => {
    await proxy?.close();
    await server?.stop();
    proxy = null;
    server = null;
    rmSync(snapshot, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    const { slug, accounts } = DEMO_WORKSPACE;
    log(`generating the "${slug}" workspace (${accounts} accounts)…`);
    const generate = { ...demoGenerateOptions(clock.now().toISOString().slice(0, 10)), passwordHash: null };
    loadWorkspace(state, generate, log);
    const access = await createAccess(d1File(state), state, slug, generate.workspaceId);
    log("starting wrangler dev on a snapshot of the sources…");
    server = await startServer(workerSnapshot(root, snapshot), state, access.encryptionKey);
    proxy = await startProxy(server.port, access.apiKey);
    const url = `http://localhost:${proxy.port}/mcp`;
    log(`server on ${server.base}, proxy with the admin key on ${url}`);
    const results: ScenarioResult[] = [];
    for (const scenario of opts.scenarios) {
      log(`running ${scenario}…`);
      const result = await runScenario(bin, url, scenario, opts.timeoutMs);
      printScenario(result, opts.verbose);
      results.push(result);
    }
    printSummary(results);
    if (!results.every(passed)) process.exitCode = 1;
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
