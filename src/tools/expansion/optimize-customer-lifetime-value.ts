import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
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
import { compareText } from "./queries/book";
import { loadMovements } from "./track-revenue-expansion";

/** Days of history the churn and expansion rates are measured over. */
const HISTORY_DAYS = 365;
/** Segment-lever pairs listed in the overall ranking. */
const RANKED_LIMIT = 30;

/** History of a segment with no account at the window start. */
const NO_HISTORY: HistoryRates = { churn_rate: null, expansion_rate: null, accounts_at_start: 0, accounts_churned: 0 };

const round2 = (v: number) => Math.round(v * 100) / 100;
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

interface AccountRow {
  id: string;
  name: string;
  segment: string | null;
  arr: number;
  churn_probability: number | null;
}

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
    const ws = ctx.principal.workspaceId;
    const today = isoDay(ctx.now);
    const window = { from: addDays(today, -HISTORY_DAYS), to: today, window_days: HISTORY_DAYS };
    const [settings, movements, model, accountRows] = await Promise.all([
      workspaceSettings(ctx),
      loadMovements(ctx, [{ start: window.from, end: window.to }], null),
      ctx.env.DB.prepare(
        "SELECT version, calibrated FROM risk_models WHERE workspace_id = ?1 ORDER BY version DESC LIMIT 1",
      )
        .bind(ws)
        .first<{ version: number; calibrated: number }>(),
      ctx.env.DB.prepare(
        `SELECT id, name, segment, arr, churn_probability FROM accounts
          WHERE workspace_id = ?1 AND status = 'active' AND arr > 0 AND (?2 IS NULL OR segment = ?2)`,
      )
        .bind(ws, args.segment ?? null)
        .all<AccountRow>(),
    ]);
    const finance = settings.finance;
    const useModel = model !== null && model.calibrated === 1;
    const bySegment = movements[0] ?? [];
    const workspaceHistory = historyRates(addTotals(bySegment.map((m) => m.totals)));
    const ownHistory = new Map(bySegment.map((m) => [m.segment, historyRates(m.totals)]));
    const step = args.expansion_step_pct / 100;

    const groups = new Map<string | null, { rows: AccountOut[]; inputs: ClvInputs[] }>();
    const rates = new Map<string | null, ReturnType<typeof segmentRates>>();
    // By id, sorted here: a sort in the database would count every row again as read.
    const accountsById = accountRows.results.sort((a, b) => compareText(a.id, b.id));
    for (const row of accountsById) {
      if (!rates.has(row.segment)) rates.set(row.segment, segmentRates(ownHistory.get(row.segment), workspaceHistory));
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
        churn_rate: churn === null ? null : round4(churn),
        churn_basis: onModel ? "model" : segment.basis,
        expansion_rate: round4(segment.expansion_rate ?? 0),
        lifetime_years: value?.lifetime_years ?? null,
        clv: value ? round2(value.clv) : null,
        discounted_clv: value ? round2(value.discounted_clv) : null,
      });
      if (inputs) group.inputs.push(inputs);
    }

    const segments = [...groups.entries()]
      .sort(([a], [b]) => (a ?? "").localeCompare(b ?? ""))
      .map(([name, group]) => {
        const segment = rates.get(name)!;
        const own = ownHistory.get(name);
        const result = sensitivity(group.inputs, step);
        return {
          segment: name,
          accounts_counted: group.rows.length,
          accounts_on_model: group.rows.filter((r) => r.churn_basis === "model").length,
          arr: round2(group.rows.reduce((sum, r) => sum + r.arr, 0)),
          history: roundHistory(own ?? NO_HISTORY),
          basis: segment.basis,
          churn_rate: segment.churn_rate === null ? null : round4(segment.churn_rate),
          expansion_rate: round4(segment.expansion_rate ?? 0),
          lifetime_years:
            segment.churn_rate === null
              ? null
              : round4(expectedLifetime(segment.churn_rate, finance.max_lifetime_years)),
          clv: round2(group.rows.reduce((sum, r) => sum + (r.clv ?? 0), 0)),
          discounted_clv: result.discounted_clv,
          levers: result.levers,
        };
      });
    const ranked = segments
      .flatMap((s) => s.levers.map((l) => ({ segment: s.segment, ...l })))
      .sort((a, b) => b.gain - a.gain)
      .slice(0, RANKED_LIMIT);

    // Largest discounted CLV first (accounts without a churn rate last), then by id.
    const sortKey = (r: AccountOut) => r.discounted_clv ?? -1;
    const listed = [...groups.values()]
      .flatMap((g) => g.rows)
      .filter((r) => !args.account_id || r.account_id === args.account_id)
      .sort((a, b) => sortKey(b) - sortKey(a) || a.account_id.localeCompare(b.account_id));
    if (args.account_id && listed.length === 0) {
      throw new ToolError(
        `Account "${args.account_id}" is not an active account with ARR in this workspace${args.segment ? ` and segment "${args.segment}"` : ""}; use list_accounts to find one.`,
      );
    }
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
      rest.length > args.limit && last
        ? encodeCursor({ k: [sortKey(last)], id: last.account_id, q: fingerprint })
        : null;

    const pct = (v: number | null) => (v === null ? "–" : `${round2(v * 100)}%`);
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
      text: [
        `CLV of ${accountRows.results.length} accounts (margin ${pct(finance.gross_margin)}, discount rate ${pct(finance.discount_rate)}, lifetime cap ${finance.max_lifetime_years} y; churn and expansion over ${window.from}..${window.to}${useModel ? ", account churn from the calibrated risk model" : ""}). Top lever: ${ranked[0] ? `${ranked[0].lever} in ${ranked[0].segment ?? "no segment"} (+${ranked[0].gain})` : "none"}.`,
        markdownTable(
          ["Segment", "Accounts", "ARR", "Churn", "Basis", "Expansion", "Lifetime", "CLV", "Disc. CLV", "Best lever"],
          segments.map((s) => [
            s.segment,
            s.accounts_counted,
            s.arr,
            pct(s.churn_rate),
            `${s.basis} n=${s.basis === "segment" ? s.history.accounts_at_start : workspaceHistory.accounts_at_start}`,
            pct(s.expansion_rate),
            s.lifetime_years,
            s.clv,
            s.discounted_clv,
            s.levers[0] ? `${s.levers[0].lever} +${s.levers[0].gain}` : null,
          ]),
        ),
      ].join("\n"),
    };
  },
});

function roundHistory(h: HistoryRates): HistoryRates {
  return {
    ...h,
    churn_rate: h.churn_rate === null ? null : round4(h.churn_rate),
    expansion_rate: h.expansion_rate === null ? null : round4(h.expansion_rate),
  };
}
