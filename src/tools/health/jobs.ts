import { z } from "zod";
import { queueAlerts } from "../../alerts/slack";
import { jsonChunks } from "../../platform/db/json-chunks";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import type { CronJob } from "../../platform/queue/cron";
import { defineJob } from "../../platform/queue/jobs";
import { loadWorkspaceSettings } from "../../records/workspace-settings";
import { afterHealthChunk } from "./after-health";
import {
  type Band,
  type BandMove,
  bandMoves,
  configForSegment,
  HEALTH_MODEL_VERSION,
  type HealthConfig,
  type HealthResult,
  type MeasureValues,
  round2,
  type Scorecard,
  scoreHealth,
  trend,
} from "./domain/model";

/**
 * Most account ids one health computation (and one `health_recalc_chunk` message) covers: large
 * enough that a workspace's nightly run is a few dozen set-based passes, small enough that one
 * pass stays far inside a Worker invocation's CPU and memory limits.
 */
export const HEALTH_CHUNK_SIZE = 500;

/** The `cs-jobs` message that computes the health of a chunk of accounts for one day. */
export const healthRecalcChunkMessage = z.object({
  type: z.literal("health_recalc_chunk"),
  workspaceId: z.string(),
  /** The cron run whose progress this chunk counts in; empty when not started by a cron run. */
  runId: z.string(),
  /** The UTC day the scores are stored for. */
  day: z.iso.date(),
  accountIds: z.array(z.string()).min(1).max(HEALTH_CHUNK_SIZE),
});
export type HealthRecalcChunkMessage = z.infer<typeof healthRecalcChunkMessage>;

/** Most messages one `sendBatch` call carries. */
const SEND_BATCH_SIZE = 100;
/** Account ids read per listing query of the nightly job. */
const LIST_PAGE_SIZE = 5000;
/** Most source-record ids listed per account and kind. */
const MAX_IDS = 20;
/** The cron job's name, also the key of its progress in the run's detail. */
export const HEALTH_RECALC_JOB = "health_recalc";

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

interface AccountRow {
  id: string;
  name: string;
  renewal_date: string | null;
  segment: string | null;
}

const idsParam = (ids: readonly string[]) => JSON.stringify(ids);

const parseIds = (text: string | null): string[] =>
  text ? (JSON.parse(text) as (string | null)[]).filter((v): v is string => v !== null).slice(0, MAX_IDS) : [];

/** The model configuration stored in a workspace's settings. */
export async function loadHealthConfig(
  env: Env,
  workspaceId: string,
): Promise<HealthConfig & { alert_drop: number; timezone: string; scorecards: Scorecard[] }> {
  const settings = await loadWorkspaceSettings(env, workspaceId);
  return {
    preset: settings.health.preset,
    weights: settings.health.weights,
    bands: settings.health.bands,
    alert_drop: settings.health.alert_drop,
    timezone: settings.timezone,
    scorecards: settings.health.scorecards,
  };
}

/**
 * Computes, stores and alerts on the health of up to {@link HEALTH_CHUNK_SIZE} accounts of one
 * workspace for `day` (UTC): a fixed handful of GROUP BY queries over the id list, then one
 * batch that overwrites the day's `health_scores` rows and the accounts' denormalized score. A
 * repeat for the same day writes the same values and creates no second alert.
 */
