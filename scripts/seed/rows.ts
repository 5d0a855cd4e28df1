/**
 * Plain row shapes of the demo data: one interface per table, keys named exactly like the
 * columns in `src/schema.ts` (snake_case), values as SQLite stores them (booleans as 0/1,
 * JSON as text, days `YYYY-MM-DD`, instants full ISO).
 */

/** A value as written to SQLite. */
export type SqlValue = string | number | null;

export interface WorkspaceRow {
  id: string;
  slug: string;
  name: string;
  settings: string;
  settings_version: number;
  created_at: string;
}

export interface WorkspaceSettingsVersionRow {
  workspace_id: string;
  version: number;
  settings: string;
  changed_by: string | null;
  created_at: string;
}

export interface UserRow {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  role: "viewer" | "csm" | "admin";
  password_hash: string | null;
  disabled_at: string | null;
  created_at: string;
}

export interface ProductRow {
  id: string;
  workspace_id: string;
  external_id: string;
  name: string;
  family: string;
  price: number;
  created_at: string;
}

export interface AccountRow {
  id: string;
  workspace_id: string;
  external_id: string;
  name: string;
  domain: string;
  industry: string;
  employees: number;
  region: string;
  plan: string;
  segment: string;
  tier: string;
  lifecycle_stage: string;
  owner_user_id: string;
  status: "active" | "churned";
  arr: number;
  health_score: number | null;
  health_band: "red" | "yellow" | "green" | null;
  renewal_date: string | null;
  customer_since: string;
  churned_at: string | null;
  churn_probability: number | null;
  source_updated_at: string | null;
  custom_fields: string;
  created_at: string;
  updated_at: string;
}

export interface AccountStageHistoryRow {
  id: string;
  workspace_id: string;
  account_id: string;
  from_stage: string | null;
  to_stage: string;
  reason: string;
  changed_at: string;
}

export interface ContactRow {
  id: string;
  workspace_id: string;
  account_id: string;
  external_id: string;
  name: string;
  email: string;
  title: string;
  role: string;
  is_champion: 0 | 1;
  is_decision_maker: 0 | 1;
  unsubscribed: 0 | 1;
  bounced: 0 | 1;
  last_seen_at: string | null;
  left_at: string | null;
  spam_reported: 0 | 1;
  source_updated_at: string | null;
  created_at: string;
}

export interface ContractRow {
  id: string;
  workspace_id: string;
  account_id: string;
  external_id: string;
  start_date: string;
  end_date: string;
  status: "active" | "ended";
  auto_renew: 0 | 1;
  arr: number;
  outcome: "renewed" | "churned" | "expanded" | "contracted" | null;
  outcome_reason: string | null;
  outcome_date: string | null;
  previous_contract_id: string | null;
  source_updated_at: string | null;
  created_at: string;
}

export interface ContractItemRow {
  id: string;
  workspace_id: string;
  contract_id: string;
  product_id: string;
  seats: number;
  arr: number;
}

export interface OpportunityRow {
  id: string;
  workspace_id: string;
  account_id: string;
  external_id: string;
  name: string;
  kind: "upsell" | "cross_sell" | "expansion" | "renewal";
  stage: string;
  status: "open" | "won" | "lost";
  amount: number;
  probability: number;
  close_date: string;
  product_id: string | null;
  source: string;
  score: number | null;
  source_updated_at: string | null;
  created_at: string;
}

export interface UsageDailyRow {
  workspace_id: string;
  account_id: string;
  day: string;
  events: number;
  active_users: number;
  sessions: number;
}

export interface UsageFeatureDailyRow {
  workspace_id: string;
  account_id: string;
  day: string;
  feature: string;
  events: number;
  active_users: number;
}

export interface TicketRow {
  id: string;
  workspace_id: string;
  account_id: string;
  contact_id: string | null;
  external_id: string;
  source: string;
  subject: string;
  body: string;
  status: "new" | "open" | "pending" | "solved" | "closed";
  priority: "low" | "normal" | "high" | "urgent";
  category: string;
  assignee: string | null;
  csat_score: number | null;
  created_at: string;
  first_response_at: string | null;
  solved_at: string | null;
  updated_at: string;
  source_updated_at: string | null;
}

export interface SurveyResponseRow {
  id: string;
  workspace_id: string;
  account_id: string;
  contact_id: string | null;
  external_id: string;
  kind: "nps" | "csat" | "ces";
  score: number;
  comment: string | null;
  responded_at: string;
  survey_id: string | null;
}

export interface FeedbackItemRow {
  id: string;
  workspace_id: string;
  account_id: string;
  contact_id: string | null;
  external_id: string | null;
  source: string;
  kind: "feature_request" | "bug" | "praise" | "complaint" | "idea";
  title: string;
  body: string;
  feature: string | null;
  status: "new" | "reviewing" | "planned" | "shipped" | "declined";
  created_at: string;
}

