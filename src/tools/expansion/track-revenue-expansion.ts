import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { isoDay } from "../../platform/lib/time";
import { defineTool } from "../../platform/mcp/define-tool";
import { matchStoredValue } from "../../platform/mcp/filters";
import { storedAccountValues } from "../../records/accounts";
import { workspaceSettings } from "../../records/workspace-settings";
import { addTotals, againstTarget, type Granularity, reportingPeriods, withRates } from "./domain/movements";
import { loadMovements } from "./queries/movements";

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
    segment: z
      .string()
      .min(1)
      .max(50)
      .optional()
      .describe(
        "Only accounts whose stored segment is this, in any case or spacing; an unknown one is refused naming those that exist.",
      ),
  },
  output: {
    granularity: z.enum(["month", "quarter"]),
    segment_filter: z.string().nullable().describe("The segment filter applied, as stored, or null for all accounts."),
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
    const segment = args.segment
      ? matchStoredValue(
          "segment",
          args.segment,
          await storedAccountValues(ctx.env.DB, ctx.principal.workspaceId, "segment"),
        )
      : null;
    const [settings, movements] = await Promise.all([
      workspaceSettings(ctx),
      loadMovements(ctx.env.DB, ctx.principal.workspaceId, spans, segment),
    ]);
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
