import { queueEmail } from "../../email/queue-email";
import { firstName } from "../../email/render";
import { clock } from "../../platform/lib/clock";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { ToolError } from "../../platform/mcp/errors";
import {
  type CampaignStep,
  campaignStepsSchema,
  campaignTaskTitle,
  dueStepIndexes,
  type TriggerRule,
  triggerSchema,
} from "./domain/campaign-rules";
import {
  activeCampaignRows,
  advanceEnrollmentStatements,
  type CampaignTask,
  campaignTaskStatements,
  type DueEnrollmentRow,
  dueEnrollments,
  type EnrollmentAdvance,
  enrollStatement,
  type RetentionRecipient,
  recipientsFor,
} from "./queries/campaigns";
import { liveTriggerSql } from "./queries/triggers";

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

/** Parses a stored campaign; null when its stored trigger or steps no longer validate. */
export function parseCampaign(row: { id: string; trigger: string; steps: string }): ActiveCampaign | null {
  const trigger = triggerSchema.safeParse(JSON.parse(row.trigger));
  const steps = campaignStepsSchema.safeParse(JSON.parse(row.steps));
  return trigger.success && steps.success ? { id: row.id, trigger: trigger.data, steps: steps.data } : null;
}

/** Every active campaign of the workspace, parsed. */
export async function activeCampaigns(env: Env, workspaceId: string): Promise<ActiveCampaign[]> {
  const rows = await activeCampaignRows(env.DB, workspaceId);
  return rows.flatMap((row) => parseCampaign(row) ?? []);
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
  const statements = campaigns.map((campaign) =>
    enrollStatement(env.DB, workspaceId, {
      campaignId: campaign.id,
      day,
      weekBefore: addDays(day, -7),
      enrolledAt,
      idList,
      rules: liveTriggerSql(campaign.trigger, idList ? 7 : 6),
    }),
  );
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

/** An enrollment with steps due: its parsed steps and the indexes due, in order. */
interface DueWork {
  enrollment: DueEnrollmentRow;
  steps: CampaignStep[];
  due: number[];
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
  const enrollments = await dueEnrollments(env.DB, workspaceId, day, scope);
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
  // Emails need a recipient; a task title may name the contact too.
  const needsContact = (step: CampaignStep) => step.kind === "email" || step.title.includes("{{");
  const recipients = work.some((w) => w.due.some((i) => needsContact(w.steps[i]!)))
    ? await recipientsFor(env.DB, workspaceId, [...new Set(work.map((w) => w.enrollment.account_id))])
    : new Map<string, RetentionRecipient>();

  const tasks: CampaignTask[] = [];
  const advances: EnrollmentAdvance[] = [];
  for (const item of work) {
    const next = await runEnrollmentSteps(env, workspaceId, item, recipients.get(item.enrollment.account_id), {
      summary,
      tasks,
    });
    const e = item.enrollment;
    if (next > e.next_step) advances.push({ id: e.id, from: e.next_step, next, done: next >= item.steps.length });
  }
  const taskWrites = campaignTaskStatements(env.DB, workspaceId, day, tasks);
  const writes = [
    ...taskWrites,
    ...advanceEnrollmentStatements(env.DB, workspaceId, clock.now().toISOString(), advances),
  ];
  const results = writes.length > 0 ? await env.DB.batch(writes) : [];
  summary.tasks_created = results.slice(0, taskWrites.length).reduce((s, r) => s + r.meta.changes, 0);
  summary.enrollments_completed = advances.filter((a) => a.done).length;
  return summary;
}

/**
 * Runs one enrollment's due steps in order: a task step adds its task to `out.tasks`, an email
 * step queues its email to the recipient (passed over without one). An email the outbox refuses
 * stops there, so the enrollment is held at it. Returns the index of the next step to run.
 */
async function runEnrollmentSteps(
  env: Env,
  workspaceId: string,
  { enrollment: e, steps, due }: DueWork,
  recipient: RetentionRecipient | undefined,
  out: { summary: StepRunSummary; tasks: CampaignTask[] },
): Promise<number> {
  let next = e.next_step;
  for (const index of due) {
    const step = steps[index]!;
    if (step.kind === "task") {
      out.tasks.push({
        id: `tsk_cmp_${e.id}_${index}`,
        account: e.account_id,
        title: campaignTaskTitle(step.title, {
          "account.name": e.account_name,
          "account.domain": e.account_domain,
          "csm.name": e.csm_name,
          "csm.first_name": firstName(e.csm_name),
          "csm.email": e.csm_email,
          "contact.name": recipient?.name,
          "contact.first_name": firstName(recipient?.name),
          "contact.email": recipient?.email,
        }),
        owner: e.owner_user_id,
        source: `campaign:${e.campaign_id}`,
      });
    } else if (!recipient) {
      out.summary.emails_without_recipient++;
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
        if (queued.created) out.summary.emails_queued++;
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        console.log(JSON.stringify({ job: "campaign_steps", enrollment: e.id, step: index, error: error.message }));
        out.summary.email_errors++;
        break;
      }
    }
    next = index + 1;
  }
  return next;
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
