import type {
  ContractFacts,
  FactorPoint,
  PointFacts,
  StateFacts,
  TicketFacts,
  UsageFacts,
} from "../domain/risk-factor-values";

/**
 * The SQL the churn-risk factors are computed from: the stored facts of many points (account,
 * cut-off) set-based, the workspace's past renewal points, and accounts' current ARR.
 */

/** A usage row of one point (`e` = the point id). */
export interface UsageRow extends UsageFacts {
  e: string;
}
/** The contracts in force at one point (`e` = the point id). */
export interface ContractRow extends ContractFacts {
  e: string;
}
/** The account's state at one point (`e` = the point id). */
export interface StateRow extends StateFacts {
  e: string;
}
/** A count of records in one point's window (`e` = the point id). */
export interface CountRow extends TicketFacts {
  e: string;
}

/**
 * The points of one statement, with their window bounds computed once per point: materialized,
 * because an inlined CTE would evaluate each `date()` once per joined row (six times per usage day).
 */
const POINTS = `WITH ex AS MATERIALIZED (
  SELECT value ->> '$.e' AS e, value ->> '$.a' AS a, value ->> '$.c' AS c,
         date(value ->> '$.c', '-30 days') AS d30, date(value ->> '$.c', '-60 days') AS d60,
         date(value ->> '$.c', '-90 days') AS d90, date(value ->> '$.c', '-180 days') AS d180
    FROM json_each(?2))`;

/** Usage of the 180 days before each point, summed per window. */
const USAGE_FACTS_SQL = `${POINTS}
         SELECT ex.e,
                sum(CASE WHEN u.day >= ex.d30 THEN u.events ELSE 0 END) AS events_30,
                sum(CASE WHEN u.day >= ex.d60 AND u.day < ex.d30 THEN u.events ELSE 0 END) AS events_prior_30,
                sum(CASE WHEN u.day >= ex.d90 THEN u.events ELSE 0 END) AS events_90,
                sum(CASE WHEN u.day < ex.d90 THEN u.events ELSE 0 END) AS events_prior_90,
                sum(CASE WHEN u.day >= ex.d30 THEN u.active_users ELSE 0 END) AS active_user_days_30,
                sum(CASE WHEN u.day >= ex.d30 THEN 1 ELSE 0 END) AS days_30
           FROM ex CROSS JOIN usage_daily u
             ON u.workspace_id = ?1 AND u.account_id = ex.a AND u.day >= ex.d180 AND u.day < ex.c
          GROUP BY ex.e`;

/**
 * The contracts in force at each point: ARR, earliest end and seats. Seats per contract as
 * LICENSED_SEATS_SQL defines them: plan items, else the largest item.
 */
const CONTRACT_FACTS_SQL = `${POINTS}
         SELECT e, sum(arr) AS arr, min(end_date) AS renewal, coalesce(sum(seats), 0) AS seats FROM (
           SELECT ex.e, c.arr, c.end_date,
                  (SELECT CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
                               ELSE max(ci.seats) END
                     FROM contract_items ci
                     LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
                    WHERE ci.workspace_id = ?1 AND ci.contract_id = c.id) AS seats
             FROM ex CROSS JOIN contracts c
               ON c.workspace_id = ?1 AND c.account_id = ex.a AND c.start_date < ex.c AND c.end_date >= ex.c
              AND (c.outcome IS NOT 'churned' OR c.outcome_date IS NULL OR substr(c.outcome_date, 1, 10) >= ex.c)
              AND NOT (c.status = 'cancelled' AND c.outcome_date IS NULL))
          GROUP BY e`;

/** Each point's account state: tenure starts, latest health now and 30 days before, latest NPS and CSAT, champions gone. */
const STATE_FACTS_SQL = `${POINTS}
         SELECT ex.e, CASE WHEN a.customer_since < ex.c THEN a.customer_since END AS customer_since,
                (SELECT min(c.start_date) FROM contracts c
                  WHERE c.workspace_id = ?1 AND c.account_id = ex.a AND c.start_date < ex.c) AS first_start,
                (SELECT h.score FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = ex.a AND h.day < ex.c
                  ORDER BY h.day DESC LIMIT 1) AS health_now,
                (SELECT h.score FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = ex.a AND h.day < ex.d30
                  ORDER BY h.day DESC LIMIT 1) AS health_30,
                (SELECT s.score FROM survey_responses s WHERE s.workspace_id = ?1 AND s.account_id = ex.a AND s.responded_at < ex.c
                    AND +s.kind = 'nps' ORDER BY s.responded_at DESC, s.id DESC LIMIT 1) AS nps,
                (SELECT s.score FROM survey_responses s WHERE s.workspace_id = ?1 AND s.account_id = ex.a AND s.responded_at < ex.c
                    AND +s.kind = 'csat' ORDER BY s.responded_at DESC, s.id DESC LIMIT 1) AS csat,
                (SELECT count(*) FROM contacts k WHERE k.workspace_id = ?1 AND k.account_id = ex.a
                    AND (k.is_champion = 1 OR k.is_decision_maker = 1) AND k.left_at < ex.c) AS champions_gone
           FROM ex LEFT JOIN accounts a ON +a.workspace_id = ?1 AND a.id = ex.a`;

