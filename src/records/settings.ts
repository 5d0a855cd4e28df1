import { z } from "zod";
import {
  DEFAULT_SEGMENTS,
  DEFAULT_TIERS,
  segmentDefinitionSchema,
  tierDefinitionSchema,
} from "../tools/health/domain/segments";
import { PLAYBOOKS } from "../tools/retention/domain/playbooks";

/** KPI targets the dashboard tools compare against (ratios as fractions, e.g. 0.9 = 90%). */
export const kpiTargetsSchema = z
  .object({
    grr: z.number().min(0).max(1).default(0.9).describe("Gross revenue retention target (fraction)."),
    nrr: z.number().min(0).max(3).default(1.1).describe("Net revenue retention target (fraction)."),
    logo_churn_rate: z.number().min(0).max(1).default(0.1).describe("Annual logo churn ceiling (fraction)."),
    nps: z.number().min(-100).max(100).default(40).describe("NPS target (−100..100)."),
    csat: z.number().min(1).max(5).default(4.3).describe("CSAT target (mean of 1–5)."),
    ttv_days: z.number().int().min(1).max(365).default(30).describe("Time-to-value target in days."),
    first_response_hours: z.number().min(0).max(720).default(4).describe("Support first-response target in hours."),
    expansion_share: z.number().min(0).max(1).default(0.3).describe("Expansion ARR as a share of new ARR (fraction)."),
  })
  .strict();

const componentWeightsSchema = z
  .object({
    usage: z.number().min(0).max(100).default(30),
    engagement: z.number().min(0).max(100).default(20),
    support: z.number().min(0).max(100).default(15),
    satisfaction: z.number().min(0).max(100).default(20),
    financial: z.number().min(0).max(100).default(15),
  })
  .strict();

const bandsSchema = z
  .object({
    red_below: z.number().min(1).max(99).default(40),
    green_from: z.number().min(2).max(100).default(70),
  })
  .strict();

const presetSchema = z.enum(["balanced", "gainsight_style", "totango_style"]);

const sumsTo100 = (weights: Record<string, number>) => Object.values(weights).reduce((a, b) => a + b, 0) === 100;

/** A segment's own scorecard: whatever it sets replaces the workspace model for that segment's accounts. */
export const scorecardSchema = z
  .object({
    segment: z
      .string()
      .min(1)
      .max(50)
      .describe("Applies to accounts whose stored segment (accounts.segment) has this name."),
    weights: componentWeightsSchema.optional().describe("Component weights for this segment; must sum to 100."),
    bands: bandsSchema.optional(),
    preset: presetSchema.optional(),
  })
  .strict()
  .refine((s) => s.weights === undefined || sumsTo100(s.weights), {
    message: "scorecard weights must sum to 100",
    path: ["weights"],
  })
  .refine((s) => s.bands === undefined || s.bands.red_below < s.bands.green_from, {
    message: "scorecard bands.red_below must be below green_from",
    path: ["bands"],
  });

/** Health model: component weights (summing to 100), band thresholds, alert drop and scoring preset. */
export const healthModelSchema = z
  .object({
    weights: componentWeightsSchema
      .default({ usage: 30, engagement: 20, support: 15, satisfaction: 20, financial: 15 })
      .describe("Weight per component; must sum to 100."),
    bands: bandsSchema
      .default({ red_below: 40, green_from: 70 })
      .describe("Score < red_below is red; ≥ green_from is green; between is yellow."),
    alert_drop: z
      .number()
      .min(1)
      .max(100)
      .default(15)
      .describe("A drop of this many points in 7 days raises an alert."),
    preset: presetSchema
      .default("balanced")
      .describe(
        "How measures are scored: balanced = each measure on its own scale (linear ranges for ratios and ratings, threshold grids for counts); gainsight_style = weighted measure groups, every measure scored linearly; totango_style = every measure good/average/poor = 100/60/0 by thresholds.",
      ),
    scorecards: z
      .array(scorecardSchema)
      .max(20)
      .default([])
      .describe(
        "Per-segment scorecards: an account whose stored segment matches one is scored with its weights, bands and preset (each falling back to the workspace's).",
      ),
  })
  .strict()
  .refine((m) => new Set(m.scorecards.map((s) => s.segment)).size === m.scorecards.length, {
    message: "health.scorecards must name each segment once",
    path: ["scorecards"],
  })
  .refine((m) => sumsTo100(m.weights), {
    message: "health.weights must sum to 100",
    path: ["weights"],
  })
  .refine((m) => m.bands.red_below < m.bands.green_from, {
    message: "health.bands.red_below must be below green_from",
    path: ["bands"],
  });

