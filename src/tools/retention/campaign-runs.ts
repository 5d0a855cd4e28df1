import { queueEmail } from "../../email/queue-email";
import { jsonChunks } from "../../platform/db/json-chunks";
import { clock } from "../../platform/lib/clock";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { ToolError } from "../../platform/mcp/errors";
import {
  type CampaignStep,
  campaignStepsSchema,
  dueStepIndexes,
  liveTriggerSql,
  type TriggerRule,
  triggerSchema,
} from "./queries/triggers";

/**
 * Retention-campaign automation: enrollment of accounts whose facts match an active campaign's
 * trigger, and the steps (emails through the outbox, tasks for the owner) due for each active
 * enrollment. Every write is idempotent: enrollments are unique per campaign and account, task
 * ids and email idempotency keys are fixed per enrollment and step, and an enrollment advances
 * only from the step it was read at.
 */

/** An active campaign with its parsed trigger and steps. */
export interface ActiveCampaign {
  id: string;
  trigger: TriggerRule[];
  steps: CampaignStep[];
}

/** The contact a retention email goes to. */
export interface Recipient {
  account_id: string;
  contact_id: string;
  name: string;
  email: string;
}

/**
 * For each account, the contact retention emails go to: a champion (else a decision maker) who
 * has not left, has an email address and never unsubscribed, bounced or reported spam; ties by id.
 */
export async function recipientsFor(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<Map<string, Recipient>> {
  const recipients = new Map<string, Recipient>();
  for (const chunk of jsonChunks([...accountIds])) {
    const { results } = await env.DB.prepare(
      `SELECT account_id, contact_id, name, email FROM (
         SELECT c.account_id, c.id AS contact_id, c.name, c.email,
                row_number() OVER (PARTITION BY c.account_id ORDER BY c.is_champion DESC, c.is_decision_maker DESC, c.id) AS rn
           FROM contacts c
          WHERE c.workspace_id = ?1 AND c.account_id IN (SELECT value FROM json_each(?2))
            AND (c.is_champion = 1 OR c.is_decision_maker = 1) AND c.left_at IS NULL
            AND c.unsubscribed = 0 AND c.bounced = 0 AND c.spam_reported = 0 AND coalesce(c.email, '') <> '')
        WHERE rn = 1`,
    )
      .bind(workspaceId, chunk)
      .all<Recipient>();
    for (const r of results) recipients.set(r.account_id, r);
  }
  return recipients;
}

/** Parses a stored campaign; null when its stored trigger or steps no longer validate. */
export function parseCampaign(row: { id: string; trigger: string; steps: string }): ActiveCampaign | null {
  const trigger = triggerSchema.safeParse(JSON.parse(row.trigger));
  const steps = campaignStepsSchema.safeParse(JSON.parse(row.steps));
  return trigger.success && steps.success ? { id: row.id, trigger: trigger.data, steps: steps.data } : null;
}

/** Every active campaign of the workspace, parsed. */
export async function activeCampaigns(env: Env, workspaceId: string): Promise<ActiveCampaign[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, trigger, steps FROM retention_campaigns WHERE workspace_id = ?1 AND status = 'active' ORDER BY id",
  )
    .bind(workspaceId)
    .all<{ id: string; trigger: string; steps: string }>();
  return results.flatMap((row) => parseCampaign(row) ?? []);
}

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

/**
 * Enrolls the matching accounts (the given ids, or every active account) in each campaign, once
 * per account and campaign ever (`ON CONFLICT DO NOTHING`), with the first matching rule and the
 * values it saw as the snapshot. One INSERT … SELECT per campaign, all in one batch. Returns the
 * number of new enrollments per campaign id.
 */
