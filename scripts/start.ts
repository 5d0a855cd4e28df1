/**
 * `npm start`: a local server with a ready demo workspace.
 *
 * Honours PORT (default 8787) and PERSIST_DIR (wrangler's local state, default `.wrangler/state`).
 * Creates `.dev.vars` with a random ENCRYPTION_KEY when there is none, applies migrations, seeds
 * the `demo` workspace when it does not exist, makes sure there is a working demo admin API key
 * (kept in PERSIST_DIR/demo-admin-key and reused while it is valid), then runs `wrangler dev`,
 * waits for /healthz and prints the URL, the key, the demo login and client configs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { clock } from "../src/platform/lib/clock";
import { sha256Hex } from "../src/platform/lib/crypto";
import { createKey } from "./admin/commands";
import { applyMigrations, type D1Target, persistDir, query, sqlLiteral, wranglerDb } from "./lib/d1";
import { adminEmail, TEAM } from "./seed/catalog";
import { DEMO_WORKSPACE, demoGenerateOptions } from "./seed/demo";
import { formatCounts, seedDatabase } from "./seed/loader";
import { DEMO_PASSWORD, demoPasswordHash } from "./seed/password";

const SLUG = DEMO_WORKSPACE.slug;
const READY_TIMEOUT_MS = 120_000;
const root = path.resolve(import.meta.dirname, "..");

function log(line: string): void {
  console.error(`[start] ${line}`);
}

/** wrangler dev reads secrets from `.dev.vars`; integration secrets are sealed under ENCRYPTION_KEY. */
function ensureDevVars(): void {
  const file = path.join(root, ".dev.vars");
  const line = `ENCRYPTION_KEY=${randomBytes(32).toString("base64")}\n`;
  if (!existsSync(file)) {
    writeFileSync(file, line, { mode: 0o600 });
    log("created .dev.vars with a random ENCRYPTION_KEY");
  } else if (!/^ENCRYPTION_KEY=/m.test(readFileSync(file, "utf8"))) {
    appendFileSync(file, `${readFileSync(file, "utf8").endsWith("\n") ? "" : "\n"}${line}`);
    log("added a random ENCRYPTION_KEY to .dev.vars");
  }
}

interface DemoState {
  workspace_id: string | null;
  admin_id: string | null;
  key_id: string | null;
}

/** One wrangler call: does the demo workspace exist, and is the saved key still valid? */
function demoState(target: D1Target, keyHash: string): DemoState {
  const [row] = query<DemoState>(
    `SELECT w.id AS workspace_id,
       (SELECT u.id FROM users u WHERE u.workspace_id = w.id AND u.email = ${sqlLiteral(adminEmail(SLUG))}
           AND u.role = 'admin' AND u.disabled_at IS NULL) AS admin_id,
       (SELECT k.id FROM api_keys k WHERE k.workspace_id = w.id AND k.key_hash = ${sqlLiteral(keyHash)}
           AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ${sqlLiteral(clock.now().toISOString())})) AS key_id
     FROM workspaces w WHERE w.slug = ${sqlLiteral(SLUG)}`,
    target,
  );
  return row ?? { workspace_id: null, admin_id: null, key_id: null };
}

