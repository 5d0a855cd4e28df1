/**
 * The shared customer records every toolset reads: accounts, contacts, products, contracts, opportunities, usage, tickets, survey responses, feedback, activities, tasks, onboarding plans and payments, and the tombstones of erased contacts.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "../platform/db/schema";

export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    externalId: text("external_id"),
    name: text("name").notNull(),
    domain: text("domain"),
    industry: text("industry"),
    employees: integer("employees"),
    region: text("region"),
    plan: text("plan"),
    segment: text("segment"),
    tier: text("tier"),
    lifecycleStage: text("lifecycle_stage").notNull().default("onboarding"),
    ownerUserId: text("owner_user_id"),
    status: text("status", { enum: ["active", "churned", "prospect"] })
      .notNull()
      .default("active"),
    /** Current ARR: the sum of the account's active contracts, kept in step when contracts change. */
    arr: real("arr").notNull().default(0),
    /** Latest stored health score and band (denormalized from `health_scores` for filtering). */
    healthScore: real("health_score"),
    healthBand: text("health_band", { enum: ["red", "yellow", "green"] }),
    /** End date of the earliest active contract: the next renewal. */
    renewalDate: text("renewal_date"),
    customerSince: text("customer_since"),
    churnedAt: text("churned_at"),
    /** Latest churn probability from the workspace's risk model (denormalized from `risk_scores`). */
    churnProbability: real("churn_probability"),
    /** The provider's last-modified time of the data we hold; an older update is ignored. */
    sourceUpdatedAt: text("source_updated_at"),
    customFields: text("custom_fields", { mode: "json" }).notNull().default("{}"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("accounts_ws_external").on(t.workspaceId, t.externalId),
    index("accounts_ws_name").on(t.workspaceId, t.name),
    index("accounts_ws_arr").on(t.workspaceId, t.arr),
    index("accounts_ws_renewal").on(t.workspaceId, t.renewalDate),
    index("accounts_ws_health").on(t.workspaceId, t.healthScore),
    index("accounts_ws_owner").on(t.workspaceId, t.ownerUserId),
    // Name order within a segment or a band lists a page without sorting; the id index pages the workspace.
    index("accounts_ws_segment_name").on(t.workspaceId, t.segment, t.name),
    index("accounts_ws_band_name").on(t.workspaceId, t.healthBand, t.name),
    index("accounts_ws_id").on(t.workspaceId, t.id),
    index("accounts_ws_arr_at_risk").on(t.workspaceId, sql`${t.churnProbability} * ${t.arr}`),
    index("accounts_ws_stage").on(t.workspaceId, t.lifecycleStage),
    index("accounts_ws_domain").on(t.workspaceId, t.domain),
    index("accounts_ws_churn").on(t.workspaceId, t.churnProbability),
  ],
);

export const accountStageHistory = sqliteTable(
  "account_stage_history",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    fromStage: text("from_stage"),
    toStage: text("to_stage").notNull(),
    reason: text("reason"),
    changedAt: text("changed_at").notNull(),
  },
  (t) => [index("stage_history_account").on(t.workspaceId, t.accountId, t.changedAt)],
);

export const contacts = sqliteTable(
  "contacts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    externalId: text("external_id"),
    name: text("name").notNull(),
    email: text("email"),
    title: text("title"),
    /** Buying-committee role: champion, decision_maker, economic_buyer, admin, user, executive_sponsor. */
    role: text("role"),
    isChampion: integer("is_champion", { mode: "boolean" }).notNull().default(false),
    isDecisionMaker: integer("is_decision_maker", { mode: "boolean" }).notNull().default(false),
    unsubscribed: integer("unsubscribed", { mode: "boolean" }).notNull().default(false),
    bounced: integer("bounced", { mode: "boolean" }).notNull().default(false),
    lastSeenAt: text("last_seen_at"),
    /** Set when the person left the customer (e.g. a champion who moved on). */
    leftAt: text("left_at"),
    spamReported: integer("spam_reported", { mode: "boolean" }).notNull().default(false),
    sourceUpdatedAt: text("source_updated_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("contacts_ws_external").on(t.workspaceId, t.externalId),
    index("contacts_ws_account").on(t.workspaceId, t.accountId),
    index("contacts_ws_email").on(t.workspaceId, t.email),
  ],
);

export const products = sqliteTable(
  "products",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    externalId: text("external_id"),
    name: text("name").notNull(),
    family: text("family"),
    /** `plan` items carry the licensed seats (utilization's denominator); add-ons and services do not. */
    kind: text("kind", { enum: ["plan", "add_on", "service"] })
      .notNull()
      .default("plan"),
    /** List price per seat per year. */
    price: real("price").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("products_ws_external").on(t.workspaceId, t.externalId)],
);

