/**
 * Load: concurrent MCP clients making a mix of the registry's sample calls while a steady soak of
 * signed Segment deliveries reaches the webhook receiver of the same server. Each client has its
 * own MCP session (initialize over Streamable HTTP) and makes its calls one after another. A call
 * is a read (a tool or read action drawn uniformly, then one of its sample calls on one of the
 * sampled id sets) or, at the write share, a write sample call with a fresh idempotency key; after
 * a write, the next call sometimes repeats it with the same key and arguments, and its answer must
 * be the first one again. Deliveries are posted at a fixed rate whatever the answers take (an
 * open loop), and at the end the receipts are counted until every accepted event is processed.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { clock } from "../../src/platform/lib/clock";
import { type AnyTool, callWrites } from "../../src/platform/mcp/define-tool";
import { type DemoIds, exampleArgs, type ToolExample } from "../../src/platform/mcp/examples";
import { RETRY_AFTER_META_KEY } from "../../src/platform/mcp/limits";
import { Rng } from "../seed/random";
import { receiptCounter, trackEvent } from "./ingestion";
import { connectBench, PROBE_IDS, type ToolCase, toolCases } from "./latency";
import { count, ms } from "./report";
import { percentile, segmentSignature } from "./stats";
import type { Fixtures } from "./workspace";

type Args = Record<string, unknown>;

/** How hard the load pushes. */
export interface LoadOptions {
  clients: number;
  /** Calls per client, repeats included. */
  calls: number;
  /** Share of calls (0–1) that are write sample calls. */
  writeShare: number;
  /** Share of writes (0–1) that the next call repeats with the same idempotency key. */
  repeatShare: number;
  callTimeoutMs: number;
  /** Webhook deliveries per second (0: no soak) and events in each. */
  webhookRate: number;
  webhookBatch: number;
  /** How long to wait, after the last delivery was answered, for its events to be processed. */
  drainSeconds: number;
  /** Seeds the draws, so the same options make the same calls. */
  seed: number;
  /** Whether the server runs with its rate limits and quotas: their refusals are then expected. */
  withLimits: boolean;
}

/** The running server and what the calls and deliveries need. */
export interface LoadTarget {
  base: string;
  /** Client `i` uses key `i` modulo their number. */
  apiKeys: readonly string[];
  /** The live local D1 file, read for the receipts' status. */
  file: string;
  integrationId: string;
  segmentSecret: string;
  fixtures: Fixtures;
  idSets: readonly DemoIds[];
  /** The server's recent output, where an internal error's request id is logged. */
  serverOutput(): string;
}

