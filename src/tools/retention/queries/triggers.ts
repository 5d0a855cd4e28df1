import type { TriggerRule } from "../domain/campaign-rules";

/**
 * The SQL that evaluates a campaign's trigger rules: live (for enrollment, over the facts of one
 * day) and historical (for post-mortems, over stored health and risk history). Rule values are
 * always bound as parameters, never inlined.
 */

/**
 * "Used the product but not the feature" over the `days` before `day`: both lookups are
 * per-account primary-key ranges. `ws`, `day`, `feature` and `days` are SQL expressions.
 */
function notAdoptedSql(account: string, ws: string, day: string, feature: string, days: string): string {
  const from = `date(${day}, '-' || ${days} || ' days')`;
  return `(NOT EXISTS (SELECT 1 FROM usage_feature_daily u WHERE u.workspace_id = ${ws} AND u.account_id = ${account}
             AND u.day >= ${from} AND u.day < ${day} AND u.feature = ${feature} AND u.events > 0)
           AND EXISTS (SELECT 1 FROM usage_daily d WHERE d.workspace_id = ${ws} AND d.account_id = ${account}
             AND d.day >= ${from} AND d.day < ${day}))`;
}

/** Rank of a band expression (red 0 < yellow 1 < green 2), in SQL. */
const bandRank = (expr: string) => `(CASE ${expr} WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 WHEN 'green' THEN 2 END)`;

/**
 * The facts trigger rules read, one row `f` per active account (all of the workspace, or those
 * in the JSON id list bound at `idsParam`): ?1 workspace, ?2 the evaluation day, ?3 seven days
 * earlier. Every lookup is a primary-key read of health_scores or risk_scores.
 */
export function triggerFactsCte(idsParam: string | null): string {
  // A chunk's id list drives the loop (CROSS JOIN keeps that order), so each account is a primary-key read.
  const source = idsParam ? `json_each(${idsParam}) AS ids CROSS JOIN accounts a ON a.id = ids.value` : "accounts a";
  return `WITH f AS (
    SELECT a.id AS account_id, a.name AS account_name, a.churn_probability, a.health_band AS band,
           t.band AS band_today, t.score AS score_today,
           (SELECT h.band FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = a.id AND h.day < ?2
             ORDER BY h.day DESC LIMIT 1) AS band_before,
           (SELECT h.score FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = a.id AND h.day <= ?3
             ORDER BY h.day DESC LIMIT 1) AS score_7d_ago,
           (SELECT r.factors FROM risk_scores r WHERE r.workspace_id = ?1 AND r.account_id = a.id AND r.day <= ?2
             ORDER BY r.day DESC LIMIT 1) AS factors
      FROM ${source}
      LEFT JOIN health_scores t ON t.workspace_id = ?1 AND t.account_id = a.id AND t.day = ?2
     WHERE a.workspace_id = ?1 AND a.status = 'active')`;
}

/** SQL pieces of a rule set, with the parameters they bind from `firstParam` on. */
export interface RuleSql {
  /** True when any rule matches. */
  condition: string;
  /** JSON object of the first matching rule and the values it saw. */
  snapshot: string;
  params: (string | number)[];
}

/**
 * Live evaluation over a row `f` with the columns account_id, churn_probability, band
 * (accounts.health_band), band_today and score_today (the health_scores row of the evaluation
 * day), band_before (the latest row before it), score_7d_ago (the latest row on or before 7 days
 * earlier) and factors (the latest risk_scores row's factor list); ?1 is the workspace and ?2 the
 * evaluation day.
 */
export function liveTriggerSql(rules: readonly TriggerRule[], firstParam: number): RuleSql {
  const params: (string | number)[] = [];
  const bind = (value: string | number) => {
    params.push(value);
    return `?${firstParam + params.length - 1}`;
  };
  const parts = rules.map((rule) => livePart(rule, bind));
  return {
    condition: `(${parts.map((p) => p.condition).join(" OR ")})`,
    snapshot: `CASE ${parts.map((p) => `WHEN ${p.condition} THEN ${p.snapshot}`).join(" ")} END`,
    params,
  };
}