export const contracts = sqliteTable(
  "contracts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    externalId: text("external_id"),
    startDate: text("start_date").notNull(),
    /** End of the term, which is the renewal date. */
    endDate: text("end_date").notNull(),
    status: text("status", { enum: ["active", "ended", "cancelled"] })
      .notNull()
      .default("active"),
    autoRenew: integer("auto_renew", { mode: "boolean" }).notNull().default(false),
    arr: real("arr").notNull().default(0),
    /** How the term ended, set when it did. */
    outcome: text("outcome", { enum: ["renewed", "churned", "expanded", "contracted"] }),
    outcomeReason: text("outcome_reason"),
    outcomeDate: text("outcome_date"),
    previousContractId: text("previous_contract_id"),
    sourceUpdatedAt: text("source_updated_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("contracts_ws_external").on(t.workspaceId, t.externalId),
    index("contracts_ws_account").on(t.workspaceId, t.accountId, t.endDate),
    index("contracts_ws_end").on(t.workspaceId, t.status, t.endDate),
    index("contracts_ws_outcome").on(t.workspaceId, t.outcomeDate),
  ],
);

export const contractItems = sqliteTable(
  "contract_items",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    contractId: text("contract_id").notNull(),
    productId: text("product_id").notNull(),
    seats: integer("seats").notNull().default(0),
    arr: real("arr").notNull().default(0),
  },
  (t) => [
    uniqueIndex("contract_items_contract_product").on(t.workspaceId, t.contractId, t.productId),
    index("contract_items_product").on(t.workspaceId, t.productId),
  ],
);

export const opportunities = sqliteTable(
  "opportunities",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    externalId: text("external_id"),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["upsell", "cross_sell", "expansion", "renewal"] }).notNull(),
    stage: text("stage").notNull().default("identified"),
    status: text("status", { enum: ["open", "won", "lost"] })
      .notNull()
      .default("open"),
    amount: real("amount").notNull().default(0),
    probability: real("probability"),
    closeDate: text("close_date"),
    /** The product the opportunity would add or grow, when known. */
    productId: text("product_id"),
    /** What found it: `manual`, an import, or the tool that identified it (e.g. `upsell_signals`). */
    source: text("source").notNull().default("manual"),
    /** The identifying tool's score (0–100) when it created the opportunity. */
    score: real("score"),
    sourceUpdatedAt: text("source_updated_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("opportunities_ws_external").on(t.workspaceId, t.externalId),
    index("opportunities_ws_account").on(t.workspaceId, t.accountId, t.status),
    index("opportunities_ws_kind").on(t.workspaceId, t.kind, t.status),
  ],
);

/** Account-day usage rollup: kept for the whole history. */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    day: text("day").notNull(),
    events: integer("events").notNull().default(0),
    activeUsers: integer("active_users").notNull().default(0),
    sessions: integer("sessions").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.accountId, t.day] }),
    index("usage_daily_ws_day").on(t.workspaceId, t.day),
  ],
);

/** Account-feature-day usage rollup: kept for a bounded window (see `USAGE_FEATURE_RETENTION_DAYS`). */
export const usageFeatureDaily = sqliteTable(
  "usage_feature_daily",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    day: text("day").notNull(),
    feature: text("feature").notNull(),
    events: integer("events").notNull().default(0),
    activeUsers: integer("active_users").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.accountId, t.day, t.feature] }),
    index("usage_feature_ws_feature_day").on(t.workspaceId, t.feature, t.day),
  ],
);

/**
 * Workspace-day usage totals: `usage_daily` summed over every account of the workspace, kept in step
 * by triggers on `usage_daily` (see migration 0004), so a workspace-wide daily series reads one row
 * per day. `account_days` counts the account-day rows summed.
 */
export const usageWorkspaceDaily = sqliteTable(
  "usage_workspace_daily",
  {
    workspaceId: text("workspace_id").notNull(),
    day: text("day").notNull(),
    accountDays: integer("account_days").notNull().default(0),
    events: integer("events").notNull().default(0),
    activeUsers: integer("active_users").notNull().default(0),
    sessions: integer("sessions").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day] })],
);

/**
 * The first day each account used each feature (a feature rollup with events > 0), kept by triggers
 * on `usage_feature_daily` (see migration 0004) and, unlike the rollups, never purged.
 */
export const featureFirstUse = sqliteTable(
  "feature_first_use",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    feature: text("feature").notNull(),
    firstDay: text("first_day").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.accountId, t.feature] })],
);

/**
 * Running totals of each account-feature's rollup days with events, kept by triggers on
 * `usage_feature_daily` (see migration 0004): one row per such rollup row, with its events and the
 * events and days with events up to and including its day. A window's events and active days are
 * then two rows' difference instead of a sum over every day of the window.
 */
