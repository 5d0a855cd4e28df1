/**
 * Tool latency against the transport floor, and each call's D1 cost. Every read sample call of the
 * registry's tools is timed, per tool and action; each case gets up to `calls` sequential calls
 * within `seconds`, rotating through the sampled accounts. The floor is
 * the MCP `ping` request on the same connection: a run of pings first, then a few before each
 * tool, so the floor sees the same background load as the tools.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type AnyTool, callWrites } from "../../src/platform/mcp/define-tool";
import { type DemoIds, exampleArgs, type ToolExample } from "../../src/platform/mcp/examples";
import { latencyVerdict, percentile, ratio, rowsReadVerdict, rowsReturned, type Verdict } from "./stats";

/** Key of the D1 cost in a result's `_meta` (see `src/platform/mcp/server.ts`). */
const D1_META_KEY = "cs-mcp/d1";

type Args = Record<string, unknown>;

/** Ids the calls of a case rotate through: one set per sampled account, as a demo's sample calls name them. */
export type CallFixtures = { idSets: readonly DemoIds[] };

/** One tool (or tool action) to time: its read sample calls, the i-th call on the i-th id set. */
export interface ToolCase {
  tool: string;
  action: string | null;
  args: (i: number, f: CallFixtures) => Args | null;
}

/**
 * The cases: every read sample call of the registry's tools, grouped per tool and action (a case
 * rotates through its sample calls and the id sets), and the tools left out (those with no read
 * sample call). A non-empty `only` keeps the cases named there, by tool (`search`) or tool and
 * action (`track_renewals list`).
 */
export function toolCases(
  tools: readonly AnyTool[],
  only: readonly string[] = [],
): { cases: ToolCase[]; skipped: string[] } {
  const cases: ToolCase[] = [];
  const skipped: string[] = [];
  for (const tool of [...tools].sort((a, b) => a.name.localeCompare(b.name))) {
    const groups = new Map<string | null, ToolExample[]>();
    for (const example of tool.examples) {
      const probe = example.args(PROBE_IDS);
      if (callWrites(tool, probe)) continue;
      const key = typeof probe.action === "string" ? probe.action : null;
      groups.set(key, [...(groups.get(key) ?? []), example]);
    }
    if (groups.size === 0) skipped.push(tool.name);
    for (const [action, examples] of groups) {
      cases.push({
        tool: tool.name,
        action,
        args: (i, f) => {
          const example = examples[i % examples.length] as ToolExample;
          const ids = f.idSets[Math.floor(i / examples.length) % f.idSets.length] as DemoIds;
          return exampleArgs(example, ids);
        },
      });
    }
  }
  if (only.length === 0) return { cases, skipped };
  const wanted = (c: ToolCase) => only.includes(c.tool) || only.includes(`${c.tool} ${c.action}`);
  return { cases: cases.filter(wanted), skipped: [] };
}

/** Ids that only tell a sample call's action (and so whether it writes) before any workspace is read. */
export const PROBE_IDS: DemoIds = {
  accountId: "",
  contactId: "",
  contractId: "",
  segment: "",
  tier: "",
  ownerId: "",
  ticketId: "",
  feature: "",
  escalationId: "",
  interventionId: "",
  campaignId: "",
};

/** What one tool's calls measured. */
export interface LatencyRow {
  tool: string;
  action: string | null;
  calls: number;
  errors: number;
  first_error: string | null;
  /** Wall-clock milliseconds per call, client side. */
  p50_ms: number | null;
  p95_ms: number | null;
  p50_ratio: number | null;
  p95_ratio: number | null;
  latency: Verdict;
  /** D1 rows read per call (median and worst), rows written (worst), statements (median). */
  rows_read_p50: number | null;
  rows_read_max: number | null;
  rows_written_max: number | null;
  statements_p50: number | null;
  /** Rows returned (median), and by the call that read the most. */
  rows_returned_p50: number | null;
  rows_returned_at_max_read: number | null;
  /** Calls over the rows-read target. */
  rows_read_misses: number;
  rows_read: Verdict;
}