export async function enrollMatching(
  env: Env,
  workspaceId: string,
  campaigns: readonly ActiveCampaign[],
  day: string,
  accountIds: readonly string[] | null,
  now: Date,
): Promise<Map<string, number>> {
  const enrolledAt = day === isoDay(now) ? now.toISOString() : `${day}T00:00:00.000Z`;
  const idList = accountIds ? JSON.stringify(accountIds) : null;
  const statements = campaigns.map((campaign) => {
    const rules = liveTriggerSql(campaign.trigger, idList ? 7 : 6);
    return env.DB.prepare(
      `${triggerFactsCte(idList ? "?6" : null)}
       INSERT INTO campaign_enrollments (id, workspace_id, campaign_id, account_id, enrolled_at, trigger_snapshot, status, next_step)
       SELECT 'enr_' || ?4 || '_' || f.account_id, ?1, ?4, f.account_id, ?5, json_set(${rules.snapshot}, '$.day', ?2), 'active', 0
         FROM f WHERE ${rules.condition}
       ON CONFLICT DO NOTHING`,
    ).bind(workspaceId, day, addDays(day, -7), campaign.id, enrolledAt, ...(idList ? [idList] : []), ...rules.params);
  });
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  return new Map(campaigns.map((c, i) => [c.id, results[i]?.meta.changes ?? 0]));
}

/** What one run of due steps did. */
export interface StepRunSummary {
  /** Enrollments with a step due. */
  enrollments_checked: number;
  emails_queued: number;
  tasks_created: number;
  /** Email steps passed over because the account has no eligible champion or decision maker. */
  emails_without_recipient: number;
  /** Enrollments held at an email step the outbox refused (e.g. no sender configured); retried next run. */
  email_errors: number;
  enrollments_completed: number;
}

interface EnrollmentRow {
  id: string;
  campaign_id: string;
  account_id: string;
  enrolled_at: string;
  next_step: number;
  steps: string;
  owner_user_id: string | null;
}

/**
 * Runs the steps due on `day` for the active enrollments of active campaigns — of the given
 * accounts, or of one campaign (at most `limit` enrollments with a step due, by id). A step is due when its
 * day_offset from the enrollment day has been reached; all due steps run in order. Emails go
 * through `queueEmail` (key `campaign:<enrollment id>:<step index>`, origin `campaign:<id>`),
 * tasks are inserted with a fixed id; then each enrollment advances (completed when no steps
 * are left) only where its next_step is still the one read, so a repeat sends and creates nothing new.
 */