/** Latency of a set of calls, client side. */
export interface LatencyStats {
  calls: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/** One kind of error: how many, and the first seen (the call and the answer). */
export interface ErrorKind {
  kind: string;
  count: number;
  first: string;
}

/** What the webhook soak sent and what became of it. */
export interface SoakResult {
  rate: number;
  batch: number;
  seconds: number;
  deliveries: number;
  /** Deliveries answered 200. */
  accepted: number;
  /** Deliveries answered otherwise, by status, with the first answer. */
  refused: ErrorKind[];
  /** Deliveries that got no answer (network error or timeout). */
  unanswered: ErrorKind[];
  answer: LatencyStats;
  events_sent: number;
  events_accepted: number;
  duplicates: number;
  /** Receipts of the accepted events by the end. */
  processed: number;
  failed: number;
  pending: number;
  /** From the last answer until every accepted event was processed or failed (or the drain timeout). */
  drain_seconds: number;
  drain_timed_out: boolean;
}

/** Everything one load run measured. */
export interface LoadResult {
  clients: number;
  calls_per_client: number;
  seconds: number;
  calls: number;
  writes: number;
  repeats: number;
  errors: ErrorKind[];
  /** Request ids of internal errors with the server's log line for each, when still in its output. */
  internal_logs: string[];
  latency: LatencyStats;
  /** Per tool (and action; repeats apart), slowest p95 first. */
  tools: (LatencyStats & { tool: string })[];
  webhooks: SoakResult | null;
}

/** One call to make: a label for the figures, the tool and its arguments, and for a repeat the first answer. */
interface PlannedCall {
  label: string;
  tool: string;
  args: Args;
  write: boolean;
  expect?: unknown;
}

/** A write sample call of a tool. */
interface WriteCall {
  label: string;
  tool: string;
  example: ToolExample;
}

/** The calls a client draws from: every read tool and action, and every write sample call. */
interface CallMix {
  reads: ToolCase[];
  writes: WriteCall[];
}

/** The registry's sample calls as a mix: the latency cases for reads, and each write sample call. */
function callMix(tools: readonly AnyTool[]): CallMix {
  const writes: WriteCall[] = [];
  for (const tool of tools) {
    for (const example of tool.examples) {
      const probe = example.args(PROBE_IDS);
      if (!callWrites(tool, probe)) continue;
      const label = typeof probe.action === "string" ? `${tool.name} ${probe.action}` : tool.name;
      writes.push({ label, tool: tool.name, example });
    }
  }
  return { reads: toolCases(tools).cases, writes };
}

/** Draws one call; a sample call naming a record the workspace lacks is drawn again. */
function drawCall(rng: Rng, mix: CallMix, idSets: readonly DemoIds[], key: string, writeShare: number): PlannedCall {
  for (;;) {
    if (mix.writes.length > 0 && rng.chance(writeShare)) {
      const write = rng.pick(mix.writes);
      const args = exampleArgs(write.example, rng.pick(idSets));
      if (args) return { label: write.label, tool: write.tool, args: { ...args, idempotency_key: key }, write: true };
      continue;
    }
    const read = rng.pick(mix.reads);
    // Any index: the case maps it onto one of its sample calls and one id set.
    const args = read.args(rng.int(0, 1_000_000), { idSets });
    if (args)
      return { label: read.action ? `${read.tool} ${read.action}` : read.tool, tool: read.tool, args, write: false };
  }
}

/** The outcome of one call: its time, and the kind of error with what showed it (null kind: it worked). */
interface Outcome {
  ms: number;
  kind: string | null;
  detail: string;
  structured: unknown;
}

/** The kind of a call a rate limit or quota refused (it carries a retry hint). */
const RATE_LIMITED = "rate limited";

function errorKind(error: unknown): string {
  if (error instanceof StreamableHTTPError) return `HTTP ${error.code ?? "status unknown"}`;
  if (error instanceof McpError) return error.code === ErrorCode.RequestTimeout ? "timeout" : `MCP error ${error.code}`;
  // AbortSignal.timeout's reason.
  if (error instanceof Error && error.name === "TimeoutError") return "timeout";
  return "transport";
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}

async function callOnce(client: Client, call: PlannedCall, timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const result = await client.callTool({ name: call.tool, arguments: call.args }, undefined, { timeout: timeoutMs });
    const elapsed = performance.now() - t0;
    if (result.isError) {
      const text = (result.content as { type: string; text?: string }[])[0]?.text ?? "(no text)";
      const limited = (result._meta as Record<string, unknown> | undefined)?.[RETRY_AFTER_META_KEY] !== undefined;
      const internal = text.startsWith(`Internal error in ${call.tool}`);
      const kind = limited ? RATE_LIMITED : internal ? "isError internal" : "isError refused";
      return { ms: elapsed, kind, detail: text, structured: undefined };
    }
    if (call.expect !== undefined && JSON.stringify(result.structuredContent) !== JSON.stringify(call.expect)) {
      const detail = `repeat answered ${JSON.stringify(result.structuredContent).slice(0, 300)}, first ${JSON.stringify(call.expect).slice(0, 300)}`;
      return { ms: elapsed, kind: "repeat differs", detail, structured: undefined };
    }
    return { ms: elapsed, kind: null, detail: "", structured: result.structuredContent };
  } catch (error) {
    return { ms: performance.now() - t0, kind: errorKind(error), detail: describe(error), structured: undefined };
  }
}

/** Errors by kind, first occurrence kept. */
class ErrorTally {
  private readonly kinds = new Map<string, ErrorKind>();

  add(kind: string, first: string): void {
    const seen = this.kinds.get(kind);
    if (seen) seen.count++;
    else this.kinds.set(kind, { kind, count: 1, first });
  }

  list(): ErrorKind[] {
    return [...this.kinds.values()].sort((a, b) => b.count - a.count);
  }
}