export const usageFeatureRunning = sqliteTable(
  "usage_feature_running",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    feature: text("feature").notNull(),
    day: text("day").notNull(),
    events: integer("events").notNull(),
    eventsToDate: integer("events_to_date").notNull(),
    daysToDate: integer("days_to_date").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.accountId, t.feature, t.day] })],
);

/** Raw usage events, kept only for a short retention window before they are rolled up. */
export const usageEvents = sqliteTable(
  "usage_events",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    contactId: text("contact_id"),
    userRef: text("user_ref"),
    event: text("event").notNull(),
    feature: text("feature"),
    occurredAt: text("occurred_at").notNull(),
    messageId: text("message_id").notNull(),
  },
  (t) => [
    uniqueIndex("usage_events_ws_message").on(t.workspaceId, t.messageId),
    index("usage_events_ws_account_time").on(t.workspaceId, t.accountId, t.occurredAt),
    index("usage_events_ws_time").on(t.workspaceId, t.occurredAt),
  ],
);

export const tickets = sqliteTable(
  "tickets",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    contactId: text("contact_id"),
    externalId: text("external_id"),
    source: text("source").notNull().default("manual"),
    subject: text("subject").notNull(),
    /** Customer-written text: stored and returned verbatim, never acted on. */
    body: text("body").notNull().default(""),
    status: text("status", { enum: ["new", "open", "pending", "solved", "closed"] })
      .notNull()
      .default("new"),
    priority: text("priority", { enum: ["low", "normal", "high", "urgent"] })
      .notNull()
      .default("normal"),
    category: text("category"),
    assignee: text("assignee"),
    csatScore: integer("csat_score"),
    createdAt: text("created_at").notNull(),
    firstResponseAt: text("first_response_at"),
    solvedAt: text("solved_at"),
    updatedAt: text("updated_at").notNull(),
    sourceUpdatedAt: text("source_updated_at"),
  },
  (t) => [
    uniqueIndex("tickets_ws_external").on(t.workspaceId, t.externalId),
    // First response times per account come from the index alone.
    index("tickets_ws_account_created_response").on(t.workspaceId, t.accountId, t.createdAt, t.firstResponseAt),
    index("tickets_ws_status").on(t.workspaceId, t.status, t.createdAt),
    index("tickets_ws_created").on(t.workspaceId, t.createdAt),
    // A person's rows, for privacy exports and erasure.
    index("tickets_ws_contact").on(t.workspaceId, t.contactId),
  ],
);

export const surveyResponses = sqliteTable(
  "survey_responses",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    contactId: text("contact_id"),
    externalId: text("external_id"),
    kind: text("kind", { enum: ["nps", "csat", "ces"] }).notNull(),
    score: integer("score").notNull(),
    /** The survey it answers, when it came through one of ours. */
    surveyId: text("survey_id"),
    /** Customer-written text. */
    comment: text("comment"),
    respondedAt: text("responded_at").notNull(),
  },
  (t) => [
    uniqueIndex("survey_responses_ws_external").on(t.workspaceId, t.externalId),
    index("survey_responses_ws_account").on(t.workspaceId, t.accountId, t.respondedAt),
    index("survey_responses_ws_kind_time").on(t.workspaceId, t.kind, t.respondedAt),
    index("survey_responses_ws_survey").on(t.workspaceId, t.surveyId),
    index("survey_responses_ws_time").on(t.workspaceId, t.respondedAt),
    index("survey_responses_ws_contact").on(t.workspaceId, t.contactId),
  ],
);

export const feedbackItems = sqliteTable(
  "feedback_items",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    contactId: text("contact_id"),
    externalId: text("external_id"),
    source: text("source").notNull().default("manual"),
    kind: text("kind", { enum: ["feature_request", "bug", "praise", "complaint", "idea"] }).notNull(),
    title: text("title").notNull(),
    /** Customer-written text. */
    body: text("body").notNull().default(""),
    feature: text("feature"),
    status: text("status", { enum: ["new", "reviewing", "planned", "shipped", "declined"] })
      .notNull()
      .default("new"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("feedback_ws_external").on(t.workspaceId, t.externalId),
    index("feedback_ws_account").on(t.workspaceId, t.accountId, t.createdAt),
    index("feedback_ws_created").on(t.workspaceId, t.createdAt),
    index("feedback_ws_contact").on(t.workspaceId, t.contactId),
  ],
);

export const kbArticles = sqliteTable(
  "kb_articles",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    externalId: text("external_id"),
    title: text("title").notNull(),
    body: text("body").notNull(),
    category: text("category"),
    status: text("status", { enum: ["draft", "published", "archived"] })
      .notNull()
      .default("draft"),
    reviewBy: text("review_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("kb_ws_external").on(t.workspaceId, t.externalId),
    index("kb_ws_status").on(t.workspaceId, t.status),
  ],
);

