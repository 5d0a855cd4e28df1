/**
 * One health computation over plain rows: each account's evidence and measure values from its
 * aggregates, its score against its history, the rows stored, and the alerts it raises.
 */
import { round } from "../../../platform/lib/stats";
import { daysBetween } from "../../../platform/lib/time";
import {
  type Band,
  type BandMove,
  bandMoves,
  configForSegment,
  type HealthConfig,
  type HealthResult,
  type MeasureValues,
  type Scorecard,
  scoreHealth,
  trend,
} from "./model";

/** Most source-record ids listed per account and kind. */
const MAX_IDS = 20;

/** The records a score was computed from, per account. */
export interface HealthEvidence {
  usage_days_with_data_30d: number;
  usage_days_with_data_60d: number;
  active_user_days_30d: number;
  events_30d: number;
  events_prior_30d: number;
  licensed_seats: number;
  activity_ids_30d: string[];
  activities_30d: number;
  email_opens_30d: number;
  email_clicks_30d: number;
  open_urgent_high_ticket_ids: string[];
  tickets_created_30d: number;
  latest_nps_response_id: string | null;
  csat_responses_90d: number;
  problem_payment_ids_90d: string[];
  payments_90d: number;
  renewal_date: string | null;
}

/** One account's computed and stored score with its explanation. */
export interface AccountHealth {
  account_id: string;
  account_name: string;
  day: string;
  /** The segment whose scorecard scored it, or null for the workspace model. */
  scorecard: string | null;
  /** The bands the account was judged by (its scorecard's or the workspace's). */
  bands: HealthConfig["bands"];
  result: HealthResult;
  evidence: HealthEvidence;
  previous: { day: string; score: number; band: Band } | null;
  score_7d_ago: number | null;
  score_30d_ago: number | null;
  trend_7d: number | null;
  trend_30d: number | null;
  moves: { up: BandMove | null; down: BandMove | null };
  alert: { reason: string; task_id: string; created: boolean; slack_queued: boolean } | null;
}

/** What one computation over a set of accounts did. */
export interface HealthRunSummary {
  accounts: AccountHealth[];
  stored: number;
  not_scored: string[];
  alerts_created: number;
}

/** The model configuration a computation scores with, from the workspace settings. */
export type HealthRunConfig = HealthConfig & { alert_drop: number; timezone: string; scorecards: Scorecard[] };

/** An account to score. */
export interface HealthAccountRow {
  id: string;
  name: string;
  renewal_date: string | null;
  segment: string | null;
}

/** Usage over the last 60 complete days: the last 30 against the 30 before. */
export interface UsageAggregate {
  account_id: string;
  active_user_days: number;
  events_30: number;
  events_prior: number;
  days_30: number;
  days_60: number;
}

/** A stored score an account is compared with: `which` is previous (latest before the day), d7 or d30. */
export interface ScoreHistoryRow {
  account_id: string;
  which: string;
  day: string;
  score: number;
  band: Band;
}

/** The per-account aggregates one computation reads, each list holding at most one row per account. */
export interface HealthInputRows {
  accounts: HealthAccountRow[];
  usage: UsageAggregate[];
  seats: { account_id: string; seats: number }[];
  /** Activities of the last 30 days: count and ids (JSON, newest first). */
  activities: { account_id: string; n: number; ids: string }[];
  /** Outbox messages of the last 30 days: opens and clicks. */
  emails: { account_id: string; opens: number; clicks: number }[];
  /** Tickets: open urgent/high ids (JSON with nulls) and the count created in the last 30 days. */
  tickets: { account_id: string; open_ids: string; created_30: number }[];
  /** The latest NPS response up to the day. */
  nps: { account_id: string; id: string; score: number }[];
  /** CSAT responses of the last 90 days: mean and count. */
  csat: { account_id: string; mean: number; n: number }[];
  /** Payments of the last 90 days: count and failed or past-due open ids (JSON with nulls). */
  payments: { account_id: string; n: number; problem_ids: string }[];
  history: ScoreHistoryRow[];
}