/** What the clients share while they run. */
interface CallTally {
  byLabel: Map<string, number[]>;
  calls: number;
  writes: number;
  repeats: number;
  errors: ErrorTally;
  internalLogs: string[];
}

const REQUEST_ID = /request id ([^)\s]+)/;
/** Internal errors whose server log line is looked up (the output kept is only its tail). */
const LOGS_LOOKED_UP = 5;

function record(tally: CallTally, target: LoadTarget, call: PlannedCall, outcome: Outcome): void {
  tally.calls++;
  if (call.expect !== undefined) tally.repeats++;
  else if (call.write) tally.writes++;
  if (outcome.kind === null) {
    const samples = tally.byLabel.get(call.label) ?? [];
    samples.push(outcome.ms);
    tally.byLabel.set(call.label, samples);
    return;
  }
  tally.errors.add(outcome.kind, `${call.tool} ${JSON.stringify(call.args)} → ${outcome.detail.slice(0, 500)}`);
  const requestId = outcome.kind === "isError internal" ? REQUEST_ID.exec(outcome.detail)?.[1] : undefined;
  if (requestId && tally.internalLogs.length < LOGS_LOOKED_UP) {
    const line = target
      .serverOutput()
      .split("\n")
      .find((l) => l.includes(requestId));
    tally.internalLogs.push(`${requestId}: ${line?.slice(0, 2000) ?? "(no longer in the server's output)"}`);
  }
}

async function runClient(index: number, target: LoadTarget, mix: CallMix, options: LoadOptions, tally: CallTally) {
  const rng = new Rng(`${options.seed}:load:client:${index}`);
  const tag = `load-${clock.now().getTime().toString(36)}-${index}`;
  let client: Client;
  try {
    client = await connectBench(target.base, target.apiKeys[index % target.apiKeys.length] as string, false);
  } catch (error) {
    tally.errors.add(`connect: ${errorKind(error)}`, `client ${index}: ${describe(error)}`);
    return;
  }
  try {
    let repeatable: PlannedCall | null = null;
    for (let i = 0; i < options.calls; i++) {
      const call: PlannedCall =
        repeatable && rng.chance(options.repeatShare)
          ? repeatable
          : drawCall(rng, mix, target.idSets, `${tag}-${i}`, options.writeShare);
      const outcome = await callOnce(client, call, options.callTimeoutMs);
      record(tally, target, call, outcome);
      repeatable =
        call.write && call.expect === undefined && outcome.kind === null
          ? { ...call, label: `${call.label} (repeat)`, expect: outcome.structured ?? null }
          : null;
    }
  } finally {
    await client.close();
  }
}

function stats(samples: readonly number[]): LatencyStats {
  return {
    calls: samples.length,
    p50_ms: percentile(samples, 50),
    p95_ms: percentile(samples, 95),
    p99_ms: percentile(samples, 99),
    max_ms: samples.length > 0 ? Math.max(...samples) : null,
  };
}

/** A soak in progress: `finish` stops posting, waits for the answers, then for the events to be processed. */
interface Soak {
  finish(): Promise<SoakResult>;
}

