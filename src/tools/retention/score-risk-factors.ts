import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { isoDay } from "../../platform/lib/time";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { findAccountByRef } from "../../records/accounts";
import { type ActiveModel, factorWithRule, modelLine } from "./domain/risk-display";
import { RISK_FACTORS, type RiskFactorName } from "./domain/risk-factor-names";
import { FACTOR_LIBRARY, INTERVENTION_RULE } from "./domain/risk-library";
import {
  DEFAULT_HORIZON_DAYS,
  HOLDOUT_TRAIN_SHARE,
  MIN_EXAMPLES_PER_CLASS,
  RISK_LAMBDA,
  STANDARDIZED_CLIP,
} from "./domain/risk-model";
import { factorOut, interventionOut, ON_THE_FLY_LIMIT } from "./identify-churn-risk";
import { riskFlagCounts } from "./queries/risk";
import { activeRiskModel, scoreAccounts, trainAndStore } from "./risk-scoring";

const sampleOut = z.object({
  n: z.number().int(),
  churned: z.number().int(),
  renewed: z.number().int(),
  from: z.string().nullable().describe("Earliest renewal point."),
  to: z.string().nullable().describe("Latest renewal point."),
});

const modelOut = z.object({
  version: z
    .number()
    .int()
    .nullable()
    .describe("Stored version; null when none is stored (the prior shown is what would be used)."),
  kind: z.enum(["logistic", "prior"]),
  calibrated: z.boolean(),
  horizon_days: z.number().int(),
  trained_at: z.string().nullable(),
  trained_by: z.string().nullable(),
  basis: z.string(),
  lambda: z.number().describe("L2 penalty on the standardized coefficients (not the intercept)."),
  standardized_clip: z.number().describe("Standardized values are clipped to ±this."),
  intercept: z.number(),
  features: z.array(
    z.object({
      factor: z.enum(RISK_FACTORS),
      coefficient: z.number(),
      mean: z.number().nullable().describe("Training mean of observed values (prior: fixed scale centre)."),
      sd: z.number().nullable().describe("Training standard deviation (prior: fixed scale)."),
      observed: z.number().int().describe("Training examples with a value."),
      used: z.boolean(),
      note: z.string().nullable().describe("Why an unused factor is left out."),
    }),
  ),
  examples: sampleOut.describe("All renewal points used."),
  holdout: z
    .object({
      method: z.string(),
      auc: z.number().nullable().describe("Mann–Whitney AUC, ties ½; null when a class is absent from the test set."),
      brier: z.number().nullable().describe("Mean (predicted − outcome)²."),
      calibration: z.array(
        z.object({
          decile: z.number().int(),
          n: z.number().int(),
          mean_predicted: z.number(),
          observed_rate: z.number(),
        }),
      ),
      train: sampleOut,
      test: sampleOut,
    })
    .nullable()
    .describe("Time-based holdout; null for the prior."),
  fit: z.object({ iterations: z.number().int(), converged: z.boolean() }).nullable(),
});

const ACTIONS = ["library", "account", "model", "train"] as const;

