import { z } from "zod";
import { queueAlert } from "../../alerts/slack";
import { queueEmail } from "../../email/queue-email";
import { clock } from "../../platform/lib/clock";
import { newId } from "../../platform/lib/ids";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { ToolError } from "../../platform/mcp/errors";
import type { CronJob } from "../../platform/queue/cron";
import { defineJob } from "../../platform/queue/jobs";
import { readSettings, type WorkspaceSettings } from "../../records/settings";
import { loadWorkspaceSettings } from "../../records/workspace-settings";
import { closedRenewalReason, normalizeOffsets, offsetsForTier, planReminders } from "./domain/renewal-schedule";
import {
  type DispatchRow,
  insertReminders,
  queuedRemindersDue,
  queuedRemindersToSend,
  type ReminderOutcome,
  type ReminderTask,
  reminderCandidates,
  reminderOutcomeStatements,
  reminderTaskStatements,
  workspacesWithRenewalsDue,
} from "./queries/reminders";

/** The cron job's name, also the key of its figures in the run's detail. */
export const RENEWAL_REMINDERS_JOB = "renewal_reminders";
/** Contracts read per scan page. */
const SCAN_PAGE_SIZE = 500;
/** Most reminders one queue message (and one send) covers. */
export const REMINDER_CHUNK_SIZE = 100;
/** Messages per `sendBatch` call: 50 chunks of 100 ids stay well under the 256 KB batch limit. */
const SEND_BATCH_SIZE = 50;
/** Days after the reminder the owner's task falls due (never after the renewal date). */
const TASK_DUE_DAYS = 7;

/** What sending one chunk of reminders did. */
export interface ReminderSendSummary {
  /** Reminders that went out (on at least one channel) and that were closed before going out. */
  sent: number;
  closed: number;
  emails_queued: number;
  tasks_created: number;
  slack_queued: number;
}

/** The idempotency key of a reminder's email and Slack alert: one per contract and offset. */
export const reminderKey = (contractId: string, offset: number) => `renewal:${contractId}:${offset}`;
/** The fixed id of a reminder's task, so a repeat never opens a second one. */
export const reminderTaskId = (reminderId: string) => `tsk_${reminderId}`;

const money = (value: number) => Math.round(value).toLocaleString("en-US");

/**
 * Creates the reminder rows of one workspace due on `day` (UTC), set-based: pages of open
 * renewals (contract active without an outcome, account not churned, renewal date after `day`)
 * that have a crossed offset not yet reminded, planned by {@link planReminders} and inserted
 * with ON CONFLICT DO NOTHING on (workspace, contract, offset), so a repeat adds nothing.
 */
export async function scanReminders(
  env: Env,
  workspaceId: string,
  settings: WorkspaceSettings,
  day: string,
  pageSize = SCAN_PAGE_SIZE,
): Promise<{ created: number; skipped: number }> {
  const config = settings.renewal_reminders;
  const tiers = Object.keys(config.by_tier);
  // (tier, offset) pairs; '' stands for every account whose tier has no schedule of its own.
  const schedule = [
    ...normalizeOffsets(config.offsets_days).map((o) => ({ t: "", o })),
    ...tiers.flatMap((t) => offsetsForTier(config, t).map((o) => ({ t, o }))),
  ];
  const maxOffset = Math.max(...schedule.map((s) => s.o));
  let created = 0;
  let skipped = 0;
  // Keyset in the order of the (workspace, status, end date) index, so each page reads only its own rows.
  let after = { endDate: "", id: "" };
  for (;;) {
    const page = await reminderCandidates(env.DB, workspaceId, {
      day,
      schedule,
      until: addDays(day, maxOffset),
      tiers,
      after,
      pageSize,
    });
    const rows = page.flatMap((c) => {
      const daysLeft = daysBetween(day, c.end_date);
      const plan = planReminders(offsetsForTier(config, c.tier), daysLeft, JSON.parse(c.reminded) as number[]);
      const base = { c: c.contract_id, a: c.account_id, rd: c.end_date, u: c.owner_user_id };
      return [
        ...(plan.send === null ? [] : [{ ...base, o: plan.send, s: "queued", n: null }]),
        ...plan.skip.map((s) => ({ ...base, o: s.offset, s: "skipped", n: s.note })),
      ].map((r) => ({ ...r, id: newId("rrm"), due: addDays(c.end_date, -r.o) }));
    });
    for (const status of await insertReminders(env.DB, workspaceId, rows)) {
      if (status === "queued") created++;
      else skipped++;
    }
    const last = page.at(-1);
    if (!last || page.length < pageSize) break;
    after = { endDate: last.end_date, id: last.contract_id };
  }
  return { created, skipped };
}

