import { SqlParams } from "../../../platform/db/sql-params";
import type { FactWindows, Rule, ServiceLevels } from "../domain/segments";
import { sqlText } from "./rule-sql";
import { computedSql } from "./segments";

/** The service-level check of segment_by_value_tier: accounts in breach of their computed tier's levels. */

/** An account in breach as the SLA query returns it, with its measured ticket response hours. */
export interface BreachRow {
  id: string;
  name: string;
  owner_user_id: string | null;
  tier: string;
  tickets_measured: number;
  last_meeting_at: string | null;
  hours: number[];
}

/** The check_sla counts and one page of accounts in breach. */
export interface SlaBreaches {
  /** Accounts of the workspace. */
  accounts: number;
  /** Accounts whose stored tier differs from the computed one. */
  differing: number;
  /** Accounts in the checked tiers. */
  checked: number;
  /** Accounts of those missing at least one level. */
  breaching: number;
  page: BreachRow[];
}

/**
 * The check_sla figures: the computed tier of every account (with how many accounts there are and
 * how many store another tier), the breach test of the domain's `slaBreaches` on its latest
 * meeting, owner and median first-response hours (rounded to 2 decimals, as shown), and one page
 * of breaching accounts by id (limit + 1 rows), with the counts of checked and breaching
 * accounts, in one statement; then the response hours of the page's accounts.
 *
 * The median is tested without ranking every ticket: "rounded hours over the SLA" holds for the
 * slowest tickets of an account, so an odd count's median is over when at least (n + 1) / 2
 * tickets are, an even count's when at least n / 2 + 1 are, or, with exactly n / 2 over, when
 * the mean of the fastest ticket over and the slowest one not over is.
 */