/** Reuses the saved demo key while its hash is stored and unrevoked; otherwise creates one. */
async function demoKey(target: D1Target, keyFile: string): Promise<{ key: string; seeded: boolean }> {
  const saved = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  let state = demoState(target, saved ? await sha256Hex(saved) : "");
  const seeded = !state.workspace_id;
  if (seeded) {
    const anchorDay = clock.now().toISOString().slice(0, 10);
    log(`seeding the "${SLUG}" workspace (${DEMO_WORKSPACE.accounts} accounts, anchored on ${anchorDay})…`);
    const report = seedDatabase(
      { ...demoGenerateOptions(anchorDay), passwordHash: await demoPasswordHash(DEMO_WORKSPACE.seed, SLUG) },
      target,
      { force: false },
    );
    log(`seeded in ${report.seconds.total.toFixed(1)} s: ${formatCounts(report.counts)}`);
    state = { workspace_id: `ws_${SLUG}`, admin_id: `usr_${SLUG}_admin`, key_id: null };
  }
  if (saved && state.key_id) {
    log(`reusing the demo admin key in ${keyFile}`);
    return { key: saved, seeded };
  }
  const created = await createKey(wranglerDb(target), {
    workspace: SLUG,
    role: "admin",
    // A key of the demo admin while that user is an enabled admin; else a workspace admin key.
    user: state.admin_id ? adminEmail(SLUG) : undefined,
    name: "demo admin key (npm start)",
  });
  mkdirSync(path.dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${created.key}\n`, { mode: 0o600 });
  log(`created a demo admin key (${created.prefix}…), saved in ${keyFile}`);
  return { key: created.key, seeded };
}

/** The wrangler CLI of this project, run with this Node so signals reach it directly. */
function startWrangler(port: number, persistTo: string): ChildProcess {
  const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
  const bin = path.join(path.dirname(wranglerPackage), "bin", "wrangler.js");
  return spawn(process.execPath, [bin, "dev", "--port", String(port), "--persist-to", persistTo], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with status ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

function banner(mcpUrl: string, key: string, persistTo: string): string {
  const auth = `Authorization: Bearer ${key}`;
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  const others = TEAM.filter((m) => m.key !== "admin" && ["rachel.kim", "jordan.ellis", "ben.carter"].includes(m.key))
    .map((m) => `${m.key}@${SLUG}.example (${m.role})`)
    .join(", ");
  return [
    "",
    `cs-mcp is running (local state in ${persistTo})`,
    "",
    `  MCP URL        ${mcpUrl}`,
    `  Admin API key  ${key}`,
    `  Demo login     workspace "${SLUG}", ${adminEmail(SLUG)}, password ${DEMO_PASSWORD}`,
    `                 (same password for the other demo users, e.g. ${others})`,
    "",
    "Claude Code:",
    `  claude mcp add --transport http cs-mcp ${mcpUrl} --header "${auth}"`,
    "",
    "Cursor (~/.cursor/mcp.json):",
    json({ mcpServers: { "cs-mcp": { url: mcpUrl, headers: { Authorization: `Bearer ${key}` } } } }),
    "",
    "VS Code (.vscode/mcp.json):",
    json({ servers: { "cs-mcp": { type: "http", url: mcpUrl, headers: { Authorization: `Bearer ${key}` } } } }),
    "",
    "Claude Desktop (claude_desktop_config.json, through mcp-remote):",
    json({ mcpServers: { "cs-mcp": { command: "npx", args: ["-y", "mcp-remote", mcpUrl, "--header", auth] } } }),
    "",
    "MCP Inspector:",
    `  npx @modelcontextprotocol/inspector --transport http --server-url ${mcpUrl} --header "${auth}"`,
    "",
    "Press Ctrl+C to stop.",
    "",
  ].join("\n");
}

let wrangler: ChildProcess | null = null;

async function main(): Promise<void> {
  const port = Number(process.env.PORT || 8787);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  const persistTo = path.resolve(persistDir());
  const target: D1Target = { persistTo };
  ensureDevVars();
  log("applying migrations…");
  applyMigrations(target);
  const { key, seeded } = await demoKey(target, path.join(persistTo, "demo-admin-key"));

  const child = startWrangler(port, persistTo);
  wrangler = child;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  // Exit as wrangler did: with its status, or by the signal that ended it.
  child.on("exit", (code, signal) => {
    if (code !== null) process.exit(code);
    process.removeAllListeners(signal ?? "SIGTERM");
    process.kill(process.pid, signal ?? "SIGTERM");
  });
  await waitUntilReady(`http://localhost:${port}/healthz`, child);
  if (seeded) {
    // Fire the nightly job once so the fresh demo has health scores; it fans out through the
    // local queue and finishes in the background within a few seconds.
    const fired = await fetch(
      `http://localhost:${port}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("0 3 * * *")}`,
    );
    log(
      fired.ok
        ? "computing the demo's health scores in the background (the nightly job, fired once)"
        : `could not fire the nightly job (${fired.status})`,
    );
  }
  console.log(banner(`http://localhost:${port}/mcp`, key, persistTo));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  if (wrangler && wrangler.exitCode === null) wrangler.kill("SIGTERM");
  process.exitCode = 1;
});
