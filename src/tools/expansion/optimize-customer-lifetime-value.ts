import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import type { WorkspaceSettings } from "../../records/settings";
import { workspaceSettings } from "../../records/workspace-settings";
import {
  type ClvInputs,
  expectedLifetime,
  type HistoryRates,
  historyRates,
  lifetimeValue,
  MIN_SEGMENT_HISTORY,
  segmentRates,
  sensitivity,
} from "./domain/clv";
import { addTotals } from "./domain/movements";
import { activeAccountsWithArr, type ValuedAccountRow } from "./queries/accounts";
import { loadMovements } from "./queries/movements";
import { latestRiskModelVersion } from "./queries/risk-models";

/** Days of history the churn and expansion rates are measured over. */
const HISTORY_DAYS = 365;
/** Segment-lever pairs listed in the overall ranking. */
const RANKED_LIMIT = 30;

/** History of a segment with no account at the window start. */
const NO_HISTORY: HistoryRates = { churn_rate: null, expansion_rate: null, accounts_at_start: 0, accounts_churned: 0 };

const historyOut = z.object({
  churn_rate: z.number().nullable().describe("Accounts churned / accounts at the window start."),
  expansion_rate: z
    .number()
    .nullable()
    .describe("(expansion − contraction) / starting ARR of the accounts retained over the window."),
  accounts_at_start: z.number().int().describe("n: accounts with ARR at the window start."),
  accounts_churned: z.number().int(),
});

const leverOut = z.object({
  lever: z.enum(["retention_plus_1pt", "expansion_plus_x", "gross_margin_plus_1pt"]),
  change: z.string(),
  gain: z.number().describe("Discounted CLV gained, summed over the accounts."),
  gain_share: z.number().nullable().describe("gain / the accounts' discounted CLV."),
});

const accountOut = z.object({
  account_id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  arr: z.number(),
  churn_rate: z.number().nullable().describe("Annual churn used (4 decimals)."),
  churn_basis: z
    .enum(["model", "segment", "workspace", "none"])
    .describe("model: the account's churn probability from the calibrated risk model; else its segment's rate."),
  expansion_rate: z.number().describe("Its segment's expansion rate (0 without history)."),
  lifetime_years: z.number().nullable(),
  clv: z.number().nullable().describe("ARR × gross margin × lifetime."),
  discounted_clv: z.number().nullable(),
});
type AccountOut = z.output<typeof accountOut>;

