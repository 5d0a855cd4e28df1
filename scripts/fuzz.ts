/**
 * `npm run fuzz`: the long property-based fuzz of every tool, the same test CI runs at 200 calls
 * per tool (test/platform/fuzz.test.ts), with more calls and a chosen seed.
 *
 *   npm run fuzz [-- <runs per tool, default 5000>] [--seed <n>] [--tool <name pattern>]
 *
 * Prints vitest's output as it runs, then the totals: tools fuzzed, inputs tried, failures and
 * the time taken. Exits non-zero when any tool failed; the failure names the seed to replay with.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";

const root = path.resolve(import.meta.dirname, "..");

function whole(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, not ${value}`);
  return n;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: "string" }, tool: { type: "string" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log("npm run fuzz [-- <runs per tool, default 5000>] [--seed <n>] [--tool <name pattern>]");
  process.exit(0);
}
const runs = whole(positionals[0], "runs", 5000);
const seed = values.seed === undefined ? undefined : String(whole(values.seed, "--seed", 1));

const args = ["vitest", "run", "test/platform/fuzz.test.ts", ...(values.tool ? ["-t", values.tool] : [])];
const started = performance.now();
const child = spawn("npx", args, {
  cwd: root,
  env: { ...process.env, FUZZ_RUNS: String(runs), ...(seed ? { FUZZ_SEED: seed } : {}) },
  stdio: ["ignore", "pipe", "inherit"],
});

let totals: { tools: number; inputs: number; failures: number; runs: number; seed: number } | null = null;
let pending = "";
child.stdout.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  pending += chunk.toString("utf8");
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const match = /FUZZ_TOTALS (\{.*\})/.exec(line);
    if (match?.[1]) totals = JSON.parse(match[1]);
  }
});

child.on("close", (code) => {
  const seconds = Math.round((performance.now() - started) / 1000);
  if (totals) {
    console.log(
      `\nfuzz: ${totals.inputs.toLocaleString("en-US")} inputs over ${totals.tools} tools (${totals.runs} per tool, seed ${totals.seed}), ${totals.failures} failures, ${seconds} s`,
    );
  } else {
    console.log(`\nfuzz: no totals reported (vitest exited ${code}), ${seconds} s`);
  }
  process.exit(code ?? 1);
});
