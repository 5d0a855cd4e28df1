import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { RISK_FACTORS, type RiskFactorName, type StoredRiskFactor } from "./domain/risk-factor-names";
import {
  FACTOR_LIBRARY,
  INTERVENTION_RULE,
  type Intervention,
  round4,
  suggestIntervention,
  topFactors,
} from "./domain/risk-library";
import {
  DEFAULT_HORIZON_DAYS,
  HOLDOUT_TRAIN_SHARE,
  MIN_EXAMPLES_PER_CLASS,
  priorModel,
  RISK_LAMBDA,
  type RiskModelSpec,
  STANDARDIZED_CLIP,
  type StoredRiskModel,
} from "./domain/risk-model";
import { latestRiskModel, type ScoredAccount, scoreAccounts, trainAndStore } from "./risk-scoring";

/** Most unscored accounts one answer scores on the fly (before the first nightly run or after new accounts). */
export const ON_THE_FLY_LIMIT = 500;

/** A model as the tools use it: the latest stored one, or the prior when none is stored yet. */
type ActiveModel = RiskModelSpec & Partial<Pick<StoredRiskModel, "id" | "version" | "trained_at" | "trained_by">>;

async function activeModel(ctx: ToolContext): Promise<ActiveModel> {
  const stored = await latestRiskModel(ctx.env, ctx.principal.workspaceId);
  if (stored) return stored;
  const prior = priorModel({ n: 0, churned: 0, renewed: 0, from: null, to: null });
  return {
    ...prior,
    metrics: {
      ...prior.metrics,
      basis:
        "no model stored yet: the documented prior is used until the first nightly scoring or score_risk_factors action train stores one",
    },
  };
}

const modelHeader = z
  .object({
    version: z
      .number()
      .int()
      .nullable()
      .describe("Stored version; null when no model is stored yet (the prior is used)."),
    kind: z.enum(["logistic", "prior"]),
    calibrated: z.boolean().describe("True when fitted on this workspace's own renewal history."),
    trained_at: z.string().nullable(),
    horizon_days: z.number().int().describe("Features stand this many days before each renewal point in training."),
    holdout_auc: z.number().nullable().describe("AUC on the newest 25% of renewal points; null for the prior."),
    holdout_brier: z.number().nullable(),
    examples: z.object({ n: z.number().int(), churned: z.number().int(), renewed: z.number().int() }),
    basis: z.string().describe("Why this model: sample sizes and kind."),
  })
  .describe("The model behind every probability in this answer.");

function header(model: ActiveModel): z.input<typeof modelHeader> {
  const holdout = model.metrics.holdout;
  return {
    version: model.version ?? null,
    kind: model.kind,
    calibrated: model.calibrated,
    trained_at: model.trained_at ?? null,
    horizon_days: model.horizon_days,
    holdout_auc: holdout?.auc == null ? null : round4(holdout.auc),
    holdout_brier: holdout?.brier == null ? null : round4(holdout.brier),
    examples: {
      n: model.metrics.examples.n,
      churned: model.metrics.examples.churned,
      renewed: model.metrics.examples.renewed,
    },
    basis: model.metrics.basis,
  };
}

function modelLine(model: ActiveModel): string {
  const h = header(model);
  const version = h.version === null ? "no model stored yet, the documented prior" : `model v${h.version} (${h.kind})`;
  const quality =
    h.kind === "prior"
      ? "not calibrated on this workspace"
      : `calibrated on ${h.examples.n} renewal points, holdout AUC ${h.holdout_auc ?? "n/a"}, Brier ${h.holdout_brier ?? "n/a"}`;
  return `${version}, ${quality}${h.trained_at ? `, trained ${h.trained_at}` : ""}`;
}

const factorOut = z.object({
  factor: z.enum(RISK_FACTORS),
  value: z.number().nullable().describe("Raw value (null = no data: standardized 0)."),
  standardized: z.number(),
  coefficient: z.number(),
  contribution: z.number().describe("coefficient × standardized: push on the log-odds of churn."),
  flagged: z.boolean().describe("The factor's own flag rule holds."),
  flag_rule: z.string(),
});

