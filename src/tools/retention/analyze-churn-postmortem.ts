import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { describeRule, type TriggerRule, triggerSchema } from "./domain/campaign-rules";
import {
  CATCH_LOOKBACK_DAYS,
  eventKey,
  lossByGroup,
  mean,
  type OutcomeEvent,
  RENEWAL_USAGE_SERIES_DAYS,
  type RuleFiring,
  type RuleOutcome,
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
import {
  type CampaignTriggerRow,
  type ChurnEvent,
  type FiringRow,
  type HealthTrajectoryRow,
  type PostmortemFacts,
  postmortemCampaigns,
  postmortemEvents,
  postmortemFacts,
  STORED_SIGNALS,
  type UsageSeriesRow,
} from "./queries/postmortem";

/** Most campaigns whose triggers are evaluated historically in one post-mortem. */
const MAX_CAMPAIGNS = 20;

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
    const ws = ctx.principal.workspaceId;
    const to = isoDay(ctx.now);
    const from = addDays(to, -args.window_days);
    const { churned, renewed } = await postmortemEvents(ctx.env.DB, ws, { from, end: addDays(to, 1) });
    const campaigns = parseCampaigns(await postmortemCampaigns(ctx.env.DB, ws, MAX_CAMPAIGNS));
    // Usage days are sent as days since the earliest day any event's series can reach.
    const seriesOrigin = addDays(from, -USAGE_SERIES_DAYS);
    const campaignRules = campaigns.flatMap((c) => c.rules.map((rule) => ({ campaign: c.id, rule })));
    const facts = await postmortemFacts(ctx.env.DB, ws, {
      churned,
      renewed,
      seriesOrigin,
      usageDays: USAGE_SERIES_DAYS,
      renewalUsageDays: RENEWAL_USAGE_SERIES_DAYS,
      lookbackDays: CATCH_LOOKBACK_DAYS,
      campaignRules: campaignRules.map((r) => r.rule),
    });
    const usage = seriesByEvent(facts.churnUsage, seriesOrigin);
    const fixedFirings = fixedSignalFirings(
      facts,
      churned,
      renewed,
      usage,
      seriesByEvent(facts.renewalUsage, seriesOrigin),
    );
    const healthAt = new Map(facts.health.map((r) => [eventKey(r), r] as const));
    const accounts = churned.map((e) =>
      churnedAccount(e, healthAt.get(eventKey(e)), usage.get(eventKey(e)) ?? [], fixedFirings),
    );
    const rules = preventionRules(
      churned,
      renewed,
      fixedFirings,
      campaigns.map((campaign) => ({
        campaign,
        firings: campaignFirings(campaign.id, campaignRules, facts.campaignRules),
      })),
    );
    const fingerprint = queryFingerprint(["analyze_churn_postmortem", from, to]);
    const { page, next } = accountsPage(
      accounts,
      args.cursor ? decodeCursor(args.cursor, fingerprint) : null,
      args.limit,
      fingerprint,
    );
    const lostArr = churned.reduce((s, e) => s + e.lost_arr, 0);
    const data = {
      window: { from, to, window_days: args.window_days },
      churned_accounts: churned.length,
      lost_arr: lostArr,
      renewed_accounts: renewed.length,
      reasons: lossByGroup(churned, (e) => e.reason?.trim() || "unspecified"),
      by_segment: lossByGroup(churned, (e) => e.segment || "unsegmented"),
      by_tenure: lossByGroup(accounts, (a) => a.tenure_band),
      trajectory: trajectoryOf(accounts),
      signals: SIGNAL_NAMES.map((s) => {
        const n = accounts.filter((a) => a.signals.includes(s)).length;
        return { signal: s, description: SIGNALS[s], accounts: n, share: share(n, churned.length) };
      }),
      rules,
      accounts: page,
      next_cursor: next,
    };
    return { data, text: postmortemText(data) };
  },
});

/** The campaigns whose stored trigger parses, with its rules; the others are left out. */
function parseCampaigns(rows: readonly CampaignTriggerRow[]) {
  return rows.flatMap((c) => {
    const trigger = triggerSchema.safeParse(JSON.parse(c.trigger));
    return trigger.success ? [{ ...c, rules: trigger.data }] : [];
  });
}

