/**
 * The relational system of record (D1). Every tenant-owned row carries `workspace_id`; every
 * filter and sort a tool uses has an index. Dates are ISO-8601 text (`YYYY-MM-DD` for days,
 * full timestamps for instants) so they sort and compare as strings. Money is whole currency units.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;
const createdAt = () => text("created_at").notNull().default(now);
const updatedAt = () => text("updated_at").notNull().default(now);

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Current settings document (JSON); every change is also kept in `workspace_settings_versions`. */
  settings: text("settings", { mode: "json" }).notNull().default("{}"),
  settingsVersion: integer("settings_version").notNull().default(1),
  createdAt: createdAt(),
});

export const workspaceSettingsVersions = sqliteTable(
  "workspace_settings_versions",
  {
    workspaceId: text("workspace_id").notNull(),
    version: integer("version").notNull(),
    settings: text("settings", { mode: "json" }).notNull(),
    changedBy: text("changed_by"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.version] })],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    role: text("role", { enum: ["viewer", "csm", "admin"] }).notNull(),
    /** `pbkdf2$<iterations>$<salt b64>$<hash b64>`; null for users who sign in with a key only. */
    passwordHash: text("password_hash"),
    disabledAt: text("disabled_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_ws_email").on(t.workspaceId, t.email)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    /** The user the key acts for; null for a workspace service key. */
    userId: text("user_id"),
    name: text("name").notNull(),
    /** The key's own role; a key of a user is further capped by that user's current role. */
    role: text("role", { enum: ["viewer", "csm", "admin"] }).notNull(),
    /** First characters of the key, shown in listings so a person can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 (hex) of the whole key; the key itself is never stored. */
    keyHash: text("key_hash").notNull().unique(),
    expiresAt: text("expires_at"),
    revokedAt: text("revoked_at"),
    lastUsedAt: text("last_used_at"),
    createdAt: createdAt(),
  },
  (t) => [index("api_keys_ws_user").on(t.workspaceId, t.userId)],
);

export const integrations = sqliteTable(
  "integrations",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    provider: text("provider").notNull(),
    name: text("name").notNull(),
    /** AES-GCM ciphertext of the signing secret under the Worker secret `ENCRYPTION_KEY`. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    status: text("status", { enum: ["active", "disabled"] })
      .notNull()
      .default("active"),
    lastReceivedAt: text("last_received_at"),
    acceptedCount: integer("accepted_count").notNull().default(0),
    rejectedCount: integer("rejected_count").notNull().default(0),
    failedCount: integer("failed_count").notNull().default(0),
    rotatedAt: text("rotated_at"),
    createdAt: createdAt(),
  },
  (t) => [index("integrations_ws").on(t.workspaceId, t.provider)],
);

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

export const healthScores = sqliteTable(
  "health_scores",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    day: text("day").notNull(),
    score: real("score").notNull(),
    band: text("band", { enum: ["red", "yellow", "green"] }).notNull(),
    /** Per-component raw input, normalized value, weight and contribution. */
    components: text("components", { mode: "json" }).notNull().default("[]"),
    modelVersion: integer("model_version").notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.accountId, t.day] }),
    index("health_scores_ws_day").on(t.workspaceId, t.day),
  ],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    actorUserId: text("actor_user_id"),
    actorKeyId: text("actor_key_id"),
    tool: text("tool").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    details: text("details", { mode: "json" }),
    requestId: text("request_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_ws_time").on(t.workspaceId, t.createdAt),
    index("audit_ws_target").on(t.workspaceId, t.targetId),
  ],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    workspaceId: text("workspace_id").notNull(),
    key: text("key").notNull(),
    tool: text("tool").notNull(),
    /** SHA-256 of the arguments, so a key reused for different arguments is refused. */
    requestHash: text("request_hash").notNull(),
    response: text("response", { mode: "json" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.key] })],
);

export const webhookReceipts = sqliteTable(
  "webhook_receipts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    integrationId: text("integration_id").notNull(),
    provider: text("provider").notNull(),
    eventId: text("event_id").notNull(),
    /** Provider event type (e.g. `invoice.payment_failed`), for status views. */
    eventType: text("event_type"),
    /** The verified raw body, kept until the consumer has processed it (queue messages carry only the id). */
    payload: text("payload"),
    status: text("status", { enum: ["queued", "processed", "failed"] })
      .notNull()
      .default("queued"),
    receivedAt: text("received_at").notNull(),
    /** Set when the stale-receipt sweep enqueued it again (a crash between storing and enqueueing). */
    requeuedAt: text("requeued_at"),
    processedAt: text("processed_at"),
    error: text("error"),
  },
  (t) => [
    uniqueIndex("webhook_receipts_event").on(t.integrationId, t.eventId),
    index("webhook_receipts_ws_time").on(t.workspaceId, t.receivedAt),
    index("webhook_receipts_status_time").on(t.status, t.receivedAt),
  ],
);