export async function tierSlaBreaches(
  db: D1Database,
  workspaceId: string,
  definitions: readonly { name: string; rules: readonly Rule[]; service: ServiceLevels }[],
  opts: { windows: FactWindows; tier: string | null; ticketsFrom: string; today: string; after: string; limit: number },
): Promise<SlaBreaches> {
  const ws = workspaceId;
  const p = new SqlParams();
  p.add(ws);
  const computed = computedSql(p, opts.windows, definitions);
  const onlyTier = opts.tier === null ? "" : ` AND tier = ${p.add(opts.tier)}`;
  const from = p.add(opts.ticketsFrom);
  const today = p.add(opts.today);
  const after = p.add(opts.after);
  const limit = p.add(opts.limit + 1);
  // CASE takes the first arm that matches: a tier named twice owes the service of its first definition.
  const service = (level: (s: ServiceLevels) => number) =>
    `(CASE tier ${definitions.map((d) => `WHEN ${sqlText(d.name)} THEN ${Number(level(d.service))}`).join(" ")} END)`;
  const { results } = await db
    .prepare(
      `WITH evaluated AS MATERIALIZED (
        SELECT a.id, a.name, a.owner_user_id, a.tier AS stored, ${computed} AS tier FROM accounts a WHERE a.workspace_id = ?1),
      checked AS MATERIALIZED (
        SELECT id, name, owner_user_id, tier, ${service((s) => s.response_sla_hours)} AS sla_hours,
               ${service((s) => s.ebr_cadence_days)} AS cadence_days, ${service((s) => Number(s.dedicated_csm))} AS dedicated
          FROM evaluated WHERE tier IS NOT NULL${onlyTier}),
      responses AS (
        SELECT account_id, count(*) AS n, sum(over) AS n_over,
               max(CASE WHEN NOT over THEN hours END) AS slowest_within, min(CASE WHEN over THEN hours END) AS fastest_over
          FROM (SELECT c.id AS account_id, hours, round(hours * 100) / 100 > c.sla_hours AS over
                  FROM checked c
                  CROSS JOIN (SELECT account_id, (julianday(first_response_at) - julianday(created_at)) * 24 AS hours
                                FROM tickets WHERE workspace_id = ?1 AND created_at >= ${from}
                                 AND first_response_at IS NOT NULL) t
                    ON t.account_id = c.id)
         GROUP BY account_id),
      measured AS MATERIALIZED (
        SELECT c.*, coalesce(r.n, 0) AS tickets_measured, r.n_over, r.slowest_within, r.fastest_over,
               (SELECT max(v.occurred_at) FROM activities v
                 WHERE v.workspace_id = ?1 AND v.account_id = c.id AND v.kind = 'meeting') AS last_meeting_at
          FROM checked c LEFT JOIN responses r ON r.account_id = c.id),
      breaching AS MATERIALIZED (
        SELECT id, name, owner_user_id, tier, tickets_measured, last_meeting_at FROM measured
         WHERE (tickets_measured % 2 = 1 AND n_over >= (tickets_measured + 1) / 2)
            OR (tickets_measured > 0 AND tickets_measured % 2 = 0 AND (n_over >= tickets_measured / 2 + 1
                OR (n_over = tickets_measured / 2 AND round((slowest_within + fastest_over) / 2 * 100) / 100 > sla_hours)))
            OR last_meeting_at IS NULL
            OR julianday(${today}) - julianday(substr(last_meeting_at, 1, 10)) > cadence_days
            OR (dedicated AND owner_user_id IS NULL))
     SELECT NULL AS id, NULL AS name, NULL AS owner_user_id, NULL AS tier, NULL AS tickets_measured, NULL AS last_meeting_at,
            (SELECT count(*) FROM evaluated) AS accounts_count, (SELECT count(*) FROM evaluated WHERE tier IS NOT stored) AS differing_count,
            (SELECT count(*) FROM checked) AS checked_count, (SELECT count(*) FROM breaching) AS breaching_count
     UNION ALL
     SELECT *, NULL, NULL, NULL, NULL FROM (SELECT * FROM breaching WHERE id > ${after} ORDER BY id LIMIT ${limit})`,
    )
    .bind(...p.values)
    .all<
      Omit<BreachRow, "hours"> & Partial<Record<`${"accounts" | "differing" | "checked" | "breaching"}_count`, number>>
    >();
  // The first row carries the counts; the page follows.
  const [totals, ...rows] = results;
  const measured = rows.filter((r) => r.tickets_measured > 0).map((r) => r.id);
  const hours = await responseHours(db, ws, { accountIds: measured, ticketsFrom: opts.ticketsFrom });
  return {
    accounts: totals!.accounts_count ?? 0,
    differing: totals!.differing_count ?? 0,
    checked: totals!.checked_count ?? 0,
    breaching: totals!.breaching_count ?? 0,
    page: rows.map((r) => ({
      id: r.id,
      name: r.name,
      owner_user_id: r.owner_user_id,
      tier: r.tier,
      tickets_measured: r.tickets_measured,
      last_meeting_at: r.last_meeting_at,
      hours: hours.get(r.id) ?? [],
    })),
  };
}

/** First-response hours of the accounts' tickets created from `ticketsFrom`, per account; no query for no accounts. */
async function responseHours(
  db: D1Database,
  workspaceId: string,
  options: { accountIds: readonly string[]; ticketsFrom: string },
): Promise<Map<string, number[]>> {
  const hours = new Map<string, number[]>();
  if (options.accountIds.length === 0) return hours;
  const { results: tickets } = await db
    .prepare(
      `SELECT account_id, (julianday(first_response_at) - julianday(created_at)) * 24 AS hours
         FROM tickets
        WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2))
          AND created_at >= ?3 AND first_response_at IS NOT NULL`,
    )
    .bind(workspaceId, JSON.stringify(options.accountIds), options.ticketsFrom)
    .all<{ account_id: string; hours: number }>();
  for (const t of tickets) hours.set(t.account_id, [...(hours.get(t.account_id) ?? []), t.hours]);
  return hours;
}