/** The transport floor. */
export interface PingFloor {
  calls: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/** Connects an MCP client with every toolset that asks, unless `debugD1` is false, for the D1 cost of each call. */
export async function connectBench(base: string, apiKey: string, debugD1 = true): Promise<Client> {
  const client = new Client({ name: "cs-mcp-bench", version: "1.0.0" });
  const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}` };
  if (debugD1) headers["X-Debug-D1"] = "1";
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp?toolsets=all`), { requestInit: { headers } }),
  );
  return client;
}

/** `ping` `calls` times, sequentially; the milliseconds of each. */
export async function pingSamples(client: Client, calls: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await client.ping();
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** The floor over all ping samples of the run. */
export function pingFloor(samples: readonly number[]): PingFloor {
  return { calls: samples.length, p50_ms: percentile(samples, 50), p95_ms: percentile(samples, 95) };
}

/** Sets each row's ratios and latency verdict against the run's ping floor. */
export function judgeLatency(rows: LatencyRow[], ping: PingFloor): void {
  for (const row of rows) {
    row.p50_ratio = ratio(row.p50_ms, ping.p50_ms);
    row.p95_ratio = ratio(row.p95_ms, ping.p95_ms);
    row.latency = latencyVerdict(row.p50_ratio, row.p95_ratio);
  }
}

interface D1Meter {
  statements: number;
  rows_read: number;
  rows_written: number;
}

/** Options of one tool's loop. */
export interface LoopOptions {
  calls: number;
  seconds: number;
  callTimeoutMs: number;
}

/** Times one case (ratios left for {@link judgeLatency}): sequential calls until `calls` are done or `seconds` have passed (at least one call). */
export async function timeTool(
  client: Client,
  c: ToolCase,
  fixtures: CallFixtures,
  options: LoopOptions,
): Promise<LatencyRow> {
  const ms: number[] = [];
  const read: number[] = [];
  const written: number[] = [];
  const statements: number[] = [];
  const returned: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let misses = 0;
  let worst = { read: -1, returned: 0 };
  const deadline = performance.now() + options.seconds * 1000;
  for (let i = 0; i < options.calls && (i === 0 || performance.now() < deadline); i++) {
    const args = c.args(i, fixtures);
    // A sample call naming a record this workspace lacks.
    if (args === null) continue;
    const t0 = performance.now();
    try {
      const result = await client.callTool({ name: c.tool, arguments: args }, undefined, {
        timeout: options.callTimeoutMs,
      });
      const elapsed = performance.now() - t0;
      if (result.isError) {
        errors++;
        const text = (result.content as { type: string; text?: string }[])[0]?.text ?? "error";
        firstError ??= `${JSON.stringify(args)}: ${text.slice(0, 200)}`;
        continue;
      }
      ms.push(elapsed);
      const meter = (result._meta as Record<string, unknown> | undefined)?.[D1_META_KEY] as D1Meter | undefined;
      const rows = rowsReturned(result.structuredContent);
      returned.push(rows);
      if (meter) {
        read.push(meter.rows_read);
        written.push(meter.rows_written);
        statements.push(meter.statements);
        if (rowsReadVerdict(meter.rows_read, rows) === "miss") misses++;
        if (meter.rows_read > worst.read) worst = { read: meter.rows_read, returned: rows };
      }
    } catch (error) {
      errors++;
      firstError ??= `${JSON.stringify(args)}: ${error instanceof Error ? error.message : String(error)}`;
      // A call that timed out may still be running on the server; stop timing this tool.
      if (performance.now() - t0 >= options.callTimeoutMs) break;
    }
  }
  const p50 = percentile(ms, 50);
  const p95 = percentile(ms, 95);
  return {
    tool: c.tool,
    action: c.action,
    calls: ms.length,
    errors,
    first_error: firstError,
    p50_ms: p50,
    p95_ms: p95,
    // Judged against the whole run's ping floor once every tool is done (judgeLatency).
    p50_ratio: null,
    p95_ratio: null,
    latency: "n/a",
    rows_read_p50: percentile(read, 50),
    rows_read_max: read.length > 0 ? Math.max(...read) : null,
    rows_written_max: written.length > 0 ? Math.max(...written) : null,
    statements_p50: percentile(statements, 50),
    rows_returned_p50: percentile(returned, 50),
    rows_returned_at_max_read: worst.read >= 0 ? worst.returned : null,
    rows_read_misses: misses,
    rows_read: read.length === 0 ? "n/a" : misses > 0 ? "miss" : "pass",
  };
}