/** One rule's condition and snapshot over `f`; `bind` adds a parameter and returns its placeholder. */
function livePart(
  rule: TriggerRule,
  bind: (value: string | number) => string,
): { condition: string; snapshot: string } {
  switch (rule.rule) {
    case "churn_probability_at_least": {
      const p = bind(rule.value);
      return {
        condition: `f.churn_probability >= ${p}`,
        snapshot: `json_object('rule', 'churn_probability_at_least', 'threshold', ${p}, 'churn_probability', f.churn_probability)`,
      };
    }
    case "band_is": {
      const p = bind(rule.band);
      return { condition: `f.band = ${p}`, snapshot: `json_object('rule', 'band_is', 'band', f.band)` };
    }
    case "band_fell_to": {
      const target = rule.band ? ` AND f.band_today = ${bind(rule.band)}` : "";
      return {
        condition: `(${bandRank("f.band_today")} < ${bandRank("f.band_before")}${target})`,
        snapshot: `json_object('rule', 'band_fell_to', 'band_before', f.band_before, 'band_today', f.band_today)`,
      };
    }
    case "factor_flagged": {
      const p = bind(rule.factor);
      const flagged = `FROM json_each(coalesce(f.factors, '[]')) x WHERE x.value ->> '$.factor' = ${p} AND x.value ->> '$.flagged' = 1`;
      return {
        condition: `EXISTS (SELECT 1 ${flagged})`,
        snapshot: `json_object('rule', 'factor_flagged', 'factor', ${p}, 'value', (SELECT x.value ->> '$.value' ${flagged} LIMIT 1))`,
      };
    }
    case "health_drop_at_least": {
      const p = bind(rule.points);
      return {
        condition: `f.score_7d_ago - f.score_today >= ${p}`,
        snapshot: `json_object('rule', 'health_drop_at_least', 'points', ${p}, 'score_7d_ago', f.score_7d_ago, 'score_today', f.score_today)`,
      };
    }
    case "feature_not_adopted": {
      const feature = bind(rule.feature);
      const days = bind(rule.days);
      return {
        condition: notAdoptedSql("f.account_id", "?1", "?2", feature, days),
        snapshot: `json_object('rule', 'feature_not_adopted', 'feature', ${feature}, 'days', ${days})`,
      };
    }
  }
}

/**
 * Historical evaluation of one rule for post-mortems: a SELECT of (account_id, event_day,
 * first_day, last_day) — the first and last day the rule held within the `lookback` days up to
 * each event of the CTE `ev(account_id, event_day)` — reading only stored daily history:
 * health_scores for band and drop rules, risk_scores for probability and factor rules.
 * ?1 is the workspace, ?3 the lookback in days, ?4 the rule's value.
 */
export function historicalRuleSql(rule: TriggerRule): { sql: string; value: string | number | null } {
  const range = (alias: string) =>
    `${alias}.workspace_id = ?1 AND ${alias}.account_id = ev.account_id AND ${alias}.day BETWEEN date(ev.event_day, '-' || ?3 || ' days') AND ev.event_day`;
  const grouped = (from: string, where: string) =>
    `SELECT ev.account_id, ev.event_day, min(day) AS first_day, max(day) AS last_day FROM ev CROSS JOIN ${from} WHERE ${where} GROUP BY ev.account_id, ev.event_day`;
  switch (rule.rule) {
    case "churn_probability_at_least":
      return { sql: grouped(`risk_scores r ON ${range("r")}`, "r.probability >= ?4"), value: rule.value };
    case "factor_flagged":
      return {
        sql: grouped(
          `risk_scores r ON ${range("r")}`,
          "EXISTS (SELECT 1 FROM json_each(r.factors) x WHERE x.value ->> '$.factor' = ?4 AND x.value ->> '$.flagged' = 1)",
        ),
        value: rule.factor,
      };
    case "band_is":
      return { sql: grouped(`health_scores h ON ${range("h")}`, "h.band = ?4"), value: rule.band };
    case "band_fell_to":
      // The row before the first one in range counts as "before": rows are read from a year earlier.
      return {
        sql: `SELECT account_id, event_day, min(day) AS first_day, max(day) AS last_day FROM (
                SELECT ev.account_id, ev.event_day, h.day, h.band,
                       lag(h.band) OVER (PARTITION BY ev.account_id, ev.event_day ORDER BY h.day) AS band_before
                  FROM ev CROSS JOIN health_scores h ON h.workspace_id = ?1 AND h.account_id = ev.account_id
                   AND h.day BETWEEN date(ev.event_day, '-' || (?3 + 365) || ' days') AND ev.event_day)
               WHERE day >= date(event_day, '-' || ?3 || ' days')
                 AND ${bandRank("band")} < ${bandRank("band_before")} AND (?4 IS NULL OR band = ?4)
               GROUP BY account_id, event_day`,
        value: rule.band ?? null,
      };
    case "feature_not_adopted":
      // It held at the event when the feature went unused through the window; it began the day after
      // the last use plus the window (or at the start of the lookback when never used since).
      return {
        sql: `SELECT ev.account_id, ev.event_day,
                     max(date(ev.event_day, '-' || ?3 || ' days'),
                         coalesce(date((SELECT max(u.day) FROM usage_feature_daily u
                                         WHERE u.workspace_id = ?1 AND u.account_id = ev.account_id
                                           AND u.feature = ?4 ->> '$.feature' AND u.events > 0 AND u.day < ev.event_day),
                                       '+' || (?4 ->> '$.days') || ' days'), '0000-01-01')) AS first_day,
                     ev.event_day AS last_day
                FROM ev
               WHERE ${notAdoptedSql("ev.account_id", "?1", "ev.event_day", "?4 ->> '$.feature'", "(?4 ->> '$.days')")}`,
        value: JSON.stringify({ feature: rule.feature, days: rule.days }),
      };
    case "health_drop_at_least":
      return {
        sql: grouped(
          `health_scores h ON ${range("h")}`,
          `(SELECT p.score FROM health_scores p WHERE p.workspace_id = ?1 AND p.account_id = h.account_id
              AND p.day <= date(h.day, '-7 days') ORDER BY p.day DESC LIMIT 1) - h.score >= ?4`,
        ),
        value: rule.points,
      };
  }
}
