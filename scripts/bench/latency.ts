/**
 * Tool latency against the transport floor, and each call's D1 cost. Every read tool of the live
 * `tools/list` (readOnlyHint) is called, plus the read actions of action tools in
 * {@link READ_ACTIONS}; each gets up to `calls` sequential calls within `seconds`. The floor is
 * the MCP `ping` request on the same connection: a run of pings first, then a few before each
 * tool, so the floor sees the same background load as the tools.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { latencyVerdict, percentile, ratio, rowsReadVerdict, rowsReturned, type Verdict } from "./stats";
import type { Fixtures } from "./workspace";

/** Key of the D1 cost in a result's `_meta` (see `src/platform/mcp/server.ts`). */
const D1_META_KEY = "cs-mcp/d1";

type Args = Record<string, unknown>;
/** Arguments of the i-th call. */
type ArgsFor = (i: number, f: Fixtures & { docs: string[] }) => Args;

const pick = <T>(list: readonly T[], i: number): T => {
  if (list.length === 0) throw new Error("no fixture to call with");
  return list[i % list.length] as T;
};
const account = (i: number, f: Fixtures) => pick(f.accounts, i).id;
/** Rotates through argument sets, each with its own fixture index. */
const rotate =
  (...variants: ArgsFor[]): ArgsFor =>
  (i, f) =>
    (variants[i % variants.length] as ArgsFor)(Math.floor(i / variants.length), f);

/**
 * Realistic arguments of read tools that need (or are usually called with) some. A read tool not
 * named here is called with no arguments, or with a rotating `account_id` when it requires one.
 */
const READ_TOOL_ARGS: Record<string, ArgsFor> = {
  analyze_churn_postmortem: rotate(
    () => ({ window_days: 365 }),
    () => ({ window_days: 180 }),
  ),
  analyze_engagement_patterns: (i, f) => ({ account_id: account(i, f) }),
  fetch: (i, f) => ({ id: pick(f.docs, i) }),
  forecast_renewals: rotate(
    () => ({}),
    (i, f) => ({ segment: pick(f.segments, i) }),
  ),
  get_account_overview: (i, f) => ({ account_id: account(i, f) }),
  get_account_timeline: (i, f) => ({ account_id: account(i, f), limit: 25 }),
  identify_churn_risk: rotate(
    () => ({}),
    (i, f) => ({ segment: pick(f.segments, i) }),
    (i, f) => ({ account_id: account(i, f) }),
  ),
  list_accounts: rotate(
    () => ({ sort: "arr", order: "desc" }),
    (i, f) => ({ segment: pick(f.segments, i) }),
    () => ({ renewal_within_days: 90 }),
    () => ({ health_band: "red" }),
  ),
  list_outbox: rotate(
    () => ({}),
    (i, f) => ({ account_id: account(i, f) }),
  ),
  optimize_customer_lifetime_value: rotate(
    (i, f) => ({ account_id: account(i, f) }),
    (i, f) => ({ segment: pick(f.segments, i) }),
  ),
  search: (i) => ({ query: pick(["invoice", "dashboard", "export", "renewal", "login", "slow report"], i) }),
  track_adoption_milestones: rotate(
    (i, f) => ({ account_id: account(i, f) }),
    () => ({}),
  ),
  track_feature_adoption: rotate(
    (i, f) => ({ account_id: account(i, f) }),
    (i, f) => ({ segment: pick(f.segments, i) }),
  ),
  track_revenue_expansion: rotate(
    () => ({}),
    (i, f) => ({ segment: pick(f.segments, i) }),
  ),
  track_usage_engagement: rotate(
    (i, f) => ({ account_id: account(i, f) }),
    (i, f) => ({ segment: pick(f.segments, i) }),
  ),
};

