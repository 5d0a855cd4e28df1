/**
 * `npm run bench`: the performance benchmark, in one run on this machine.
 *
 *   npx tsx scripts/bench.ts [--accounts 10000] [--seed 42] [--state .bench-state] [--keep]
 *     [--calls 200] [--tool-seconds 10] [--call-timeout 90] [--pings 200] [--pings-between 5]
 *     [--events 5000] [--batch 100] [--concurrency 4] [--ingest-timeout 180] [--recalc-timeout 480]
 *     [--only <tool>[,<tool action>…]] [--skip recalc,ingestion,tools]
 *   npx tsx scripts/bench.ts load [--clients 50] [--calls 200] [--writes 10] [--repeats 25]
 *     [--webhook-rate 2] [--webhook-batch 10] [--drain-timeout 120] [--call-timeout 90]
 *     [--accounts 300] [--seed 42] [--state .bench-state-load] [--keep] [--with-limits]
 *
 * 1. Generates the demo workspace (`big`) into fresh local D1 in the state folder: migrations
 *    through wrangler, rows straight into the SQLite file; measures the two floors there while
 *    wrangler is stopped (raw SQLite aggregates for recalculation, raw batched inserts for
 *    ingestion).
 * 2. Starts `wrangler dev --var DEBUG_D1:1` on a free port and measures, through the real paths,
 *    the nightly recalculation (cron → queue), Segment ingestion (signed webhook batches until
 *    processed) and every read tool's latency against MCP `ping`, with each call's D1 rows read.
 * 3. Prints one table and writes `bench/results/<date>.json`.
 *
 * `load` instead runs the load script on the demo workspace (`demo`, 300 accounts by default):
 * `--clients` MCP clients, each with its own session, make `--calls` calls each, drawn from the
 * registry's sample calls (`--writes` percent of them writes with idempotency keys, `--repeats`
 * percent of those repeated with the same key), while signed Segment deliveries of
 * `--webhook-batch` events are posted `--webhook-rate` a second; then it waits up to
 * `--drain-timeout` seconds for their events to be processed. It prints the calls, errors by kind,
 * latency overall and for the slowest tools, and the deliveries, and exits non-zero on any error.
 * Each client has its own API key.
 *
 * Both modes lift the server's rate limits (calls per minute per credential and per workspace)
 * and quotas (writes per hour, sends per day), so that they measure the server, not the limiter;
 * `load --with-limits` keeps them, and then counts the calls they refuse apart from the errors.
 *
 * The state folder is deleted at the end unless `--keep`; a kept folder with the same workspace,
 * accounts and seed is reused by the next run instead of generating again.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { clock } from "../src/platform/lib/clock";
import { REGISTRY } from "../src/toolsets";
import { createAccess, createClientKeys } from "./bench/access";
import { benchEvents, ingest, ingestionFloor } from "./bench/ingestion";
import { connectBench, judgeLatency, pingFloor, pingSamples, timeTool, toolCases } from "./bench/latency";
import { type LoadResult, loadPassed, loadReport, runLoad } from "./bench/load";
import { recalcFloor, recalcThroughCron } from "./bench/recalc";
import { type BenchResults, machine, table, versions, writeResults } from "./bench/report";
import { type DevServer, LIFTED_QUOTAS, startServer, workerSnapshot } from "./bench/server";
import { TARGETS } from "./bench/stats";
import { d1File, loadWorkspace, sampleFixtures, sampleIdSets } from "./bench/workspace";
import { DEMO_WORKSPACE } from "./seed/demo";

/** The generated workspace a mode runs on: the benchmark's large one, or the demo's for the load. */
interface BenchWorkspace {
  slug: string;
  id: string;
}

const BIG: BenchWorkspace = { slug: "big", id: "ws_big" };
const DEMO: BenchWorkspace = { slug: DEMO_WORKSPACE.slug, id: `ws_${DEMO_WORKSPACE.slug}` };
const root = path.resolve(import.meta.dirname, "..");

function log(line: string): void {
  console.error(`[bench ${clock.now().toISOString().slice(11, 19)}] ${line}`);
}

