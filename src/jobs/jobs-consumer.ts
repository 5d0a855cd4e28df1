import { deliverAlerts, type SlackAlertJob } from "../alerts/slack";
import { deliverEmails, type SendEmailJob } from "../email/deliver";
import { type HealthRecalcJob, handleHealthChunks } from "./health-recalc";
import { jobMessageSchema } from "./messages";
import type { QueueConsumer } from "./queue";
import { handleRenewalReminders, type RenewalReminderJob } from "./renewal-reminders";
import { handleRiskRetrains, type RiskRetrainJob } from "./risk";

/**
 * The `cs-jobs` consumer: validates each message against the job union and hands each kind to
 * its batch handler. A message that does not validate fails (and ends as a dead letter with the
 * reason) rather than being dropped.
 */
export const consumeJobs: QueueConsumer = async (messages, env) => {
  const failures = new Map<string, unknown>();
  const emails: SendEmailJob[] = [];
  const alerts: SlackAlertJob[] = [];
  const healthChunks: HealthRecalcJob[] = [];
  const retrains: RiskRetrainJob[] = [];
  const reminders: RenewalReminderJob[] = [];
  for (const message of messages) {
    const parsed = jobMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
      failures.set(message.id, new Error(`not a valid cs-jobs message (${problems.join("; ")})`));
      continue;
    }
    const job = parsed.data;
    if (job.type === "send_email") {
      emails.push({ messageId: message.id, workspaceId: job.workspaceId, outboxId: job.outboxId });
    } else if (job.type === "health_recalc_chunk") {
      healthChunks.push({
        messageId: message.id,
        workspaceId: job.workspaceId,
        runId: job.runId,
        day: job.day,
        accountIds: job.accountIds,
      });
    } else if (job.type === "risk_retrain") {
      retrains.push({ messageId: message.id, workspaceId: job.workspaceId, scheduledTime: job.scheduledTime });
    } else if (job.type === "renewal_reminders") {
      reminders.push({
        messageId: message.id,
        workspaceId: job.workspaceId,
        day: job.day,
        reminderIds: job.reminderIds,
      });
    } else {
      alerts.push({
        messageId: message.id,
        workspaceId: job.workspaceId,
        idempotencyKey: job.idempotencyKey,
        text: job.text,
      });
    }
  }
  const handled = await Promise.all([
    deliverEmails(env, emails),
    deliverAlerts(env, alerts),
    handleHealthChunks(env, healthChunks),
    handleRiskRetrains(env, retrains),
    handleRenewalReminders(env, reminders),
  ]);
  for (const result of handled) for (const [id, error] of result) failures.set(id, error);
  return failures;
};