/**
 * Sends the given reminders of one workspace that are still queued, on the channels the settings
 * enable: a task for the account owner (fixed id), an email to the owner through the outbox
 * (idempotency key `renewal:<contract>:<offset>`, origin `reminder`) and a Slack alert with the
 * same key. A renewal closed meanwhile (outcome set, contract not active, account churned, date
 * passed by `day`) is marked skipped instead. Every channel is idempotent and a reminder already
 * sent is not read again, so a redelivered or concurrent chunk sends nothing twice; the rows leave
 * `queued` in one set-based update.
 */
export async function sendReminders(
  env: Env,
  workspaceId: string,
  settings: WorkspaceSettings,
  day: string,
  reminderIds: readonly string[],
): Promise<ReminderSendSummary> {
  const summary = { sent: 0, closed: 0, emails_queued: 0, tasks_created: 0, slack_queued: 0 };
  if (reminderIds.length > REMINDER_CHUNK_SIZE) throw new Error(`at most ${REMINDER_CHUNK_SIZE} reminders per chunk`);
  const page = await queuedRemindersToSend(env.DB, workspaceId, reminderIds);
  const updates: ReminderOutcome[] = [];
  const tasks: ReminderTask[] = [];
  for (const r of page) {
    const closedReason = closedRenewalReason(r, day);
    if (closedReason) {
      updates.push({ id: r.id, s: "skipped", t: null, e: null, k: 0, n: closedReason, u: r.owner_user_id });
      summary.closed++;
      continue;
    }
    updates.push(await sendReminder(env, workspaceId, settings.renewal_reminders, day, r, { summary, tasks }));
  }
  const taskWrites = reminderTaskStatements(env.DB, workspaceId, tasks);
  const updateWrites = reminderOutcomeStatements(env.DB, workspaceId, updates, clock.now().toISOString());
  if (taskWrites.length + updateWrites.length > 0) {
    const results = await env.DB.batch([...taskWrites, ...updateWrites]);
    for (const result of results.slice(0, taskWrites.length)) summary.tasks_created += result.results?.length ?? 0;
  }
  return summary;
}

/**
 * Sends one open renewal's reminder on the enabled channels: adds its owner task to `out.tasks`
 * (written with the others), queues the owner email and the Slack alert, counts them in
 * `out.summary`, and returns how the reminder leaves `queued`.
 */
