import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { isoDay } from "../../platform/lib/time";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import { workspaceSettings } from "../../records/workspace-settings";
import {
  addTotals,
  againstTarget,
  emptyTotals,
  type Granularity,
  type MovementTotals,
  movementRates,
  reportingPeriods,
} from "./domain/movements";

/** Two days whose in-force ARR is compared. */
export interface Span {
  start: string;
  end: string;
}

/** Movement totals of one segment over one span (segment as stored on the account now). */
export interface SegmentMovements {
  segment: string | null;
  totals: MovementTotals;
}

/** The movement figures as SQL aggregates over per-account ARR on the start day `s` and the end day `e`. */
const MOVEMENT_AGGREGATES: Record<keyof MovementTotals, (s: string, e: string) => string> = {
  starting_arr: (s) => `coalesce(sum(CASE WHEN ${s} > 0 THEN ${s} END), 0)`,
  accounts_at_start: (s) => `count(CASE WHEN ${s} > 0 THEN 1 END)`,
  expansion_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} > 0 AND ${e} > ${s} THEN ${e} - ${s} END), 0)`,
  accounts_expanded: (s, e) => `count(CASE WHEN ${s} > 0 AND ${e} > ${s} THEN 1 END)`,
  contraction_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} > 0 AND ${e} > 0 AND ${e} < ${s} THEN ${s} - ${e} END), 0)`,
  accounts_contracted: (s, e) => `count(CASE WHEN ${s} > 0 AND ${e} > 0 AND ${e} < ${s} THEN 1 END)`,
  churned_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} > 0 AND ${e} <= 0 THEN ${s} END), 0)`,
  accounts_churned: (s, e) => `count(CASE WHEN ${s} > 0 AND ${e} <= 0 THEN 1 END)`,
  new_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} <= 0 AND ${e} > 0 THEN ${e} END), 0)`,
  new_accounts: (s, e) => `count(CASE WHEN ${s} <= 0 AND ${e} > 0 THEN 1 END)`,
};
const FIGURES = Object.keys(MOVEMENT_AGGREGATES) as (keyof MovementTotals)[];

/** Spans measured by one statement: each adds 11 result columns, and D1 returns at most 100. */
const SPANS_PER_STATEMENT = 8;

/**
 * ARR movements per segment for several spans in one statement that reads the contracts once.
 * An account's ARR on a day is the sum of its contract terms in force that day: start_date ≤ day
 * < until, where until is the end date, cut short by the start of a successor term
 * (previous_contract_id pointing at it, for renewals that replace a term early) and, for a
 * cancelled term, by its outcome date (a cancelled term without one never counts). Each
 * account's ARR is taken on every distinct start or end day of the spans (`?3`… in order); one
 * row per segment then carries each span's figures (suffix = the span's position) over the
 * accounts with ARR on either of its days (`n…`), the cohort being those with ARR > 0 on its
 * start day.
 */
function movementsSql(dayCount: number, spans: readonly { start: number; end: number }[]): string {
  const dayParam = (i: number) => `?${i + 3}`;
  const arrOn = Array.from(
    { length: dayCount },
    (_, i) =>
      `round(coalesce(sum(CASE WHEN start_date <= ${dayParam(i)} AND until > ${dayParam(i)} THEN arr END), 0), 2) AS d${i}`,
  );
  const figures = spans.flatMap((span, i) => {
    const [s, e] = [`p.d${span.start}`, `p.d${span.end}`];
    return [
      `count(CASE WHEN ${s} > 0 OR ${e} > 0 THEN 1 END) AS n${i}`,
      ...FIGURES.map((f) => `${MOVEMENT_AGGREGATES[f](s, e)} AS ${f}${i}`),
    ];
  });
  return `WITH successors AS (
    SELECT previous_contract_id AS id, min(start_date) AS next_start FROM contracts
     WHERE workspace_id = ?1 AND previous_contract_id IS NOT NULL AND status <> 'cancelled'
     GROUP BY previous_contract_id),
  terms AS (
    SELECT c.account_id, c.arr, c.start_date,
           min(c.end_date, coalesce(s.next_start, c.end_date),
               CASE WHEN c.status = 'cancelled' THEN coalesce(substr(c.outcome_date, 1, 10), c.start_date)
                    ELSE c.end_date END) AS until
      FROM contracts c LEFT JOIN successors s ON s.id = c.id
     WHERE c.workspace_id = ?1 AND c.start_date <= ${dayParam(dayCount - 1)} AND c.end_date > ${dayParam(0)}),
  per_account AS (SELECT account_id, ${arrOn.join(", ")} FROM terms GROUP BY account_id)
SELECT a.segment AS segment, ${figures.join(",\n       ")}
  FROM per_account p JOIN accounts a ON a.id = p.account_id AND a.workspace_id = ?1
 WHERE (?2 IS NULL OR a.segment = ?2)
 GROUP BY a.segment
 ORDER BY a.segment`;
}

