import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY, type ToolContext } from "../../platform/mcp/define-tool";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import {
  CATCH_LOOKBACK_DAYS,
  eventKey,
  lossByGroup,
  mean,
  type OutcomeEvent,
  RENEWAL_USAGE_SERIES_DAYS,
  type RuleFiring,
  ruleOutcome,
  SIGNAL_LOOKBACK_DAYS,
  SIGNALS,
  type SignalName,
  share,
  signalPresent,
  tenureBand,
  USAGE_SERIES_DAYS,
  usageBetween,
  usageDeclineFiring,
  usageSeries,
} from "./domain/postmortem";
import { describeRule, historicalRuleSql, type TriggerRule, triggerSchema } from "./queries/triggers";

/** Most campaigns whose triggers are evaluated historically in one post-mortem. */
const MAX_CAMPAIGNS = 20;

/**
 * The outcome events bound as `?2`: churns and renewals as {a: account id, d: day}. Queries join
 * them with CROSS JOIN so the events drive the loop and each lookup is a per-account index range.
 */
const EVENTS_CTE = "ev AS (SELECT value ->> '$.a' AS account_id, value ->> '$.d' AS event_day FROM json_each(?2))";

/** A stored timestamp or day column inside the lookback (?3 days) up to and including the event day. */
const inLookback = (column: string) =>
  `${column} >= date(ev.event_day, '-' || ?3 || ' days') AND ${column} < date(ev.event_day, '+1 day')`;

/**
 * First and last day a point-in-time fact happened within the lookback, per event. `rangeExpr` is
 * what the lookback is applied to: the stored timestamp itself when the per-account index is
 * ordered by it (an ISO timestamp compares with a day as its first ten characters do).
 */
const pointRule = (join: string, dayExpr: string, where: string, rangeExpr = dayExpr) =>
  `WITH ${EVENTS_CTE}
   SELECT ev.account_id, ev.event_day, min(${dayExpr}) AS first_day, max(${dayExpr}) AS last_day
     FROM ev CROSS JOIN ${join} AND ${inLookback(rangeExpr)}
    WHERE ${where} GROUP BY ev.account_id, ev.event_day`;

/** The fixed rules read from stored facts; usage decline is computed from each event's usage series. */
type StoredSignal = Exclude<SignalName, "usage_decline_30pct">;

/** The fixed rules' SQL; each selects (account_id, event_day, first_day, last_day). */
const FIXED_RULE_SQL: Record<StoredSignal, string> = {
  urgent_high_ticket: pointRule(
    "tickets t ON t.workspace_id = ?1 AND t.account_id = ev.account_id",
    "substr(t.created_at, 1, 10)",
    "t.priority IN ('urgent', 'high')",
    "t.created_at",
  ),
  detractor_nps: pointRule(
    "survey_responses s ON s.workspace_id = ?1 AND s.account_id = ev.account_id",
    "substr(s.responded_at, 1, 10)",
    // Unary plus keeps the planner on the per-account index rather than scanning all NPS responses.
    "+s.kind = 'nps' AND s.score <= 6",
    "s.responded_at",
  ),
  champion_left: pointRule(
    "contacts c ON c.workspace_id = ?1 AND c.account_id = ev.account_id",
    "substr(c.left_at, 1, 10)",
    "(c.is_champion = 1 OR c.is_decision_maker = 1)",
  ),
  payment_failure: pointRule(
    "payments p ON p.workspace_id = ?1 AND p.account_id = ev.account_id",
    "substr(coalesce(p.failed_at, p.due_date), 1, 10)",
    "(p.status = 'failed' OR p.failed_at IS NOT NULL)",
  ),
  health_red: pointRule(
    "health_scores h ON h.workspace_id = ?1 AND h.account_id = ev.account_id",
    "h.day",
    "h.band = 'red'",
  ),
};

/**
 * Each event's usage in the ?3 days before it, as "day:events" pairs with the day counted from ?4:
 * one read of its usage_daily range, from which the decline checkpoints and the trajectory buckets
 * are computed (a window over a dense calendar per event would sort millions of rows).
 */
const USAGE_SERIES_SQL = `WITH ${EVENTS_CTE}
  SELECT ev.account_id, ev.event_day,
         (SELECT group_concat(CAST(julianday(u.day) - julianday(?4) AS INTEGER) || ':' || u.events)
            FROM usage_daily u
           WHERE u.workspace_id = ?1 AND u.account_id = ev.account_id
             AND u.day >= date(ev.event_day, '-' || ?3 || ' days') AND u.day < ev.event_day) AS usage
    FROM ev`;

