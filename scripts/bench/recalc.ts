/**
 * Nightly recalculation through the real path (the `0 3 * * *` cron lists the active accounts
 * and queues chunks of HEALTH_CHUNK_SIZE; each chunk computes and stores health, then scores churn risk and
 * enrolls campaigns) against the floor: one raw SQLite pass with better-sqlite3 computing the
 * same per-account aggregates `computeHealth` and the churn-risk scoring read, over the same
 * rows, wrangler stopped.
 */
import Database from "better-sqlite3";
import { clock } from "../../src/platform/lib/clock";
import { HEALTH_CHUNK_SIZE } from "../../src/tools/health/jobs";
import { ratio } from "./stats";

const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** The floor's figures. */
export interface RecalcFloor {
  accounts: number;
  seconds: number;
  /** Rows the aggregates produced, per query. */
  rows: Record<string, number>;
  method: string;
}

/**
 * The aggregate queries of `computeHealth` (src/tools/health/jobs.ts), over every active
 * account of the workspace in one id list: usage 60 days, seats, activities, emails, tickets,
 * latest NPS, CSAT 90 days, payments 90 days, health history.
 */
function aggregateQueries(): Record<string, string> {
  const inList = "account_id IN (SELECT value FROM json_each(@ids))";
  const latestScore = (condition: string, label: string) =>
    `SELECT account_id, '${label}' AS which, day, score, band FROM (
       SELECT account_id, day, score, band, row_number() OVER (PARTITION BY account_id ORDER BY day DESC) AS rn
         FROM health_scores WHERE workspace_id = @ws AND ${inList} AND ${condition}) WHERE rn = 1`;
  return {
    accounts:
      "SELECT id, name, renewal_date, segment FROM accounts WHERE workspace_id = @ws AND id IN (SELECT value FROM json_each(@ids)) ORDER BY id",
    usage: `SELECT account_id,
                sum(CASE WHEN day >= @start30 THEN active_users ELSE 0 END) AS active_user_days,
                sum(CASE WHEN day >= @start30 THEN events ELSE 0 END) AS events_30,
                sum(CASE WHEN day < @start30 THEN events ELSE 0 END) AS events_prior,
                sum(CASE WHEN day >= @start30 THEN 1 ELSE 0 END) AS days_30,
                count(*) AS days_60
           FROM usage_daily WHERE workspace_id = @ws AND ${inList} AND day >= @start60 AND day < @day
          GROUP BY account_id`,
    seats: `SELECT account_id, coalesce(sum(contract_seats), 0) AS seats FROM (
           SELECT c.account_id,
                  CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
                       ELSE max(ci.seats) END AS contract_seats
             FROM (SELECT id, account_id FROM contracts WHERE workspace_id = @ws AND ${inList} AND +status = 'active') c
             CROSS JOIN contract_items ci ON ci.workspace_id = @ws AND ci.contract_id = c.id
             LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
            GROUP BY c.id)
          GROUP BY account_id`,
    activities: `SELECT account_id, count(*) AS n, json_group_array(id) AS ids FROM (
           SELECT account_id, id FROM activities WHERE workspace_id = @ws AND ${inList} AND occurred_at >= @start30 AND occurred_at < @tomorrow
            ORDER BY occurred_at DESC, id)
          GROUP BY account_id`,
    emails: `SELECT account_id, count(opened_at) AS opens, count(clicked_at) AS clicks
           FROM outbox_messages WHERE workspace_id = @ws AND ${inList} AND created_at >= @start30
          GROUP BY account_id`,
    tickets: `SELECT account_id,
                json_group_array(CASE WHEN priority IN ('urgent', 'high') AND status NOT IN ('solved', 'closed') THEN id END) AS open_ids,
                sum(created_at >= @start30) AS created_30
           FROM tickets WHERE workspace_id = @ws AND ${inList}
          GROUP BY account_id`,
    nps: `SELECT account_id, id, score FROM (
           SELECT account_id, id, score, row_number() OVER (PARTITION BY account_id ORDER BY responded_at DESC, id DESC) AS rn
             FROM survey_responses WHERE workspace_id = @ws AND ${inList} AND +kind = 'nps' AND responded_at < @tomorrow)
          WHERE rn = 1`,
    csat: `SELECT account_id, avg(score) AS mean, count(*) AS n
           FROM survey_responses WHERE workspace_id = @ws AND ${inList} AND +kind = 'csat' AND responded_at >= @start90 AND responded_at < @tomorrow
          GROUP BY account_id`,
    payments: `SELECT account_id, count(*) AS n,
                json_group_array(CASE WHEN status = 'failed' OR (status = 'open' AND due_date < @day) THEN id END) AS problem_ids
           FROM payments WHERE workspace_id = @ws AND ${inList} AND created_at >= @start90
          GROUP BY account_id`,
    history: `${latestScore("day < @day", "previous")} UNION ALL ${latestScore("day <= @day7", "d7")} UNION ALL ${latestScore("day <= @day30", "d30")}`,
  };
}

