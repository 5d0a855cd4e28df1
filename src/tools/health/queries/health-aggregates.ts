import { jsonChunks } from "../../../platform/db/json-chunks";
import { clock } from "../../../platform/lib/clock";
import { addDays } from "../../../platform/lib/time";
import { SEATS_BY_ACCOUNT_SQL, withAccounts } from "../../../records/usage";
import type { HealthInputRows, StoredScore } from "../domain/health-run";
import { HEALTH_MODEL_VERSION } from "../domain/model";

/**
 * The set-based statements of one health computation over a list of accounts: a fixed handful of
 * GROUP BY reads over the id list (performance-tuned: each reads the listed accounts' own rows),
 * the overwrite of the day's `health_scores` rows and the accounts' denormalized score, and the
 * health_alert tasks.
 */

const idsParam = (ids: readonly string[]) => JSON.stringify(ids);

/** A health_alert task to open: its fixed id, the account, the title and the reason. */
export interface HealthAlertTask {
  id: string;
  account: string;
  title: string;
  reason: string;
}

/**
 * Everything the scores of `accountIds` for `day` (UTC) are computed from, in one batch: the
 * accounts (by id), usage over the 60 complete days before `day` (the last 30 against the 30
 * before), licensed seats, activities and outbox opens/clicks of the last 30 days, tickets, the
 * latest NPS answer, CSAT and payments of the last 90 days, and the stored scores compared with
 * (latest before `day`, latest up to 7 and 30 days before).
 */
export async function healthInputs(
  db: D1Database,
  workspaceId: string,
  options: { accountIds: readonly string[]; day: string },
): Promise<HealthInputRows> {
  const { day } = options;
  const ids = idsParam(options.accountIds);
  const start30 = addDays(day, -30);
  const start60 = addDays(day, -60);
  const start90 = addDays(day, -90);
  const inList = "account_id IN (SELECT value FROM json_each(?2))";
  const latestScore = (condition: string, label: string) =>
    `SELECT account_id, '${label}' AS which, day, score, band FROM (
       SELECT account_id, day, score, band, row_number() OVER (PARTITION BY account_id ORDER BY day DESC) AS rn
         FROM health_scores WHERE workspace_id = ?1 AND ${inList} AND ${condition}) WHERE rn = 1`;
  const [accounts, usage, seats, activities, emails, tickets, nps, csat, payments, history] = await db.batch([
    db
      .prepare(
        "SELECT id, name, renewal_date, segment FROM accounts WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2)) ORDER BY id",
      )
      .bind(workspaceId, ids),
    // Usage over the last 60 complete days: the last 30 against the 30 before.
    db
      .prepare(
        `SELECT account_id,
                sum(CASE WHEN day >= ?3 THEN active_users ELSE 0 END) AS active_user_days,
                sum(CASE WHEN day >= ?3 THEN events ELSE 0 END) AS events_30,
                sum(CASE WHEN day < ?3 THEN events ELSE 0 END) AS events_prior,
                sum(CASE WHEN day >= ?3 THEN 1 ELSE 0 END) AS days_30,
                count(*) AS days_60
           FROM usage_daily WHERE workspace_id = ?1 AND ${inList} AND day >= ?4 AND day < ?5
          GROUP BY account_id`,
      )
      .bind(workspaceId, ids, start30, start60, day),
    // Licensed seats by the one rule (LICENSED_SEATS_SQL's, for many accounts at once).
    db.prepare(withAccounts(SEATS_BY_ACCOUNT_SQL, "SELECT value FROM json_each(?2)")).bind(workspaceId, ids),
    db
      .prepare(
        `SELECT account_id, count(*) AS n, json_group_array(id) AS ids FROM (
           SELECT account_id, id FROM activities WHERE workspace_id = ?1 AND ${inList} AND occurred_at >= ?3 AND occurred_at < ?4
            ORDER BY occurred_at DESC, id)
          GROUP BY account_id`,
      )
      .bind(workspaceId, ids, start30, addDays(day, 1)),
    db
      .prepare(
        `SELECT account_id, count(opened_at) AS opens, count(clicked_at) AS clicks
           FROM outbox_messages WHERE workspace_id = ?1 AND ${inList} AND created_at >= ?3
          GROUP BY account_id`,
      )
      .bind(workspaceId, ids, start30),
    db
      .prepare(
        `SELECT account_id,
                json_group_array(CASE WHEN priority IN ('urgent', 'high') AND status NOT IN ('solved', 'closed') THEN id END) AS open_ids,
                sum(created_at >= ?3) AS created_30
           FROM tickets WHERE workspace_id = ?1 AND ${inList}
          GROUP BY account_id`,
      )
      .bind(workspaceId, ids, start30),
    db
      .prepare(
        `SELECT account_id, id, score FROM (
           SELECT account_id, id, score, row_number() OVER (PARTITION BY account_id ORDER BY responded_at DESC, id DESC) AS rn
             FROM survey_responses WHERE workspace_id = ?1 AND ${inList} AND +kind = 'nps' AND responded_at < ?3)
          WHERE rn = 1`,
      )
      .bind(workspaceId, ids, addDays(day, 1)),
    db
      .prepare(
        `SELECT account_id, avg(score) AS mean, count(*) AS n
           FROM survey_responses WHERE workspace_id = ?1 AND ${inList} AND +kind = 'csat' AND responded_at >= ?3 AND responded_at < ?4
          GROUP BY account_id`,
      )
      .bind(workspaceId, ids, start90, addDays(day, 1)),
    db
      .prepare(
        `SELECT account_id, count(*) AS n,
                json_group_array(CASE WHEN status = 'failed' OR (status = 'open' AND due_date < ?4) THEN id END) AS problem_ids
           FROM payments WHERE workspace_id = ?1 AND ${inList} AND created_at >= ?3
          GROUP BY account_id`,
      )
      .bind(workspaceId, ids, start90, day),
    db
      .prepare(
        `${latestScore("day < ?3", "previous")} UNION ALL ${latestScore("day <= ?4", "d7")} UNION ALL ${latestScore("day <= ?5", "d30")}`,
      )
      .bind(workspaceId, ids, day, addDays(day, -7), addDays(day, -30)),
  ]);
  const rows = <T>(result: D1Result<unknown> | undefined) => result!.results as T;
  return {
    accounts: rows<HealthInputRows["accounts"]>(accounts),
    usage: rows<HealthInputRows["usage"]>(usage),
    seats: rows<HealthInputRows["seats"]>(seats),
    activities: rows<HealthInputRows["activities"]>(activities),
    emails: rows<HealthInputRows["emails"]>(emails),
    tickets: rows<HealthInputRows["tickets"]>(tickets),
    nps: rows<HealthInputRows["nps"]>(nps),
    csat: rows<HealthInputRows["csat"]>(csat),
    payments: rows<HealthInputRows["payments"]>(payments),
    history: rows<HealthInputRows["history"]>(history),
  };
}