/** The event (or milestone) that marks first value, for time-to-value. */
export const valueEventSchema = z
  .object({
    kind: z.enum(["usage_event", "milestone"]).default("usage_event"),
    name: z.string().min(1).max(100).default("report_shared").describe("Feature/event name, or milestone name."),
    min_count: z.number().int().min(1).default(1).describe("Occurrences needed on one day."),
  })
  .strict();

/** A rule that places an account in a lifecycle stage. Evaluated in order; first match wins. */
export const lifecycleRuleSchema = z
  .object({
    stage: z.string().min(1).max(50),
    when: z.enum(["contract_age_days_below", "renewal_within_days", "health_band_is", "status_is"]),
    value: z.union([z.number(), z.string()]),
  })
  .strict();

/** An adoption milestone: an event criterion an account reaches on one day of its usage rollups. */
export const adoptionMilestoneSchema = z
  .object({
    name: z.string().min(1).max(100).describe("Milestone name shown to people."),
    kind: z
      .enum(["active_users_at_least", "feature_used", "events_in_day_at_least", "integration_connected"])
      .describe(
        "active_users_at_least / events_in_day_at_least: a day with at least value active users / events; feature_used: a day with at least value events of feature; integration_connected: a day with an event of feature (a feature named integration_*).",
      ),
    value: z.number().int().min(1).default(1).describe("The count to reach on one day."),
    feature: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("Feature name, for feature_used and integration_connected."),
  })
  .strict()
  .refine((m) => (m.kind === "feature_used" || m.kind === "integration_connected") === (m.feature !== undefined), {
    message: "feature is required for feature_used and integration_connected, and only for them",
  })
  .refine((m) => m.kind !== "integration_connected" || m.feature?.startsWith("integration_"), {
    message: "integration_connected needs a feature named integration_*",
  });