const groupRow = z.object({ group: z.string(), accounts: z.number().int(), lost_arr: z.number() });

const ruleRow = z.object({
  rule: z.string().describe("A fixed signal name, or the campaign's name."),
  source: z.string().describe('"fixed", or the campaign id whose trigger was evaluated on stored history.'),
  description: z.string(),
  caught: z.number().int().describe("Churned accounts for which the rule fired within the 180 days before churn."),
  share: z.number().nullable().describe("caught / churned accounts."),
  median_lead_days: z.number().nullable().describe("Median of churn day − first day the rule fired in those 180 days."),
  renewed_counted: z.number().int().describe("Renewals in the window the false-alarm rate is measured on."),
  renewed_flagged: z.number().int().describe("Renewals for which the rule fired within the 90 days before renewal."),
  false_alarm_rate: z.number().nullable().describe("renewed_flagged / renewed_counted."),
});

const accountRow = z.object({
  account_id: z.string(),
  name: z.string().nullable(),
  churn_day: z.string(),
  lost_arr: z.number(),
  reason: z.string().nullable().describe("contracts.outcome_reason as recorded by the team."),
  segment: z.string().nullable(),
  tenure_days: z.number().int().nullable(),
  tenure_band: z.string(),
  health: z
    .object({
      d90: z.number().nullable(),
      d60: z.number().nullable(),
      d30: z.number().nullable(),
      d0: z.number().nullable(),
    })
    .describe("Latest stored health score on or before churn − 90/60/30/0 days."),
  usage_events: z
    .object({ d90_61: z.number(), d60_31: z.number(), d30_1: z.number() })
    .describe("usage_daily events in the days before churn 90–61, 60–31 and 30–1."),
  signals: z.array(z.string()).describe("Signals present in the 90 days before churn."),
});
type AccountOut = z.output<typeof accountRow>;