function factorRow(f: StoredRiskFactor): z.input<typeof factorOut> {
  return { ...f, flag_rule: FACTOR_LIBRARY[f.factor].flag_rule };
}

const interventionOut = z
  .object({ playbook: z.string(), label: z.string(), rule: z.string().describe("Why this play was chosen.") })
  .nullable();

const riskRow = z.object({
  account_id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  owner_user_id: z.string().nullable(),
  arr: z.number().describe("Current ARR."),
  renewal_date: z.string().nullable(),
  probability: z.number().describe("P(churn at the next renewal), 0–1."),
  arr_at_risk: z.number().describe("probability × current ARR."),
  top_factors: z
    .array(factorOut)
    .describe("Up to 3 factors with a positive (risk-raising) contribution, largest first."),
  intervention: interventionOut,
  model_version: z.number().int().nullable().describe("Version that made this score; null = the unstored prior."),
  scored_on: z.string().describe("Day the score is as of (records before it)."),
  computed_now: z.boolean().describe("True when no stored score existed and it was computed for this answer."),
});

interface AccountListRow {
  id: string;
  name: string;
  segment: string | null;
  owner_user_id: string | null;
  arr: number;
  renewal_date: string | null;
  churn_probability: number | null;
  sort_value: number;
}

/** Resolves an account id or external id of the caller's workspace. */
async function resolveAccount(ctx: ToolContext, ref: string): Promise<{ id: string; name: string }> {
  const found = await ctx.env.DB.prepare(
    "SELECT id, name FROM accounts WHERE workspace_id = ?1 AND (id = ?2 OR external_id = ?2) ORDER BY id = ?2 DESC LIMIT 1",
  )
    .bind(ctx.principal.workspaceId, ref)
    .first<{ id: string; name: string }>();
  if (!found) throw notFound("account", ref);
  return found;
}

interface LatestScore {
  account_id: string;
  day: string;
  factors: string;
  version: number | null;
}

/** The latest stored score of each listed account, with the version of the model that made it. */
async function latestScores(ctx: ToolContext, ids: readonly string[]): Promise<Map<string, LatestScore>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.env.DB.prepare(
    `SELECT r.account_id, r.day, r.factors, m.version FROM risk_scores r
       LEFT JOIN risk_models m ON m.workspace_id = r.workspace_id AND m.id = r.model_id
      WHERE r.workspace_id = ?1 AND r.account_id IN (SELECT value FROM json_each(?2))
        AND r.day = (SELECT max(r2.day) FROM risk_scores r2 WHERE r2.workspace_id = ?1 AND r2.account_id = r.account_id)`,
  )
    .bind(ctx.principal.workspaceId, JSON.stringify(ids))
    .all<LatestScore>();
  return new Map(rows.results.map((r) => [r.account_id, r]));
}

const SORTS = ["arr_at_risk", "probability"] as const;