/** The whole workspace settings document, versioned on every change. */
export const workspaceSettingsSchema = z
  .object({
    timezone: z.string().min(1).max(64).default("UTC"),
    email_sender: z
      .object({ name: z.string().min(1).max(100), email: z.email() })
      .strict()
      .nullable()
      .default(null)
      .describe("From name and address for customer email; null until configured."),
    email: z
      .object({
        daily_quota: z
          .number()
          .int()
          .min(0)
          .max(100_000)
          .default(500)
          .describe("Most emails accepted for sending per UTC day; further ones are refused and recorded as failed."),
      })
      .strict()
      .default({ daily_quota: 500 })
      .describe("Email sending limits."),
    kpi_targets: kpiTargetsSchema.default(kpiTargetsSchema.parse({})),
    renewal_reminders: z
      .object({
        offsets_days: z
          .array(z.number().int().min(1).max(365))
          .min(1)
          .max(10)
          .default([120, 90, 60, 30, 7])
          .describe("Days before the renewal date a reminder goes out."),
        by_tier: z
          .record(z.string().min(1).max(50), z.array(z.number().int().min(1).max(365)).min(1).max(10))
          .default({})
          .describe("Offsets for accounts of a value tier (accounts.tier), replacing offsets_days for them."),
        email_owner: z.boolean().default(true).describe("Email the account owner."),
        create_task: z.boolean().default(true).describe("Open a task for the account owner."),
        slack: z.boolean().default(true).describe("Post a Slack alert when a Slack destination is configured."),
      })
      .strict()
      .default({ offsets_days: [120, 90, 60, 30, 7], by_tier: {}, email_owner: true, create_task: true, slack: true })
      .describe("The renewal reminder schedule the daily cron sends."),
    finance: z
      .object({
        gross_margin: z.number().min(0).max(1).default(0.8).describe("Gross margin on ARR (fraction), for CLV."),
        discount_rate: z
          .number()
          .min(0)
          .max(1)
          .default(0.1)
          .describe("Annual discount rate (fraction) for NPV and discounted CLV."),
        max_lifetime_years: z
          .number()
          .min(1)
          .max(50)
          .default(10)
          .describe("Cap on expected lifetime = 1 / annual churn rate."),
        max_discount_pct_by_tier: z
          .record(z.string().min(1).max(50), z.number().min(0).max(100))
          .default({ "Tier 1": 20, "Tier 2": 15, "Tier 3": 10 })
          .describe("Renewal discount guardrail (percent) by value tier; tiers not named get the smallest."),
      })
      .strict()
      .default({
        gross_margin: 0.8,
        discount_rate: 0.1,
        max_lifetime_years: 10,
        max_discount_pct_by_tier: { "Tier 1": 20, "Tier 2": 15, "Tier 3": 10 },
      })
      .describe("Financial assumptions for renewals, forecasts and lifetime value."),
    escalation_sla_hours: z
      .object({
        critical: z.number().min(0.5).max(720).default(4),
        high: z.number().min(0.5).max(720).default(24),
        medium: z.number().min(0.5).max(720).default(72),
        low: z.number().min(0.5).max(720).default(168),
      })
      .strict()
      .default({ critical: 4, high: 24, medium: 72, low: 168 })
      .describe("Hours to resolve an escalation, by severity; the SLA due time is opened time + these hours."),
    health: healthModelSchema.default(healthModelSchema.parse({})),
    value_event: valueEventSchema.default(valueEventSchema.parse({})),
    lifecycle_rules: z
      .array(lifecycleRuleSchema)
      .max(20)
      .default([
        { stage: "churned", when: "status_is", value: "churned" },
        { stage: "onboarding", when: "contract_age_days_below", value: 90 },
        { stage: "renewal", when: "renewal_within_days", value: 90 },
        { stage: "at_risk", when: "health_band_is", value: "red" },
        { stage: "adoption", when: "contract_age_days_below", value: 365 },
        { stage: "mature", when: "status_is", value: "active" },
      ]),
    lifecycle_playbooks: z
      .record(z.string().min(1).max(50), z.enum(PLAYBOOKS).exclude(["custom"]))
      .default({})
      .describe(
        "Stage → playbook: an account moved into the stage (manage_lifecycle_stages move) gets an intervention from that playbook for its owner.",
      ),
    adoption_milestones: z
      .array(adoptionMilestoneSchema)
      .max(20)
      .default([
        { name: "10 active users", kind: "active_users_at_least", value: 10 },
        { name: "first report shared", kind: "feature_used", value: 1, feature: "report_shared" },
        { name: "100 events in a day", kind: "events_in_day_at_least", value: 100 },
      ])
      .describe("Adoption milestones, each reached on the first day of usage meeting its criterion."),
    segments: z
      .array(segmentDefinitionSchema)
      .min(1)
      .max(20)
      .default(DEFAULT_SEGMENTS.map((d) => segmentDefinitionSchema.parse(d)))
      .describe("Customer segments in order; an account belongs to the first whose rules match (any rule)."),
    tiers: z
      .array(tierDefinitionSchema)
      .min(1)
      .max(20)
      .default(DEFAULT_TIERS.map((d) => tierDefinitionSchema.parse(d)))
      .describe("Value tiers in order with their service levels; first match wins."),
  })
  .strict();

export type WorkspaceSettings = z.output<typeof workspaceSettingsSchema>;

/** Settings as stored, completed with defaults for anything not set. */
export function readSettings(stored: unknown): WorkspaceSettings {
  const parsed = workspaceSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : workspaceSettingsSchema.parse({});
}