function whole(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
  return n;
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

const STEPS = ["recalc", "ingestion", "tools"] as const;
type Step = (typeof STEPS)[number];

function steps(value: string | undefined): Set<Step> {
  const named = list(value);
  const unknown = named.filter((step) => !(STEPS as readonly string[]).includes(step));
  if (unknown.length > 0) throw new Error(`--skip takes ${STEPS.join(", ")}; not ${unknown.join(", ")}`);
  return new Set(named as Step[]);
}

const MODES = ["all", "load"] as const;

function mode(positionals: readonly string[]): (typeof MODES)[number] {
  if (positionals.length === 0) return "all";
  const [named, ...rest] = positionals;
  if (rest.length > 0 || named !== "load") throw new Error(`the only mode is load; not ${positionals.join(" ")}`);
  return named;
}

function percentShare(value: string | undefined, name: string, fallback: number): number {
  const n = whole(value, name, fallback, 0);
  if (n > 100) throw new Error(`--${name} is a percentage, 0–100`);
  return n / 100;
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      accounts: { type: "string" },
      seed: { type: "string" },
      state: { type: "string" },
      keep: { type: "boolean" },
      calls: { type: "string" },
      "tool-seconds": { type: "string" },
      "call-timeout": { type: "string" },
      pings: { type: "string" },
      "pings-between": { type: "string" },
      events: { type: "string" },
      batch: { type: "string" },
      concurrency: { type: "string" },
      "ingest-timeout": { type: "string" },
      "recalc-timeout": { type: "string" },
      only: { type: "string" },
      skip: { type: "string" },
      clients: { type: "string" },
      writes: { type: "string" },
      repeats: { type: "string" },
      "webhook-rate": { type: "string" },
      "webhook-batch": { type: "string" },
      "drain-timeout": { type: "string" },
      "with-limits": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const chosen = mode(positionals);
  const load = chosen === "load";
  return {
    mode: chosen,
    help: values.help ?? false,
    accounts: whole(values.accounts, "accounts", load ? DEMO_WORKSPACE.accounts : 10_000),
    seed: whole(values.seed, "seed", load ? DEMO_WORKSPACE.seed : 42, 0),
    state: path.resolve(root, values.state ?? (load ? ".bench-state-load" : ".bench-state")),
    keep: values.keep ?? false,
    calls: whole(values.calls, "calls", 200),
    toolSeconds: whole(values["tool-seconds"], "tool-seconds", 10),
    callTimeoutSeconds: whole(values["call-timeout"], "call-timeout", 90),
    pings: whole(values.pings, "pings", 200),
    pingsBetween: whole(values["pings-between"], "pings-between", 5, 0),
    events: whole(values.events, "events", 5000),
    batch: whole(values.batch, "batch", 100),
    concurrency: whole(values.concurrency, "concurrency", 4),
    ingestTimeoutSeconds: whole(values["ingest-timeout"], "ingest-timeout", 180),
    recalcTimeoutSeconds: whole(values["recalc-timeout"], "recalc-timeout", 480),
    only: list(values.only),
    skip: steps(values.skip),
    clients: whole(values.clients, "clients", 50),
    writeShare: percentShare(values.writes, "writes", 10),
    repeatShare: percentShare(values.repeats, "repeats", 25),
    webhookRate: whole(values["webhook-rate"], "webhook-rate", 2, 0),
    webhookBatch: whole(values["webhook-batch"], "webhook-batch", 10),
    drainTimeoutSeconds: whole(values["drain-timeout"], "drain-timeout", 120, 0),
    withLimits: values["with-limits"] ?? false,
  };
}

type Options = ReturnType<typeof options>;

/** What a kept state folder holds, so a later run can reuse it. */
interface StateMark {
  slug: string;
  accounts: number;
  seed: number;
  rows: Record<string, number>;
}

/** Loads the workspace into a fresh state folder, or reuses a kept one made with the same options. */
function prepareState(
  opts: Options,
  workspace: BenchWorkspace,
): {
  rows: Record<string, number>;
  load: number;
  migrations: number;
  reused: boolean;
} {
  const markFile = path.join(opts.state, "bench-workspace.json");
  if (opts.keep && existsSync(markFile)) {
    const mark = JSON.parse(readFileSync(markFile, "utf8")) as StateMark;
    if (mark.slug === workspace.slug && mark.accounts === opts.accounts && mark.seed === opts.seed) {
      log(`reusing the workspace kept in ${opts.state}`);
      return { rows: mark.rows, load: 0, migrations: 0, reused: true };
    }
  }
  rmSync(opts.state, { recursive: true, force: true });
  log(`generating ${opts.accounts.toLocaleString("en-US")} accounts into ${opts.state}…`);
  const report = loadWorkspace(
    opts.state,
    {
      seed: opts.seed,
      accounts: opts.accounts,
      anchorDay: clock.now().toISOString().slice(0, 10),
      workspaceId: workspace.id,
      slug: workspace.slug,
      passwordHash: null,
    },
    log,
  );
  const rows = report.counts as Record<string, number>;
  writeFileSync(
    markFile,
    JSON.stringify({ slug: workspace.slug, accounts: opts.accounts, seed: opts.seed, rows } satisfies StateMark),
  );
  log(
    `loaded in ${report.seconds.load.toFixed(0)} s (migrations ${report.seconds.migrations.toFixed(0)} s): usage_daily ${rows.usage_daily?.toLocaleString("en-US")}, tickets ${rows.tickets?.toLocaleString("en-US")}, survey_responses ${rows.survey_responses?.toLocaleString("en-US")}`,
  );
  return { rows, load: report.seconds.load, migrations: report.seconds.migrations, reused: false };
}

/**
 * `wrangler dev` over the state folder, built from a snapshot of the sources, with the rate limits
 * and quotas lifted unless `withLimits`; `stop` (also run on SIGINT and SIGTERM) stops it and
 * removes the snapshot.
 */
function benchServer(
  state: string,
  encryptionKey: string,
  withLimits = false,
): { start(): Promise<DevServer>; stop(): Promise<void> } {
  let server: DevServer | null = null;
  // Outside the project, so linters and editors never see the copied sources.
  const snapshot = mkdtempSync(path.join(tmpdir(), "cs-mcp-bench-worker-"));
  const stop = async () => {
    await server?.stop();
    server = null;
    rmSync(snapshot, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  return {
    async start() {
      log("starting wrangler dev on a snapshot of the sources…");
      server = await startServer(
        workerSnapshot(root, snapshot, !withLimits),
        state,
        encryptionKey,
        withLimits ? {} : LIFTED_QUOTAS,
      );
      log(`wrangler dev on ${server.base}`);
      return server;
    },
    stop,
  };
}

/** `bench load`: the clients and the webhook soak on the demo workspace; exits non-zero on any error. */
async function loadMode(opts: Options): Promise<void> {
  prepareState(opts, DEMO);
  const file = d1File(opts.state);
  const fixtures = sampleFixtures(file, DEMO.id, 1000);
  const access = await createAccess(file, opts.state, DEMO.slug, DEMO.id);
  const apiKeys = await createClientKeys(file, DEMO.slug, opts.clients);
  const handle = benchServer(opts.state, access.encryptionKey, opts.withLimits);
  let result: LoadResult;
  try {
    const server = await handle.start();
    const target = {
      base: server.base,
      apiKeys,
      file,
      integrationId: access.integrationId,
      segmentSecret: access.segmentSecret,
      fixtures,
      idSets: sampleIdSets(file, fixtures),
      serverOutput: server.output,
    };
    result = await runLoad(
      target,
      REGISTRY.tools,
      {
        clients: opts.clients,
        calls: opts.calls,
        writeShare: opts.writeShare,
        repeatShare: opts.repeatShare,
        callTimeoutMs: opts.callTimeoutSeconds * 1000,
        webhookRate: opts.webhookRate,
        webhookBatch: opts.webhookBatch,
        drainSeconds: opts.drainTimeoutSeconds,
        seed: opts.seed,
        withLimits: opts.withLimits,
      },
      log,
    );
  } finally {
    await handle.stop();
    if (!opts.keep) rmSync(opts.state, { recursive: true, force: true });
  }
  const m = machine();
  console.log(
    `\ncs-mcp load, ${clock.now().toISOString().slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB; node ${process.version}; ${opts.accounts.toLocaleString("en-US")} accounts (workspace ${DEMO.slug}, seed ${opts.seed})\n`,
  );
  console.log(loadReport(result));
  if (!loadPassed(result, opts.withLimits)) {
    console.log("\nload: FAILED (errors above)");
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.help) {
    console.log(readFileSync(import.meta.filename, "utf8").split("*/")[0]);
    return;
  }
  if (opts.mode === "load") return loadMode(opts);
  const started = performance.now();
  const state = prepareState(opts, BIG);
  const file = d1File(opts.state);
  const today = clock.now().toISOString().slice(0, 10);
  const fixtures = sampleFixtures(file, BIG.id, 1000);
  const access = await createAccess(file, opts.state, BIG.slug, BIG.id);

  log("floors (wrangler stopped): raw SQLite aggregates, raw batched inserts…");
  const recalcFloorResult = recalcFloor(file, BIG.id, today);
  const events = benchEvents(fixtures, opts.events, clock.now().getTime().toString(36));
  const insertFloor = ingestionFloor(file, fixtures, events, opts.batch);
  log(
    `floors: aggregates over ${recalcFloorResult.accounts} accounts in ${recalcFloorResult.seconds.toFixed(2)} s; ${Math.round(insertFloor.events_per_second)} raw events/s`,
  );

  const handle = benchServer(opts.state, access.encryptionKey);
  const results: BenchResults = {
    date: clock.now().toISOString(),
    machine: machine(),
    versions: versions(),
    options: { ...opts, state: path.relative(root, opts.state) || "." },
    workspace: {
      accounts: opts.accounts,
      rows: state.rows,
      load_seconds: state.load,
      migrations_seconds: state.migrations,
      reused: state.reused,
    },
    ping: { calls: 0, p50_ms: null, p95_ms: null },
    tools: [],
    tools_not_measured: [],
    ingestion: null,
    ingestion_first: null,
    recalculation: null,
    targets: TARGETS,
    total_seconds: 0,
  };
  try {
    const { base } = await handle.start();
    if (!opts.skip.has("recalc")) {
      log("nightly recalculation through cron → queue…");
      results.recalculation = await recalcThroughCron(base, file, recalcFloorResult, opts.recalcTimeoutSeconds);
      log(
        `recalculation: ${results.recalculation.accounts_done} accounts, ${results.recalculation.chunks_done}/${results.recalculation.chunks_total} chunks in ${results.recalculation.seconds.toFixed(1)} s`,
      );
    }

    if (!opts.skip.has("ingestion")) {
      // Two passes over the same accounts: the first creates each account's Durable Object (its
      // SQLite and schema), the second is the steady state, with every object live. The second is
      // judged; it starts at once, inside the objects' 60-second flush delay.
      const passes = [
        { pass: "first", events },
        { pass: "again", events: benchEvents(fixtures, opts.events, `${clock.now().getTime().toString(36)}-again`) },
      ] as const;
      for (const { pass, events: passEvents } of passes) {
        log(
          `ingestion (${pass}): ${opts.events} Segment events in batches of ${opts.batch}, ${opts.concurrency} at a time…`,
        );
        const result = await ingest(base, file, access.integrationId, access.segmentSecret, passEvents, {
          batchSize: opts.batch,
          concurrency: opts.concurrency,
          timeoutSeconds: opts.ingestTimeoutSeconds,
          floor: insertFloor,
        });
        if (pass === "first") results.ingestion_first = result;
        else results.ingestion = result;
        log(
          `ingestion (${pass}): ${result.processed} processed (${result.failed} failed) in ${result.seconds.toFixed(1)} s`,
        );
      }
    }

    const client = await connectBench(base, access.apiKey);
    try {
      const { cases, skipped } = toolCases(REGISTRY.tools, opts.skip.has("tools") ? [] : opts.only);
      results.tools_not_measured = skipped;
      // Warm the connection and the isolate before the floor.
      await pingSamples(client, 20);
      const pings = await pingSamples(client, opts.pings);
      log(`ping: p50 ${pingFloor(pings).p50_ms?.toFixed(1)} ms; ${cases.length} read tools and actions…`);
      const callFixtures = { idSets: sampleIdSets(file, fixtures) };
      for (const c of opts.skip.has("tools") ? [] : cases) {
        // A client per tool: the SDK's transport keeps an abort listener per request it sent.
        const toolClient = await connectBench(base, access.apiKey);
        let row: Awaited<ReturnType<typeof timeTool>>;
        try {
          // A new connection's first requests are not part of the floor.
          await pingSamples(toolClient, 3);
          pings.push(...(await pingSamples(toolClient, opts.pingsBetween)));
          row = await timeTool(toolClient, c, callFixtures, {
            calls: opts.calls,
            seconds: opts.toolSeconds,
            callTimeoutMs: opts.callTimeoutSeconds * 1000,
          });
        } finally {
          await toolClient.close();
        }
        results.tools.push(row);
        log(
          `${c.tool}${c.action ? ` ${c.action}` : ""}: n ${row.calls}, p50 ${row.p50_ms?.toFixed(1)} ms, rows read max ${row.rows_read_max ?? "—"}${row.first_error ? `; error: ${row.first_error}` : ""}`,
        );
      }
      results.ping = pingFloor(pings);
      judgeLatency(results.tools, results.ping);
    } finally {
      await client.close();
    }
  } finally {
    await handle.stop();
    if (!opts.keep) rmSync(opts.state, { recursive: true, force: true });
  }
  results.total_seconds = (performance.now() - started) / 1000;
  const printed = table(results, opts.calls);
  console.log(
    `\ncs-mcp benchmark, ${results.date.slice(0, 10)}: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memory_gb} GB; node ${results.versions.node}, wrangler ${results.versions.wrangler}, workerd ${results.versions.workerd}; ${opts.accounts.toLocaleString("en-US")} accounts\n`,
  );
  console.log(printed);
  if (results.tools_not_measured.length > 0) console.log(`\nNot measured: ${results.tools_not_measured.join(", ")}`);
  if (opts.only.length > 0 || opts.skip.size > 0) {
    // A partial run is for looking at a few figures; only whole runs are kept as results.
    console.log(`\npartial run (--only/--skip): no results file written; total ${Math.round(results.total_seconds)} s`);
    return;
  }
  const written = writeResults(root, results);
  console.log(`\n${path.relative(root, written)} written; total ${Math.round(results.total_seconds)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