/** Read actions of action tools (their `readActions`), with arguments. */
const READ_ACTIONS: Record<string, Record<string, ArgsFor>> = {
  automate_retention_campaigns: {
    list: () => ({}),
    get: (i, f) => ({ campaign_id: pick(f.campaigns, i) }),
    report: (i, f) => ({ campaign_id: pick(f.campaigns, i) }),
  },
  configure_workspace: { get: () => ({}), history: () => ({}) },
  execute_retention_campaign: {
    list: () => ({}),
    get: (i, f) => ({ intervention_id: pick(f.interventions, i) }),
    stats: () => ({}),
  },
  identify_crosssell_opportunities: { rules: () => ({}), list: () => ({}) },
  identify_expansion_opportunities: {
    account: (i, f) => ({ account_id: account(i, f) }),
    list: rotate(
      () => ({}),
      (i, f) => ({ segment: pick(f.segments, i) }),
    ),
    pipeline: () => ({}),
  },
  identify_upsell_opportunities: {
    list: rotate(
      () => ({}),
      (i, f) => ({ segment: pick(f.segments, i) }),
    ),
  },
  manage_dead_letters: { list: () => ({}) },
  manage_escalations: {
    list: () => ({}),
    get: (i, f) => ({ escalation_id: pick(f.escalations, i) }),
    stats: () => ({}),
  },
  manage_integrations: { list: () => ({}) },
  manage_lifecycle_stages: {
    list: () => ({}),
    evaluate: () => ({}),
    history: (i, f) => ({ account_id: account(i, f) }),
    stuck: () => ({}),
  },
  manage_tasks: {
    list: rotate(
      () => ({}),
      (i, f) => ({ account_id: account(i, f) }),
    ),
  },
  monitor_satisfaction: { scores: () => ({}), detractors: () => ({}) },
  negotiate_renewals: {
    prepare: (i, f) => ({ contract_id: pick(f.activeContracts, i) }),
    list: (i, f) => ({ account_id: account(i, f) }),
  },
  score_risk_factors: {
    library: () => ({}),
    account: (i, f) => ({ account_id: account(i, f) }),
    model: () => ({}),
  },
  segment_by_value_tier: { list: () => ({}), evaluate: () => ({}), check_sla: () => ({}) },
  segment_customers: { list: () => ({}), evaluate: () => ({}) },
  track_renewals: { list: () => ({}), schedule: () => ({}) },
};

/** One tool (or tool action) to time. */
export interface ToolCase {
  tool: string;
  action: string | null;
  args: ArgsFor;
}

/** A tool of `tools/list`, as far as the benchmark reads it. */
interface ListedTool {
  name: string;
  annotations?: { readOnlyHint?: boolean };
  inputSchema: { required?: string[]; properties?: Record<string, { enum?: unknown[] }> };
}

/**
 * The cases for the live tool list, and the tools left out (write tools without a listed read
 * action, and read tools whose required arguments the benchmark cannot fill). A non-empty
 * `only` keeps the cases named there, by tool (`search`) or tool and action (`track_renewals list`).
 */
export function toolCases(
  tools: readonly ListedTool[],
  only: readonly string[] = [],
): { cases: ToolCase[]; skipped: string[] } {
  const cases: ToolCase[] = [];
  const skipped: string[] = [];
  for (const tool of [...tools].sort((a, b) => a.name.localeCompare(b.name))) {
    const actions = READ_ACTIONS[tool.name];
    if (actions) {
      const offered = tool.inputSchema.properties?.action?.enum ?? [];
      for (const [action, args] of Object.entries(actions)) {
        if (offered.includes(action))
          cases.push({ tool: tool.name, action, args: (i, f) => ({ action, ...args(i, f) }) });
        else skipped.push(`${tool.name} ${action} (no longer offered)`);
      }
      continue;
    }
    if (!tool.annotations?.readOnlyHint) {
      skipped.push(tool.name);
      continue;
    }
    const listed = READ_TOOL_ARGS[tool.name];
    const required = tool.inputSchema.required ?? [];
    if (listed) cases.push({ tool: tool.name, action: null, args: listed });
    else if (required.every((name) => name === "account_id")) {
      cases.push({
        tool: tool.name,
        action: null,
        args: (i, f) => (required.length > 0 ? { account_id: account(i, f) } : {}),
      });
    } else skipped.push(`${tool.name} (needs ${required.join(", ")})`);
  }
  if (only.length === 0) return { cases, skipped };
  const wanted = (c: ToolCase) => only.includes(c.tool) || only.includes(`${c.tool} ${c.action}`);
  return { cases: cases.filter(wanted), skipped: [] };
}

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

/** Connects an MCP client that asks for the D1 cost of each call. */
export async function connectBench(base: string, apiKey: string): Promise<Client> {
  const client = new Client({ name: "cs-mcp-bench", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp?toolsets=all`), {
      requestInit: { headers: { Authorization: `Bearer ${apiKey}`, "X-Debug-D1": "1" } },
    }),
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
  fixtures: Fixtures & { docs: string[] },
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

/** Ids `fetch` can open: the results of a few searches. */
export async function fetchableIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for (const query of ["invoice", "dashboard", "export", "login"]) {
    const result = await client.callTool({ name: "search", arguments: { query, limit: 25 } });
    const results = (result.structuredContent as { results?: { id: string }[] } | undefined)?.results ?? [];
    ids.push(...results.map((r) => r.id));
  }
  return ids;
}