/**
 * Movements per segment for each span, in span order: one statement per eight spans (the
 * default five spans of a report take one), in one batch.
 */
export async function loadMovements(
  ctx: ToolContext,
  spans: readonly Span[],
  segment: string | null,
): Promise<SegmentMovements[][]> {
  if (spans.length === 0) return [];
  const chunks: Span[][] = [];
  for (let i = 0; i < spans.length; i += SPANS_PER_STATEMENT) chunks.push(spans.slice(i, i + SPANS_PER_STATEMENT));
  const statements = chunks.map((chunk) => {
    const days = [...new Set(chunk.flatMap((span) => [span.start, span.end]))].sort();
    const index = new Map(days.map((day, i) => [day, i]));
    const columns = chunk.map((span) => ({ start: index.get(span.start) ?? 0, end: index.get(span.end) ?? 0 }));
    return ctx.env.DB.prepare(movementsSql(days.length, columns)).bind(ctx.principal.workspaceId, segment, ...days);
  });
  const results = await ctx.env.DB.batch<Record<string, number | string | null>>(statements);
  return chunks.flatMap((chunk, c) => {
    const rows = results[c]?.results ?? [];
    return chunk.map((_, i) =>
      rows
        // A segment counts in a span only with an account holding ARR on one of its days.
        .filter((row) => Number(row[`n${i}`]) > 0)
        .map((row) => {
          const totals = emptyTotals();
          for (const f of FIGURES) totals[f] = Number(row[`${f}${i}`]);
          return { segment: row.segment as string | null, totals: roundTotals(totals) };
        }),
    );
  });
}

function roundTotals(t: MovementTotals): MovementTotals {
  const out = { ...t };
  for (const key of Object.keys(out) as (keyof MovementTotals)[]) out[key] = Math.round(out[key] * 100) / 100;
  return out;
}

/** Movement totals with their rates, as the answers show them. */
export function withRates(t: MovementTotals) {
  return { ...t, ...movementRates(t) };
}

const totalsOut = z.object({
  starting_arr: z.number().describe("ARR on the start day of the cohort: accounts with ARR > 0 that day."),
  accounts_at_start: z.number().int().describe("Accounts in the cohort."),
  expansion_arr: z.number().describe("Sum of the rises of cohort accounts whose ARR grew."),
  accounts_expanded: z.number().int(),
  contraction_arr: z.number().describe("Sum of the falls of cohort accounts whose ARR fell to a non-zero amount."),
  accounts_contracted: z.number().int(),
  churned_arr: z.number().describe("Starting ARR of cohort accounts with no ARR on the end day."),
  accounts_churned: z.number().int(),
  new_arr: z
    .number()
    .describe("Ending ARR of accounts with no ARR on the start day (new logos and win-backs), outside the cohort."),
  new_accounts: z.number().int(),
  grr: z
    .number()
    .nullable()
    .describe("(starting − contraction − churn) / starting, capped at 1; null without a cohort."),
  nrr: z
    .number()
    .nullable()
    .describe("(starting + expansion − contraction − churn) / starting; null without a cohort."),
  expansion_share: z.number().nullable().describe("expansion / (expansion + new ARR); null when neither happened."),
  cohort_ending_arr: z.number().describe("The cohort's ARR on the end day."),
});

const segmentOut = totalsOut.extend({
  segment: z.string().nullable().describe("Segment stored on the account now (null: none)."),
});

const spanOut = totalsOut.extend({
  label: z.string().describe("Period label (YYYY-MM or YYYY-Qn), or `window` for the whole window."),
  start: z.string().describe("Day the starting ARR is read."),
  end: z.string().describe("Day the ending ARR is read: the first day after the period, or today if it is running."),
  complete: z.boolean().describe("False for the period still running (measured up to today)."),
  by_segment: z.array(segmentOut).describe("The same movements per segment, by segment name."),
});

const targetOut = z.object({
  actual: z.number().nullable(),
  target: z.number(),
  gap: z.number().nullable().describe("actual − target."),
  status: z.enum(["met", "below", "no_data"]),
});