/** Tickets of the 90 days before each point, and how many were urgent or high. */
const TICKET_FACTS_SQL = `${POINTS}
         SELECT ex.e, count(*) AS n, sum(t.priority IN ('urgent', 'high')) AS urgent
           FROM ex CROSS JOIN tickets t
             ON t.workspace_id = ?1 AND t.account_id = ex.a AND t.created_at >= ex.d90 AND t.created_at < ex.c
          GROUP BY ex.e`;

/** Escalations opened in the 90 days before each point. */
const ESCALATION_FACTS_SQL = `${POINTS}
         SELECT ex.e, count(*) AS n
           FROM ex CROSS JOIN escalations x
             ON x.workspace_id = ?1 AND x.account_id = ex.a AND x.opened_at >= ex.d90 AND x.opened_at < ex.c
          GROUP BY ex.e`;

/** Payments failed (failed_at, else the creation of a failed one) in the 90 days before each point. */
const PAYMENT_FACTS_SQL = `${POINTS}
         SELECT e, count(*) AS n FROM (
           SELECT ex.e, ex.c, ex.d90, coalesce(p.failed_at, CASE WHEN p.status = 'failed' THEN p.created_at END) AS failed
             FROM ex CROSS JOIN payments p ON p.workspace_id = ?1 AND p.account_id = ex.a AND p.created_at < ex.c)
          WHERE failed >= d90 AND failed < c
          GROUP BY e`;

/**
 * The six statements of one chunk of points (`list`: JSON of {e: id, a: account, c: cut-off}):
 * usage, contracts in force, latest state, tickets, escalations and payments, each reading only
 * records dated strictly before its point's cut-off. Contracts in force at a cut-off: started
 * before it, ending on or after it, and not recorded as churned before it (a renewal signed
 * early leaves the term in force until its end).
 */
function pointFactStatements(db: D1Database, workspaceId: string, list: string): D1PreparedStatement[] {
  return [
    USAGE_FACTS_SQL,
    CONTRACT_FACTS_SQL,
    STATE_FACTS_SQL,
    TICKET_FACTS_SQL,
    ESCALATION_FACTS_SQL,
    PAYMENT_FACTS_SQL,
  ].map((sql) => db.prepare(sql).bind(workspaceId, list));
}

/**
 * The stored facts of one chunk of points (at most `RISK_FEATURE_CHUNK`), keyed by point id, in
 * one batch of six statements (see {@link pointFactStatements}); every point of the chunk has an
 * entry, empty when it has no records.
 */
export async function pointFacts(
  db: D1Database,
  workspaceId: string,
  points: readonly FactorPoint[],
): Promise<Map<string, PointFacts>> {
  const list = JSON.stringify(points.map((p) => ({ e: p.id, a: p.account_id, c: p.cutoff })));
  const [usageRes, contractRes, stateRes, ticketRes, escalationRes, paymentRes] = await db.batch(
    pointFactStatements(db, workspaceId, list),
  );
  const rows = <T extends { e: string }>(res: D1Result<unknown> | undefined) =>
    new Map(((res?.results ?? []) as T[]).map((r) => [r.e, r]));
  const usage = rows<UsageRow>(usageRes);
  const contracts = rows<ContractRow>(contractRes);
  const state = rows<StateRow>(stateRes);
  const tickets = rows<CountRow>(ticketRes);
  const escalations = rows<CountRow>(escalationRes);
  const payments = rows<CountRow>(paymentRes);
  return new Map(
    points.map((p) => [
      p.id,
      {
        usage: usage.get(p.id),
        contracts: contracts.get(p.id),
        state: state.get(p.id),
        tickets: tickets.get(p.id),
        escalations: escalations.get(p.id)?.n,
        paymentFailures: payments.get(p.id)?.n,
      },
    ]),
  );
}

/** A past renewal point of one account: churned = 1 when a contract churned there. */
export interface RenewalPointRow {
  account_id: string;
  point: string;
  churned: number;
}

/**
 * The workspace's past renewal points up to `day` (a contract's outcome_date, else its end_date,
 * of contracts with an outcome), one per account and point, ordered by point then account.
 */
export async function renewalPoints(db: D1Database, workspaceId: string, day: string): Promise<RenewalPointRow[]> {
  const points = await db
    .prepare(
      `SELECT account_id, point, max(outcome = 'churned') AS churned FROM (
       SELECT account_id, outcome, substr(coalesce(outcome_date, end_date), 1, 10) AS point
         FROM contracts WHERE workspace_id = ?1 AND outcome IS NOT NULL)
      WHERE point <= ?2
      GROUP BY account_id, point
      ORDER BY point, account_id`,
    )
    .bind(workspaceId, day)
    .all<RenewalPointRow>();
  return points.results;
}

/** The current ARR of the listed accounts of the workspace (absent ids have no row). */
export async function accountArrs(
  db: D1Database,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<{ id: string; arr: number }[]> {
  const rows = await db
    .prepare("SELECT id, arr FROM accounts WHERE +workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))")
    .bind(workspaceId, JSON.stringify(accountIds))
    .all<{ id: string; arr: number }>();
  return rows.results;
}