/**
 * Statements that store `day`'s scores, two per JSON chunk: the `health_scores` rows (a repeat
 * for the same day overwrites them), then the accounts' denormalized score and band.
 */
export function storeHealthStatements(
  db: D1Database,
  workspaceId: string,
  options: { day: string; scores: readonly StoredScore[] },
): D1PreparedStatement[] {
  const writes: D1PreparedStatement[] = [];
  const createdAt = clock.now().toISOString();
  for (const chunk of jsonChunks([...options.scores])) {
    writes.push(
      db
        .prepare(
          `INSERT INTO health_scores (workspace_id, account_id, day, score, band, components, model_version, created_at)
         SELECT ?1, json_extract(value, '$.id'), ?2, json_extract(value, '$.score'), json_extract(value, '$.band'),
                json_extract(value, '$.components'), ?3, ?5
           FROM json_each(?4) WHERE true
         ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET score = excluded.score, band = excluded.band,
           components = excluded.components, model_version = excluded.model_version`,
        )
        .bind(workspaceId, options.day, HEALTH_MODEL_VERSION, chunk, createdAt),
      db
        .prepare(
          // \`+workspace_id\` keeps the planner on the primary key with the id list outside: through the
          // workspace index it would walk every account of the workspace once per listed id.
          `UPDATE accounts SET health_score = v.score, health_band = v.band
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.score' AS score, value ->> '$.band' AS band
                   FROM json_each(?2)) AS v
          WHERE +accounts.workspace_id = ?1 AND accounts.id = v.id`,
        )
        .bind(workspaceId, chunk),
    );
  }
  return writes;
}

/** The titles of the open health_alert tasks of the accounts. */
export async function openHealthAlerts(
  db: D1Database,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<{ account_id: string; title: string }[]> {
  const inList = "account_id IN (SELECT value FROM json_each(?2))";
  const open = await db
    .prepare(
      `SELECT account_id, title FROM tasks WHERE workspace_id = ?1 AND source = 'health_alert' AND status = 'open'
         AND ${inList}`,
    )
    .bind(workspaceId, idsParam(accountIds))
    .all<{ account_id: string; title: string }>();
  return open.results;
}

/**
 * Statements that open health_alert tasks (high priority, due `dueDate`), one per JSON chunk;
 * an existing task id is kept, and each statement returns the ids it created.
 */
export function healthAlertTaskStatements(
  db: D1Database,
  workspaceId: string,
  options: { dueDate: string; tasks: readonly HealthAlertTask[] },
): D1PreparedStatement[] {
  const createdAt = clock.now().toISOString();
  return jsonChunks([...options.tasks]).map((chunk) =>
    db
      .prepare(
        `INSERT INTO tasks (id, workspace_id, account_id, title, description, priority, status, source, due_date, created_at)
           SELECT json_extract(value, '$.id'), ?1, json_extract(value, '$.account'), json_extract(value, '$.title'),
                  'Health alert: ' || json_extract(value, '$.reason'), 'high', 'open', 'health_alert', ?2, ?4
             FROM json_each(?3) WHERE true
           ON CONFLICT (id) DO NOTHING RETURNING id`,
      )
      .bind(workspaceId, options.dueDate, chunk, createdAt),
  );
}
