import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { isoDay } from "../../platform/lib/time";
import { dayArg } from "../../platform/mcp/args";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { changePct, type DayWindow, licenseUtilization, summarizeUsage, usageWindows } from "./domain/usage-metrics";
import { type UsageAccountRow, type UsageFigures, usageFigures, usageScopeAccounts } from "./queries/usage";

const num = z.number().nullable();

const metricsShape = {
  days_with_data: z.number().int().describe("Days in the window with a usage rollup row."),
  dau: num.describe("Mean daily active users over the days with data."),
  wau: num.describe("Mean over ISO weeks with data of the week's highest daily active users (proxy)."),
  mau: num.describe("Highest daily active users in the window (proxy for monthly actives)."),
  stickiness: num.describe("DAU / MAU."),
  events: z.number().describe("Events in the window."),
  sessions: z.number().describe("Sessions in the window."),
  feature_breadth: z.number().int().describe("Distinct features used in the window."),
  licensed_seats: z.number().describe("Seats on the plan items of active contracts."),
  license_utilization: num.describe("DAU / licensed seats."),
  prior_dau: num.describe("DAU of the previous window of the same length."),
  prior_events: z.number().describe("Events in the previous window."),
  prior_sessions: z.number().describe("Sessions in the previous window."),
  dau_change_pct: num.describe("DAU change vs the previous window, percent."),
  events_change_pct: num.describe("Events change vs the previous window, percent."),
  sessions_change_pct: num.describe("Sessions change vs the previous window, percent."),
};

type Scope = "account" | "segment" | "all";

type Metrics = z.input<z.ZodObject<typeof metricsShape>>;

function metrics(input: {
  days_with_data: number;
  dau: number | null;
  wau: number | null;
  mau: number | null;
  events: number;
  sessions: number;
  feature_breadth: number;
  seats: number;
  prior_dau: number | null;
  prior_events: number;
  prior_sessions: number;
}): Metrics {
  const r = (v: number | null, digits = 2) => (v === null ? null : round(v, digits));
  return {
    days_with_data: input.days_with_data,
    dau: r(input.dau),
    wau: r(input.wau),
    mau: input.mau,
    stickiness: r(input.mau ? (input.dau ?? 0) / input.mau : null, 4),
    events: input.events,
    sessions: input.sessions,
    feature_breadth: input.feature_breadth,
    licensed_seats: input.seats,
    license_utilization: r(licenseUtilization(input.dau, input.seats), 4),
    prior_dau: r(input.prior_dau),
    prior_events: input.prior_events,
    prior_sessions: input.prior_sessions,
    dau_change_pct: r(changePct(input.dau, input.prior_dau), 1),
    events_change_pct: r(changePct(input.events, input.prior_events), 1),
    sessions_change_pct: r(changePct(input.sessions, input.prior_sessions), 1),
  };
}

const pct = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? "n/a" : `${round(v * 100, digits)}%`;

const BASIS =
  "Daily usage rollups: DAU = mean daily active users over days with data; WAU = mean of each ISO week's highest daily active users; MAU = highest daily active users in the window (daily rollups hold no distinct users across days, so WAU and MAU are lower-bound proxies); stickiness = DAU/MAU; license utilization = DAU / licensed seats of active contracts; totals sum active users over the accounts in scope per day.";