/** Starts posting signed Segment deliveries of `webhookBatch` events, `webhookRate` a second. */
function startSoak(target: LoadTarget, options: LoadOptions): Soak {
  const url = `${target.base}/webhooks/segment/${target.integrationId}`;
  const tag = `soak-${clock.now().getTime().toString(36)}`;
  const counter = receiptCounter(target.file, target.integrationId);
  // Receipts of earlier runs on a kept workspace belong to the same integration.
  const before = counter.count();
  const refused = new ErrorTally();
  const unanswered = new ErrorTally();
  const answers: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const sent = { deliveries: 0, accepted: 0, events: 0, eventsAccepted: 0, duplicates: 0 };
  const deliver = async (k: number) => {
    const now = clock.now();
    const events = Array.from({ length: options.webhookBatch }, (_, j) =>
      trackEvent(target.fixtures, k * options.webhookBatch + j, tag, now),
    );
    const body = JSON.stringify(events);
    sent.deliveries++;
    sent.events += events.length;
    const t0 = performance.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Signature": segmentSignature(target.segmentSecret, body) },
        body,
        signal: AbortSignal.timeout(options.callTimeoutMs),
      });
      const answer = await response.text();
      answers.push(performance.now() - t0);
      if (!response.ok) {
        refused.add(`HTTP ${response.status}`, `delivery ${k}: ${answer.slice(0, 300)}`);
        return;
      }
      const { accepted, duplicates } = JSON.parse(answer) as { accepted: number; duplicates: number };
      sent.accepted++;
      sent.eventsAccepted += accepted;
      sent.duplicates += duplicates;
    } catch (error) {
      unanswered.add(errorKind(error), `delivery ${k}: ${describe(error)}`);
    }
  };
  const t0 = performance.now();
  const period = 1000 / options.webhookRate;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const delivery = deliver(next++).finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
    // On the schedule from the start, so a slow tick does not lower the rate.
    timer = setTimeout(tick, Math.max(0, t0 + next * period - performance.now()));
  };
  tick();
  return {
    async finish() {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      await Promise.all([...inFlight]);
      try {
        const drain = await drainReceipts(counter, before, sent.eventsAccepted, options.drainSeconds);
        return {
          rate: options.webhookRate,
          batch: options.webhookBatch,
          seconds,
          deliveries: sent.deliveries,
          accepted: sent.accepted,
          refused: refused.list(),
          unanswered: unanswered.list(),
          answer: stats(answers),
          events_sent: sent.events,
          events_accepted: sent.eventsAccepted,
          duplicates: sent.duplicates,
          ...drain,
        };
      } finally {
        counter.close();
      }
    },
  };
}

/** Polls the receipts until the accepted events are all processed or failed, or `seconds` pass. */
async function drainReceipts(
  counter: ReturnType<typeof receiptCounter>,
  before: { processed: number; failed: number },
  accepted: number,
  seconds: number,
): Promise<Pick<SoakResult, "processed" | "failed" | "pending" | "drain_seconds" | "drain_timed_out">> {
  const t0 = performance.now();
  for (;;) {
    const now = counter.count();
    const processed = now.processed - before.processed;
    const failed = now.failed - before.failed;
    const waited = (performance.now() - t0) / 1000;
    const done = processed + failed >= accepted;
    if (done || waited > seconds) {
      const pending = Math.max(0, accepted - processed - failed);
      return { processed, failed, pending, drain_seconds: waited, drain_timed_out: !done };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Runs the clients (and the soak alongside) to the end and gathers the figures. */
export async function runLoad(
  target: LoadTarget,
  tools: readonly AnyTool[],
  options: LoadOptions,
  log: (line: string) => void,
): Promise<LoadResult> {
  const mix = callMix(tools);
  const tally: CallTally = {
    byLabel: new Map(),
    calls: 0,
    writes: 0,
    repeats: 0,
    errors: new ErrorTally(),
    internalLogs: [],
  };
  log(
    `load: ${options.clients} clients × ${options.calls} calls over ${mix.reads.length} read tools and actions and ${mix.writes.length} write sample calls; webhooks ${options.webhookRate}/s × ${options.webhookBatch} events…`,
  );
  // The Worker's first request starts its isolate; that is not what the load measures.
  const warm = await connectBench(target.base, target.apiKeys[0] as string, false);
  await warm.ping();
  await warm.close();
  const soak = options.webhookRate > 0 ? startSoak(target, options) : null;
  const t0 = performance.now();
  const progress = setInterval(() => {
    const errors = tally.errors.list().reduce((sum, e) => sum + e.count, 0);
    log(`load: ${tally.calls.toLocaleString("en-US")} calls, ${errors} errors`);
  }, 15_000);
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, i) => runClient(i, target, mix, options, tally)));
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`load: calls done in ${seconds.toFixed(1)} s${soak ? "; waiting for the webhook events to be processed…" : ""}`);
  const webhooks = soak ? await soak.finish() : null;
  const perTool = [...tally.byLabel].map(([tool, samples]) => ({ tool, ...stats(samples) }));
  perTool.sort((a, b) => (b.p95_ms ?? 0) - (a.p95_ms ?? 0));
  return {
    clients: options.clients,
    calls_per_client: options.calls,
    seconds,
    calls: tally.calls,
    writes: tally.writes,
    repeats: tally.repeats,
    errors: tally.errors.list(),
    internal_logs: tally.internalLogs,
    latency: stats([...tally.byLabel.values()].flat()),
    tools: perTool,
    webhooks,
  };
}