export const activities = sqliteTable(
  "activities",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    contactId: text("contact_id"),
    userId: text("user_id"),
    kind: text("kind", { enum: ["call", "meeting", "note", "email"] }).notNull(),
    direction: text("direction", { enum: ["inbound", "outbound"] }),
    subject: text("subject").notNull(),
    body: text("body"),
    durationMinutes: integer("duration_minutes"),
    occurredAt: text("occurred_at").notNull(),
    source: text("source").notNull().default("manual"),
    createdAt: createdAt(),
  },
  (t) => [
    index("activities_ws_account_time").on(t.workspaceId, t.accountId, t.occurredAt),
    index("activities_ws_account_kind_time").on(t.workspaceId, t.accountId, t.kind, t.occurredAt),
    index("activities_ws_time").on(t.workspaceId, t.occurredAt),
    index("activities_ws_contact").on(t.workspaceId, t.contactId),
  ],
);

export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    title: text("title").notNull(),
    description: text("description"),
    ownerUserId: text("owner_user_id"),
    dueDate: text("due_date"),
    priority: text("priority", { enum: ["low", "normal", "high", "urgent"] })
      .notNull()
      .default("normal"),
    status: text("status", { enum: ["open", "done", "cancelled"] })
      .notNull()
      .default("open"),
    /** `manual` or the automation that created it. */
    source: text("source").notNull().default("manual"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    completedAt: text("completed_at"),
  },
  (t) => [
    index("tasks_ws_status_due").on(t.workspaceId, t.status, t.dueDate),
    index("tasks_ws_owner").on(t.workspaceId, t.ownerUserId, t.status),
    index("tasks_ws_account").on(t.workspaceId, t.accountId),
  ],
);

export const onboardingPlans = sqliteTable(
  "onboarding_plans",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    name: text("name").notNull(),
    template: text("template"),
    startDate: text("start_date").notNull(),
    targetDate: text("target_date"),
    status: text("status", { enum: ["active", "completed", "cancelled"] })
      .notNull()
      .default("active"),
    completedAt: text("completed_at"),
    ttvTargetDays: integer("ttv_target_days"),
    createdAt: createdAt(),
  },
  (t) => [index("onboarding_plans_ws_account").on(t.workspaceId, t.accountId)],
);

export const onboardingMilestones = sqliteTable(
  "onboarding_milestones",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    planId: text("plan_id").notNull(),
    name: text("name").notNull(),
    position: integer("position").notNull(),
    dueDate: text("due_date"),
    completedAt: text("completed_at"),
    status: text("status", { enum: ["pending", "done", "skipped"] })
      .notNull()
      .default("pending"),
  },
  (t) => [index("onboarding_milestones_plan").on(t.workspaceId, t.planId, t.position)],
);

/** Invoices and payments from billing (Stripe), for payment health. */
export const payments = sqliteTable(
  "payments",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    externalId: text("external_id").notNull(),
    /** Provider customer id (e.g. Stripe `cus_…`), matched to an account by its external id or custom field. */
    customerRef: text("customer_ref"),
    amount: real("amount").notNull().default(0),
    currency: text("currency"),
    status: text("status", { enum: ["paid", "failed", "open", "void"] }).notNull(),
    dueDate: text("due_date"),
    paidAt: text("paid_at"),
    failedAt: text("failed_at"),
    attemptCount: integer("attempt_count").notNull().default(0),
    sourceUpdatedAt: text("source_updated_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("payments_ws_external").on(t.workspaceId, t.externalId),
    index("payments_ws_account").on(t.workspaceId, t.accountId, t.createdAt),
  ],
);

/**
 * Tombstones of erased contacts: hashes of the email and the external id a person was known by
 * (see `erasureHash` in `erasure.ts`), so that a later webhook or import naming them again is
 * dropped instead of creating them anew. Neither value itself is kept.
 */
export const erasedContacts = sqliteTable(
  "erased_contacts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    /** The id the contact had; after the erasure no row carries it. */
    contactId: text("contact_id").notNull(),
    emailHash: text("email_hash"),
    externalIdHash: text("external_id_hash"),
    erasedAt: text("erased_at").notNull(),
    /** The user (or, for a service key, the key) who erased it, or `admin_cli`. */
    erasedBy: text("erased_by").notNull(),
    /** Accounts whose AccountAgent storage may still hold the person's usage (JSON array of ids); `[]` once erased there. */
    pendingAgents: text("pending_agents", { mode: "json" }).notNull().default("[]"),
  },
  (t) => [
    index("erased_contacts_ws_email").on(t.workspaceId, t.emailHash),
    index("erased_contacts_ws_external").on(t.workspaceId, t.externalIdHash),
    index("erased_contacts_ws_contact").on(t.workspaceId, t.contactId),
  ],
);