/** The factor library, one account's factor breakdown, the model and its training. */
export const scoreRiskFactors = defineActionTool({
  name: "score_risk_factors",
  title: "Score risk factors",
  toolset: "retention",
  description:
    "The churn-risk factor library and model. action library: each factor (usage trend 30/90 d, license utilization, health score and 30-day trend, tickets and escalations in 90 d, latest NPS and CSAT, champion or decision maker gone, payment failures in 90 d, tenure, days to renewal, ARR band) with its definition, window, direction, flag rule, the model coefficient and how many active accounts are flagged (latest stored scores; unscored accounts computed now, up to 500). " +
    "account: one account as of today (records before today): every factor's raw value, standardized value ((value − training mean) / sd, clipped to ±4, missing = 0), coefficient, contribution and flag, with its probability and suggested intervention. " +
    `model: the latest model: coefficients, intercept, λ, feature scales, holdout AUC, Brier score, calibration by decile and sample sizes (time-based holdout: oldest 75% of renewal points fit, newest 25% test); the prior (calibrated: false) while there are fewer than ${MIN_EXAMPLES_PER_CLASS} churned or renewed renewal points. ` +
    `train (csm or admin): fits on all renewal points now (each a contract outcome: churned = 1; renewed, expanded, contracted = 0; features as they stood ${DEFAULT_HORIZON_DAYS} days before, λ = ${RISK_LAMBDA}), stores it as the next version and returns it as model does. Also retrained weekly.`,
  input: {
    action: z.enum(ACTIONS).describe("library, account, model or train."),
    account_id: z.string().min(1).max(100).optional().describe("account: the account's id (acc_…) or external id."),
  },
  output: {
    action: z.enum(ACTIONS),
    model: modelOut,
    library: z
      .array(
        z.object({
          factor: z.enum(RISK_FACTORS),
          definition: z.string(),
          window_days: z.number().int().describe("Days of history read; 0 = the state at the day."),
          direction: z.enum(["higher_raises_risk", "lower_raises_risk"]),
          flag_rule: z.string(),
          coefficient: z.number(),
          accounts_flagged: z.number().int(),
        }),
      )
      .optional()
      .describe("library: every factor."),
    accounts_counted: z.number().int().optional().describe("library: active accounts whose flags were counted."),
    account: z
      .object({
        account_id: z.string(),
        name: z.string(),
        as_of: z.string().describe("Factors use records dated before this day."),
        probability: z.number(),
        arr: z.number(),
        arr_at_risk: z.number(),
        factors: z.array(factorOut).describe("Every factor, largest contribution first."),
        intervention: interventionOut,
        intervention_rule: z.string(),
      })
      .optional()
      .describe("account: the breakdown."),
  },
  minRole: "viewer",
  commonFields: [],
  actions: {
    library: { writes: false, fields: [], run: (_args, ctx) => libraryAction(ctx) },
    account: { writes: false, fields: ["account_id"], run: (args, ctx) => accountAction(args.account_id, ctx) },
    model: { writes: false, fields: [], run: (_args, ctx) => modelAction(ctx) },
    train: { writes: true, role: "csm", fields: [], run: (_args, ctx) => trainAction(ctx) },
  },
  examples: [
    { title: "The risk signals and their weights", args: () => ({ action: "library" }) },
    { title: "One account's risk factors", args: (ids) => ({ action: "account", account_id: ids.accountId }) },
    { title: "The churn model's card", args: () => ({ action: "model" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
});

/** train: fits and stores the next version, and returns it as model does. */
async function trainAction(ctx: ToolContext) {
  const model = await trainAndStore(ctx.env, ctx.principal.workspaceId, {
    day: isoDay(ctx.now),
    trainedAt: ctx.now,
    trainedBy: ctx.principal.userId ?? ctx.principal.keyId,
  });
  ctx.audit({
    action: "train",
    targetType: "risk_model",
    targetId: model.id,
    details: { version: model.version, kind: model.kind, examples: model.metrics.examples.n },
  });
  return {
    data: { action: "train" as const, model: modelDetail(model) },
    text: `Trained and stored v${model.version}. ${modelText(model)}`,
  };
}

/** model: the latest model (or the prior) as a card. */
async function modelAction(ctx: ToolContext) {
  const model = await activeRiskModel(ctx.env, ctx.principal.workspaceId);
  return { data: { action: "model" as const, model: modelDetail(model) }, text: modelText(model) };
}

/** account: one account's every factor as of today, with its probability and intervention. */
async function accountAction(accountRef: string | undefined, ctx: ToolContext) {
  const workspaceId = ctx.principal.workspaceId;
  const today = isoDay(ctx.now);
  const model = await activeRiskModel(ctx.env, workspaceId);
  if (accountRef === undefined) throw new ToolError("action account needs account_id (an id or external id).");
  const account = await findAccountByRef(ctx.env.DB, workspaceId, accountRef);
  if (!account) throw notFound("account", accountRef);
  const [scored] = await scoreAccounts(ctx.env, workspaceId, [account.id], today, model);
  if (!scored) throw notFound("account", accountRef);
  const factors = scored.factors.map(factorWithRule);
  return {
    data: {
      action: "account" as const,
      model: modelDetail(model),
      account: {
        account_id: account.id,
        name: account.name,
        as_of: today,
        probability: scored.probability,
        arr: scored.arr,
        arr_at_risk: scored.arr_at_risk,
        factors,
        intervention: scored.intervention,
        intervention_rule: INTERVENTION_RULE,
      },
    },
    text: [
      `${account.name}: P(churn) ${scored.probability}, ARR at risk ${scored.arr_at_risk}; intervention ${scored.intervention?.playbook ?? "none"}; ${modelLine(model)}.`,
      markdownTable(
        ["Factor", "Value", "Std.", "Coef.", "Contribution", "Flagged"],
        factors.map((f) => [f.factor, f.value, f.standardized, f.coefficient, f.contribution, f.flagged ? "yes" : ""]),
      ),
    ].join("\n"),
  };
}

/**
 * library: every factor with its flag count: flags from the latest stored score of each scored
 * active account, plus unscored ones scored now (up to {@link ON_THE_FLY_LIMIT}).
 */
async function libraryAction(ctx: ToolContext) {
  const workspaceId = ctx.principal.workspaceId;
  const model = await activeRiskModel(ctx.env, workspaceId);
  const counts = await riskFlagCounts(ctx.env.DB, workspaceId, ON_THE_FLY_LIMIT);
  const flagged = new Map<RiskFactorName, number>(counts.flagged.map((r) => [r.factor, r.n]));
  const fresh = await scoreAccounts(ctx.env, workspaceId, counts.unscoredIds, isoDay(ctx.now), model);
  for (const s of fresh)
    for (const f of s.factors) if (f.flagged) flagged.set(f.factor, (flagged.get(f.factor) ?? 0) + 1);
  const counted = counts.scored + fresh.length;
  const library = RISK_FACTORS.map((factor) => {
    const d = FACTOR_LIBRARY[factor];
    return {
      factor,
      definition: d.definition,
      window_days: d.window_days,
      direction: d.direction,
      flag_rule: d.flag_rule,
      coefficient: round(model.coefficients[factor], 4),
      accounts_flagged: flagged.get(factor) ?? 0,
    };
  });
  return {
    data: { action: "library" as const, model: modelDetail(model), library, accounts_counted: counted },
    text: [
      `${RISK_FACTORS.length} factors; flags over ${counted} active accounts; ${modelLine(model)}.`,
      markdownTable(
        ["Factor", "Window (d)", "Flag rule", "Coef.", "Flagged"],
        library.map((l) => [l.factor, l.window_days, l.flag_rule, l.coefficient, l.accounts_flagged]),
      ),
    ].join("\n"),
  };
}

/** The model card: coefficients, scales, holdout and fit, rounded for display. */
function modelDetail(model: ActiveModel): z.input<typeof modelOut> {
  const h = model.metrics.holdout;
  return {
    version: model.version ?? null,
    kind: model.kind,
    calibrated: model.calibrated,
    horizon_days: model.horizon_days,
    trained_at: model.trained_at ?? null,
    trained_by: model.trained_by ?? null,
    basis: model.metrics.basis,
    lambda: model.metrics.lambda,
    standardized_clip: STANDARDIZED_CLIP,
    intercept: round(model.intercept, 4),
    features: model.features.map((f) => ({
      factor: f.factor,
      coefficient: round(model.coefficients[f.factor], 4),
      mean: f.mean === null ? null : round(f.mean, 4),
      sd: f.sd === null ? null : round(f.sd, 4),
      observed: f.observed,
      used: f.used,
      note: f.note,
    })),
    examples: model.metrics.examples,
    holdout: h
      ? {
          method: `renewal points sorted by date: fit on the oldest ${HOLDOUT_TRAIN_SHARE * 100}%, tested on the newest ${100 - HOLDOUT_TRAIN_SHARE * 100}%`,
          auc: h.auc === null ? null : round(h.auc, 4),
          brier: h.brier === null ? null : round(h.brier, 4),
          calibration: h.calibration.map((b) => ({
            ...b,
            mean_predicted: round(b.mean_predicted, 4),
            observed_rate: round(b.observed_rate, 4),
          })),
          train: h.train,
          test: h.test,
        }
      : null,
    fit: model.metrics.fit,
  };
}

/** The model card in text: one line and the factor table. */
function modelText(model: ActiveModel): string {
  const d = modelDetail(model);
  return [
    `${modelLine(model)}. ${d.basis}.`,
    markdownTable(
      ["Factor", "Coefficient", "Mean", "SD", "Used"],
      d.features.map((f) => [f.factor, f.coefficient, f.mean, f.sd, f.used ? "yes" : (f.note ?? "no")]),
    ),
  ].join("\n");
}