/** Every prevention rule's outcome: the fixed signals, then each campaign's trigger. */
function preventionRules(
  churned: readonly OutcomeEvent[],
  renewed: readonly OutcomeEvent[],
  fixedFirings: ReadonlyMap<SignalName, ReadonlyMap<string, RuleFiring>>,
  campaignFirings: readonly {
    campaign: CampaignTriggerRow & { rules: TriggerRule[] };
    firings: Map<string, RuleFiring>;
  }[],
) {
  return [
    ...SIGNAL_NAMES.map((s) => ({
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
}

/** The answer's text: the headline and the rules table. */
function postmortemText(data: {
  window: { from: string; to: string };
  churned_accounts: number;
  lost_arr: number;
  renewed_accounts: number;
  reasons: readonly { group: string }[];
  rules: readonly (RuleOutcome & { rule: string })[];
}): string {
  const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 1000) / 10}%`);
  return [
    `${data.churned_accounts} churned account(s) ${data.window.from}..${data.window.to}, lost ARR ${data.lost_arr}; top reason: ${data.reasons[0]?.group ?? "none"}. Rules measured against ${data.renewed_accounts} renewal(s).`,
    markdownTable(
      ["Rule", "Caught", "Share", "Median lead days", "False alarms"],
      data.rules.map((r) => [r.rule, r.caught, pct(r.share), r.median_lead_days, pct(r.false_alarm_rate)]),
    ),
  ].join("\n");
}

const SIGNAL_NAMES = Object.keys(SIGNALS) as SignalName[];

/** Each event's usage series, keyed by {@link eventKey}. */
function seriesByEvent(rows: readonly UsageSeriesRow[], seriesOrigin: string): Map<string, number[]> {
  return new Map(rows.map((r) => [eventKey(r), usageSeries(r.usage, daysBetween(seriesOrigin, r.event_day))] as const));
}

/** Firings keyed by {@link eventKey}. */
function firingsByEvent(rows: readonly FiringRow[]): Map<string, RuleFiring> {
  return new Map(rows.map((r) => [eventKey(r), r] as const));
}

/** Each fixed signal's firings per event: the stored rules' from SQL, usage decline from the usage series. */
function fixedSignalFirings(
  facts: PostmortemFacts,
  churned: readonly OutcomeEvent[],
  renewed: readonly OutcomeEvent[],
  usage: ReadonlyMap<string, number[]>,
  renewalUsage: ReadonlyMap<string, number[]>,
): Map<SignalName, Map<string, RuleFiring>> {
  const declineFirings = new Map<string, RuleFiring>();
  for (const e of churned) {
    const fired = usageDeclineFiring(usage.get(eventKey(e)) ?? [], e.event_day);
    if (fired) declineFirings.set(eventKey(e), fired);
  }
  for (const e of renewed) {
    const fired = usageDeclineFiring(renewalUsage.get(eventKey(e)) ?? [], e.event_day, SIGNAL_LOOKBACK_DAYS);
    if (fired) declineFirings.set(eventKey(e), fired);
  }
  return new Map<SignalName, Map<string, RuleFiring>>([
    ...STORED_SIGNALS.map((s) => [s, firingsByEvent(facts.fixed.get(s) ?? [])] as const),
    ["usage_decline_30pct", declineFirings],
  ]);
}

/** One campaign's firings per event: its rules' firings merged (earliest first day, latest last day). */
function campaignFirings(
  campaignId: string,
  campaignRules: readonly { campaign: string }[],
  ruleFirings: readonly FiringRow[][],
): Map<string, RuleFiring> {
  const merged = new Map<string, RuleFiring>();
  campaignRules.forEach((r, i) => {
    if (r.campaign !== campaignId) return;
    for (const [key, f] of firingsByEvent(ruleFirings[i] ?? [])) {
      const seen = merged.get(key);
      merged.set(key, {
        first_day: seen && seen.first_day < f.first_day ? seen.first_day : f.first_day,
        last_day: seen && seen.last_day > f.last_day ? seen.last_day : f.last_day,
      });
    }
  });
  return merged;
}

/** One churned account with its tenure, trajectory and signals. */
function churnedAccount(
  e: ChurnEvent,
  h: HealthTrajectoryRow | undefined,
  series: readonly number[],
  fixedFirings: ReadonlyMap<SignalName, ReadonlyMap<string, RuleFiring>>,
): AccountOut {
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
    signals: SIGNAL_NAMES.filter((s) => signalPresent(s, e, fixedFirings.get(s)?.get(eventKey(e)))),
  };
}

/** Mean health at churn −90/−60/−30/−0 (accounts with data) and mean usage per bucket (every account). */
function trajectoryOf(accounts: readonly AccountOut[]) {
  const healthPoint = (days: number, pick: (a: AccountOut) => number | null) => {
    const values = accounts.flatMap((a) => (pick(a) === null ? [] : [pick(a) as number]));
    return { days_before: days, mean_score: mean(values), accounts_with_data: values.length };
  };
  const usageBucket = (label: string, pick: (a: AccountOut) => number) => ({
    days_before: label,
    mean_events: mean(accounts.map(pick)),
    accounts: accounts.length,
  });
  return {
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
  };
}

/** The page of churned accounts past the cursor, latest churn first (then account id), and the next cursor. */
function accountsPage(
  accounts: readonly AccountOut[],
  position: { k: readonly unknown[]; id: string } | null,
  limit: number,
  fingerprint: string,
): { page: AccountOut[]; next: string | null } {
  const sorted = [...accounts].sort(
    (a, b) => b.churn_day.localeCompare(a.churn_day) || a.account_id.localeCompare(b.account_id),
  );
  const after = position
    ? sorted.filter(
        (a) =>
          a.churn_day < String(position.k[0]) || (a.churn_day === String(position.k[0]) && a.account_id > position.id),
      )
    : sorted;
  const page = after.slice(0, limit);
  const last = page.at(-1);
  const next =
    after.length > limit && last ? encodeCursor({ k: [last.churn_day], id: last.account_id, q: fingerprint }) : null;
  return { page, next };
}