async function sendReminder(
  env: Env,
  workspaceId: string,
  config: WorkspaceSettings["renewal_reminders"],
  day: string,
  r: DispatchRow,
  out: { summary: ReminderSendSummary; tasks: ReminderTask[] },
): Promise<ReminderOutcome> {
  const { summary } = out;
  const daysLeft = daysBetween(day, r.renewal_date);
  const facts = reminderFacts(r);
  const notes: string[] = [];
  let taskId: string | null = null;
  if (config.create_task) {
    taskId = reminderTaskId(r.id);
    const due = [addDays(day, TASK_DUE_DAYS), r.renewal_date].sort()[0] as string;
    out.tasks.push({
      id: taskId,
      a: r.account_id,
      title: `Prepare renewal (${daysLeft} days left): ${r.account_name ?? r.account_id}`,
      d: `Renewal reminder ${r.offset_days} days before ${r.renewal_date} for contract ${r.contract_id}: ${facts}.`,
      p: r.offset_days <= 7 ? "urgent" : r.offset_days <= 30 ? "high" : "normal",
      u: r.owner_user_id,
      due,
    });
  }
  const outboxId = config.email_owner
    ? await emailOwner(env, workspaceId, r, { daysLeft, facts, notes, summary })
    : null;
  let slack = false;
  if (config.slack) {
    const alert = await queueAlert(env, {
      workspaceId,
      idempotencyKey: reminderKey(r.contract_id, r.offset_days),
      text: `Renewal in ${daysLeft} days: ${r.account_name ?? r.account_id} renews on ${r.renewal_date} (${facts}; owner ${r.owner_name ?? "none"}).`,
    });
    slack = alert.queued;
    if (slack) summary.slack_queued++;
  }
  const wentOut = taskId !== null || outboxId !== null || slack;
  if (wentOut) summary.sent++;
  else summary.closed++;
  return {
    id: r.id,
    s: wentOut ? "sent" : "skipped",
    t: taskId,
    e: outboxId,
    k: slack ? 1 : 0,
    n: notes.length > 0 ? notes.join("; ") : wentOut ? null : "no reminder channel is enabled or reachable",
    u: r.owner_user_id,
  };
}

/** The renewal's facts the reminder states: ARR, auto-renew, health and churn probability. */
function reminderFacts(r: DispatchRow): string {
  const arr = r.arr ?? 0;
  const health =
    r.health_score === null ? "not scored" : `${Math.round(r.health_score)} (${r.health_band ?? "no band"})`;
  const churn = r.churn_probability === null ? "not scored" : `${Math.round(r.churn_probability * 100)}%`;
  return `ARR ${money(arr)}, auto-renew ${r.auto_renew ? "on" : "off"}, health ${health}, churn probability ${churn}`;
}

/**
 * Queues the reminder email to the account owner through the outbox: its outbox id, or null when
 * there is no owner to email or no sender (the reason goes to `notes`).
 */
async function emailOwner(
  env: Env,
  workspaceId: string,
  r: DispatchRow,
  reminder: { daysLeft: number; facts: string; notes: string[]; summary: ReminderSendSummary },
): Promise<string | null> {
  const { daysLeft, facts, notes, summary } = reminder;
  if (!r.owner_email) {
    notes.push(r.owner_user_id ? "owner has no active user" : "account has no owner to email");
    return null;
  }
  try {
    const email = await queueEmail(env, {
      workspaceId,
      to: r.owner_email,
      accountId: r.account_id,
      subject: `Renewal in ${daysLeft} days: {{account.name}} (${r.renewal_date})`,
      text:
        `{{account.name}} renews on ${r.renewal_date}: ${daysLeft} days left (the ${r.offset_days}-day reminder).\n` +
        `Contract ${r.contract_id}: ${facts}.\n` +
        `Acknowledge it with track_renewals, action acknowledge, reminder_id ${r.id}.`,
      idempotencyKey: reminderKey(r.contract_id, r.offset_days),
      origin: "reminder",
    });
    if (email.created && email.status === "queued") summary.emails_queued++;
    if (email.error) notes.push(`email ${email.status}: ${email.error}`);
    return email.id;
  } catch (error) {
    // A workspace without a sender still gets its tasks and alerts; the reason is kept on the row.
    if (!(error instanceof ToolError)) throw error;
    notes.push(`email not queued: ${error.message}`);
    return null;
  }
}

/**
 * Queues every queued reminder of the workspace due on or before `day` as `renewal_reminders`
 * messages of at most {@link REMINDER_CHUNK_SIZE} ids: the rows just created and any a failed
 * chunk left queued. Listed in pages in the order of the (workspace, status, due day) index.
 */
