import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { findAccountByRef } from "../../records/accounts";
import { type ActiveModel, factorWithRule, modelHeader, modelLine } from "./domain/risk-display";
import { RISK_FACTORS, type StoredRiskFactor } from "./domain/risk-factor-names";
import { INTERVENTION_RULE, type Intervention, suggestIntervention, topFactors } from "./domain/risk-library";
import {
  type AccountInfoRow,
  type AccountListRow,
  type ChurnRiskFilters,
  type ChurnRiskTotals,
  churnRiskPage,
  countUnscoredAccounts,
  type LatestScore,
  latestRiskScores,
  unscoredAccountIds,
} from "./queries/risk";
import { activeRiskModel, type ScoredAccount, scoreAccounts } from "./risk-scoring";

/** Most unscored accounts one answer scores on the fly (before the first nightly run or after new accounts). */
export const ON_THE_FLY_LIMIT = 500;

const modelHeaderOut = z
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

export const factorOut = z.object({
  factor: z.enum(RISK_FACTORS),
  value: z.number().nullable().describe("Raw value (null = no data: standardized 0)."),
  standardized: z.number(),
  coefficient: z.number(),
  contribution: z.number().describe("coefficient × standardized: push on the log-odds of churn."),
  flagged: z.boolean().describe("The factor's own flag rule holds."),
  flag_rule: z.string(),
});

export const interventionOut = z
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
    model: modelHeaderOut,
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
    const model = await activeRiskModel(ctx.env, workspaceId);
    let accountId: string | null = null;
    if (args.account_id !== undefined) {
      const account = await findAccountByRef(ctx.env.DB, workspaceId, args.account_id);
      if (!account) throw notFound("account", args.account_id);
      accountId = account.id;
    }
    const renewalBy = args.renewal_within_days === undefined ? null : addDays(today, args.renewal_within_days);
    const filters: ChurnRiskFilters = {
      accountId,
      segment: args.segment,
      owner: args.owner,
      renewal: renewalBy === null ? null : { from: today, to: renewalBy },
    };
    const minProbability = args.min_probability ?? 0;
    const fingerprint = queryFingerprint([
      "risk",
      [accountId, args.segment ?? null, args.owner ?? null, renewalBy],
      minProbability,
      args.sort,
    ]);
    const cursor = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
    const after = cursor ? { value: Number(cursor.k[0]), id: cursor.id } : null;

    const { fresh, unscoredNotCounted } = await scoreUnscored(ctx, filters, today, model, minProbability);
    const { stored, totals, freshInfo } = await churnRiskPage(ctx.env.DB, workspaceId, {
      filters,
      minProbability,
      sort: args.sort,
      after,
      limit: args.limit,
      modelId: model.id ?? null,
      freshIds: fresh.map((f) => f.account_id),
    });
    const candidates = mergeCandidates(stored, fresh, args.sort, after);
    const page = candidates.slice(0, args.limit);
    const last = page.at(-1);
    const nextCursor =
      candidates.length > args.limit && last ? encodeCursor({ k: [last.value], id: last.id, q: fingerprint }) : null;

    const scores = await latestRiskScores(
      ctx.env.DB,
      workspaceId,
      page.filter((c) => c.stored).map((c) => c.id),
    );
    const scoreOf = new Map(scores.map((r) => [r.account_id, r]));
    const infoOf = new Map(freshInfo.map((r) => [r.id, r]));
    const rows = page.map((c) =>
      c.fresh
        ? freshRow(c.fresh, infoOf.get(c.id), model, today)
        : storedRow(c.stored as AccountListRow, scoreOf.get(c.id), today),
    );
    return churnRiskAnswer({ model, rows, totals, fresh, unscoredNotCounted, nextCursor });
  },
});

type RiskRowOut = z.input<typeof riskRow>;

/**
 * The accounts matching the filters without a stored score, scored now (those with probability at
 * least the minimum) when there are at most {@link ON_THE_FLY_LIMIT}; else none, and how many
 * are left out.
 */