/** One account's aggregates, absent where it has no such records. */
interface AccountAggregates {
  usage: UsageAggregate | undefined;
  seats: number;
  activities: { n: number; ids: string } | undefined;
  emails: { opens: number; clicks: number } | undefined;
  tickets: { open_ids: string; created_30: number } | undefined;
  nps: { id: string; score: number } | undefined;
  csat: { mean: number; n: number } | undefined;
  payments: { n: number; problem_ids: string } | undefined;
}

const parseIds = (text: string | null): string[] =>
  text ? (JSON.parse(text) as (string | null)[]).filter((v): v is string => v !== null).slice(0, MAX_IDS) : [];

/** How many non-null ids a JSON id list holds. */
const countIds = (text: string) => (JSON.parse(text) as (string | null)[]).filter((v) => v !== null).length;

/** An account's evidence: its aggregates with the ids listed (at most {@link MAX_IDS} per kind). */
export function healthEvidence(renewalDate: string | null, agg: AccountAggregates): HealthEvidence {
  const { usage: u, activities: act, emails: mail, tickets: t, nps: n, csat: c, payments: p } = agg;
  return {
    usage_days_with_data_30d: u?.days_30 ?? 0,
    usage_days_with_data_60d: u?.days_60 ?? 0,
    active_user_days_30d: u?.active_user_days ?? 0,
    events_30d: u?.events_30 ?? 0,
    events_prior_30d: u?.events_prior ?? 0,
    licensed_seats: agg.seats,
    activity_ids_30d: parseIds(act?.ids ?? null),
    activities_30d: act?.n ?? 0,
    email_opens_30d: mail?.opens ?? 0,
    email_clicks_30d: mail?.clicks ?? 0,
    open_urgent_high_ticket_ids: parseIds(t?.open_ids ?? null),
    tickets_created_30d: t?.created_30 ?? 0,
    latest_nps_response_id: n?.id ?? null,
    csat_responses_90d: c?.n ?? 0,
    problem_payment_ids_90d: parseIds(p?.problem_ids ?? null),
    payments_90d: p?.n ?? 0,
    renewal_date: renewalDate,
  };
}

/** The measure values the model scores, from an account's evidence and aggregates on `day`. */
export function measureValues(evidence: HealthEvidence, agg: AccountAggregates, day: string): MeasureValues {
  const seatCount = agg.seats;
  const hasUsage = evidence.usage_days_with_data_60d > 0;
  return {
    // The mean over days with data, as get_account_overview defines license utilization.
    license_utilization:
      evidence.usage_days_with_data_30d > 0 && seatCount > 0
        ? round(evidence.active_user_days_30d / evidence.usage_days_with_data_30d / seatCount)
        : null,
    events_trend:
      hasUsage && evidence.events_prior_30d > 0 ? round(evidence.events_30d / evidence.events_prior_30d - 1) : null,
    touchpoints: evidence.activities_30d + evidence.email_opens_30d + evidence.email_clicks_30d,
    open_urgent_high_tickets: agg.tickets ? countIds(agg.tickets.open_ids) : 0,
    tickets_created: evidence.tickets_created_30d,
    latest_nps: agg.nps ? agg.nps.score : null,
    csat_mean: agg.csat ? round(agg.csat.mean) : null,
    problem_payments: agg.payments ? countIds(agg.payments.problem_ids) : null,
    days_to_renewal: evidence.renewal_date ? daysBetween(day, evidence.renewal_date) : null,
  };
}

const byAccount = <T extends { account_id: string }>(rows: readonly T[]) =>
  new Map(rows.map((row) => [row.account_id, row]));

/**
 * Scores every account of the input with its segment's scorecard (else the workspace model) and
 * compares it with its history; accounts with no component carrying weight are not scored.
 */
