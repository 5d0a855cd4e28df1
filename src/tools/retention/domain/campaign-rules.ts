import { z } from "zod";
import { renderTemplate, type TemplateValues } from "../../../email/render";
import { RISK_FACTORS } from "./risk-factor-names";

/** Retention-campaign trigger rules and steps: their schemas, the order steps run in, and a rule in words. */

/** One trigger rule; a campaign enrolls an account when ANY of its rules matches. */
export const triggerRuleSchema = z.discriminatedUnion("rule", [
  z
    .object({
      rule: z.literal("churn_probability_at_least"),
      value: z.number().min(0).max(1).describe("Threshold on accounts.churn_probability (0–1)."),
    })
    .strict(),
  z
    .object({
      rule: z.literal("band_is"),
      band: z.enum(["red", "yellow"]).describe("The account's stored health band (accounts.health_band)."),
    })
    .strict(),
  z
    .object({
      rule: z.literal("band_fell_to"),
      band: z
        .enum(["red", "yellow"])
        .optional()
        .describe("Only a fall to this band; omitted, any fall (green→yellow, yellow→red, green→red)."),
    })
    .strict(),
  z
    .object({
      rule: z.literal("factor_flagged"),
      factor: z.enum(RISK_FACTORS).describe("A risk factor flagged in the account's latest risk_scores row."),
    })
    .strict(),
  z
    .object({
      rule: z.literal("health_drop_at_least"),
      points: z.number().min(1).max(100).describe("Health points lost in 7 days."),
    })
    .strict(),
  z
    .object({
      rule: z.literal("feature_not_adopted"),
      feature: z.string().min(1).max(200).describe("A feature (usage_feature_daily.feature), e.g. report_shared."),
      days: z
        .number()
        .int()
        .min(7)
        .max(365)
        .default(90)
        .describe("Window: the account used the product in the last `days` days but never this feature."),
    })
    .strict(),
]);
export type TriggerRule = z.output<typeof triggerRuleSchema>;

/** A campaign trigger: 1–10 rules, any of which enrolls. */
export const triggerSchema = z.array(triggerRuleSchema).min(1).max(10);

/** One step a campaign runs for an enrolled account, `day_offset` days after enrollment. */
export const campaignStepSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("email"),
      day_offset: z.number().int().min(0).max(365).describe("Days after enrollment."),
      subject: z
        .string()
        .trim()
        .min(1)
        .max(400)
        .refine((subject) => !/[\r\n]/.test(subject), "the subject must be one line")
        .describe("Subject template ({{contact.name}}, {{account.name}}…), one line."),
      body: z.string().min(1).max(20_000).describe("Plain-text body template."),
    })
    .strict(),
  z
    .object({
      kind: z.literal("task"),
      day_offset: z.number().int().min(0).max(365).describe("Days after enrollment."),
      title: z.string().trim().min(1).max(200).describe("Task title for the account owner."),
    })
    .strict(),
]);
export type CampaignStep = z.output<typeof campaignStepSchema>;

/** A campaign's steps: 1–20, run in day_offset order. */
export const campaignStepsSchema = z.array(campaignStepSchema).min(1).max(20);

/** Steps sorted by day offset, keeping the given order among equal offsets. */
export function orderSteps(steps: readonly CampaignStep[]): CampaignStep[] {
  return steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => a.step.day_offset - b.step.day_offset || a.index - b.index)
    .map((s) => s.step);
}

/**
 * The indexes of the steps due on `daysSinceEnrollment`, starting at `nextStep`: every
 * following step whose day offset has been reached.
 */
export function dueStepIndexes(
  steps: readonly CampaignStep[],
  nextStep: number,
  daysSinceEnrollment: number,
): number[] {
  const due: number[] = [];
  for (let i = nextStep; i < steps.length && steps[i]!.day_offset <= daysSinceEnrollment; i++) due.push(i);
  return due;
}

/** A rule in words, for summaries. */
export function describeRule(rule: TriggerRule): string {
  switch (rule.rule) {
    case "churn_probability_at_least":
      return `churn probability ≥ ${rule.value}`;
    case "band_is":
      return `health band is ${rule.band}`;
    case "band_fell_to":
      return rule.band ? `health band fell to ${rule.band}` : "health band fell";
    case "factor_flagged":
      return `risk factor ${rule.factor} flagged`;
    case "health_drop_at_least":
      return `health dropped ≥ ${rule.points} points in 7 days`;
    case "feature_not_adopted":
      return `active but not using ${rule.feature} in ${rule.days} days`;
  }
}

/**
 * A task step's title for one account, its `{{variables}}` filled from the account's stored
 * values; a variable without a value reads `[no contact.name]`, so the task is still created and
 * says what is missing instead of keeping a literal placeholder.
 */
export function campaignTaskTitle(template: string, values: TemplateValues): string {
  const first = renderTemplate(template, values, "line");
  if (first.ok) return first.text;
  const filled: TemplateValues = { ...values };
  for (const name of first.missing) filled[name] = `[no ${name}]`;
  const second = renderTemplate(template, filled, "line");
  return second.ok ? second.text : template;
}
