/**
 * The tables the retention toolset writes: risk models and scores, interventions, surveys, escalations, campaigns.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "../../platform/db/schema";

/** A fitted churn model (or the documented prior), versioned per workspace with its evaluation. */
export const riskModels = sqliteTable(
  "risk_models",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    version: integer("version").notNull(),
    /** `logistic` when fitted on the workspace's history, `prior` when there was too little. */
    kind: text("kind", { enum: ["logistic", "prior"] }).notNull(),
    calibrated: integer("calibrated", { mode: "boolean" }).notNull().default(false),
    horizonDays: integer("horizon_days").notNull(),
    /** Feature names with the means and standard deviations used to standardize them. */
    features: text("features", { mode: "json" }).notNull(),
    coefficients: text("coefficients", { mode: "json" }).notNull(),
    intercept: real("intercept").notNull(),
    /** Holdout AUC, Brier score, calibration by decile and sample sizes. */
    metrics: text("metrics", { mode: "json" }).notNull(),
    trainedAt: text("trained_at").notNull(),
    trainedBy: text("trained_by"),
  },
  (t) => [uniqueIndex("risk_models_ws_version").on(t.workspaceId, t.version)],
);

/** One account's churn probability per day with its top factors. */
export const riskScores = sqliteTable(
  "risk_scores",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    day: text("day").notNull(),
    modelId: text("model_id").notNull(),
    probability: real("probability").notNull(),
    arrAtRisk: real("arr_at_risk").notNull().default(0),
    /** Top factors: name, raw value, standardized value, coefficient, contribution. */
    factors: text("factors", { mode: "json" }).notNull(),
    intervention: text("intervention"),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.accountId, t.day] }),
    index("risk_scores_ws_day").on(t.workspaceId, t.day, t.probability),
    // An account's latest score's model without reading its stored factors.
    index("risk_scores_ws_account_model").on(t.workspaceId, t.accountId, t.day, t.modelId),
  ],
);

/** A retention intervention run from a playbook for one account, with its outcome. */
export const interventions = sqliteTable(
  "interventions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    /** Playbook type, e.g. `executive_sponsor`, `adoption_workshop`, `commercial_concession`. */
    playbook: text("playbook").notNull(),
    ownerUserId: text("owner_user_id"),
    status: text("status", { enum: ["open", "closed"] })
      .notNull()
      .default("open"),
    outcome: text("outcome", { enum: ["saved", "churned", "downsized"] }),
    reason: text("reason"),
    arrAtOpen: real("arr_at_open").notNull().default(0),
    arrAtClose: real("arr_at_close"),
    /** The automated campaign that opened it, when one did. */
    campaignId: text("campaign_id"),
    openedAt: text("opened_at").notNull(),
    closedAt: text("closed_at"),
    createdBy: text("created_by"),
  },
  (t) => [
    index("interventions_ws_status").on(t.workspaceId, t.status, t.openedAt),
    index("interventions_ws_opened").on(t.workspaceId, t.openedAt, t.id),
    index("interventions_ws_account").on(t.workspaceId, t.accountId),
    index("interventions_ws_playbook").on(t.workspaceId, t.playbook, t.closedAt),
  ],
);

/** The steps of an intervention: tasks and emails, in order. */
export const interventionSteps = sqliteTable(
  "intervention_steps",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    interventionId: text("intervention_id").notNull(),
    position: integer("position").notNull(),
    kind: text("kind", { enum: ["task", "email"] }).notNull(),
    title: text("title").notNull(),
    status: text("status", { enum: ["pending", "done", "skipped"] })
      .notNull()
      .default("pending"),
    taskId: text("task_id"),
    outboxId: text("outbox_id"),
    dueDate: text("due_date"),
    completedAt: text("completed_at"),
  },
  (t) => [uniqueIndex("intervention_steps_ws_position").on(t.workspaceId, t.interventionId, t.position)],
);

/** An NPS, CSAT or CES survey sent to contacts through the outbox. */
export const surveys = sqliteTable(
  "surveys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind", { enum: ["nps", "csat", "ces"] }).notNull(),
    name: text("name").notNull(),
    question: text("question").notNull(),
    status: text("status", { enum: ["draft", "sent", "closed"] })
      .notNull()
      .default("draft"),
    /** The audience filter the survey was created with. */
    audience: text("audience", { mode: "json" }).notNull().default("{}"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    sentAt: text("sent_at"),
  },
  (t) => [index("surveys_ws_created").on(t.workspaceId, t.createdAt)],
);

