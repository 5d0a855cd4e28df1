import { z } from "zod";
import { workspaceSettings } from "../../db/workspace-settings";
import { markdownTable } from "../../domain/markdown-table";
import {
  addTotals,
  againstTarget,
  type Granularity,
  type MovementTotals,
  movementRates,
  reportingPeriods,
} from "../../domain/revenue/movements";
import { isoDay } from "../../lib/time";
import { defineTool, type ToolContext } from "../../mcp/tool";

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

/**
 * ARR movements per segment between the two days of each span, for all spans in one statement
 * (`?2`: JSON array of {start, end}). An account's ARR on a day is the sum of its contract terms
 * in force that day: start_date ≤ day < until, where until is the end date, cut short by the
 * start of a successor term (previous_contract_id pointing at it, for renewals that replace a
 * term early) and, for a cancelled term, by its outcome date (a cancelled term without one never
 * counts). The contracts are read once for all spans: the terms overlapping any span are kept,
 * then each span sums those overlapping it. Only accounts with ARR on either day count; the
 * cohort is the accounts with ARR > 0 on the start day.
 */
const MOVEMENTS_SQL = `WITH spans AS MATERIALIZED (
    SELECT CAST(key AS INTEGER) AS span, value ->> '$.start' AS span_start, value ->> '$.end' AS span_end
      FROM json_each(?2)),
  successors AS (
    SELECT previous_contract_id AS id, min(start_date) AS next_start FROM contracts
     WHERE workspace_id = ?1 AND previous_contract_id IS NOT NULL AND status <> 'cancelled'
     GROUP BY previous_contract_id),
  terms AS MATERIALIZED (
    SELECT c.account_id, c.arr, c.start_date, c.end_date,
           min(c.end_date, coalesce(s.next_start, c.end_date),
               CASE WHEN c.status = 'cancelled' THEN coalesce(substr(c.outcome_date, 1, 10), c.start_date)
                    ELSE c.end_date END) AS until
      FROM contracts c LEFT JOIN successors s ON s.id = c.id
     WHERE c.workspace_id = ?1 AND c.start_date <= (SELECT max(span_end) FROM spans)
       AND c.end_date > (SELECT min(span_start) FROM spans)),
  per_account AS (
    SELECT p.span, t.account_id,
           round(coalesce(sum(CASE WHEN t.start_date <= p.span_start AND t.until > p.span_start THEN t.arr END), 0), 2) AS s,
           round(coalesce(sum(CASE WHEN t.start_date <= p.span_end AND t.until > p.span_end THEN t.arr END), 0), 2) AS e
      FROM spans p JOIN terms t ON t.start_date <= p.span_end AND t.end_date > p.span_start
     GROUP BY p.span, t.account_id)
SELECT p.span AS span, a.segment AS segment,
       coalesce(sum(CASE WHEN p.s > 0 THEN p.s END), 0) AS starting_arr,
       count(CASE WHEN p.s > 0 THEN 1 END) AS accounts_at_start,
       coalesce(sum(CASE WHEN p.s > 0 AND p.e > p.s THEN p.e - p.s END), 0) AS expansion_arr,
       count(CASE WHEN p.s > 0 AND p.e > p.s THEN 1 END) AS accounts_expanded,
       coalesce(sum(CASE WHEN p.s > 0 AND p.e > 0 AND p.e < p.s THEN p.s - p.e END), 0) AS contraction_arr,
       count(CASE WHEN p.s > 0 AND p.e > 0 AND p.e < p.s THEN 1 END) AS accounts_contracted,
       coalesce(sum(CASE WHEN p.s > 0 AND p.e <= 0 THEN p.s END), 0) AS churned_arr,
       count(CASE WHEN p.s > 0 AND p.e <= 0 THEN 1 END) AS accounts_churned,
       coalesce(sum(CASE WHEN p.s <= 0 AND p.e > 0 THEN p.e END), 0) AS new_arr,
       count(CASE WHEN p.s <= 0 AND p.e > 0 THEN 1 END) AS new_accounts
  FROM per_account p JOIN accounts a ON a.id = p.account_id AND a.workspace_id = ?1
 WHERE (p.s > 0 OR p.e > 0) AND (?3 IS NULL OR a.segment = ?3)
 GROUP BY p.span, a.segment
 ORDER BY p.span, a.segment`;

type MovementRow = MovementTotals & { span: number; segment: string | null };

/** Movements per segment for each span, in span order, from one statement. */
export async function loadMovements(
  ctx: ToolContext,
  spans: readonly Span[],
  segment: string | null,
): Promise<SegmentMovements[][]> {
  if (spans.length === 0) return [];
  const result = await ctx.env.DB.prepare(MOVEMENTS_SQL)
    .bind(
      ctx.principal.workspaceId,
      JSON.stringify(spans.map((span) => ({ start: span.start, end: span.end }))),
      segment,
    )
    .all<MovementRow>();
  const bySpan = spans.map((): SegmentMovements[] => []);
  for (const { span, segment: name, ...totals } of result.results) {
    bySpan[span]?.push({ segment: name, totals: roundTotals(totals) });
  }
  return bySpan;
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