/** DAU/WAU/MAU, stickiness, sessions, feature breadth, license utilization and change, from daily rollups. */
export const trackUsageEngagement = defineTool({
  name: "track_usage_engagement",
  title: "Usage and engagement metrics",
  toolset: "health",
  description:
    "Usage of one account, a segment's active accounts, or all active accounts over a window of whole UTC days (default the 30 days ending yesterday, at most 365), from the daily usage rollups. " +
    "DAU = mean daily active users over days with data. Daily rollups keep one distinct-user count per day, so weekly and monthly distinct users are approximated: WAU = the highest daily active users within each ISO week, averaged over weeks with data; MAU = the highest daily active users in the window (both are lower bounds of true distinct users). " +
    "Stickiness = DAU / MAU. Feature breadth = distinct features used (feature rollups). License utilization = DAU / licensed seats (seats on plan items of active contracts). " +
    "Period-over-period change compares DAU, events and sessions with the window of the same length just before. " +
    "For a segment or all accounts: per-account rows paginated by id, plus totals over the whole scope (daily active users summed over accounts per day), with accounts_counted and days_with_data.",
  input: {
    account_id: z.string().min(1).max(100).optional().describe("One account's id. Omit for a segment or all accounts."),
    segment: z.string().min(1).max(100).optional().describe("Only active accounts of this segment."),
    days: z.number().int().min(1).max(365).default(30).describe("Window length in days, 1–365 (default 30)."),
    to: dayArg.optional().describe("Last day of the window, YYYY-MM-DD (default yesterday, the last complete day)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    scope: z.enum(["account", "segment", "all"]).describe("What was measured."),
    window: z.object({ from: z.string(), to: z.string(), days: z.number().int() }).describe("The window measured."),
    prior_window: z
      .object({ from: z.string(), to: z.string(), days: z.number().int() })
      .describe("The window compared against."),
    basis: z.string().describe("How the figures are computed."),
    accounts_in_scope: z.number().int().describe("Accounts in scope."),
    accounts_counted: z.number().int().describe("Accounts in scope with usage data in the window."),
    totals: z.object(metricsShape).describe("Figures over the whole scope."),
    accounts: z
      .array(z.object({ account_id: z.string(), name: z.string(), segment: z.string().nullable(), ...metricsShape }))
      .describe("Per-account figures (this page)."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Usage and engagement of the last 30 days", args: () => ({}) },
    { title: "One account's usage", args: (ids) => ({ account_id: ids.accountId }) },
    { title: "A segment's usage", args: (ids) => ({ segment: ids.segment }) },
  ],
  annotations: READ_ONLY,
  async handler(args, { env, principal, now }) {
    const ws = principal.workspaceId;
    if (args.account_id && args.segment) throw new ToolError("Give account_id or segment, not both.");
    const today = isoDay(now);
    const { current, prior } = usageWindows(today, args.days, args.to);
    const scope: Scope = args.account_id ? "account" : args.segment ? "segment" : "all";
    const filter = { accountId: args.account_id, segment: args.segment };
    const fingerprint = queryFingerprint(["usage", scope, args.segment ?? null, current.from, current.to]);
    const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
    const { rows: pageRows, count: accountsInScope } = await usageScopeAccounts(env.DB, ws, filter, {
      after,
      limit: args.limit,
    });
    if (args.account_id && pageRows.length === 0) throw notFound("account", args.account_id);
    const hasMore = pageRows.length > args.limit;
    const page = pageRows.slice(0, args.limit);

    const figures = await usageFigures(env.DB, ws, filter, { pageIds: page.map((a) => a.id), current, prior });
    const totals = scopeTotals(figures, current.from);
    const accounts = accountMetrics(page, figures);
    const last = page.at(-1);
    const nextCursor = hasMore && last ? encodeCursor({ k: [], id: last.id, q: fingerprint }) : null;
    const accountsCounted = figures.scopeCounted;
    const text = usageText({
      scope,
      segment: args.segment,
      accountName: page[0]?.name,
      current,
      prior,
      counts: { counted: accountsCounted, inScope: accountsInScope },
      totals,
      accounts,
      nextCursor,
    });
    return {
      data: {
        scope,
        window: current,
        prior_window: prior,
        basis: BASIS,
        accounts_in_scope: accountsInScope,
        accounts_counted: accountsCounted,
        totals,
        accounts,
        next_cursor: nextCursor,
      },
      text,
    };
  },
});

/** Figures over the whole scope: the daily series split at the window start, with the scope's seats and breadth. */
function scopeTotals(figures: UsageFigures, windowFrom: string): Metrics {
  const cur = summarizeUsage(figures.series.filter((d) => d.day >= windowFrom));
  const pri = summarizeUsage(figures.series.filter((d) => d.day < windowFrom));
  return metrics({
    ...cur,
    feature_breadth: figures.scopeBreadth,
    seats: figures.scopeSeats,
    prior_dau: pri.dau,
    prior_events: pri.events,
    prior_sessions: pri.sessions,
  });
}

/** Per-account figures of the page, in page order (zeros and nulls for an account without rollups). */
function accountMetrics(page: readonly UsageAccountRow[], figures: UsageFigures) {
  const byId = <T extends { account_id: string }>(list: T[]) => new Map(list.map((r) => [r.account_id, r]));
  const rowMap = byId(figures.rows);
  const weekMap = byId(figures.weeks);
  const seatMap = byId(figures.seats);
  const breadthMap = byId(figures.breadth);
  return page.map((a) => {
    const m = rowMap.get(a.id);
    return {
      account_id: a.id,
      name: a.name,
      segment: a.segment,
      ...metrics({
        days_with_data: m?.days_with_data ?? 0,
        dau: m?.dau ?? null,
        wau: weekMap.get(a.id)?.wau ?? null,
        mau: m?.mau ?? null,
        events: m?.events ?? 0,
        sessions: m?.sessions ?? 0,
        feature_breadth: breadthMap.get(a.id)?.n ?? 0,
        seats: seatMap.get(a.id)?.seats ?? 0,
        prior_dau: m?.prior_dau ?? null,
        prior_events: m?.prior_events ?? 0,
        prior_sessions: m?.prior_sessions ?? 0,
      }),
    };
  });
}

/** The answer's text: scope and windows, the totals, and a table per account unless one account was measured. */
function usageText(input: {
  scope: Scope;
  segment: string | undefined;
  accountName: string | undefined;
  current: DayWindow;
  prior: DayWindow;
  counts: { counted: number; inScope: number };
  totals: Metrics;
  accounts: (Metrics & { name: string })[];
  nextCursor: string | null;
}): string {
  const { scope, current, prior, totals } = input;
  return [
    `Usage ${scope === "account" ? `of ${input.accountName}` : scope === "segment" ? `of segment ${input.segment}` : "of all active accounts"}, ${current.from}..${current.to} (${current.days} days) vs ${prior.from}..${prior.to}: ` +
      `${input.counts.counted}/${input.counts.inScope} account(s) with data, ${totals.days_with_data} day(s) with data.`,
    `DAU ${totals.dau ?? "n/a"}, WAU ${totals.wau ?? "n/a"}, MAU ${totals.mau ?? "n/a"}, stickiness ${pct(totals.stickiness)}; events ${totals.events} (${totals.events_change_pct ?? "n/a"}%), sessions ${totals.sessions}; ` +
      `feature breadth ${totals.feature_breadth}; utilization ${pct(totals.license_utilization)} of ${totals.licensed_seats} seats; DAU change ${totals.dau_change_pct ?? "n/a"}%.`,
    scope === "account"
      ? ""
      : markdownTable(
          ["account", "DAU", "MAU", "stickiness", "events", "Δ events %", "utilization", "features"],
          input.accounts.map((a) => [
            a.name,
            a.dau,
            a.mau,
            pct(a.stickiness),
            a.events,
            a.events_change_pct,
            pct(a.license_utilization),
            a.feature_breadth,
          ]),
        ),
    input.nextCursor ? "More accounts: pass next_cursor." : "",
  ]
    .filter(Boolean)
    .join("\n");
}