export async function computeHealth(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  day: string,
): Promise<HealthRunSummary> {
  if (accountIds.length > HEALTH_CHUNK_SIZE) throw new Error(`at most ${HEALTH_CHUNK_SIZE} accounts per computation`);
  const config = await loadHealthConfig(env, workspaceId);
  const ids = idsParam(accountIds);
  const start30 = addDays(day, -30);
  const start60 = addDays(day, -60);
  const start90 = addDays(day, -90);
  const inList = "account_id IN (SELECT value FROM json_each(?2))";
  const latestScore = (condition: string, label: string) =>
    `SELECT account_id, '${label}' AS which, day, score, band FROM (
       SELECT account_id, day, score, band, row_number() OVER (PARTITION BY account_id ORDER BY day DESC) AS rn
         FROM health_scores WHERE workspace_id = ?1 AND ${inList} AND ${condition}) WHERE rn = 1`;
  const [
    accountsRes,
    usageRes,
    seatsRes,
    activitiesRes,
    emailsRes,
    ticketsRes,
    npsRes,
    csatRes,
    paymentsRes,
    historyRes,
  ] = await env.DB.batch([
    env.DB.prepare(
      "SELECT id, name, renewal_date, segment FROM accounts WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2)) ORDER BY id",
    ).bind(workspaceId, ids),
    // Usage over the last 60 complete days: the last 30 against the 30 before.
    env.DB.prepare(
      `SELECT account_id,
                sum(CASE WHEN day >= ?3 THEN active_users ELSE 0 END) AS active_user_days,
                sum(CASE WHEN day >= ?3 THEN events ELSE 0 END) AS events_30,
                sum(CASE WHEN day < ?3 THEN events ELSE 0 END) AS events_prior,
                sum(CASE WHEN day >= ?3 THEN 1 ELSE 0 END) AS days_30,
                count(*) AS days_60
           FROM usage_daily WHERE workspace_id = ?1 AND ${inList} AND day >= ?4 AND day < ?5
          GROUP BY account_id`,
    ).bind(workspaceId, ids, start30, start60, day),
    // Licensed seats with LICENSED_SEATS_SQL's definition, for many accounts at once.
    env.DB.prepare(
      `SELECT account_id, coalesce(sum(contract_seats), 0) AS seats FROM (
           SELECT c.account_id,
                  CASE WHEN max(p.kind = 'plan') = 1 THEN sum(CASE WHEN p.kind = 'plan' THEN ci.seats ELSE 0 END)
                       ELSE max(ci.seats) END AS contract_seats
             FROM (SELECT id, account_id FROM contracts WHERE workspace_id = ?1 AND ${inList} AND +status = 'active') c
             CROSS JOIN contract_items ci ON ci.workspace_id = ?1 AND ci.contract_id = c.id
             LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
            GROUP BY c.id)
          GROUP BY account_id`,
    ).bind(workspaceId, ids),
    env.DB.prepare(
      `SELECT account_id, count(*) AS n, json_group_array(id) AS ids FROM (
           SELECT account_id, id FROM activities WHERE workspace_id = ?1 AND ${inList} AND occurred_at >= ?3 AND occurred_at < ?4
            ORDER BY occurred_at DESC, id)
          GROUP BY account_id`,
    ).bind(workspaceId, ids, start30, addDays(day, 1)),
    env.DB.prepare(
      `SELECT account_id, count(opened_at) AS opens, count(clicked_at) AS clicks
           FROM outbox_messages WHERE workspace_id = ?1 AND ${inList} AND created_at >= ?3
          GROUP BY account_id`,
    ).bind(workspaceId, ids, start30),
    env.DB.prepare(
      `SELECT account_id,
                json_group_array(CASE WHEN priority IN ('urgent', 'high') AND status NOT IN ('solved', 'closed') THEN id END) AS open_ids,
                sum(created_at >= ?3) AS created_30
           FROM tickets WHERE workspace_id = ?1 AND ${inList}
          GROUP BY account_id`,
    ).bind(workspaceId, ids, start30),
    env.DB.prepare(
      `SELECT account_id, id, score FROM (
           SELECT account_id, id, score, row_number() OVER (PARTITION BY account_id ORDER BY responded_at DESC, id DESC) AS rn
             FROM survey_responses WHERE workspace_id = ?1 AND ${inList} AND +kind = 'nps' AND responded_at < ?3)
          WHERE rn = 1`,
    ).bind(workspaceId, ids, addDays(day, 1)),
    env.DB.prepare(
      `SELECT account_id, avg(score) AS mean, count(*) AS n
           FROM survey_responses WHERE workspace_id = ?1 AND ${inList} AND +kind = 'csat' AND responded_at >= ?3 AND responded_at < ?4
          GROUP BY account_id`,
    ).bind(workspaceId, ids, start90, addDays(day, 1)),
    env.DB.prepare(
      `SELECT account_id, count(*) AS n,
                json_group_array(CASE WHEN status = 'failed' OR (status = 'open' AND due_date < ?4) THEN id END) AS problem_ids
           FROM payments WHERE workspace_id = ?1 AND ${inList} AND created_at >= ?3
          GROUP BY account_id`,
    ).bind(workspaceId, ids, start90, day),
    env.DB.prepare(
      `${latestScore("day < ?3", "previous")} UNION ALL ${latestScore("day <= ?4", "d7")} UNION ALL ${latestScore("day <= ?5", "d30")}`,
    ).bind(workspaceId, ids, day, addDays(day, -7), addDays(day, -30)),
  ]);

  const byAccount = <T extends { account_id: string }>(res: D1Result<unknown>) =>
    new Map((res.results as T[]).map((row) => [row.account_id, row]));
  const usage = byAccount<{
    account_id: string;
    active_user_days: number;
    events_30: number;
    events_prior: number;
    days_30: number;
    days_60: number;
  }>(usageRes as D1Result<unknown>);
  const seats = byAccount<{ account_id: string; seats: number }>(seatsRes as D1Result<unknown>);
  const activities = byAccount<{ account_id: string; n: number; ids: string }>(activitiesRes as D1Result<unknown>);
  const emails = byAccount<{ account_id: string; opens: number; clicks: number }>(emailsRes as D1Result<unknown>);
  const tickets = byAccount<{ account_id: string; open_ids: string; created_30: number }>(
    ticketsRes as D1Result<unknown>,
  );
  const nps = byAccount<{ account_id: string; id: string; score: number }>(npsRes as D1Result<unknown>);
  const csat = byAccount<{ account_id: string; mean: number; n: number }>(csatRes as D1Result<unknown>);
  const payments = byAccount<{ account_id: string; n: number; problem_ids: string }>(paymentsRes as D1Result<unknown>);
  const history = new Map<string, { day: string; score: number; band: Band }>();
  for (const row of (historyRes as D1Result<unknown>).results as {
    account_id: string;
    which: string;
    day: string;
    score: number;
    band: Band;
  }[]) {
    history.set(`${row.account_id}:${row.which}`, { day: row.day, score: row.score, band: row.band });
  }

  const computed: AccountHealth[] = [];
  const notScored: string[] = [];
  for (const account of (accountsRes as D1Result<AccountRow>).results) {
    const u = usage.get(account.id);
    const seatCount = seats.get(account.id)?.seats ?? 0;
    const act = activities.get(account.id);
    const mail = emails.get(account.id);
    const t = tickets.get(account.id);
    const n = nps.get(account.id);
    const c = csat.get(account.id);
    const p = payments.get(account.id);
    const evidence: HealthEvidence = {
      usage_days_with_data_30d: u?.days_30 ?? 0,
      usage_days_with_data_60d: u?.days_60 ?? 0,
      active_user_days_30d: u?.active_user_days ?? 0,
      events_30d: u?.events_30 ?? 0,
      events_prior_30d: u?.events_prior ?? 0,
      licensed_seats: seatCount,
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
      renewal_date: account.renewal_date,
    };
    const openUrgentHigh = t ? (JSON.parse(t.open_ids) as (string | null)[]).filter((v) => v !== null).length : 0;
    const problems = p ? (JSON.parse(p.problem_ids) as (string | null)[]).filter((v) => v !== null).length : 0;
    const hasUsage = evidence.usage_days_with_data_60d > 0;
    const values: MeasureValues = {
      // The mean over days with data, as get_account_overview defines license utilization.
      license_utilization:
        evidence.usage_days_with_data_30d > 0 && seatCount > 0
          ? round2(evidence.active_user_days_30d / evidence.usage_days_with_data_30d / seatCount)
          : null,
      events_trend:
        hasUsage && evidence.events_prior_30d > 0 ? round2(evidence.events_30d / evidence.events_prior_30d - 1) : null,
      touchpoints: evidence.activities_30d + evidence.email_opens_30d + evidence.email_clicks_30d,
      open_urgent_high_tickets: openUrgentHigh,
      tickets_created: evidence.tickets_created_30d,
      latest_nps: n ? n.score : null,
      csat_mean: c ? round2(c.mean) : null,
      problem_payments: p ? problems : null,
      days_to_renewal: account.renewal_date ? daysBetween(day, account.renewal_date) : null,
    };
    const accountConfig = configForSegment(config, config.scorecards, account.segment);
    const result = scoreHealth(values, accountConfig);
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

  const rows = computed.map((a) => ({
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
  const writes: D1PreparedStatement[] = [];
  for (const chunk of jsonChunks(rows)) {
    writes.push(
      env.DB.prepare(
        `INSERT INTO health_scores (workspace_id, account_id, day, score, band, components, model_version)
         SELECT ?1, json_extract(value, '$.id'), ?2, json_extract(value, '$.score'), json_extract(value, '$.band'),
                json_extract(value, '$.components'), ?3
           FROM json_each(?4) WHERE true
         ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET score = excluded.score, band = excluded.band,
           components = excluded.components, model_version = excluded.model_version`,
      ).bind(workspaceId, day, HEALTH_MODEL_VERSION, chunk),
      env.DB.prepare(
        // \`+workspace_id\` keeps the planner on the primary key with the id list outside: through the
        // workspace index it would walk every account of the workspace once per listed id.
        `UPDATE accounts SET health_score = v.score, health_band = v.band
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.score' AS score, value ->> '$.band' AS band
                   FROM json_each(?2)) AS v
          WHERE +accounts.workspace_id = ?1 AND accounts.id = v.id`,
      ).bind(workspaceId, chunk),
    );
  }

  // Alerts: a fall into a lower band than the latest score before today, or a drop of more
  // than alert_drop points against 7 days earlier. The task id is fixed per account and day,
  // and an open health_alert task for the same crossing suppresses a new one.
  const rank: Record<Band, number> = { red: 0, yellow: 1, green: 2 };
  const alertCandidates = computed.flatMap((a) => {
    const band = a.result.band as Band;
    const crossed = a.previous !== null && rank[band] < rank[a.previous.band];
    const dropped = a.trend_7d !== null && -a.trend_7d > config.alert_drop;
    if (!crossed && !dropped) return [];
    const title = crossed
      ? `Health fell ${a.previous?.band} → ${band}: ${a.account_name}`
      : `Health dropped ${round2(-(a.trend_7d ?? 0))} points in 7 days: ${a.account_name}`;
    const reason = crossed
      ? `band ${a.previous?.band} (${a.previous?.score} on ${a.previous?.day}) → ${band} (${a.result.score})`
      : `score ${a.score_7d_ago} → ${a.result.score} in 7 days (alert drop ${config.alert_drop})`;
    return [{ account: a, title, reason, taskId: `tsk_health_${a.account_id}_${day}` }];
  });
  if (alertCandidates.length > 0) {
    const open = await env.DB.prepare(
      `SELECT account_id, title FROM tasks WHERE workspace_id = ?1 AND source = 'health_alert' AND status = 'open'
         AND ${inList}`,
    )
      .bind(workspaceId, idsParam(alertCandidates.map((c) => c.account.account_id)))
      .all<{ account_id: string; title: string }>();
    const existing = new Set(open.results.map((r) => `${r.account_id}:${r.title}`));
    const fresh = alertCandidates.filter((c) => !existing.has(`${c.account.account_id}:${c.title}`));
    for (const chunk of jsonChunks(
      fresh.map((c) => ({ id: c.taskId, account: c.account.account_id, title: c.title, reason: c.reason })),
    )) {
      writes.push(
        env.DB.prepare(
          `INSERT INTO tasks (id, workspace_id, account_id, title, description, priority, status, source, due_date)
           SELECT json_extract(value, '$.id'), ?1, json_extract(value, '$.account'), json_extract(value, '$.title'),
                  'Health alert: ' || json_extract(value, '$.reason'), 'high', 'open', 'health_alert', ?2
             FROM json_each(?3) WHERE true
           ON CONFLICT (id) DO NOTHING RETURNING id`,
        ).bind(workspaceId, addDays(day, 2), chunk),
      );
    }
    for (const c of alertCandidates) {
      c.account.alert = { reason: c.reason, task_id: c.taskId, created: false, slack_queued: false };
    }
  }
  const results = writes.length > 0 ? await env.DB.batch(writes) : [];
  const createdTasks = new Set(
    results.flatMap((r) => ((r.results ?? []) as { id?: string }[]).map((row) => row.id ?? "")).filter(Boolean),
  );
  const raised = computed.filter((a) => a.alert && createdTasks.has(a.alert.task_id));
  const { queued } = await queueAlerts(
    env,
    workspaceId,
    raised.map((a) => ({
      idempotencyKey: `health:${a.account_id}:${day}`,
      text: `Health alert for ${a.account_name}: ${a.alert?.reason}.`,
    })),
  );
  for (const a of raised) {
    if (!a.alert) continue;
    a.alert.created = true;
    a.alert.slack_queued = queued;
  }
  const alertsCreated = raised.length;
  return { accounts: computed, stored: computed.length, not_scored: notScored, alerts_created: alertsCreated };
}

/**
 * Nightly: lists every workspace's active accounts in id order (in pages by primary key) and queues them as
 * `health_recalc_chunk` messages of at most {@link HEALTH_CHUNK_SIZE} ids; it never computes.
 * The chunk handlers record progress in this run's `job_runs` detail.
 */
export const healthRecalc: CronJob = {
  name: HEALTH_RECALC_JOB,
  order: 30,
  async run(env, scheduledTime) {
    const day = isoDay(scheduledTime);
    const run = await env.DB.prepare("SELECT id FROM job_runs WHERE cron = '0 3 * * *' AND scheduled_time = ?1")
      .bind(scheduledTime.toISOString())
      .first<{ id: string }>();
    const runId = run?.id ?? "";
    // Progress first, so a chunk finishing early finds the counters; the total follows once all are queued.
    await env.DB.prepare(
      `UPDATE job_runs SET detail = json_set(coalesce(detail, '{}'), '$.${HEALTH_RECALC_JOB}_progress',
         json_object('day', ?2, 'chunks_total', NULL, 'chunks_done', 0, 'accounts_done', 0)) WHERE id = ?1`,
    )
      .bind(runId, day)
      .run();
    const chunk = (workspaceId: string, accountIds: string[]): HealthRecalcChunkMessage => ({
      type: "health_recalc_chunk",
      workspaceId,
      runId,
      day,
      accountIds,
    });
    // Accounts are read in pages by primary key; each workspace fills its own chunk in id order.
    const filling = new Map<string, string[]>();
    const ready: HealthRecalcChunkMessage[] = [];
    let listed = 0;
    let queued = 0;
    const send = async (all: boolean) => {
      while (ready.length >= SEND_BATCH_SIZE || (all && ready.length > 0)) {
        const batch = ready.splice(0, SEND_BATCH_SIZE);
        await env.JOBS_QUEUE.sendBatch(batch.map((body) => ({ body })));
        queued += batch.length;
      }
    };
    let after = "";
    for (;;) {
      const page = await env.DB.prepare(
        "SELECT workspace_id, id FROM accounts WHERE id > ?1 AND status = 'active' ORDER BY id LIMIT ?2",
      )
        .bind(after, LIST_PAGE_SIZE)
        .all<{ workspace_id: string; id: string }>();
      for (const row of page.results) {
        const ids = filling.get(row.workspace_id) ?? [];
        ids.push(row.id);
        if (ids.length === HEALTH_CHUNK_SIZE) {
          ready.push(chunk(row.workspace_id, ids));
          filling.delete(row.workspace_id);
        } else {
          filling.set(row.workspace_id, ids);
        }
      }
      listed += page.results.length;
      await send(false);
      const last = page.results.at(-1);
      if (!last || page.results.length < LIST_PAGE_SIZE) break;
      after = last.id;
    }
    for (const [workspaceId, ids] of filling) ready.push(chunk(workspaceId, ids));
    await send(true);
    await env.DB.prepare(
      `UPDATE job_runs SET detail = json_set(detail, '$.${HEALTH_RECALC_JOB}_progress.chunks_total', ?2)
        WHERE id = ?1 AND json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress') IS NOT NULL`,
    )
      .bind(runId, queued)
      .run();
    return { day, accounts_listed: listed, chunks_queued: queued };
  },
};

/** One `health_recalc_chunk` queue message. */
export interface HealthRecalcJob {
  messageId: string;
  workspaceId: string;
  runId: string;
  day: string;
  accountIds: string[];
}

/**
 * Runs queued chunks: the same computation as the tool, then one atomic progress update on the
 * cron run's detail. Returns the error of each chunk that failed, by message id.
 */
export async function handleHealthChunks(env: Env, jobs: readonly HealthRecalcJob[]): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  for (const job of jobs) {
    try {
      const started = performance.now();
      const summary = await computeHealth(env, job.workspaceId, job.accountIds, job.day);
      const healthMs = Math.round(performance.now() - started);
      const after = await afterHealthChunk(env, job.workspaceId, job.accountIds, job.day);
      console.log(
        JSON.stringify({
          job: HEALTH_RECALC_JOB,
          workspaceId: job.workspaceId,
          accounts: job.accountIds.length,
          stored: summary.stored,
          ms: Math.round(performance.now() - started),
          health_ms: healthMs,
          ...after,
        }),
      );
      if (job.runId) {
        await env.DB.prepare(
          `UPDATE job_runs SET detail = json_set(detail,
             '$.${HEALTH_RECALC_JOB}_progress.chunks_done', json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress.chunks_done') + 1,
             '$.${HEALTH_RECALC_JOB}_progress.accounts_done', json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress.accounts_done') + ?2)
           WHERE id = ?1 AND json_extract(detail, '$.${HEALTH_RECALC_JOB}_progress') IS NOT NULL`,
        )
          .bind(job.runId, summary.stored)
          .run();
      }
    } catch (error) {
      failures.set(job.messageId, error);
    }
  }
  return failures;
}

/** Computes queued health chunks. */
export const healthRecalcChunkJob = defineJob({ schema: healthRecalcChunkMessage, handleBatch: handleHealthChunks });