export const trackRevenueExpansion = defineTool({
  name: "track_revenue_expansion",
  title: "Track revenue expansion",
  toolset: "expansion",
  description:
    "Expansion, contraction and churn ARR by period (month or quarter; default the last 4 complete quarters) and by segment, with GRR, NRR and expansion share against the KPI targets. " +
    "An account's ARR on a day = the sum of its contract terms in force that day (start_date ≤ day < end_date; a term ends early when a successor term naming it as previous starts, and a cancelled term at its outcome date). " +
    "Each period compares ARR on its first day with ARR on the first day after it (today for a running period). Cohort = accounts with ARR > 0 on the first day: expansion = rises, contraction = falls to a non-zero ARR, churn = falls to 0. " +
    "GRR = (starting − contraction − churn) / starting, capped at 100%; NRR = (starting + expansion − contraction − churn) / starting. Accounts with no ARR on the first day are new ARR (new logos and win-backs), outside the cohort. " +
    "Expansion share = expansion ARR / (expansion ARR + new ARR). The whole window is also measured as one span (first day of the first period to the end of the last) and compared with kpi_targets grr, nrr and expansion_share, which are annual: a 12-month window (the default) matches them. Segment = the account's stored segment now.",
  input: {
    granularity: z.enum(["month", "quarter"]).default("quarter").describe("Period length: month or quarter (default)."),
    periods: z.number().int().min(1).max(24).default(4).describe("Number of periods, oldest first (default 4)."),
    include_current: z
      .boolean()
      .default(false)
      .describe("Make the last period the one running today, measured up to today (default: complete periods only)."),
    segment: z.string().min(1).max(50).optional().describe("Only accounts whose stored segment is this (exact name)."),
  },
  output: {
    granularity: z.enum(["month", "quarter"]),
    segment_filter: z.string().nullable().describe("The segment filter applied, or null for all accounts."),
    periods: z.array(spanOut).describe("One entry per period, oldest first."),
    window: spanOut.describe("The whole window measured as one span."),
    targets: z
      .object({ grr: targetOut, nrr: targetOut, expansion_share: targetOut })
      .describe("The window's GRR, NRR and expansion share against kpi_targets (met when at or above)."),
  },
  examples: [
    { title: "GRR, NRR and expansion of the last four quarters", args: () => ({}) },
    { title: "A segment's quarters", args: (ids) => ({ granularity: "quarter", segment: ids.segment }) },
  ],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const today = isoDay(ctx.now);
    const periods = reportingPeriods(today, args.granularity as Granularity, args.periods, args.include_current);
    const first = periods[0]!;
    const last = periods[periods.length - 1]!;
    const windowSpan = { label: "window", start: first.start, end: last.end, complete: last.complete };
    const spans = [...periods, windowSpan];
    const segment = args.segment ?? null;
    const [settings, movements] = await Promise.all([workspaceSettings(ctx), loadMovements(ctx, spans, segment)]);
    const out = spans.map((span, i) => {
      const bySegment = movements[i] ?? [];
      return {
        ...span,
        ...withRates(addTotals(bySegment.map((m) => m.totals))),
        by_segment: bySegment.map((m) => ({ segment: m.segment, ...withRates(m.totals) })),
      };
    });
    const windowOut = out.pop()!;
    const targets = settings.kpi_targets;
    const pct = (v: number | null) => (v === null ? null : `${Math.round(v * 1000) / 10}%`);
    return {
      data: {
        granularity: args.granularity,
        segment_filter: segment,
        periods: out,
        window: windowOut,
        targets: {
          grr: againstTarget(windowOut.grr, targets.grr),
          nrr: againstTarget(windowOut.nrr, targets.nrr),
          expansion_share: againstTarget(windowOut.expansion_share, targets.expansion_share),
        },
      },
      text: [
        `ARR on ${windowOut.start} vs ${windowOut.end}${segment ? ` (segment ${segment})` : ""}: GRR ${pct(windowOut.grr) ?? "–"} (target ${pct(targets.grr)}), NRR ${pct(windowOut.nrr) ?? "–"} (target ${pct(targets.nrr)}), expansion share ${pct(windowOut.expansion_share) ?? "–"} (target ${pct(targets.expansion_share)}); cohort ${windowOut.accounts_at_start} accounts.`,
        markdownTable(
          ["Period", "Start ARR", "Expansion", "Contraction", "Churn", "New", "GRR", "NRR", "Exp. share"],
          [...out, windowOut].map((p) => [
            p.label,
            p.starting_arr,
            p.expansion_arr,
            p.contraction_arr,
            p.churned_arr,
            p.new_arr,
            pct(p.grr),
            pct(p.nrr),
            pct(p.expansion_share),
          ]),
        ),
      ].join("\n"),
    };
  },
});