/**
 * Whether the run met its bar: no failed call (a rate limit's refusal counts only when the limits
 * were lifted), and every delivery accepted and processed.
 */
export function loadPassed(result: LoadResult, withLimits: boolean): boolean {
  const soak = result.webhooks;
  const soakClean =
    soak === null ||
    (soak.refused.length === 0 && soak.unanswered.length === 0 && soak.failed === 0 && soak.pending === 0);
  const failed = result.errors.filter((e) => !(withLimits && e.kind === RATE_LIMITED));
  return failed.length === 0 && soakClean;
}

const errorCount = (kinds: readonly ErrorKind[]) => kinds.reduce((sum, e) => sum + e.count, 0);

function latencyLine(s: LatencyStats): string {
  return `p50 ${ms(s.p50_ms)}, p95 ${ms(s.p95_ms)}, p99 ${ms(s.p99_ms)}, max ${ms(s.max_ms)} ms`;
}

/** The run as printed: calls, errors by kind, latency overall and for the ten slowest tools, and the soak. */
export function loadReport(result: LoadResult, slowest = 10): string {
  const lines: string[] = [];
  const errors = errorCount(result.errors);
  const share = (n: number) => `${((100 * n) / Math.max(1, result.calls)).toFixed(1)} %`;
  lines.push(
    `calls: ${count(result.calls)} (${result.clients} clients × ${result.calls_per_client}; writes ${count(result.writes)} = ${share(result.writes)}, idempotent repeats ${count(result.repeats)}) in ${result.seconds.toFixed(1)} s, ${(result.calls / result.seconds).toFixed(1)} calls/s`,
    `errors: ${errors}${errors === 0 ? "" : ` (${result.errors.map((e) => `${e.kind}: ${e.count}`).join(", ")})`}`,
  );
  for (const e of result.errors) lines.push(`  first ${e.kind}: ${e.first}`);
  for (const log of result.internal_logs) lines.push(`  server log ${log}`);
  lines.push(`latency (${count(result.latency.calls)} calls that worked): ${latencyLine(result.latency)}`, "");
  lines.push(`slowest ${Math.min(slowest, result.tools.length)} of ${result.tools.length} tools and actions by p95:`);
  lines.push("| tool | n | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|");
  for (const t of result.tools.slice(0, slowest)) {
    lines.push(`| ${t.tool} | ${t.calls} | ${ms(t.p50_ms)} | ${ms(t.p95_ms)} | ${ms(t.p99_ms)} | ${ms(t.max_ms)} |`);
  }
  const soak = result.webhooks;
  lines.push("");
  if (soak === null) {
    lines.push("webhooks: no soak (--webhook-rate 0)");
    return lines.join("\n");
  }
  const refusedText = soak.refused.map((e) => `${e.kind}: ${e.count}`).join(", ") || "none";
  const unansweredText = soak.unanswered.map((e) => `${e.kind}: ${e.count}`).join(", ") || "none";
  lines.push(
    `webhooks: ${count(soak.deliveries)} signed Segment deliveries of ${soak.batch} events at ${soak.rate}/s over ${soak.seconds.toFixed(1)} s: ${count(soak.accepted)} accepted, ${errorCount(soak.refused)} refused (${refusedText}), ${errorCount(soak.unanswered)} unanswered (${unansweredText}); answered in ${latencyLine(soak.answer)}`,
    `webhook events: ${count(soak.events_sent)} sent, ${count(soak.events_accepted)} accepted (${count(soak.duplicates)} duplicates); by the end ${count(soak.processed)} processed, ${count(soak.failed)} failed, ${count(soak.pending)} still queued, ${soak.drain_seconds.toFixed(1)} s after the last answer${soak.drain_timed_out ? " (drain timeout)" : ""}`,
  );
  for (const e of [...soak.refused, ...soak.unanswered]) lines.push(`  first ${e.kind}: ${e.first}`);
  return lines.join("\n");
}