/** One contact invited to a survey, with the hash of the token in its response link. */
export const surveyInvitations = sqliteTable(
  "survey_invitations",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    surveyId: text("survey_id").notNull(),
    accountId: text("account_id"),
    contactId: text("contact_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    outboxId: text("outbox_id"),
    sentAt: text("sent_at"),
    respondedAt: text("responded_at"),
    responseId: text("response_id"),
  },
  (t) => [
    uniqueIndex("survey_invitations_token").on(t.tokenHash),
    uniqueIndex("survey_invitations_ws_contact").on(t.workspaceId, t.surveyId, t.contactId),
  ],
);

/** An escalation: severity decides the SLA; the timeline is in `escalation_events`. */
export const escalations = sqliteTable(
  "escalations",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    ticketId: text("ticket_id"),
    title: text("title").notNull(),
    /** Customer-visible summary written by the team. */
    description: text("description"),
    severity: text("severity", { enum: ["critical", "high", "medium", "low"] }).notNull(),
    status: text("status", { enum: ["open", "in_progress", "resolved"] })
      .notNull()
      .default("open"),
    ownerUserId: text("owner_user_id"),
    slaDueAt: text("sla_due_at").notNull(),
    openedAt: text("opened_at").notNull(),
    resolvedAt: text("resolved_at"),
    rootCause: text("root_cause"),
    resolution: text("resolution"),
    reopenCount: integer("reopen_count").notNull().default(0),
    createdBy: text("created_by"),
  },
  (t) => [
    index("escalations_ws_status_due_id").on(t.workspaceId, t.status, t.slaDueAt, t.id),
    index("escalations_ws_account").on(t.workspaceId, t.accountId, t.openedAt),
    index("escalations_ws_opened").on(t.workspaceId, t.openedAt),
  ],
);

/** The timeline of an escalation. */
export const escalationEvents = sqliteTable(
  "escalation_events",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    escalationId: text("escalation_id").notNull(),
    at: text("at").notNull(),
    kind: text("kind", { enum: ["opened", "assigned", "updated", "notified", "resolved", "reopened"] }).notNull(),
    actorUserId: text("actor_user_id"),
    note: text("note"),
  },
  (t) => [index("escalation_events_ws_escalation").on(t.workspaceId, t.escalationId, t.at)],
);

/** An automated retention campaign: trigger rules and the steps run for each enrolled account. */
export const retentionCampaigns = sqliteTable(
  "retention_campaigns",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: ["active", "paused", "archived"] })
      .notNull()
      .default("paused"),
    /** Trigger rules (risk at least x, band is red, factor present…); any rule enrolls. */
    trigger: text("trigger", { mode: "json" }).notNull(),
    /** Steps with their day offsets: emails (templates) and tasks. */
    steps: text("steps", { mode: "json" }).notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastEvaluatedAt: text("last_evaluated_at"),
  },
  (t) => [index("retention_campaigns_ws_status").on(t.workspaceId, t.status)],
);

/** An account enrolled in a campaign: once per account and campaign. */
export const campaignEnrollments = sqliteTable(
  "campaign_enrollments",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    campaignId: text("campaign_id").notNull(),
    accountId: text("account_id").notNull(),
    enrolledAt: text("enrolled_at").notNull(),
    /** What matched: the rule and the account's values then. */
    triggerSnapshot: text("trigger_snapshot", { mode: "json" }).notNull(),
    status: text("status", { enum: ["active", "completed", "exited"] })
      .notNull()
      .default("active"),
    /** Index of the next step to run. */
    nextStep: integer("next_step").notNull().default(0),
    respondedAt: text("responded_at"),
    completedAt: text("completed_at"),
  },
  (t) => [
    uniqueIndex("campaign_enrollments_ws_campaign_account").on(t.workspaceId, t.campaignId, t.accountId),
    index("campaign_enrollments_ws_account").on(t.workspaceId, t.accountId),
    index("campaign_enrollments_ws_campaign_enrolled").on(t.workspaceId, t.campaignId, t.enrolledAt),
  ],
);
