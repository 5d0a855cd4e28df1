import type { TriggerRule } from "../domain/campaign-rules";
import type { OutcomeEvent, RuleFiring, SignalName } from "../domain/postmortem";
import { historicalRuleSql } from "./triggers";

/**
 * The SQL of the churn post-mortem: churn and renewal events of a window, the campaigns whose
 * triggers are evaluated, and per event its health trajectory, usage series and rule firings.
 */

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
export type StoredSignal = Exclude<SignalName, "usage_decline_30pct">;

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

/** The fixed rules read from stored facts, in statement order. */
export const STORED_SIGNALS = Object.keys(FIXED_RULE_SQL) as StoredSignal[];

/** A churn event: the account's latest churned contract in the window. */
export interface ChurnEvent extends OutcomeEvent {
  name: string | null;
  lost_arr: number;
  reason: string | null;
  segment: string | null;
  /** customer_since, else the first contract start. */
  tenure_start: string | null;
}

/**
 * Churns (latest churned contract per account, outcome_date in `from`..before `end`) and renewals
 * (latest renewed, expanded or contracted outcome per account not churned in that window), each
 * ordered by account.
 */
export async function postmortemEvents(
  db: D1Database,
  workspaceId: string,
  window: { from: string; end: string },
): Promise<{ churned: ChurnEvent[]; renewed: OutcomeEvent[] }> {
  const { from, end } = window;
  const [churnedRes, renewedRes] = await db.batch([
    db
      .prepare(
        `SELECT e.account_id, e.event_day, a.name, e.lost_arr, e.reason, a.segment,
              coalesce(a.customer_since, (SELECT min(x.start_date) FROM contracts x
                                           WHERE x.workspace_id = ?1 AND x.account_id = e.account_id)) AS tenure_start
         FROM (SELECT c.account_id, substr(c.outcome_date, 1, 10) AS event_day, c.arr AS lost_arr, c.outcome_reason AS reason,
                      row_number() OVER (PARTITION BY c.account_id ORDER BY c.outcome_date DESC, c.id DESC) AS rn
                 FROM contracts c
                WHERE c.workspace_id = ?1 AND c.outcome_date >= ?2 AND c.outcome_date < ?3 AND c.outcome = 'churned') e
         LEFT JOIN accounts a ON a.workspace_id = ?1 AND a.id = e.account_id
        WHERE e.rn = 1 ORDER BY e.account_id`,
      )
      .bind(workspaceId, from, end),
    db
      .prepare(
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
      )
      .bind(workspaceId, from, end),
  ]);
  return {
    churned: (churnedRes?.results ?? []) as ChurnEvent[],
    renewed: (renewedRes?.results ?? []) as OutcomeEvent[],
  };
}

/** A retention campaign whose trigger a post-mortem evaluates (the trigger as stored JSON text). */
export interface CampaignTriggerRow {
  id: string;
  name: string;
  trigger: string;
}

/** The workspace's non-archived retention campaigns, in id order, at most `limit`. */
export async function postmortemCampaigns(
  db: D1Database,
  workspaceId: string,
  limit: number,
): Promise<CampaignTriggerRow[]> {
  const { results } = await db
    .prepare(
      "SELECT id, name, trigger FROM retention_campaigns WHERE workspace_id = ?1 AND status <> 'archived' ORDER BY id LIMIT ?2",
    )
    .bind(workspaceId, limit)
    .all<CampaignTriggerRow>();
  return results;
}

/** Health at churn −90/−60/−30/−0 of one churn event. */
export interface HealthTrajectoryRow extends OutcomeEvent {
  h90: number | null;
  h60: number | null;
  h30: number | null;
  h0: number | null;
}

/** One event's usage series as "day:events" pairs, days counted from the series origin. */
export interface UsageSeriesRow extends OutcomeEvent {
  usage: string | null;
}

/** The first and last day a rule fired within the lookback up to one event. */
export type FiringRow = OutcomeEvent & RuleFiring;

/** What the post-mortem reads per event, from one batch. */
export interface PostmortemFacts {
  health: HealthTrajectoryRow[];
  churnUsage: UsageSeriesRow[];
  renewalUsage: UsageSeriesRow[];
  /** Firings of each stored fixed rule, over churns and renewals. */
  fixed: Map<StoredSignal, FiringRow[]>;
  /** Firings of each campaign rule, in the order given. */
  campaignRules: FiringRow[][];
}

/**
 * In one batch (none without events): the churns' health trajectory, the churns' usage over the
 * `usageDays` before them and the renewals' over `renewalUsageDays` (days counted from
 * `seriesOrigin`), and the firings of every stored fixed rule and campaign rule within
 * `lookbackDays` up to each churn and renewal.
 */
export async function postmortemFacts(
  db: D1Database,
  workspaceId: string,
  options: {
    churned: readonly OutcomeEvent[];
    renewed: readonly OutcomeEvent[];
    seriesOrigin: string;
    usageDays: number;
    renewalUsageDays: number;
    lookbackDays: number;
    campaignRules: readonly TriggerRule[];
  },
): Promise<PostmortemFacts> {
  const ws = workspaceId;
  const { churned, renewed, seriesOrigin, lookbackDays } = options;
  const outcomeEvents = [
    ...churned.map((e) => ({ a: e.account_id, d: e.event_day })),
    ...renewed.map((e) => ({ a: e.account_id, d: e.event_day })),
  ];
  const eventsJson = JSON.stringify(outcomeEvents);
  const churnedJson = JSON.stringify(churned.map((e) => ({ a: e.account_id, d: e.event_day })));
  const renewedJson = JSON.stringify(renewed.map((e) => ({ a: e.account_id, d: e.event_day })));
  const statements = [
    db.prepare(trajectorySql).bind(ws, churnedJson),
    db.prepare(USAGE_SERIES_SQL).bind(ws, churnedJson, options.usageDays, seriesOrigin),
    db.prepare(USAGE_SERIES_SQL).bind(ws, renewedJson, options.renewalUsageDays, seriesOrigin),
    ...STORED_SIGNALS.map((s) => db.prepare(FIXED_RULE_SQL[s]).bind(ws, eventsJson, lookbackDays)),
    ...options.campaignRules.map((rule) => {
      const { sql, value } = historicalRuleSql(rule);
      return db.prepare(`WITH ${EVENTS_CTE} ${sql}`).bind(ws, eventsJson, lookbackDays, value);
    }),
  ];
  const results = outcomeEvents.length > 0 ? await db.batch(statements) : [];
  const rowsOf = <T>(index: number) => (results[index]?.results ?? []) as T[];
  return {
    health: rowsOf<HealthTrajectoryRow>(0),
    churnUsage: rowsOf<UsageSeriesRow>(1),
    renewalUsage: rowsOf<UsageSeriesRow>(2),
    fixed: new Map(STORED_SIGNALS.map((s, i) => [s, rowsOf<FiringRow>(3 + i)])),
    campaignRules: options.campaignRules.map((_, i) => rowsOf<FiringRow>(3 + STORED_SIGNALS.length + i)),
  };
}