export async function queueReminderChunks(
  env: Env,
  workspaceId: string,
  day: string,
): Promise<{ reminders_queued: number; chunks_queued: number }> {
  let remindersQueued = 0;
  let chunksQueued = 0;
  let after = { dueDay: "", id: "" };
  for (;;) {
    const page = await queuedRemindersDue(env.DB, workspaceId, {
      day,
      after,
      limit: REMINDER_CHUNK_SIZE * SEND_BATCH_SIZE,
    });
    const messages: { body: RenewalRemindersMessage }[] = [];
    for (let i = 0; i < page.length; i += REMINDER_CHUNK_SIZE) {
      const reminderIds = page.slice(i, i + REMINDER_CHUNK_SIZE).map((r) => r.id);
      messages.push({ body: { type: "renewal_reminders", workspaceId, day, reminderIds } });
    }
    if (messages.length > 0) await env.JOBS_QUEUE.sendBatch(messages);
    remindersQueued += page.length;
    chunksQueued += messages.length;
    const last = page.at(-1);
    if (!last || page.length < REMINDER_CHUNK_SIZE * SEND_BATCH_SIZE) break;
    after = { dueDay: last.due_day, id: last.id };
  }
  return { reminders_queued: remindersQueued, chunks_queued: chunksQueued };
}

/** One `renewal_reminders` queue message. */
export interface RenewalReminderJob {
  /** The queue message id, the key of the returned failures. */
  messageId: string;
  workspaceId: string;
  day: string;
  reminderIds: string[];
}

/**
 * Sends queued chunks with {@link sendReminders} under each workspace's current settings.
 * Returns the error of each chunk that failed, by message id: the queue retries it, and the
 * reminders it had not yet sent are still queued.
 */
export async function handleRenewalReminders(
  env: Env,
  jobs: readonly RenewalReminderJob[],
): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  for (const job of jobs) {
    try {
      const settings = await loadWorkspaceSettings(env, job.workspaceId);
      const summary = await sendReminders(env, job.workspaceId, settings, job.day, job.reminderIds);
      console.log(JSON.stringify({ job: RENEWAL_REMINDERS_JOB, workspaceId: job.workspaceId, ...summary }));
    } catch (error) {
      failures.set(job.messageId, error);
    }
  }
  return failures;
}

/**
 * Daily: for every workspace with an open renewal inside the longest possible offset or a
 * reminder still queued, creates the reminders due that UTC day ({@link scanReminders}) and
 * queues them in chunks ({@link queueReminderChunks}) for the jobs consumer to send
 * ({@link sendReminders}). Each (contract, offset) is reminded once however often the cron fires.
 */
export const renewalReminders: CronJob = {
  name: RENEWAL_REMINDERS_JOB,
  order: 40,
  async run(env, scheduledTime) {
    const day = isoDay(scheduledTime);
    // 365 days is the longest offset settings accept, so no workspace with a due reminder is missed.
    const workspaces = await workspacesWithRenewalsDue(env.DB, day, addDays(day, 365));
    const totals: Record<string, number | string> = { day, workspaces: workspaces.length };
    const failed: string[] = [];
    for (const workspace of workspaces) {
      // One workspace's failure must not hold back the others' reminders; the run still fails.
      try {
        const settings = readSettings(workspace.settings ? JSON.parse(workspace.settings) : {});
        const scanned = await scanReminders(env, workspace.id, settings, day);
        const queued = await queueReminderChunks(env, workspace.id, day);
        for (const [key, value] of Object.entries({ ...scanned, ...queued })) {
          totals[key] = Number(totals[key] ?? 0) + value;
        }
      } catch (error) {
        failed.push(`${workspace.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failed.length > 0)
      throw new Error(`renewal reminders failed for ${failed.length} workspace(s): ${failed.join("; ")}`);
    return totals;
  },
};

/** The `cs-jobs` message that sends a batch of queued renewal reminders. */
export const renewalRemindersMessage = z.object({
  type: z.literal("renewal_reminders"),
  workspaceId: z.string(),
  /** The UTC day of the cron run that queued them. */
  day: z.iso.date(),
  /** Reminder rows to send; those no longer queued are left alone. */
  reminderIds: z.array(z.string()).min(1).max(100),
});
export type RenewalRemindersMessage = z.infer<typeof renewalRemindersMessage>;

/** Sends queued renewal reminders. */
export const renewalRemindersJob = defineJob({ schema: renewalRemindersMessage, handleBatch: handleRenewalReminders });