/** Per-account churn probability with its top factors, ARR at risk and suggested intervention. */
export const identifyChurnRisk = defineTool({
  name: "identify_churn_risk",
  title: "Identify churn risk",
  toolset: "retention",
  description:
    "Churn probability per active account from the workspace's latest risk model: a logistic model trained on its own renewal history (each past renewal point an example, features as they stood 90 days before it, standardized, L2-penalized) when it has at least 30 churned and 30 renewed points, else the documented prior model (calibrated: false). " +
    "Per account: probability, up to 3 top factors (contribution = coefficient × standardized value, only risk-raising ones), ARR at risk = probability × current ARR, and a suggested intervention chosen by a stated rule from the top factor. " +
    "Scores are the latest stored (nightly, after health); accounts without one are computed on the fly (up to 500). Filters: account_id, segment, owner, renewal_within_days, min_probability; sorted by ARR at risk (or probability) descending, paginated. Every answer states the model version, kind, calibration, training time and holdout AUC.",
  input: {
    account_id: z.string().min(1).max(100).optional().describe("One account: its id (acc_…) or external id."),
    segment: z.string().min(1).max(100).optional().describe("Only accounts of this segment."),
    owner: z.string().min(1).max(100).optional().describe("Only accounts owned by this user id."),
    renewal_within_days: z
      .number()
      .int()
      .min(0)
      .max(730)
      .optional()
      .describe("Only accounts whose renewal date falls from today to today + this many days."),
    min_probability: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Only accounts with probability at least this (0–1)."),
    sort: z.enum(SORTS).default("arr_at_risk").describe("arr_at_risk (default) or probability, descending."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    model: modelHeader,
    intervention_rule: z.string(),
    accounts_counted: z.number().int().describe("Active accounts matching the filters with a probability."),
    arr_at_risk_total: z.number().describe("Sum of ARR at risk over the counted accounts."),
    computed_now: z.number().int().describe("Counted accounts without a stored score, scored for this answer."),
    scored_by_older_model: z
      .number()
      .int()
      .describe("Counted accounts whose latest stored score came from an older model version."),
    unscored_not_counted: z
      .number()
      .int()
      .describe(
        "Accounts without a stored score beyond the on-the-fly limit (500): left out until the nightly run scores them.",
      ),
    accounts: z.array(riskRow),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Accounts most likely to churn", args: () => ({}) },
    { title: "One account's churn risk", args: (ids) => ({ account_id: ids.accountId }) },
    { title: "A segment by churn probability", args: (ids) => ({ segment: ids.segment, sort: "probability" }) },
  ],
  annotations: READ_ONLY,
  async handler(args, ctx) {
    const workspaceId = ctx.principal.workspaceId;
    const today = isoDay(ctx.now);
    const model = await activeModel(ctx);
    const accountId = args.account_id === undefined ? null : (await resolveAccount(ctx, args.account_id)).id;
    const renewalBy = args.renewal_within_days === undefined ? null : addDays(today, args.renewal_within_days);
    // Only the filters given are in the SQL, so the planner can read the index of the one that narrows.
    const filterParams: (string | number | null)[] = [workspaceId];
    const bindFilter = (value: string | number) => `?${filterParams.push(value)}`;
    const conditions = [
      "a.workspace_id = ?1",
      accountId === null ? "a.status = 'active'" : `a.id = ${bindFilter(accountId)}`,
    ];
    if (args.segment !== undefined) conditions.push(`a.segment = ${bindFilter(args.segment)}`);
    if (args.owner !== undefined) conditions.push(`a.owner_user_id = ${bindFilter(args.owner)}`);
    if (renewalBy !== null) {
      conditions.push(`a.renewal_date >= ${bindFilter(today)} AND a.renewal_date <= ${bindFilter(renewalBy)}`);
    }
    const filterSql = conditions.join(" AND ");
    /** The placeholder of a statement's own k-th parameter, bound after the filter's. */
    const own = (k: number) => `?${filterParams.length + k}`;
    const minProbability = args.min_probability ?? 0;
    const sortExpr = args.sort === "probability" ? "a.churn_probability" : "a.churn_probability * a.arr";
    const fingerprint = queryFingerprint([
      "risk",
      [accountId, args.segment ?? null, args.owner ?? null, renewalBy],
      minProbability,
      args.sort,
    ]);
    const after = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
    const afterValue = after ? Number(after.k[0]) : null;

    // Accounts with no stored score: scored now, up to the limit.
    const unscored = await ctx.env.DB.prepare(
      // "+a.id": the unscored are found through the churn probability index, not by walking every account in id order.
      `SELECT a.id FROM accounts a WHERE ${filterSql} AND a.churn_probability IS NULL ORDER BY +a.id LIMIT ${own(1)}`,
    )
      .bind(...filterParams, ON_THE_FLY_LIMIT + 1)
      .all<{ id: string }>();
    let unscoredNotCounted = 0;
    let fresh: ScoredAccount[] = [];
    if (unscored.results.length > ON_THE_FLY_LIMIT) {
      const count = await ctx.env.DB.prepare(
        `SELECT count(*) AS n FROM accounts a WHERE ${filterSql} AND a.churn_probability IS NULL`,
      )
        .bind(...filterParams)
        .first<{ n: number }>();
      unscoredNotCounted = count?.n ?? 0;
    } else {
      fresh = (
        await scoreAccounts(
          ctx.env,
          workspaceId,
          unscored.results.map((r) => r.id),
          today,
          model,
        )
      ).filter((s) => s.probability >= minProbability);
    }
    const freshValue = (s: ScoredAccount) => (args.sort === "probability" ? s.probability : s.arr_at_risk);

    const [pageRes, totalsRes, freshInfoRes] = await ctx.env.DB.batch([
      // "+a.churn_probability": the page is read in the sort's own index order (probability, or the
      // probability × ARR expression index) up to the limit, not range-read on probability and sorted whole.
      ctx.env.DB.prepare(
        `SELECT a.id, a.name, a.segment, a.owner_user_id, a.arr, a.renewal_date, a.churn_probability, ${sortExpr} AS sort_value
           FROM accounts a
          WHERE ${filterSql} AND +a.churn_probability IS NOT NULL AND +a.churn_probability >= ${own(1)}
            AND (${own(2)} IS NULL OR ${sortExpr} < ${own(2)} OR (${sortExpr} = ${own(2)} AND a.id > ${own(3)}))
          ORDER BY sort_value DESC, a.id LIMIT ${own(4)}`,
      ).bind(...filterParams, minProbability, afterValue, after?.id ?? "", args.limit + 1),
      ctx.env.DB.prepare(
        `SELECT count(*) AS n, coalesce(sum(a.churn_probability * a.arr), 0) AS at_risk,
                coalesce(sum((SELECT r.model_id FROM risk_scores r WHERE r.workspace_id = ?1 AND r.account_id = a.id
                               ORDER BY r.day DESC LIMIT 1) IS NOT ${own(2)}), 0) AS older
           FROM accounts a WHERE ${filterSql} AND a.churn_probability IS NOT NULL AND a.churn_probability >= ${own(1)}`,
      ).bind(...filterParams, minProbability, model.id ?? null),
      ctx.env.DB.prepare(
        "SELECT id, name, segment, owner_user_id, renewal_date FROM accounts WHERE +workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
      ).bind(workspaceId, JSON.stringify(fresh.map((f) => f.account_id))),
    ]);
    const stored = (pageRes?.results ?? []) as AccountListRow[];
    const totals = (totalsRes?.results?.[0] ?? { n: 0, at_risk: 0, older: 0 }) as {
      n: number;
      at_risk: number;
      older: number;
    };
    const freshInfo = new Map(
      ((freshInfoRes?.results ?? []) as Omit<AccountListRow, "arr" | "churn_probability" | "sort_value">[]).map((r) => [
        r.id,
        r,
      ]),
    );

    // Merge stored rows (already past the cursor) with fresh ones past it, in the same order.
    type Candidate = { id: string; value: number; stored?: AccountListRow; fresh?: ScoredAccount };
    const isAfter = (c: Candidate) =>
      afterValue === null || c.value < afterValue || (c.value === afterValue && c.id > (after?.id ?? ""));
    const candidates: Candidate[] = [
      ...stored.map((s) => ({ id: s.id, value: s.sort_value, stored: s })),
      ...fresh.map((f) => ({ id: f.account_id, value: freshValue(f), fresh: f })).filter(isAfter),
    ].sort((x, y) => y.value - x.value || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const page = candidates.slice(0, args.limit);
    const last = page.at(-1);
    const nextCursor =
      candidates.length > args.limit && last ? encodeCursor({ k: [last.value], id: last.id, q: fingerprint }) : null;

    const scores = await latestScores(
      ctx,
      page.filter((c) => c.stored).map((c) => c.id),
    );
    const rows = page.map((c): z.input<typeof riskRow> => {
      if (c.fresh) {
        const info = freshInfo.get(c.id);
        return {
          account_id: c.id,
          name: info?.name ?? c.id,
          segment: info?.segment ?? null,
          owner_user_id: info?.owner_user_id ?? null,
          arr: c.fresh.arr,
          renewal_date: info?.renewal_date ?? null,
          probability: c.fresh.probability,
          arr_at_risk: c.fresh.arr_at_risk,
          top_factors: topFactors(c.fresh.factors).map(factorRow),
          intervention: c.fresh.intervention,
          model_version: model.version ?? null,
          scored_on: today,
          computed_now: true,
        };
      }
      const s = c.stored as AccountListRow;
      const score = scores.get(c.id);
      const factors = score ? (JSON.parse(score.factors) as StoredRiskFactor[]) : [];
      const probability = s.churn_probability ?? 0;
      return {
        account_id: s.id,
        name: s.name,
        segment: s.segment,
        owner_user_id: s.owner_user_id,
        arr: s.arr,
        renewal_date: s.renewal_date,
        probability,
        arr_at_risk: Math.round(probability * s.arr * 100) / 100,
        top_factors: topFactors(factors).map(factorRow),
        intervention: suggestIntervention(factors),
        model_version: score?.version ?? null,
        scored_on: score?.day ?? today,
        computed_now: false,
      };
    });
    const counted = totals.n + fresh.length;
    const atRisk = Math.round((totals.at_risk + fresh.reduce((sum, f) => sum + f.arr_at_risk, 0)) * 100) / 100;
    const intervention = (i: Intervention | null) => (i ? i.playbook : "none");
    return {
      data: {
        model: header(model),
        intervention_rule: INTERVENTION_RULE,
        accounts_counted: counted,
        arr_at_risk_total: atRisk,
        computed_now: fresh.length,
        scored_by_older_model: totals.older,
        unscored_not_counted: unscoredNotCounted,
        accounts: rows,
        next_cursor: nextCursor,
      },
      text: [
        `${counted} account${counted === 1 ? "" : "s"}, ARR at risk ${atRisk} (probability × current ARR); ${modelLine(model)}.` +
          (fresh.length ? ` ${fresh.length} scored now (no stored score).` : "") +
          (unscoredNotCounted ? ` ${unscoredNotCounted} unscored accounts left out until the nightly run.` : ""),
        markdownTable(
          ["Account", "P(churn)", "ARR at risk", "Top factors", "Intervention"],
          rows.map((r) => [
            r.name,
            r.probability,
            r.arr_at_risk,
            r.top_factors.map((f) => `${f.factor} +${f.contribution}`).join(", "),
            intervention(r.intervention ?? null),
          ]),
          80,
        ),
      ].join("\n"),
    };
  },
});

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
    intercept: round4(model.intercept),
    features: model.features.map((f) => ({
      factor: f.factor,
      coefficient: round4(model.coefficients[f.factor]),
      mean: f.mean === null ? null : round4(f.mean),
      sd: f.sd === null ? null : round4(f.sd),
      observed: f.observed,
      used: f.used,
      note: f.note,
    })),
    examples: model.metrics.examples,
    holdout: h
      ? {
          method: `renewal points sorted by date: fit on the oldest ${HOLDOUT_TRAIN_SHARE * 100}%, tested on the newest ${100 - HOLDOUT_TRAIN_SHARE * 100}%`,
          auc: h.auc === null ? null : round4(h.auc),
          brier: h.brier === null ? null : round4(h.brier),
          calibration: h.calibration.map((b) => ({
            ...b,
            mean_predicted: round4(b.mean_predicted),
            observed_rate: round4(b.observed_rate),
          })),
          train: h.train,
          test: h.test,
        }
      : null,
    fit: model.metrics.fit,
  };
}

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

