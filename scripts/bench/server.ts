/**
 * `wrangler dev` for the benchmark: on a free port, over the benchmark's own state folder, with
 * `DEBUG_D1` on so a call can report its D1 cost. Runs in its own process group so stopping it
 * also stops workerd.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { freePort } from "../lib/ports";

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

/** Calls a minute, and writes and sends in their windows, when the limits are lifted: more than any run makes. */
const LIFTED_LIMIT = 1_000_000;

/**
 * The variables that lift the exact quotas (writes per hour, sends per day); the calls-per-minute
 * limits are bindings, lifted in the snapshot's `wrangler.toml` by {@link workerSnapshot}.
 */
export const LIFTED_QUOTAS: Readonly<Record<string, string>> = {
  WRITE_QUOTA_PER_HOUR: String(LIFTED_LIMIT),
  SEND_QUOTA_PER_DAY: String(LIFTED_LIMIT),
};

/** `wrangler.toml` with every Rate Limiting binding's limit set to {@link LIFTED_LIMIT}. */
function liftRateLimits(toml: string): string {
  const sections = toml.match(/^\[\[ratelimits\]\]/gm)?.length ?? 0;
  let lifted = 0;
  const out = toml.replace(/^(simple\s*=\s*\{\s*limit\s*=\s*)\d+/gm, (_, head: string) => {
    lifted++;
    return `${head}${LIFTED_LIMIT}`;
  });
  // A binding written another way would keep its limit and refuse calls mid-run.
  if (lifted !== sections) throw new Error(`lifted ${lifted} of ${sections} rate limits in wrangler.toml`);
  return out;
}

/** A running `wrangler dev`. */
export interface DevServer {
  base: string;
  port: number;
  /** Its output so far (for the error message when it fails). */
  output(): string;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/**
 * Copies what `wrangler dev` builds from (sources, config, migrations) into `dir`, with
 * `node_modules` linked: wrangler dev rebuilds and restarts the Worker whenever a watched source
 * changes, which would drop queued messages and skew timings while the project is being edited.
 * With `liftLimits`, the calls-per-minute rate limits of the copy are lifted, so that a run
 * measures the server rather than the limiter.
 */
export function workerSnapshot(root: string, dir: string, liftLimits = false): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of [
    "src",
    "migrations",
    "wrangler.toml",
    "tsconfig.json",
    "package.json",
    "worker-configuration.d.ts",
  ]) {
    if (existsSync(path.join(root, entry))) cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  if (liftLimits) {
    const config = path.join(dir, "wrangler.toml");
    writeFileSync(config, liftRateLimits(readFileSync(config, "utf8")));
  }
  return dir;
}

/**
 * Starts wrangler dev in `cwd` (a {@link workerSnapshot}) and waits until `/healthz` answers 200. The sealing
 * key is passed as a variable so integration secrets made for the benchmark open whatever
 * `.dev.vars` holds; `vars` are passed the same way (e.g. {@link LIFTED_QUOTAS}).
 */
export async function startServer(
  cwd: string,
  persistTo: string,
  encryptionKey: string,
  vars: Readonly<Record<string, string>> = {},
): Promise<DevServer> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const bin = path.join(
    path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
    "bin",
    "wrangler.js",
  );
  const child = spawn(
    process.execPath,
    [
      bin,
      "dev",
      "--port",
      String(port),
      "--persist-to",
      persistTo,
      "--var",
      "DEBUG_D1:1",
      "--var",
      `ENCRYPTION_KEY:${encryptionKey}`,
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      "--show-interactive-dev-session=false",
    ],
    {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", PORT: String(port) },
    },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    // Only the tail matters for a failure message.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const done = exited(child);
    process.kill(-child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    }, STOP_TIMEOUT_MS);
    await done;
    clearTimeout(timer);
  };
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with status ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200) {
        return { base, port, output: () => output, stop };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${base}/healthz within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
}