async function scoreUnscored(
  ctx: ToolContext,
  filters: ChurnRiskFilters,
  today: string,
  model: ActiveModel,
  minProbability: number,
): Promise<{ fresh: ScoredAccount[]; unscoredNotCounted: number }> {
  const workspaceId = ctx.principal.workspaceId;
  const unscored = await unscoredAccountIds(ctx.env.DB, workspaceId, filters, ON_THE_FLY_LIMIT + 1);
  if (unscored.length > ON_THE_FLY_LIMIT) {
    return { fresh: [], unscoredNotCounted: await countUnscoredAccounts(ctx.env.DB, workspaceId, filters) };
  }
  const scored = await scoreAccounts(ctx.env, workspaceId, unscored, today, model);
  return { fresh: scored.filter((s) => s.probability >= minProbability), unscoredNotCounted: 0 };
}

/** One account of the merged list: a stored score, or one computed for this answer. */
interface Candidate {
  id: string;
  value: number;
  stored?: AccountListRow;
  fresh?: ScoredAccount;
}

/**
 * Merges stored rows (already past the cursor) with fresh ones past it, in the same order: the
 * sort's value descending, then id.
 */
function mergeCandidates(
  stored: readonly AccountListRow[],
  fresh: readonly ScoredAccount[],
  sort: (typeof SORTS)[number],
  after: { value: number; id: string } | null,
): Candidate[] {
  const freshValue = (s: ScoredAccount) => (sort === "probability" ? s.probability : s.arr_at_risk);
  const isAfter = (c: Candidate) =>
    after === null || c.value < after.value || (c.value === after.value && c.id > after.id);
  return [
    ...stored.map((s) => ({ id: s.id, value: s.sort_value, stored: s })),
    ...fresh.map((f) => ({ id: f.account_id, value: freshValue(f), fresh: f })).filter(isAfter),
  ].sort((x, y) => y.value - x.value || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** The answer row of an account scored for this answer. */
function freshRow(
  fresh: ScoredAccount,
  info: AccountInfoRow | undefined,
  model: ActiveModel,
  today: string,
): RiskRowOut {
  return {
    account_id: fresh.account_id,
    name: info?.name ?? fresh.account_id,
    segment: info?.segment ?? null,
    owner_user_id: info?.owner_user_id ?? null,
    arr: fresh.arr,
    renewal_date: info?.renewal_date ?? null,
    probability: fresh.probability,
    arr_at_risk: fresh.arr_at_risk,
    top_factors: topFactors(fresh.factors).map(factorWithRule),
    intervention: fresh.intervention,
    model_version: model.version ?? null,
    scored_on: today,
    computed_now: true,
  };
}

/** The answer row of an account with a stored score, its factors from its latest stored score. */
function storedRow(s: AccountListRow, score: LatestScore | undefined, today: string): RiskRowOut {
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
    arr_at_risk: round(probability * s.arr),
    top_factors: topFactors(factors).map(factorWithRule),
    intervention: suggestIntervention(factors),
    model_version: score?.version ?? null,
    scored_on: score?.day ?? today,
    computed_now: false,
  };
}

/** The answer: model header, totals (stored plus fresh), the page and its text. */
function churnRiskAnswer(page: {
  model: ActiveModel;
  rows: RiskRowOut[];
  totals: ChurnRiskTotals;
  fresh: readonly ScoredAccount[];
  unscoredNotCounted: number;
  nextCursor: string | null;
}) {
  const { model, rows, totals, fresh, unscoredNotCounted } = page;
  const counted = totals.n + fresh.length;
  const atRisk = round(totals.at_risk + fresh.reduce((sum, f) => sum + f.arr_at_risk, 0));
  const intervention = (i: Intervention | null) => (i ? i.playbook : "none");
  return {
    data: {
      model: modelHeader(model),
      intervention_rule: INTERVENTION_RULE,
      accounts_counted: counted,
      arr_at_risk_total: atRisk,
      computed_now: fresh.length,
      scored_by_older_model: totals.older,
      unscored_not_counted: unscoredNotCounted,
      accounts: rows,
      next_cursor: page.nextCursor,
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
}