const ACTIONS = ["library", "account", "model", "train"] as const;

/** The factor library, one account's factor breakdown, the model and its training. */
export const scoreRiskFactors = defineTool({
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
  actions: {
    library: { writes: false },
    account: { writes: false },
    model: { writes: false },
    train: { writes: true, role: "csm" },
  },
  examples: [
    { title: "The risk signals and their weights", args: () => ({ action: "library" }) },
    { title: "One account's risk factors", args: (ids) => ({ action: "account", account_id: ids.accountId }) },
    { title: "The churn model's card", args: () => ({ action: "model" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, ctx) {
    const workspaceId = ctx.principal.workspaceId;
    const today = isoDay(ctx.now);
    if (args.account_id !== undefined && args.action !== "account") {
      throw new ToolError("account_id applies to action account only; remove it or use action account.");
    }
    if (args.action === "train") {
      const model = await trainAndStore(ctx.env, workspaceId, {
        day: today,
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
    const model = await activeModel(ctx);
    if (args.action === "model") {
      return { data: { action: "model" as const, model: modelDetail(model) }, text: modelText(model) };
    }
    if (args.action === "account") {
      if (args.account_id === undefined) throw new ToolError("action account needs account_id (an id or external id).");
      const account = await resolveAccount(ctx, args.account_id);
      const [scored] = await scoreAccounts(ctx.env, workspaceId, [account.id], today, model);
      if (!scored) throw notFound("account", args.account_id);
      const factors = scored.factors.map(factorRow);
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
            factors.map((f) => [
              f.factor,
              f.value,
              f.standardized,
              f.coefficient,
              f.contribution,
              f.flagged ? "yes" : "",
            ]),
          ),
        ].join("\n"),
      };
    }

    // library: flags from the latest stored score of each scored active account, plus unscored ones scored now.
    // CROSS JOIN reads scores per account (its latest day) rather than every score the workspace kept.
    const [flagRes, countRes, unscoredRes] = await ctx.env.DB.batch([
      ctx.env.DB.prepare(
        `SELECT f.value ->> '$.factor' AS factor, count(*) AS n
           FROM accounts a
           CROSS JOIN risk_scores r ON r.workspace_id = ?1 AND r.account_id = a.id
            AND r.day = (SELECT max(r2.day) FROM risk_scores r2 WHERE r2.workspace_id = ?1 AND r2.account_id = a.id)
           CROSS JOIN json_each(r.factors) f
          WHERE a.workspace_id = ?1 AND a.status = 'active' AND a.churn_probability IS NOT NULL
            AND f.value ->> '$.flagged' = 1
          GROUP BY factor`,
      ).bind(workspaceId),
      ctx.env.DB.prepare(
        "SELECT count(*) AS n FROM accounts WHERE workspace_id = ?1 AND status = 'active' AND churn_probability IS NOT NULL",
      ).bind(workspaceId),
      ctx.env.DB.prepare(
        "SELECT id FROM accounts WHERE workspace_id = ?1 AND status = 'active' AND churn_probability IS NULL ORDER BY +id LIMIT ?2",
      ).bind(workspaceId, ON_THE_FLY_LIMIT),
    ]);
    const flagged = new Map<RiskFactorName, number>(
      ((flagRes?.results ?? []) as { factor: RiskFactorName; n: number }[]).map((r) => [r.factor, r.n]),
    );
    const fresh = await scoreAccounts(
      ctx.env,
      workspaceId,
      ((unscoredRes?.results ?? []) as { id: string }[]).map((r) => r.id),
      today,
      model,
    );
    for (const s of fresh)
      for (const f of s.factors) if (f.flagged) flagged.set(f.factor, (flagged.get(f.factor) ?? 0) + 1);
    const counted = (((countRes?.results ?? [])[0] as { n: number } | undefined)?.n ?? 0) + fresh.length;
    const library = RISK_FACTORS.map((factor) => {
      const d = FACTOR_LIBRARY[factor];
      return {
        factor,
        definition: d.definition,
        window_days: d.window_days,
        direction: d.direction,
        flag_rule: d.flag_rule,
        coefficient: round4(model.coefficients[factor]),
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
  },
});