export const outboxMessages = sqliteTable(
  "outbox_messages",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    accountId: text("account_id"),
    contactId: text("contact_id"),
    toEmail: text("to_email").notNull(),
    subject: text("subject").notNull(),
    bodyText: text("body_text").notNull(),
    bodyHtml: text("body_html"),
    provider: text("provider").notNull().default("outbox"),
    status: text("status", {
      enum: ["queued", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed"],
    })
      .notNull()
      .default("queued"),
    providerMessageId: text("provider_message_id"),
    /** What made it: `manual`, `reminder`, `campaign:<id>`, ... */
    origin: text("origin").notNull().default("manual"),
    attempts: integer("attempts").notNull().default(0),
    openedAt: text("opened_at"),
    clickedAt: text("clicked_at"),
    error: text("error"),
    createdAt: createdAt(),
    sentAt: text("sent_at"),
  },
  (t) => [
    uniqueIndex("outbox_ws_key").on(t.workspaceId, t.idempotencyKey),
    index("outbox_ws_created").on(t.workspaceId, t.createdAt),
    index("outbox_provider_message").on(t.providerMessageId),
    index("outbox_ws_account").on(t.workspaceId, t.accountId, t.createdAt),
    index("outbox_ws_status").on(t.workspaceId, t.status, t.createdAt),
    index("outbox_ws_origin_account").on(t.workspaceId, t.origin, t.accountId),
  ],
);

/** One row per cron fire, keyed by (cron, scheduled time), so a repeated fire is a no-op. */
export const jobRuns = sqliteTable(
  "job_runs",
  {
    id: text("id").primaryKey(),
    cron: text("cron").notNull(),
    scheduledTime: text("scheduled_time").notNull(),
    status: text("status", { enum: ["running", "succeeded", "failed"] }).notNull(),
    detail: text("detail", { mode: "json" }),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [uniqueIndex("job_runs_cron_time").on(t.cron, t.scheduledTime), index("job_runs_started").on(t.startedAt)],
);

/** Queue messages that failed: kept with their latest error while retried, and as dead letters once retries are exhausted (replayable). */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id"),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    body: text("body", { mode: "json" }).notNull(),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    /** `retrying` while the queue still retries it (the latest error is kept), `dead` once in the DLQ. */
    status: text("status", { enum: ["retrying", "dead", "replayed"] })
      .notNull()
      .default("dead"),
    updatedAt: updatedAt(),
    createdAt: createdAt(),
    replayedAt: text("replayed_at"),
  },
  (t) => [
    uniqueIndex("dead_letters_queue_message").on(t.queue, t.messageId),
    index("dead_letters_ws").on(t.workspaceId, t.createdAt),
  ],
);

/** Addresses never to email again in a workspace (bounce, spam report, unsubscribe), from provider events or by hand. */
export const emailSuppressions = sqliteTable(
  "email_suppressions",
  {
    workspaceId: text("workspace_id").notNull(),
    email: text("email").notNull(),
    reason: text("reason", { enum: ["bounce", "spam_report", "unsubscribe", "manual"] }).notNull(),
    source: text("source"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.email] })],
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

/** Slack alerts delivered, one row per alert and destination, so a redelivered alert never posts twice. */
export const alertDeliveries = sqliteTable(
  "alert_deliveries",
  {
    workspaceId: text("workspace_id").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    /** The `slack` integration id, or `env` for the deployment's SLACK_WEBHOOK_URL. */
    destination: text("destination").notNull(),
    deliveredAt: text("delivered_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.idempotencyKey, t.destination] }),
    index("alert_deliveries_time").on(t.deliveredAt),
  ],
);

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

/** One renewal reminder per contract and offset (days before the renewal date), sent once. */
export const renewalReminders = sqliteTable(
  "renewal_reminders",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    contractId: text("contract_id").notNull(),
    accountId: text("account_id").notNull(),
    offsetDays: integer("offset_days").notNull(),
    /** The renewal date minus the offset: the day the reminder became due. */
    dueDay: text("due_day").notNull(),
    renewalDate: text("renewal_date").notNull(),
    status: text("status", { enum: ["queued", "sent", "acknowledged", "skipped"] })
      .notNull()
      .default("queued"),
    ownerUserId: text("owner_user_id"),
    taskId: text("task_id"),
    outboxId: text("outbox_id"),
    slackQueued: integer("slack_queued", { mode: "boolean" }).notNull().default(false),
    /** Why it was skipped or what failed, when it did. */
    note: text("note"),
    createdAt: createdAt(),
    sentAt: text("sent_at"),
    acknowledgedAt: text("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
  },
  (t) => [
    uniqueIndex("renewal_reminders_ws_contract_offset").on(t.workspaceId, t.contractId, t.offsetDays),
    index("renewal_reminders_ws_status").on(t.workspaceId, t.status, t.dueDay),
    index("renewal_reminders_ws_account").on(t.workspaceId, t.accountId),
  ],
);

/** Offers made while negotiating a renewal, and the final terms that create the next contract term. */
export const renewalOffers = sqliteTable(
  "renewal_offers",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    contractId: text("contract_id").notNull(),
    accountId: text("account_id").notNull(),
    termYears: integer("term_years").notNull().default(1),
    /** Annual recurring revenue of the offer. */
    arr: real("arr").notNull(),
    priceChangePct: real("price_change_pct").notNull().default(0),
    discountPct: real("discount_pct").notNull().default(0),
    /** Net present value of the offer's term at the workspace discount rate. */
    npv: real("npv"),
    status: text("status", { enum: ["proposed", "accepted", "rejected", "withdrawn"] })
      .notNull()
      .default("proposed"),
    notes: text("notes"),
    /** The contract term created when the offer was accepted. */
    nextContractId: text("next_contract_id"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    decidedAt: text("decided_at"),
  },
  (t) => [
    index("renewal_offers_ws_contract").on(t.workspaceId, t.contractId, t.createdAt),
    index("renewal_offers_ws_status").on(t.workspaceId, t.status, t.createdAt),
  ],
);