/** Churn post-mortem: reasons, patterns, trajectories, preceding signals and rules that would have caught it. */
export const analyzeChurnPostmortem = defineTool({
  name: "analyze_churn_postmortem",
  title: "Churn post-mortem",
  toolset: "retention",
  description:
    "Post-mortem over churned accounts: churn events are contracts with outcome churned and outcome_date in the window (default the last 365 days), one per account (its latest); lost ARR = that contract's ARR. " +
    "Reasons (outcome_reason), segments and tenure bands (<1y, 1–2y, 2y+ from customer_since, else the first contract start, to churn) with accounts and lost ARR. " +
    "Trajectory: mean health score at churn −90/−60/−30/−0 days (latest stored score on or before each day; n per point) and mean usage events in days 90–61, 60–31 and 30–1 before churn (every churned account, 0 without usage). " +
    "Signals in the 90 days before churn, with counts and shares: urgent/high tickets, detractor NPS (0–6), champion or decision maker left, payment failures, usage decline ≥ 30% (the 30 days before churn vs the 30 before those), a red health score. " +
    "Prevention rules: those signals as rules plus every non-archived retention campaign's trigger (up to 20) evaluated on stored history (health_scores for band and drop rules, risk_scores for probability and factor rules); per rule the churned accounts caught (fired within the 180 days before churn), share, median lead time (churn day − first firing day), and false-alarm rate = renewals in the window (latest renewed/expanded/contracted outcome per account not churned in the window) for which the rule fired in the 90 days before renewal. " +
    "accounts: each churned account with its trajectory and signals, latest churn first, paginated.",
  input: {
    window_days: z
      .number()
      .int()
      .min(1)
      .max(1825)
      .default(365)
      .describe("Churns (and renewals) with outcome_date in the last window_days days up to today (default 365)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    window: z.object({ from: z.string(), to: z.string(), window_days: z.number().int() }),
    churned_accounts: z.number().int(),
    lost_arr: z.number(),
    renewed_accounts: z.number().int().describe("Renewals the false-alarm rates are measured on."),
    reasons: z.array(groupRow).describe('By outcome_reason ("unspecified" when empty), most ARR first.'),
    by_segment: z.array(groupRow).describe('By accounts.segment ("unsegmented" when empty).'),
    by_tenure: z.array(groupRow).describe("By tenure band at churn."),
    trajectory: z.object({
      health: z.array(
        z.object({
          days_before: z.number().int(),
          mean_score: z.number().nullable(),
          accounts_with_data: z.number().int(),
        }),
      ),
      usage: z.array(
        z.object({
          days_before: z.string().describe("Range of days before churn, e.g. 90–61."),
          mean_events: z.number().nullable(),
          accounts: z.number().int(),
        }),
      ),
    }),
    signals: z.array(
      z.object({
        signal: z.string(),
        description: z.string(),
        accounts: z.number().int(),
        share: z.number().nullable().describe("accounts / churned accounts."),
      }),
    ),
    rules: z.array(ruleRow),
    accounts: z.array(accountRow).describe("This page of churned accounts, latest churn first."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Why accounts churned this year", args: () => ({}) },
    { title: "Churn reasons over two years", args: () => ({ window_days: 730 }) },
  ],
  annotations: READ_ONLY,
  async handler(args, ctx) {
    const to = isoDay(ctx.now);
    const from = addDays(to, -args.window_days);
    const { churned, renewed } = await loadEvents(ctx, from, to);
    const outcomeEvents = [
      ...churned.map((e) => ({ a: e.account_id, d: e.event_day })),
      ...renewed.map((e) => ({ a: e.account_id, d: e.event_day })),
    ];
    const eventsJson = JSON.stringify(outcomeEvents);
    const ws = ctx.principal.workspaceId;
    const { results: campaignRows } = await ctx.env.DB.prepare(
      "SELECT id, name, trigger FROM retention_campaigns WHERE workspace_id = ?1 AND status <> 'archived' ORDER BY id LIMIT ?2",
    )
      .bind(ws, MAX_CAMPAIGNS)
      .all<{ id: string; name: string; trigger: string }>();
    const campaigns = campaignRows.flatMap((c) => {
      const trigger = triggerSchema.safeParse(JSON.parse(c.trigger));
      return trigger.success ? [{ ...c, rules: trigger.data }] : [];
    });
    const signalNames = Object.keys(SIGNALS) as SignalName[];
    const storedSignals = Object.keys(FIXED_RULE_SQL) as StoredSignal[];
    // Usage days are sent as days since the earliest day any event's series can reach.
    const seriesOrigin = addDays(from, -USAGE_SERIES_DAYS);
    const campaignRules = campaigns.flatMap((c) => c.rules.map((rule) => ({ campaign: c.id, rule })));
    const churnedJson = JSON.stringify(churned.map((e) => ({ a: e.account_id, d: e.event_day })));
    const renewedJson = JSON.stringify(renewed.map((e) => ({ a: e.account_id, d: e.event_day })));
    const statements = [
      ctx.env.DB.prepare(trajectorySql).bind(ws, churnedJson),
      ctx.env.DB.prepare(USAGE_SERIES_SQL).bind(ws, churnedJson, USAGE_SERIES_DAYS, seriesOrigin),
      ctx.env.DB.prepare(USAGE_SERIES_SQL).bind(ws, renewedJson, RENEWAL_USAGE_SERIES_DAYS, seriesOrigin),
      ...storedSignals.map((s) => ctx.env.DB.prepare(FIXED_RULE_SQL[s]).bind(ws, eventsJson, CATCH_LOOKBACK_DAYS)),
      ...campaignRules.map(({ rule }) => {
        const { sql, value } = historicalRuleSql(rule);
        return ctx.env.DB.prepare(`WITH ${EVENTS_CTE} ${sql}`).bind(ws, eventsJson, CATCH_LOOKBACK_DAYS, value);
      }),
    ];
    const results = outcomeEvents.length > 0 ? await ctx.env.DB.batch(statements) : [];
    const healthAt = new Map(
      ((results[0]?.results ?? []) as HealthTrajectoryRow[]).map((r) => [eventKey(r), r] as const),
    );
    const seriesOf = (index: number) =>
      new Map(
        ((results[index]?.results ?? []) as (OutcomeEvent & { usage: string | null })[]).map(
          (r) => [eventKey(r), usageSeries(r.usage, daysBetween(seriesOrigin, r.event_day))] as const,
        ),
      );
    const usage = seriesOf(1);
    const renewalUsage = seriesOf(2);
    const firingsOf = (index: number) =>
      new Map(((results[index]?.results ?? []) as (OutcomeEvent & RuleFiring)[]).map((r) => [eventKey(r), r] as const));
    const declineFirings = new Map<string, RuleFiring>();
    for (const e of churned) {
      const fired = usageDeclineFiring(usage.get(eventKey(e)) ?? [], e.event_day);
      if (fired) declineFirings.set(eventKey(e), fired);
    }
    for (const e of renewed) {
      const fired = usageDeclineFiring(renewalUsage.get(eventKey(e)) ?? [], e.event_day, SIGNAL_LOOKBACK_DAYS);
      if (fired) declineFirings.set(eventKey(e), fired);
    }
    const fixedFirings = new Map<SignalName, Map<string, RuleFiring>>([
      ...storedSignals.map((s, i) => [s, firingsOf(3 + i)] as const),
      ["usage_decline_30pct", declineFirings],
    ]);
    const campaignFirings = campaigns.map((c) => {
      const merged = new Map<string, RuleFiring>();
      campaignRules.forEach((r, i) => {
        if (r.campaign !== c.id) return;
        for (const [key, f] of firingsOf(3 + storedSignals.length + i)) {
          const seen = merged.get(key);
          merged.set(key, {
            first_day: seen && seen.first_day < f.first_day ? seen.first_day : f.first_day,
            last_day: seen && seen.last_day > f.last_day ? seen.last_day : f.last_day,
          });
        }
      });
      return { campaign: c, firings: merged };
    });

    const accounts: AccountOut[] = churned.map((e) => {
      const h = healthAt.get(eventKey(e));
      const series = usage.get(eventKey(e)) ?? [];
      const tenure = e.tenure_start ? daysBetween(e.tenure_start, e.event_day) : null;
      return {
        account_id: e.account_id,
        name: e.name,
        churn_day: e.event_day,
        lost_arr: e.lost_arr,
        reason: e.reason,
        segment: e.segment,
        tenure_days: tenure,
        tenure_band: tenureBand(tenure),
        health: { d90: h?.h90 ?? null, d60: h?.h60 ?? null, d30: h?.h30 ?? null, d0: h?.h0 ?? null },
        usage_events: {
          d90_61: usageBetween(series, 61, 90),
          d60_31: usageBetween(series, 31, 60),
          d30_1: usageBetween(series, 1, 30),
        },
        signals: signalNames.filter((s) => signalPresent(s, e, fixedFirings.get(s)?.get(eventKey(e)))),
      };
    });
    const healthPoint = (days: number, pick: (a: AccountOut) => number | null) => {
      const values = accounts.flatMap((a) => (pick(a) === null ? [] : [pick(a) as number]));
      return { days_before: days, mean_score: mean(values), accounts_with_data: values.length };
    };
    const usageBucket = (label: string, pick: (a: AccountOut) => number) => ({
      days_before: label,
      mean_events: mean(accounts.map(pick)),
      accounts: accounts.length,
    });
    const signals = signalNames.map((s) => {
      const n = accounts.filter((a) => a.signals.includes(s)).length;
      return { signal: s, description: SIGNALS[s], accounts: n, share: share(n, churned.length) };
    });
    const rules = [
      ...signalNames.map((s) => ({
        rule: s,
        source: "fixed",
        description: SIGNALS[s],
        ...ruleOutcome(churned, renewed, fixedFirings.get(s) ?? new Map()),
      })),
      ...campaignFirings.map(({ campaign, firings }) => ({
        rule: campaign.name,
        source: campaign.id,
        description: `campaign trigger: ${campaign.rules.map((r: TriggerRule) => describeRule(r)).join(" OR ")}`,
        ...ruleOutcome(churned, renewed, firings),
      })),
    ];

    const sorted = [...accounts].sort(
      (a, b) => b.churn_day.localeCompare(a.churn_day) || a.account_id.localeCompare(b.account_id),
    );
    const fingerprint = queryFingerprint(["analyze_churn_postmortem", from, to]);
    const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
    const after = position
      ? sorted.filter(
          (a) =>
            a.churn_day < String(position.k[0]) ||
            (a.churn_day === String(position.k[0]) && a.account_id > position.id),
        )
      : sorted;
    const page = after.slice(0, args.limit);
    const last = page.at(-1);
    const next =
      after.length > args.limit && last
        ? encodeCursor({ k: [last.churn_day], id: last.account_id, q: fingerprint })
        : null;
    const lostArr = churned.reduce((s, e) => s + e.lost_arr, 0);
    const data = {
      window: { from, to, window_days: args.window_days },
      churned_accounts: churned.length,
      lost_arr: lostArr,
      renewed_accounts: renewed.length,
      reasons: lossByGroup(churned, (e) => e.reason?.trim() || "unspecified"),
      by_segment: lossByGroup(churned, (e) => e.segment || "unsegmented"),
      by_tenure: lossByGroup(accounts, (a) => a.tenure_band),
      trajectory: {
        health: [
          healthPoint(90, (a) => a.health.d90),
          healthPoint(60, (a) => a.health.d60),
          healthPoint(30, (a) => a.health.d30),
          healthPoint(0, (a) => a.health.d0),
        ],
        usage: [
          usageBucket("90–61", (a) => a.usage_events.d90_61),
          usageBucket("60–31", (a) => a.usage_events.d60_31),
          usageBucket("30–1", (a) => a.usage_events.d30_1),
        ],
      },
      signals,
      rules,
      accounts: page,
      next_cursor: next,
    };
    const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 1000) / 10}%`);
    return {
      data,
      text: [
        `${churned.length} churned account(s) ${from}..${to}, lost ARR ${lostArr}; top reason: ${data.reasons[0]?.group ?? "none"}. Rules measured against ${renewed.length} renewal(s).`,
        markdownTable(
          ["Rule", "Caught", "Share", "Median lead days", "False alarms"],
          rules.map((r) => [r.rule, r.caught, pct(r.share), r.median_lead_days, pct(r.false_alarm_rate)]),
        ),
      ].join("\n"),
    };
  },
});

interface ChurnEvent extends OutcomeEvent {
  name: string | null;
  lost_arr: number;
  reason: string | null;
  segment: string | null;
  tenure_start: string | null;
}

interface HealthTrajectoryRow extends OutcomeEvent {
  h90: number | null;
  h60: number | null;
  h30: number | null;
  h0: number | null;
}

/** Churns (latest churned contract per account) and renewals (latest other outcome, accounts not churned) in the window. */
async function loadEvents(ctx: ToolContext, from: string, to: string) {
  const ws = ctx.principal.workspaceId;
  const end = addDays(to, 1);
  const [churnedRes, renewedRes] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `SELECT e.account_id, e.event_day, a.name, e.lost_arr, e.reason, a.segment,
              coalesce(a.customer_since, (SELECT min(x.start_date) FROM contracts x
                                           WHERE x.workspace_id = ?1 AND x.account_id = e.account_id)) AS tenure_start
         FROM (SELECT c.account_id, substr(c.outcome_date, 1, 10) AS event_day, c.arr AS lost_arr, c.outcome_reason AS reason,
                      row_number() OVER (PARTITION BY c.account_id ORDER BY c.outcome_date DESC, c.id DESC) AS rn
                 FROM contracts c
                WHERE c.workspace_id = ?1 AND c.outcome_date >= ?2 AND c.outcome_date < ?3 AND c.outcome = 'churned') e
         LEFT JOIN accounts a ON a.workspace_id = ?1 AND a.id = e.account_id
        WHERE e.rn = 1 ORDER BY e.account_id`,
    ).bind(ws, from, end),
    ctx.env.DB.prepare(
      `SELECT account_id, event_day FROM (
         SELECT c.account_id, substr(c.outcome_date, 1, 10) AS event_day,
                row_number() OVER (PARTITION BY c.account_id ORDER BY c.outcome_date DESC, c.id DESC) AS rn
           FROM contracts c
          WHERE c.workspace_id = ?1 AND c.outcome_date >= ?2 AND c.outcome_date < ?3
            AND c.outcome IN ('renewed', 'expanded', 'contracted'))
        WHERE rn = 1 AND account_id NOT IN (
          SELECT account_id FROM contracts WHERE workspace_id = ?1 AND outcome_date >= ?2 AND outcome_date < ?3
             AND outcome = 'churned')
        ORDER BY account_id`,
    ).bind(ws, from, end),
  ]);
  return {
    churned: (churnedRes?.results ?? []) as ChurnEvent[],
    renewed: (renewedRes?.results ?? []) as OutcomeEvent[],
  };
}

/** Health at churn −90/−60/−30/−0: the latest stored score on or before each day. */
const trajectorySql = `WITH ${EVENTS_CTE}
  SELECT ev.account_id, ev.event_day,
    ${[90, 60, 30, 0]
      .map(
        (d) => `(SELECT h.score FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = ev.account_id
                   AND h.day <= date(ev.event_day, '-${d} days') ORDER BY h.day DESC LIMIT 1) AS h${d}`,
      )
      .join(",\n    ")}
  FROM ev`;