export interface KbArticleRow {
  id: string;
  workspace_id: string;
  external_id: string;
  title: string;
  body: string;
  category: string;
  status: "draft" | "published" | "archived";
  review_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface ActivityRow {
  id: string;
  workspace_id: string;
  account_id: string;
  contact_id: string | null;
  user_id: string;
  kind: "call" | "meeting" | "note" | "email";
  direction: "inbound" | "outbound" | null;
  subject: string;
  body: string;
  duration_minutes: number | null;
  occurred_at: string;
  source: string;
  created_at: string;
}

export interface TaskRow {
  id: string;
  workspace_id: string;
  account_id: string;
  title: string;
  description: string;
  owner_user_id: string;
  due_date: string;
  priority: "low" | "normal" | "high" | "urgent";
  status: "open" | "done" | "cancelled";
  source: string;
  created_by: string;
  created_at: string;
  completed_at: string | null;
}

export interface OnboardingPlanRow {
  id: string;
  workspace_id: string;
  account_id: string;
  name: string;
  template: string;
  start_date: string;
  target_date: string;
  status: "active" | "completed" | "cancelled";
  completed_at: string | null;
  ttv_target_days: number;
  created_at: string;
}

export interface OnboardingMilestoneRow {
  id: string;
  workspace_id: string;
  plan_id: string;
  name: string;
  position: number;
  due_date: string;
  completed_at: string | null;
  status: "pending" | "done" | "skipped";
}

export interface EscalationRow {
  id: string;
  workspace_id: string;
  account_id: string;
  ticket_id: string | null;
  title: string;
  description: string | null;
  severity: "critical" | "high" | "medium" | "low";
  status: "open" | "in_progress" | "resolved";
  owner_user_id: string | null;
  sla_due_at: string;
  opened_at: string;
  resolved_at: string | null;
  root_cause: string | null;
  resolution: string | null;
  reopen_count: number;
  created_by: string | null;
}

export interface EscalationEventRow {
  id: string;
  workspace_id: string;
  escalation_id: string;
  at: string;
  kind: "opened" | "assigned" | "updated" | "notified" | "resolved" | "reopened";
  actor_user_id: string | null;
  note: string | null;
}

export interface InterventionRow {
  id: string;
  workspace_id: string;
  account_id: string;
  playbook: string;
  owner_user_id: string | null;
  status: "open" | "closed";
  outcome: "saved" | "churned" | "downsized" | null;
  reason: string | null;
  arr_at_open: number;
  arr_at_close: number | null;
  campaign_id: string | null;
  opened_at: string;
  closed_at: string | null;
  created_by: string | null;
}

export interface InterventionStepRow {
  id: string;
  workspace_id: string;
  intervention_id: string;
  position: number;
  kind: "task" | "email";
  title: string;
  status: "pending" | "done" | "skipped";
  task_id: string | null;
  outbox_id: string | null;
  due_date: string | null;
  completed_at: string | null;
}

export interface PaymentRow {
  id: string;
  workspace_id: string;
  account_id: string;
  external_id: string;
  customer_ref: string;
  amount: number;
  currency: string;
  status: "paid" | "failed" | "open" | "void";
  due_date: string;
  paid_at: string | null;
  failed_at: string | null;
  attempt_count: number;
  source_updated_at: string;
  created_at: string;
}

export interface RetentionCampaignRow {
  id: string;
  workspace_id: string;
  name: string;
  status: "active" | "paused" | "archived";
  trigger: string;
  steps: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  last_evaluated_at: string | null;
}

/** Every table the generator fills, by its SQL name. */
export interface SeedTables {
  workspaces: WorkspaceRow;
  workspace_settings_versions: WorkspaceSettingsVersionRow;
  users: UserRow;
  products: ProductRow;
  kb_articles: KbArticleRow;
  accounts: AccountRow;
  account_stage_history: AccountStageHistoryRow;
  contacts: ContactRow;
  contracts: ContractRow;
  contract_items: ContractItemRow;
  opportunities: OpportunityRow;
  usage_daily: UsageDailyRow;
  usage_feature_daily: UsageFeatureDailyRow;
  tickets: TicketRow;
  survey_responses: SurveyResponseRow;
  feedback_items: FeedbackItemRow;
  activities: ActivityRow;
  tasks: TaskRow;
  onboarding_plans: OnboardingPlanRow;
  onboarding_milestones: OnboardingMilestoneRow;
  escalations: EscalationRow;
  escalation_events: EscalationEventRow;
  interventions: InterventionRow;
  intervention_steps: InterventionStepRow;
  retention_campaigns: RetentionCampaignRow;
  payments: PaymentRow;
}

/** SQL name of a generated table. */
export type TableName = keyof SeedTables;

/** The generated tables in load order (parents before the rows that point at them). */
export const SEED_TABLES: readonly TableName[] = [
  "workspaces",
  "workspace_settings_versions",
  "users",
  "products",
  "kb_articles",
  "accounts",
  "account_stage_history",
  "contacts",
  "contracts",
  "contract_items",
  "opportunities",
  "usage_daily",
  "usage_feature_daily",
  "tickets",
  "survey_responses",
  "feedback_items",
  "activities",
  "tasks",
  "onboarding_plans",
  "onboarding_milestones",
  "escalations",
  "escalation_events",
  "interventions",
  "intervention_steps",
  "retention_campaigns",
  "payments",
];

/** Some rows of one table. */
export type SeedChunk = { [K in TableName]: { table: K; rows: SeedTables[K][] } }[TableName];

/** A whole generated workspace held in memory (small workspaces and tests only). */
export type SeedData = { [K in TableName]: SeedTables[K][] };