export async function runDueSteps(
  env: Env,
  workspaceId: string,
  day: string,
  scope: { accountIds: readonly string[] } | { campaignId: string; limit: number },
): Promise<StepRunSummary> {
  // Only enrollments whose next step is due: its day offset from the enrollment day has been reached.
  const base = `SELECT e.id, e.campaign_id, e.account_id, e.enrolled_at, e.next_step, c.steps, a.owner_user_id
      FROM campaign_enrollments e
      JOIN retention_campaigns c ON c.workspace_id = e.workspace_id AND c.id = e.campaign_id AND c.status = 'active'
      JOIN accounts a ON a.workspace_id = e.workspace_id AND a.id = e.account_id
     WHERE e.workspace_id = ?1 AND e.status = 'active'
       AND date(substr(e.enrolled_at, 1, 10), '+' || (c.steps ->> ('$[' || e.next_step || '].day_offset')) || ' days') <= ?2`;
  const { results: enrollments } = await ("accountIds" in scope
    ? env.DB.prepare(`${base} AND e.account_id IN (SELECT value FROM json_each(?3)) ORDER BY e.id`).bind(
        workspaceId,
        day,
        JSON.stringify(scope.accountIds),
      )
    : env.DB.prepare(`${base} AND e.campaign_id = ?3 ORDER BY e.id LIMIT ?4`).bind(
        workspaceId,
        day,
        scope.campaignId,
        scope.limit,
      )
  ).all<EnrollmentRow>();
  const summary: StepRunSummary = {
    enrollments_checked: enrollments.length,
    emails_queued: 0,
    tasks_created: 0,
    emails_without_recipient: 0,
    email_errors: 0,
    enrollments_completed: 0,
  };
  const work = enrollments.flatMap((e) => {
    const steps = campaignStepsSchema.safeParse(JSON.parse(e.steps));
    if (!steps.success) return [];
    const due = dueStepIndexes(steps.data, e.next_step, daysBetween(e.enrolled_at, day));
    return due.length > 0 ? [{ enrollment: e, steps: steps.data, due }] : [];
  });
  if (work.length === 0) return summary;
  const recipients = work.some((w) => w.due.some((i) => w.steps[i]!.kind === "email"))
    ? await recipientsFor(env, workspaceId, [...new Set(work.map((w) => w.enrollment.account_id))])
    : new Map<string, Recipient>();

  const tasks: { id: string; account: string; title: string; owner: string | null; source: string }[] = [];
  const advances: { id: string; from: number; next: number; done: boolean }[] = [];
  for (const { enrollment: e, steps, due } of work) {
    let next = e.next_step;
    for (const index of due) {
      const step = steps[index]!;
      if (step.kind === "task") {
        tasks.push({
          id: `tsk_cmp_${e.id}_${index}`,
          account: e.account_id,
          title: step.title,
          owner: e.owner_user_id,
          source: `campaign:${e.campaign_id}`,
        });
      } else {
        const recipient = recipients.get(e.account_id);
        if (!recipient) {
          summary.emails_without_recipient++;
        } else {
          try {
            const queued = await queueEmail(env, {
              workspaceId,
              to: recipient.email,
              contactId: recipient.contact_id,
              accountId: e.account_id,
              subject: step.subject,
              text: step.body,
              idempotencyKey: `campaign:${e.id}:${index}`,
              origin: `campaign:${e.campaign_id}`,
            });
            if (queued.created) summary.emails_queued++;
          } catch (error) {
            if (!(error instanceof ToolError)) throw error;
            console.log(JSON.stringify({ job: "campaign_steps", enrollment: e.id, step: index, error: error.message }));
            summary.email_errors++;
            break;
          }
        }
      }
      next = index + 1;
    }
    if (next > e.next_step) advances.push({ id: e.id, from: e.next_step, next, done: next >= steps.length });
  }
  const writes: D1PreparedStatement[] = [];
  for (const chunk of jsonChunks(tasks)) {
    writes.push(
      env.DB.prepare(
        `INSERT INTO tasks (id, workspace_id, account_id, title, description, owner_user_id, priority, status, source, due_date)
         SELECT value ->> '$.id', ?1, value ->> '$.account', value ->> '$.title', 'Retention campaign step',
                value ->> '$.owner', 'high', 'open', value ->> '$.source', ?2
           FROM json_each(?3) WHERE true
         ON CONFLICT (id) DO NOTHING`,
      ).bind(workspaceId, day, chunk),
    );
  }
  for (const chunk of jsonChunks(advances)) {
    writes.push(
      env.DB.prepare(
        `UPDATE campaign_enrollments
            SET next_step = j.next,
                status = CASE WHEN j.done THEN 'completed' ELSE status END,
                completed_at = CASE WHEN j.done THEN ?2 ELSE completed_at END
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.from' AS from_step, value ->> '$.next' AS next,
                        value ->> '$.done' AS done FROM json_each(?3)) AS j
          WHERE campaign_enrollments.workspace_id = ?1 AND campaign_enrollments.id = j.id
            AND campaign_enrollments.next_step = j.from_step`,
      ).bind(workspaceId, clock.now().toISOString(), chunk),
    );
  }
  const results = writes.length > 0 ? await env.DB.batch(writes) : [];
  const taskWrites = jsonChunks(tasks).length;
  summary.tasks_created = results.slice(0, taskWrites).reduce((s, r) => s + r.meta.changes, 0);
  summary.enrollments_completed = advances.filter((a) => a.done).length;
  return summary;
}

/**
 * After a nightly health chunk: enrolls the chunk's accounts in every active campaign whose
 * trigger they match, then runs their due steps. Nothing is read beyond one query when the
 * workspace has no active campaign.
 */
export async function runCampaignsForChunk(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  day: string,
): Promise<void> {
  const campaigns = await activeCampaigns(env, workspaceId);
  if (campaigns.length === 0) return;
  await enrollMatching(env, workspaceId, campaigns, day, accountIds, clock.now());
  await runDueSteps(env, workspaceId, day, { accountIds });
}