export const optimizeCustomerLifetimeValue = defineTool({
  name: "optimize_customer_lifetime_value",
  title: "Optimize customer lifetime value",
  toolset: "expansion",
  description:
    "Customer lifetime value per account and segment with its inputs, and a sensitivity of CLV to retention, expansion and margin levers per segment. " +
    "CLV = ARR × finance.gross_margin × lifetime, lifetime = 1 / annual churn rate capped at finance.max_lifetime_years (no churn → the cap). " +
    "Discounted CLV = ARR × margin × Σ_{t=0}^{⌈L⌉−1} min(1, L − t) × ((1 + g) / (1 + r))^t: yearly revenue in advance growing at the expansion rate g, discounted at finance.discount_rate r, the last partial year pro rata. " +
    `Rates per segment from the last ${HISTORY_DAYS} days of ARR movements (the same contract terms in force as track_revenue_expansion): annual churn = logo churn = accounts with ARR at the window start and none at its end / accounts with ARR at the start; expansion rate g = (expansion − contraction) / starting ARR of the retained accounts. ` +
    `A segment with fewer than ${MIN_SEGMENT_HISTORY} accounts at the window start uses the workspace's rates. Per account: its churn probability from the risk model (a prediction of churn at its next renewal, read as annual) when the latest stored model is calibrated on this workspace, else its segment's rate. ` +
    "Accounts: active with ARR > 0 (accounts.arr, the sum of active terms), segment as stored now. " +
    "Sensitivity on discounted CLV per segment: retention +1 point (churn − 0.01), expansion + x points (expansion_step_pct, default 5), gross margin +1 point, ranked by total gain over the segment's accounts; also one ranking over all segment-lever pairs.",
  input: {
    segment: z.string().min(1).max(50).optional().describe("Only accounts whose stored segment is this (exact name)."),
    account_id: z.string().min(1).max(100).optional().describe("Only this account in the accounts list."),
    expansion_step_pct: z
      .number()
      .min(0.1)
      .max(50)
      .default(5)
      .describe("The expansion lever: points added to the expansion rate (default 5)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    history_window: z
      .object({ from: z.string(), to: z.string(), window_days: z.number().int() })
      .describe("ARR on `from` compared with ARR on `to` for the churn and expansion rates."),
    assumptions: z.object({
      gross_margin: z.number(),
      discount_rate: z.number(),
      max_lifetime_years: z.number(),
      expansion_step_pct: z.number(),
      churn_model: z
        .object({
          version: z.number().int().nullable(),
          calibrated: z.boolean(),
          used: z.boolean().describe("Account churn probabilities are used (the latest model is calibrated)."),
        })
        .describe("The latest stored risk model."),
    }),
    workspace_history: historyOut.describe("All accounts' rates over the window."),
    segments: z
      .array(
        z.object({
          segment: z.string().nullable(),
          accounts_counted: z.number().int(),
          accounts_on_model: z.number().int().describe("Accounts whose churn comes from the risk model."),
          arr: z.number(),
          history: historyOut.describe("The segment's own rates over the window."),
          basis: z.enum(["segment", "workspace", "none"]).describe("Whose rates the segment uses."),
          churn_rate: z.number().nullable(),
          expansion_rate: z.number(),
          lifetime_years: z.number().nullable().describe("From the segment's churn rate."),
          clv: z.number().describe("Summed over the accounts with a churn rate."),
          discounted_clv: z.number(),
          levers: z.array(leverOut).describe("Ranked by gain, largest first."),
        }),
      )
      .describe("Per segment, by segment name."),
    ranked_levers: z
      .array(leverOut.extend({ segment: z.string().nullable() }))
      .describe(`All segment-lever pairs by gain, largest first (up to ${RANKED_LIMIT}).`),
    accounts_counted: z.number().int(),
    accounts: z.array(accountOut).describe("This page of accounts, by discounted CLV (largest first)."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Lifetime value per segment", args: () => ({}) },
    { title: "One account's lifetime value", args: (ids) => ({ account_id: ids.accountId }) },
    { title: "A segment's lifetime value", args: (ids) => ({ segment: ids.segment }) },
  ],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const db = ctx.env.DB;
    const ws = ctx.principal.workspaceId;
    const today = isoDay(ctx.now);
    const window = { from: addDays(today, -HISTORY_DAYS), to: today, window_days: HISTORY_DAYS };
    const [settings, movements, model, accountRows] = await Promise.all([
      workspaceSettings(ctx),
      loadMovements(db, ws, [{ start: window.from, end: window.to }], null),
      latestRiskModelVersion(db, ws),
      activeAccountsWithArr(db, ws, args.segment ?? null),
    ]);
    const finance = settings.finance;
    const useModel = model !== null && model.calibrated === 1;
    const bySegment = movements[0] ?? [];
    const workspaceHistory = historyRates(addTotals(bySegment.map((m) => m.totals)));
    const ownHistory = new Map(bySegment.map((m) => [m.segment, historyRates(m.totals)]));
    const history = { own: ownHistory, workspace: workspaceHistory };
    const { groups, rates } = valueAccounts(accountRows, finance, useModel, history);
    const segments = segmentSummaries(groups, rates, ownHistory, finance, args.expansion_step_pct / 100);
    const ranked = segments
      .flatMap((s) => s.levers.map((l) => ({ segment: s.segment, ...l })))
      .sort((a, b) => b.gain - a.gain)
      .slice(0, RANKED_LIMIT);

    // Largest discounted CLV first (accounts without a churn rate last), then by id.
    const listed = [...groups.values()]
      .flatMap((g) => g.rows)
      .filter((r) => !args.account_id || r.account_id === args.account_id)
      .sort((a, b) => sortKey(b) - sortKey(a) || a.account_id.localeCompare(b.account_id));
    if (args.account_id && listed.length === 0) {
      throw new ToolError(
        `Account "${args.account_id}" is not an active account with ARR in this workspace${args.segment ? ` and segment "${args.segment}"` : ""}; use list_accounts to find one.`,
      );
    }
    const { page, next } = accountPage(listed, args);
    return {
      data: {
        history_window: window,
        assumptions: {
          gross_margin: finance.gross_margin,
          discount_rate: finance.discount_rate,
          max_lifetime_years: finance.max_lifetime_years,
          expansion_step_pct: args.expansion_step_pct,
          churn_model: { version: model?.version ?? null, calibrated: model?.calibrated === 1, used: useModel },
        },
        workspace_history: roundHistory(workspaceHistory),
        segments,
        ranked_levers: ranked,
        accounts_counted: listed.length,
        accounts: page,
        next_cursor: next,
      },
      text: answerText({ accounts: accountRows.length, finance, window, useModel, ranked, segments, workspaceHistory }),
    };
  },
});

type Finance = WorkspaceSettings["finance"];
type SegmentRates = ReturnType<typeof segmentRates>;

/** An account's sort key: its discounted CLV, −1 without a churn rate. */
const sortKey = (r: AccountOut) => r.discounted_clv ?? -1;

/**
 * Each account's lifetime value on its churn (the model's when used, else its segment's rate) and
 * its segment's expansion rate, grouped by segment with the inputs the sensitivity needs.
 */
function valueAccounts(
  accountRows: readonly ValuedAccountRow[],
  finance: Finance,
  useModel: boolean,
  history: { own: ReadonlyMap<string | null, HistoryRates>; workspace: HistoryRates },
) {
  const groups = new Map<string | null, { rows: AccountOut[]; inputs: ClvInputs[] }>();
  const rates = new Map<string | null, SegmentRates>();
  for (const row of accountRows) {
    if (!rates.has(row.segment)) rates.set(row.segment, segmentRates(history.own.get(row.segment), history.workspace));
    const segment = rates.get(row.segment)!;
    const onModel = useModel && row.churn_probability !== null;
    const churn = onModel ? row.churn_probability : segment.churn_rate;
    const inputs: ClvInputs | null =
      churn === null
        ? null
        : {
            arr: row.arr,
            gross_margin: finance.gross_margin,
            churn_rate: churn,
            expansion_rate: segment.expansion_rate ?? 0,
            discount_rate: finance.discount_rate,
            max_lifetime_years: finance.max_lifetime_years,
          };
    const value = inputs ? lifetimeValue(inputs) : null;
    const group = groups.get(row.segment) ?? { rows: [], inputs: [] };
    groups.set(row.segment, group);
    group.rows.push({
      account_id: row.id,
      name: row.name,
      segment: row.segment,
      arr: row.arr,
      churn_rate: churn === null ? null : round(churn, 4),
      churn_basis: onModel ? "model" : segment.basis,
      expansion_rate: round(segment.expansion_rate ?? 0, 4),
      lifetime_years: value?.lifetime_years ?? null,
      clv: value ? round(value.clv) : null,
      discounted_clv: value ? round(value.discounted_clv) : null,
    });
    if (inputs) group.inputs.push(inputs);
  }
  return { groups, rates };
}

/** Per segment, by name: its accounts' figures, the rates it uses, and its levers ranked by gain. */
function segmentSummaries(
  groups: ReadonlyMap<string | null, { rows: AccountOut[]; inputs: ClvInputs[] }>,
  rates: ReadonlyMap<string | null, SegmentRates>,
  ownHistory: ReadonlyMap<string | null, HistoryRates>,
  finance: Finance,
  step: number,
) {
  return [...groups.entries()]
    .sort(([a], [b]) => (a ?? "").localeCompare(b ?? ""))
    .map(([name, group]) => {
      const segment = rates.get(name)!;
      const own = ownHistory.get(name);
      const result = sensitivity(group.inputs, step);
      return {
        segment: name,
        accounts_counted: group.rows.length,
        accounts_on_model: group.rows.filter((r) => r.churn_basis === "model").length,
        arr: round(group.rows.reduce((sum, r) => sum + r.arr, 0)),
        history: roundHistory(own ?? NO_HISTORY),
        basis: segment.basis,
        churn_rate: segment.churn_rate === null ? null : round(segment.churn_rate, 4),
        expansion_rate: round(segment.expansion_rate ?? 0, 4),
        lifetime_years:
          segment.churn_rate === null
            ? null
            : round(expectedLifetime(segment.churn_rate, finance.max_lifetime_years), 4),
        clv: round(group.rows.reduce((sum, r) => sum + (r.clv ?? 0), 0)),
        discounted_clv: result.discounted_clv,
        levers: result.levers,
      };
    });
}

/** One page of the accounts listed, by discounted CLV then id. */
function accountPage(
  listed: readonly AccountOut[],
  args: {
    segment?: string | undefined;
    account_id?: string | undefined;
    expansion_step_pct: number;
    limit: number;
    cursor?: string | undefined;
  },
) {
  const fingerprint = queryFingerprint([
    "optimize_customer_lifetime_value",
    args.segment ?? null,
    args.account_id ?? null,
    args.expansion_step_pct,
  ]);
  const after = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const afterKey = after ? Number(after.k[0]) : 0;
  const rest = after
    ? listed.filter((r) => sortKey(r) < afterKey || (sortKey(r) === afterKey && r.account_id > after.id))
    : listed;
  const page = rest.slice(0, args.limit);
  const last = page[page.length - 1];
  const next =
    rest.length > args.limit && last ? encodeCursor({ k: [sortKey(last)], id: last.account_id, q: fingerprint }) : null;
  return { page, next };
}

/** The answer's text: the assumptions and top lever, and a table of the segments. */
function answerText(a: {
  accounts: number;
  finance: Finance;
  window: { from: string; to: string };
  useModel: boolean;
  ranked: readonly { segment: string | null; lever: string; gain: number }[];
  segments: ReturnType<typeof segmentSummaries>;
  workspaceHistory: HistoryRates;
}): string {
  const { finance, ranked } = a;
  const pct = (v: number | null) => (v === null ? "–" : `${round(v * 100)}%`);
  return [
    `CLV of ${a.accounts} accounts (margin ${pct(finance.gross_margin)}, discount rate ${pct(finance.discount_rate)}, lifetime cap ${finance.max_lifetime_years} y; churn and expansion over ${a.window.from}..${a.window.to}${a.useModel ? ", account churn from the calibrated risk model" : ""}). Top lever: ${ranked[0] ? `${ranked[0].lever} in ${ranked[0].segment ?? "no segment"} (+${ranked[0].gain})` : "none"}.`,
    markdownTable(
      ["Segment", "Accounts", "ARR", "Churn", "Basis", "Expansion", "Lifetime", "CLV", "Disc. CLV", "Best lever"],
      a.segments.map((s) => [
        s.segment,
        s.accounts_counted,
        s.arr,
        pct(s.churn_rate),
        `${s.basis} n=${s.basis === "segment" ? s.history.accounts_at_start : a.workspaceHistory.accounts_at_start}`,
        pct(s.expansion_rate),
        s.lifetime_years,
        s.clv,
        s.discounted_clv,
        s.levers[0] ? `${s.levers[0].lever} +${s.levers[0].gain}` : null,
      ]),
    ),
  ].join("\n");
}

function roundHistory(h: HistoryRates): HistoryRates {
  return {
    ...h,
    churn_rate: h.churn_rate === null ? null : round(h.churn_rate, 4),
    expansion_rate: h.expansion_rate === null ? null : round(h.expansion_rate, 4),
  };
}