export function scoreAccounts(
  inputs: HealthInputRows,
  config: HealthRunConfig,
  day: string,
): { computed: AccountHealth[]; notScored: string[] } {
  const usage = byAccount(inputs.usage);
  const seats = byAccount(inputs.seats);
  const activities = byAccount(inputs.activities);
  const emails = byAccount(inputs.emails);
  const tickets = byAccount(inputs.tickets);
  const nps = byAccount(inputs.nps);
  const csat = byAccount(inputs.csat);
  const payments = byAccount(inputs.payments);
  const history = new Map<string, { day: string; score: number; band: Band }>();
  for (const row of inputs.history) {
    history.set(`${row.account_id}:${row.which}`, { day: row.day, score: row.score, band: row.band });
  }

  const computed: AccountHealth[] = [];
  const notScored: string[] = [];
  for (const account of inputs.accounts) {
    const agg: AccountAggregates = {
      usage: usage.get(account.id),
      seats: seats.get(account.id)?.seats ?? 0,
      activities: activities.get(account.id),
      emails: emails.get(account.id),
      tickets: tickets.get(account.id),
      nps: nps.get(account.id),
      csat: csat.get(account.id),
      payments: payments.get(account.id),
    };
    const evidence = healthEvidence(account.renewal_date, agg);
    const accountConfig = configForSegment(config, config.scorecards, account.segment);
    const result = scoreHealth(measureValues(evidence, agg, day), accountConfig);
    if (result.score === null || result.band === null) {
      notScored.push(account.id);
      continue;
    }
    const previous = history.get(`${account.id}:previous`) ?? null;
    const score7 = history.get(`${account.id}:d7`)?.score ?? null;
    const score30 = history.get(`${account.id}:d30`)?.score ?? null;
    computed.push({
      account_id: account.id,
      account_name: account.name,
      day,
      scorecard: accountConfig.scorecard,
      bands: accountConfig.bands,
      result,
      evidence,
      previous,
      score_7d_ago: score7,
      score_30d_ago: score30,
      trend_7d: trend(result.score, score7),
      trend_30d: trend(result.score, score30),
      moves: bandMoves(result, accountConfig.bands),
      alert: null,
    });
  }
  return { computed, notScored };
}

/** One account's score as stored in `health_scores` and on the account. */
export interface StoredScore {
  id: string;
  score: number | null;
  band: Band | null;
  components: unknown[];
}

/** The rows to store: score, band and components (the array shape get_account_overview reads back). */
export function storedScores(computed: readonly AccountHealth[]): StoredScore[] {
  return computed.map((a) => ({
    id: a.account_id,
    score: a.result.score,
    band: a.result.band,
    // An array of components, the shape get_account_overview reads back.
    components: a.result.components.map((c) => ({
      component: c.component,
      preset: a.result.preset,
      normalized: c.normalized,
      weight_configured: c.weight_configured,
      weight_effective: c.weight_effective,
      contribution: c.contribution,
      dropped_reason: a.result.dropped.find((d) => d.component === c.component)?.reason ?? null,
      measures: c.measures.map((m) => ({ name: m.name, raw: m.raw, score: m.score })),
    })),
  }));
}

/** An alert an account's score raises: its task title and reason, and the task id fixed per account and day. */
export interface AlertCandidate {
  account: AccountHealth;
  title: string;
  reason: string;
  taskId: string;
}

/**
 * Alerts: a fall into a lower band than the latest score before today, or a drop of more than
 * alert_drop points against 7 days earlier. The task id is fixed per account and day.
 */
export function alertCandidates(computed: readonly AccountHealth[], alertDrop: number, day: string): AlertCandidate[] {
  const rank: Record<Band, number> = { red: 0, yellow: 1, green: 2 };
  return computed.flatMap((a) => {
    const band = a.result.band as Band;
    const crossed = a.previous !== null && rank[band] < rank[a.previous.band];
    const dropped = a.trend_7d !== null && -a.trend_7d > alertDrop;
    if (!crossed && !dropped) return [];
    const title = crossed
      ? `Health fell ${a.previous?.band} → ${band}: ${a.account_name}`
      : `Health dropped ${round(-(a.trend_7d ?? 0))} points in 7 days: ${a.account_name}`;
    const reason = crossed
      ? `band ${a.previous?.band} (${a.previous?.score} on ${a.previous?.day}) → ${band} (${a.result.score})`
      : `score ${a.score_7d_ago} → ${a.result.score} in 7 days (alert drop ${alertDrop})`;
    return [{ account: a, title, reason, taskId: `tsk_health_${a.account_id}_${day}` }];
  });
}
