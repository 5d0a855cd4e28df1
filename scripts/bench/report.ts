/**
 * The benchmark's output: one markdown table on stdout, and every figure with the machine and
 * versions in `bench/results/<date>.json`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import type { IngestionResult } from "./ingestion";
import type { LatencyRow, PingFloor } from "./latency";
import type { RecalcResult } from "./recalc";
import { atLeast, atMost, TARGETS, type Verdict } from "./stats";

/** Everything one run measured. */
export interface BenchResults {
  date: string;
  machine: { cpu: string; cores: number; memory_gb: number; platform: string };
  versions: { node: string; wrangler: string; workerd: string; sqlite_better_sqlite3: string };
  options: Record<string, unknown>;
  workspace: {
    accounts: number;
    rows: Record<string, number>;
    load_seconds: number;
    migrations_seconds: number;
    reused: boolean;
  };
  ping: PingFloor;
  tools: LatencyRow[];
  tools_not_measured: string[];
  /** Ingestion with every account's Durable Object live (judged against the target). */
  ingestion: IngestionResult | null;
  /** The same number of events just before, each account's first: its Durable Object is created. */
  ingestion_first: IngestionResult | null;
  recalculation: RecalcResult | null;
  targets: typeof TARGETS;
  total_seconds: number;
}

/** CPU model, cores and memory of this machine. */
export function machine(): BenchResults["machine"] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Versions of the runtime pieces the figures depend on. */
export function versions(): BenchResults["versions"] {
  const require = createRequire(import.meta.url);
  const packageVersion = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  const wranglerPackage = require.resolve("wrangler/package.json");
  const workerdPackage = createRequire(wranglerPackage).resolve("workerd/package.json");
  const memory = new Database(":memory:");
  const sqlite = (memory.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  memory.close();
  return {
    node: process.version,
    wrangler: packageVersion(wranglerPackage),
    workerd: packageVersion(workerdPackage),
    sqlite_better_sqlite3: sqlite,
  };
}

/** Milliseconds as printed: one decimal below 10, else whole; a dash for none. */
export const ms = (value: number | null) =>
  value === null ? "—" : value < 10 ? value.toFixed(1) : Math.round(value).toString();
const times = (value: number | null) =>
  value === null ? "—" : `${value < 10 ? value.toFixed(1) : Math.round(value)}×`;
/** A whole count with thousands separators; a dash for none. */
export const count = (value: number | null) => (value === null ? "—" : Math.round(value).toLocaleString("en-US"));
const percent = (share: number | null) =>
  share === null ? "—" : `${share < 0.1 ? (share * 100).toFixed(1) : Math.round(share * 100)} %`;
const mark = (verdict: Verdict) => (verdict === "miss" ? "**miss**" : verdict);

/** The run as one markdown table: the ping floor, every tool, ingestion and recalculation. */
export function table(results: BenchResults, minCalls: number): string {
  const header =
    "| measure | n | p50 | p95 | floor p50 / p95 | ratio p50 / p95 | rows read p50 / max | rows returned | time | rows read |";
  const lines = [header, "|---|---|---|---|---|---|---|---|---|---|"];
  const { ping } = results;
  lines.push(
    `| MCP ping (transport floor), ms | ${ping.calls} | ${ms(ping.p50_ms)} | ${ms(ping.p95_ms)} | — | — | — | — | — | — |`,
  );
  for (const row of results.tools) {
    const name = row.action ? `${row.tool} ${row.action}` : row.tool;
    const n = `${row.calls}${row.calls < minCalls ? ` (<${minCalls})` : ""}${row.errors > 0 ? `, ${row.errors} err` : ""}`;
    lines.push(
      `| ${name}, ms | ${n} | ${ms(row.p50_ms)} | ${ms(row.p95_ms)} | ${ms(ping.p50_ms)} / ${ms(ping.p95_ms)} | ${times(row.p50_ratio)} / ${times(row.p95_ratio)} | ${count(row.rows_read_p50)} / ${count(row.rows_read_max)} | ${count(row.rows_returned_p50)} | ${mark(row.latency)} | ${mark(row.rows_read)} |`,
    );
  }
  const first = results.ingestion_first;
  if (first) {
    lines.push(
      `| ingestion, first events of ${count(first.accounts)} accounts (objects created), events/s | ${count(first.processed)} | ${count(first.events_per_second)} | — | ${count(first.floor.events_per_second)} (raw insert) | ${percent(first.share_of_floor)} of floor | — | — | — | — |`,
    );
  }
  const ingestion = results.ingestion;
  if (ingestion) {
    const share = ingestion.share_of_floor;
    lines.push(
      `| ingestion, same accounts again (objects live), events/s | ${count(ingestion.processed)} | ${count(ingestion.events_per_second)} | — | ${count(ingestion.floor.events_per_second)} (raw insert) | ${percent(share)} of floor | — | — | ${mark(ingestion.timed_out ? "miss" : atLeast(share, TARGETS.ingestionShare))} | — |`,
    );
  }
  const recalc = results.recalculation;
  if (recalc) {
    lines.push(
      `| nightly recalculation, s (cron → queue) | ${count(recalc.accounts_done)} accounts | ${recalc.seconds.toFixed(1)} | — | ${recalc.floor.seconds.toFixed(2)} (raw SQLite pass) | ${times(recalc.ratio)} | — | — | ${mark(recalc.timed_out ? "miss" : atMost(recalc.ratio, TARGETS.recalcRatio))} | — |`,
    );
  }
  return lines.join("\n");
}

/** Writes the results as `bench/results/<date>.json` (UTC date and time, so runs of a day do not collide). */
export function writeResults(root: string, results: BenchResults): string {
  const dir = path.join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.date.replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