/**
 * The churn-risk factor aggregates the nightly run scores with (`computeFactorValues` in
 * src/tools/retention/risk-scoring.ts) for one cut-off, today: usage 180 days in four windows, contracts in force
 * with their seats, latest state (tenure, health now and 30 days ago, latest NPS and CSAT,
 * champions gone), tickets, escalations and failed payments in 90 days.
 */
function riskQueries(): Record<string, string> {
  const inList = "account_id IN (SELECT value FROM json_each(@ids))";
  const latest = (table: string, column: string, condition: string) =>
    `(SELECT ${column} FROM ${table} x WHERE x.workspace_id = @ws AND x.account_id = a.id AND ${condition} ORDER BY ${
      table === "health_scores" ? "x.day DESC" : "x.responded_at DESC, x.id DESC"
    } LIMIT 1)`;
  return {
    risk_usage: `SELECT account_id,
                sum(CASE WHEN day >= @start30 THEN events ELSE 0 END) AS events_30,
                sum(CASE WHEN day >= @start60 AND day < @start30 THEN events ELSE 0 END) AS events_prior_30,
                sum(CASE WHEN day >= @start90 THEN events ELSE 0 END) AS events_90,
                sum(CASE WHEN day < @start90 THEN events ELSE 0 END) AS events_prior_90,
                sum(CASE WHEN day >= @start30 THEN active_users ELSE 0 END) AS active_user_days_30,
                sum(CASE WHEN day >= @start30 THEN 1 ELSE 0 END) AS days_30
           FROM usage_daily WHERE workspace_id = @ws AND ${inList} AND day >= @start180 AND day < @day
          GROUP BY account_id`,
    risk_contracts: `SELECT account_id, sum(arr) AS arr, min(end_date) AS renewal, coalesce(sum(seats), 0) AS seats FROM (
           SELECT c.account_id, c.arr, c.end_date,
                  (SELECT CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
                               ELSE max(ci.seats) END
                     FROM contract_items ci LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
                    WHERE ci.workspace_id = @ws AND ci.contract_id = c.id) AS seats
             FROM contracts c
            WHERE c.workspace_id = @ws AND c.${inList} AND c.start_date < @day AND c.end_date >= @day
              AND (c.outcome IS NOT 'churned' OR c.outcome_date IS NULL OR substr(c.outcome_date, 1, 10) >= @day)
              AND NOT (c.status = 'cancelled' AND c.outcome_date IS NULL))
          GROUP BY account_id`,
    risk_state: `SELECT a.id, a.customer_since,
                (SELECT min(c.start_date) FROM contracts c WHERE c.workspace_id = @ws AND c.account_id = a.id AND c.start_date < @day) AS first_start,
                ${latest("health_scores", "x.score", "x.day < @day")} AS health_now,
                ${latest("health_scores", "x.score", "x.day < @start30")} AS health_30,
                ${latest("survey_responses", "x.score", "x.responded_at < @day AND +x.kind = 'nps'")} AS nps,
                ${latest("survey_responses", "x.score", "x.responded_at < @day AND +x.kind = 'csat'")} AS csat,
                (SELECT count(*) FROM contacts k WHERE k.workspace_id = @ws AND k.account_id = a.id
                    AND (k.is_champion = 1 OR k.is_decision_maker = 1) AND k.left_at < @day) AS champions_gone
           FROM accounts a WHERE a.workspace_id = @ws AND a.id IN (SELECT value FROM json_each(@ids))`,
    risk_tickets: `SELECT account_id, count(*) AS n, sum(priority IN ('urgent', 'high')) AS urgent
           FROM tickets WHERE workspace_id = @ws AND ${inList} AND created_at >= @start90 AND created_at < @day
          GROUP BY account_id`,
    risk_escalations: `SELECT account_id, count(*) AS n
           FROM escalations WHERE workspace_id = @ws AND ${inList} AND opened_at >= @start90 AND opened_at < @day
          GROUP BY account_id`,
    risk_payments: `SELECT account_id, count(*) AS n FROM (
           SELECT account_id, coalesce(failed_at, CASE WHEN status = 'failed' THEN created_at END) AS failed
             FROM payments WHERE workspace_id = @ws AND ${inList} AND created_at < @day)
          WHERE failed >= @start90 AND failed < @day
          GROUP BY account_id`,
  };
}

