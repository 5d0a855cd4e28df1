/**
 * Property-based fuzz of every tool in the registry: calls generated from each tool's input
 * schema (valid shapes, boundaries, wrong types, unknown fields, huge and unicode strings, SQL and
 * FTS metacharacters, NaN and raw numbers, forged cursors, sample calls with one field changed),
 * sent as raw JSON-RPC over HTTP. Every answer must be a clean result or refusal: no HTTP 5xx, no
 * transport failure, no internal error, structured content within the tool's output schema, and
 * no stack, SQL, path, `undefined` or `NaN` in it. FUZZ_RUNS (default 200) calls per tool, from
 * FUZZ_SEED; `npm run fuzz` makes a longer run.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import type { AnyTool } from "../../src/platform/mcp/define-tool";
import { exampleArgs } from "../../src/platform/mcp/examples";
import { REGISTRY } from "../../src/toolsets";
import { type DemoWorkspace, loadDemoWorkspace } from "../helpers/demo-workspace";
import { answerProblems, type Outcome } from "../helpers/fuzz/answers";
import { FUZZ_KINDS, type FuzzKind, fuzzCall, listedInputSchema, type ToolFuzzContext } from "../helpers/fuzz/calls";
import type { RealCursor } from "../helpers/fuzz/cursors";
import { type FuzzTarget, probeActionFields, realCursors } from "../helpers/fuzz/probe";
import { rawToolCall } from "../helpers/fuzz/rpc";
import { type Known, spliceRawTokens } from "../helpers/fuzz/values";

/** A whole-number binding, or its default when unset. */
function wholeBinding(name: "FUZZ_RUNS" | "FUZZ_SEED", fallback: number): number {
  const raw = env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not ${raw}`);
  return n;
}

const FUZZ_RUNS = wholeBinding("FUZZ_RUNS", 200);
const FUZZ_SEED = wholeBinding("FUZZ_SEED", 20261120);

/** Each tool's own seed, from the run's seed and its name (so adding a tool moves no other's). */
function seedFor(tool: AnyTool): number {
  let hash = FUZZ_SEED >>> 0;
  for (const c of tool.name) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0;
  return hash | 0;
}

/** Per tool: calls made, by kind and by outcome, and the time they took. */
interface Tally {
  inputs: number;
  kinds: Record<FuzzKind, number>;
  outcomes: Record<Outcome, number>;
  ms: number;
}

const tallies = new Map<string, Tally>();

function tallyOf(tool: AnyTool): Tally {
  let tally = tallies.get(tool.name);
  if (!tally) {
    tally = {
      inputs: 0,
      kinds: Object.fromEntries(FUZZ_KINDS.map((k) => [k, 0])) as Record<FuzzKind, number>,
      outcomes: { ok: 0, "tool-error": 0, "invalid-input": 0, "rpc-error": 0, failure: 0 },
      ms: 0,
    };
    tallies.set(tool.name, tally);
  }
  return tally;
}

/** A value cut to a readable length for a failure message. */
function clip(value: unknown, max = 600): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

let demo: DemoWorkspace;
let target: FuzzTarget;
const contexts = new Map<string, ToolFuzzContext>();

beforeAll(async () => {
  demo = await loadDemoWorkspace("fuzz", { accounts: 12 });
  target = { key: demo.adminKey, query: "?toolsets=all" };
  const { ids, data } = demo;
  const some = <T>(rows: T[], pick: (row: T) => string) => [...new Set(rows.slice(0, 6).map(pick))];
  const byField: Record<string, string[]> = {
    account_id: [ids.accountId, ...some(data.accounts, (a) => a.id)],
    external_id: some(data.accounts, (a) => a.external_id),
    contact_id: [ids.contactId, ...some(data.contacts, (c) => c.id)],
    contract_id: [ids.contractId, ...some(data.contracts, (c) => c.id)],
    ticket_id: [ids.ticketId, ...some(data.tickets, (t) => t.id)],
    task_id: some(data.tasks, (t) => t.id),
    escalation_id: [ids.escalationId],
    intervention_id: [ids.interventionId],
    campaign_id: [ids.campaignId],
    integration_id: ids.integrationId ? [ids.integrationId] : [],
    dead_letter_id: ids.deadLetterId ? [ids.deadLetterId] : [],
    message_id: ids.outboxMessageId ? [ids.outboxMessageId] : [],
    product_id: some(data.products, (p) => p.id),
    owner: [ids.ownerId, ...some(data.users, (u) => u.id), ...some(data.users, (u) => u.email)],
    segment: [ids.segment, ...some(data.accounts, (a) => a.segment)],
    tier: [ids.tier, ...some(data.accounts, (a) => a.tier)],
    lifecycle_stage: some(data.accounts, (a) => a.lifecycle_stage),
    stage: some(data.accounts, (a) => a.lifecycle_stage),
    feature: [ids.feature],
    query: some(data.accounts, (a) => a.name.split(" ")[0] ?? a.name),
    id: [`account:${ids.accountId}`, `ticket:${ids.ticketId}`, `contact:${ids.contactId}`],
  };
  const known: Known = { strings: [...Object.values(byField).flat(), "acc_missing"], byField };

  const cursors: RealCursor[] = [];
  const partial = new Map<string, Omit<ToolFuzzContext, "allCursors">>();
  for (const tool of REGISTRY.tools) {
    const schema = listedInputSchema(tool);
    const samples = tool.examples
      .map((example) => exampleArgs(example, demo.ids))
      .filter((args): args is Record<string, unknown> => args !== null);
    const ownCursors = await realCursors(target, tool, schema, samples);
    cursors.push(...ownCursors);
    const actionFields = await probeActionFields(target, tool, schema, known);
    partial.set(tool.name, { schema, known, samples, ownCursors, ...(actionFields ? { actionFields } : {}) });
  }
  for (const [name, context] of partial) contexts.set(name, { ...context, allCursors: cursors });
}, 300_000);

afterAll(() => {
  const rows = REGISTRY.tools.flatMap((tool) => {
    const tally = tallies.get(tool.name);
    if (!tally) return [];
    const { outcomes: o, kinds: k } = tally;
    return [
      {
        tool: tool.name,
        inputs: tally.inputs,
        ok: o.ok,
        "tool err": o["tool-error"],
        invalid: o["invalid-input"],
        "rpc err": o["rpc-error"],
        failures: o.failure,
        valid: k.valid,
        mutated: k["sample-mutated"],
        cursors: k["forged-cursor"],
        "ms/call": Math.round(tally.ms / Math.max(1, tally.inputs)),
      },
    ];
  });
  const total = rows.reduce((sum, row) => sum + row.inputs, 0);
  const failures = rows.reduce((sum, row) => sum + row.failures, 0);
  console.log(
    `Fuzz: ${total} inputs over ${rows.length} tools, ${failures} failures (FUZZ_RUNS=${FUZZ_RUNS}, FUZZ_SEED=${FUZZ_SEED})`,
  );
  // workerd's console has no table(): pad the columns by hand.
  const columns = Object.keys(rows[0] ?? {}) as (keyof (typeof rows)[number])[];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => String(row[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  ");
  console.log([line(columns), ...rows.map((row) => line(columns.map((c) => String(row[c]))))].join("\n"));
  console.log(
    `FUZZ_TOTALS ${JSON.stringify({ tools: rows.length, inputs: total, failures, runs: FUZZ_RUNS, seed: FUZZ_SEED })}`,
  );
});

describe("fuzz: every tool answers any input cleanly", () => {
  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name",
    async ({ tool }) => {
      const context = contexts.get(tool.name);
      if (!context) throw new Error(`no fuzz context for ${tool.name}`);
      const tally = tallyOf(tool);
      const seed = seedFor(tool);
      const property = fc.asyncProperty(fuzzCall(context), async (call) => {
        const started = performance.now();
        const answer = await rawToolCall(target.key, target.query, tool.name, call.args, spliceRawTokens);
        tally.ms += performance.now() - started;
        tally.inputs++;
        tally.kinds[call.kind]++;
        const { outcome, problems } = answerProblems(tool, answer);
        tally.outcomes[outcome]++;
        if (problems.length > 0) {
          throw new Error(
            `${tool.name} (${call.kind}): ${problems.join("; ")}\n  arguments: ${clip(call.args)}\n  answer: ${clip(answer.body)}`,
          );
        }
      });
      try {
        await fc.assert(property, { numRuns: FUZZ_RUNS, seed, endOnFailure: true });
      } catch (error) {
        const cause = (error as Error).cause;
        throw new Error(
          [
            cause instanceof Error ? cause.message : "",
            // fast-check's own report repeats the arguments in full: a 10k string stays readable cut.
            (error as Error).message
              .split("\n")
              .map((line) => clip(line))
              .join("\n"),
            `Replay: FUZZ_SEED=${FUZZ_SEED} FUZZ_RUNS=${FUZZ_RUNS} (seed ${seed} for ${tool.name})`,
          ].join("\n"),
        );
      }
    },
    Math.max(60_000, FUZZ_RUNS * 300),
  );
});