/** Runs the aggregates once over all active accounts of the workspace, read-only, and times them. */
export function recalcFloor(file: string, workspaceId: string, day: string): RecalcFloor {
  const db = new Database(file, { readonly: true });
  try {
    const ids = (
      db
        .prepare("SELECT id FROM accounts WHERE workspace_id = ? AND status = 'active' ORDER BY id")
        .all(workspaceId) as {
        id: string;
      }[]
    ).map((r) => r.id);
    const params = {
      ws: workspaceId,
      ids: JSON.stringify(ids),
      day,
      tomorrow: addDays(day, 1),
      start30: addDays(day, -30),
      start60: addDays(day, -60),
      start90: addDays(day, -90),
      start180: addDays(day, -180),
      day7: addDays(day, -7),
      day30: addDays(day, -30),
    };
    const rows: Record<string, number> = {};
    const t0 = performance.now();
    for (const [name, sql] of Object.entries({ ...aggregateQueries(), ...riskQueries() })) {
      const statement = db.prepare(sql);
      // Bind only the parameters the statement names.
      const used = Object.fromEntries(Object.entries(params).filter(([key]) => sql.includes(`@${key}`)));
      rows[name] = statement.all(used).length;
    }
    return {
      accounts: ids.length,
      seconds: (performance.now() - t0) / 1000,
      rows,
      method:
        "better-sqlite3, read-only on the local D1 file with wrangler stopped: computeHealth's ten aggregate queries and computeFactorValues' six churn-risk factor aggregates, once each over all active accounts (reads only; no scoring, writes, alerts or campaign triggers)",
    };
  } finally {
    db.close();
  }
}

/** The cron → queue figures. */
export interface RecalcResult {
  accounts_done: number;
  chunks_total: number | null;
  chunks_done: number;
  seconds: number;
  timed_out: boolean;
  includes: string;
  floor: RecalcFloor;
  /** Cron → queue wall time over the floor (target ≤ 3). */
  ratio: number | null;
}

interface Progress {
  chunks_total: number | null;
  chunks_done: number;
  accounts_done: number;
}

/** Fires the nightly cron on the dev server and waits until every queued chunk is done. */
export async function recalcThroughCron(
  base: string,
  file: string,
  floor: RecalcFloor,
  timeoutSeconds: number,
): Promise<RecalcResult> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const before = clock.now().toISOString();
  const latest = db.prepare(
    "SELECT detail FROM job_runs WHERE cron = '0 3 * * *' AND started_at >= ? ORDER BY started_at DESC LIMIT 1",
  );
  const t0 = performance.now();
  let progress: Progress = { chunks_total: null, chunks_done: 0, accounts_done: 0 };
  let timedOut = false;
  try {
    const fired = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("0 3 * * *")}`);
    if (!fired.ok) throw new Error(`the scheduled handler answered ${fired.status}: ${await fired.text()}`);
    for (;;) {
      const row = latest.get(before) as { detail: string | null } | undefined;
      const detail = row?.detail ? (JSON.parse(row.detail) as { health_recalc_progress?: Progress }) : {};
      if (detail.health_recalc_progress) progress = detail.health_recalc_progress;
      if (progress.chunks_total !== null && progress.chunks_done >= progress.chunks_total) break;
      if ((performance.now() - t0) / 1000 > timeoutSeconds) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    db.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    accounts_done: progress.accounts_done,
    chunks_total: progress.chunks_total,
    chunks_done: progress.chunks_done,
    seconds,
    timed_out: timedOut,
    includes: `from the cron request until the last chunk reports done: listing and queueing the accounts, and per chunk of ${HEALTH_CHUNK_SIZE} the health aggregates, scoring, health_scores and account writes, alerts, churn-risk scoring and campaign enrollment (src/tools/health/after-health.ts)`,
    floor,
    ratio: timedOut ? null : ratio(seconds, floor.seconds),
  };
}
