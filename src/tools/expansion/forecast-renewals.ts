import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY, type ToolContext } from "../../platform/mcp/define-tool";
import {
  type CursorPosition,
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { priorModel, sampleSize } from "../retention/domain/risk-model";
import { latestRiskModel, scoreAccounts } from "../retention/risk-scoring";
import { compareText } from "./domain/book";
import { addMonths } from "./domain/movements";
import {
  BEST_CASE_FROM,
  bucketOf,
  bucketTotals,
  COMMIT_FROM,
  DEFAULT_SEED,
  forecastGrr,
  periodOf,
  simulateRenewals,
} from "./domain/renewal-forecast";
import { type ForecastRow, forecastContracts, renewalFilterArgs, renewalOutcomeCounts } from "./queries/renewals";
import { riskModelsByIds } from "./queries/risk-models";

/** Default horizon of forecast_renewals: the next 12 months. */
export const DEFAULT_HORIZON_MONTHS = 12;
/** Default Monte Carlo runs. */
export const DEFAULT_SIMULATIONS = 10_000;
/** Most Bernoulli draws (runs × contracts) one forecast makes; above it the runs are reduced and the answer says so. */
export const MAX_DRAWS = 20_000_000;

const pct = (value: number | null) => (value === null ? null : `${Math.round(value * 100)}%`);

/** Where a contract's renewal probability came from. */
type ProbabilitySource = "risk_score" | "model_scored_now" | "historical_renewal_rate" | "prior_model";

const forecastContractOut = z.object({
  contract_id: z.string(),
  account_id: z.string(),
  account_name: z.string(),
  renewal_date: z.string(),
  period: z.string(),
  arr: z.number(),
  renewal_probability: z.number().describe("1 − churn probability."),
  expected_arr: z.number().describe("renewal_probability × ARR."),
  bucket: z.enum(["commit", "best_case", "at_risk"]),
  probability_source: z
    .enum(["risk_score", "model_scored_now", "historical_renewal_rate", "prior_model"])
    .describe(
      "risk_score: the account's latest stored risk score; model_scored_now: scored now with the latest stored model; historical_renewal_rate: no model, the workspace's past renewal rate; prior_model: no model and no history, the documented prior.",
    ),
  model_version: z.number().int().nullable().describe("Risk model version behind the probability, when a model."),
  score_day: z.string().nullable().describe("Day of the stored risk score used."),
});

const simulatedOut = z.object({
  period: z.string(),
  contracts: z.number().int(),
  arr_up_for_renewal: z.number(),
  expected_arr: z.number().describe("Analytic expectation Σ p × ARR."),
  p10: z.number().describe("Simulated renewed ARR, 10th percentile (nearest rank)."),
  p50: z.number(),
  p90: z.number(),
  forecast_grr: z.number().nullable().describe("expected_arr / arr_up_for_renewal."),
  buckets: z.record(
    z.enum(["commit", "best_case", "at_risk"]),
    z.object({ contracts: z.number().int(), arr: z.number(), expected_arr: z.number() }),
  ),
});

/** Forecast of renewed ARR by month or quarter with a seeded Monte Carlo simulation. */
export const forecastRenewals = defineTool({
  name: "forecast_renewals",
  title: "Forecast renewals",
  toolset: "expansion",
  description:
    "Renewal forecast over open renewals (contract active without an outcome, account not churned) whose renewal date falls from today up to (not including) today + horizon_months (UTC, default 12). " +
    "Per contract: renewal probability = 1 − churn probability, taken from the account's latest stored risk score (model version and whether it is calibrated on this workspace are stated); an account without one is scored now with the latest stored model; with no model at all, the workspace's historical renewal rate (renewed, expanded or contracted outcomes / all outcomes) or, with no history either, the documented prior model — each contract says which. " +
    "Expected ARR = probability × ARR; buckets commit (p ≥ 0.8), best_case (0.5 ≤ p < 0.8), at_risk (p < 0.5). " +
    "Per month or quarter and over the horizon: P10/P50/P90 of renewed ARR from a Monte Carlo simulation (each contract renews independently, seeded PRNG, same seed → same answer; nearest-rank percentiles) beside the analytic expectation, and forecast GRR = expected renewed ARR / ARR up for renewal. Contracts are listed by renewal date, paginated.",
  input: {
    horizon_months: z
      .number()
      .int()
      .min(1)
      .max(36)
      .default(DEFAULT_HORIZON_MONTHS)
      .describe("Renewal dates from today to today + this many months (default 12)."),
    period: z.enum(["month", "quarter"]).default("month").describe("Group renewals by calendar month or quarter."),
    simulations: z
      .number()
      .int()
      .min(100)
      .max(100_000)
      .default(DEFAULT_SIMULATIONS)
      .describe("Monte Carlo runs (default 10,000); reduced, and said so, beyond 20 million contract draws."),
    seed: z
      .number()
      .int()
      .min(0)
      .max(4_294_967_295)
      .default(DEFAULT_SEED)
      .describe("PRNG seed; the default is fixed so repeated calls agree."),
    ...renewalFilterArgs,
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    window: z.object({ from: z.string(), to: z.string(), horizon_months: z.number().int(), period: z.string() }),
    contracts_counted: z.number().int(),
    arr_up_for_renewal: z.number(),
    expected_arr: z.number(),
    forecast_grr: z.number().nullable().describe("Expected renewed ARR / ARR up for renewal over the horizon."),
    horizon: simulatedOut,
    periods: z.array(simulatedOut),
    simulation: z.object({
      runs: z.number().int(),
      runs_requested: z.number().int(),
      seed: z.number().int(),
      percentile_method: z.string(),
    }),
    model: z
      .object({
        versions: z.array(
          z.object({
            version: z.number().int(),
            kind: z.string(),
            calibrated: z.boolean().describe("Fitted on this workspace's renewal history (else the prior)."),
            trained_at: z.string(),
            contracts: z.number().int(),
          }),
        ),
        historical_renewal_rate: z
          .object({ rate: z.number(), outcomes_counted: z.number().int() })
          .nullable()
          .describe("Used only when no model exists."),
      })
      .describe("What the probabilities came from."),
    probability_sources: z.record(z.string(), z.number().int()).describe("Contracts per probability source."),
    contracts: z.array(forecastContractOut).describe("This page, by renewal date."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Renewal forecast", args: () => ({}) },
    { title: "Quarterly forecast of a segment", args: (ids) => ({ period: "quarter", segment: ids.segment }) },
  ],
  annotations: READ_ONLY,
  async handler(args, ctx) {
    const ws = ctx.principal.workspaceId;
    const today = isoDay(ctx.now);
    const until = addMonths(today, args.horizon_months);
    const fingerprint = queryFingerprint([
      "forecast_renewals",
      today,
      args.horizon_months,
      args.period,
      args.simulations,
      args.seed,
      args.owner,
      args.tier,
      args.segment,
      args.health_band,
    ]);
    const after = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
    // Every contract in the horizon is needed for the simulation; one row each, narrow columns.
    // The latest model loads beside them rather than one round trip after.
    const [contractRows, latestModel] = await Promise.all([
      forecastContracts(ctx.env.DB, ws, { today, until, filters: args }),
      latestRiskModel(ctx.env, ws),
    ]);
    // By renewal date and id, sorted here: a sort in the database would count every row again as read.
    const rows = contractRows.sort((a, b) => compareText(a.end_date, b.end_date) || compareText(a.id, b.id));
    const sources = await probabilitySources(ctx, rows, latestModel, today);
    const contracts = contractsOut(rows, sources, args.period);
    const runs = Math.max(1, Math.min(args.simulations, Math.floor(MAX_DRAWS / Math.max(1, contracts.length))));
    const { periods, horizon } = simulate(contracts, runs, args.seed);
    const { counts, versions } = modelsUsed(contracts, sources.models);
    const { page, next } = forecastPage(contracts, after, args.limit, fingerprint);
    const data = {
      window: { from: today, to: until, horizon_months: args.horizon_months, period: args.period },
      contracts_counted: contracts.length,
      arr_up_for_renewal: horizon.arr_up_for_renewal,
      expected_arr: horizon.expected_arr,
      forecast_grr: horizon.forecast_grr,
      horizon,
      periods,
      simulation: {
        runs,
        runs_requested: args.simulations,
        seed: args.seed,
        percentile_method: "nearest rank over the simulated runs",
      },
      model: { versions, historical_renewal_rate: sources.history },
      probability_sources: counts,
      contracts: page,
      next_cursor: next,
    };
    return { data, text: forecastText(data, { today, until, seed: args.seed }) };
  },
});

type StoredModel = NonNullable<Awaited<ReturnType<typeof latestRiskModel>>>;
type ModelFacts = { version: number; kind: string; calibrated: boolean; trained_at: string };

/** What the probabilities come from: stored scores, fallbacks for the unscored accounts, and the models behind them. */
interface ProbabilitySources {
  scored: Map<string, { p: number; m: string; d: string }>;
  fallback: Map<string, { churn: number; source: ProbabilitySource; model: string | null }>;
  models: Map<string, ModelFacts>;
  history: { rate: number; outcomes_counted: number } | null;
}

/**
 * Each account's churn probability: its latest stored risk score; else scored now with the
 * latest model; with no model, the historical renewal rate; with no history either, the prior.
 */
async function probabilitySources(
  ctx: ToolContext,
  rows: readonly ForecastRow[],
  latestModel: StoredModel | null,
  today: string,
): Promise<ProbabilitySources> {
  const ws = ctx.principal.workspaceId;
  const scored = new Map<string, { p: number; m: string; d: string }>();
  for (const r of rows)
    if (r.score) scored.set(r.account_id, JSON.parse(r.score) as { p: number; m: string; d: string });
  const unscored = [...new Set(rows.filter((r) => !scored.has(r.account_id)).map((r) => r.account_id))];
  const models = new Map<string, ModelFacts>();
  const usedIds = [...new Set([...scored.values()].map((s) => s.m))];
  if (usedIds.length > 0) {
    for (const m of await riskModelsByIds(ctx.env.DB, ws, usedIds)) {
      models.set(m.id, {
        version: m.version,
        kind: m.kind,
        calibrated: Boolean(m.calibrated),
        trained_at: m.trained_at,
      });
    }
  }
  if (latestModel) {
    const { version, kind, calibrated, trained_at } = latestModel;
    models.set(latestModel.id, { version, kind, calibrated, trained_at });
  }

  // Accounts without a stored score: the latest model, else history, else the prior.
  const fallback = new Map<string, { churn: number; source: ProbabilitySource; model: string | null }>();
  let history: { rate: number; outcomes_counted: number } | null = null;
  if (unscored.length > 0 && latestModel) {
    for (const s of await scoreAccounts(ctx.env, ws, unscored, today, latestModel)) {
      fallback.set(s.account_id, { churn: s.probability, source: "model_scored_now", model: latestModel.id });
    }
  } else if (unscored.length > 0) {
    const outcomes = await renewalOutcomeCounts(ctx.env.DB, ws);
    if (outcomes && outcomes.n > 0) {
      history = { rate: round(outcomes.renewed / outcomes.n, 4), outcomes_counted: outcomes.n };
      for (const id of unscored) {
        fallback.set(id, { churn: 1 - outcomes.renewed / outcomes.n, source: "historical_renewal_rate", model: null });
      }
    } else {
      for (const s of await scoreAccounts(ctx.env, ws, unscored, today, priorModel(sampleSize([])))) {
        fallback.set(s.account_id, { churn: s.probability, source: "prior_model", model: null });
      }
    }
  }
  return { scored, fallback, models, history };
}

/** Each contract with its renewal probability, expected ARR, bucket and where the probability came from. */
function contractsOut(rows: readonly ForecastRow[], sources: ProbabilitySources, period: "month" | "quarter") {
  return rows.map((r) => {
    const score = sources.scored.get(r.account_id);
    const other = sources.fallback.get(r.account_id);
    const churn = score ? score.p : (other?.churn ?? 0);
    const probability = round(1 - churn, 4);
    const modelId = score ? score.m : (other?.model ?? null);
    return {
      contract_id: r.id,
      account_id: r.account_id,
      account_name: r.name,
      renewal_date: r.end_date,
      period: periodOf(r.end_date, period),
      arr: r.arr,
      renewal_probability: probability,
      expected_arr: round(probability * r.arr),
      bucket: bucketOf(probability),
      probability_source: (score ? "risk_score" : (other?.source ?? "prior_model")) as ProbabilitySource,
      model_version: modelId ? (sources.models.get(modelId)?.version ?? null) : null,
      score_day: score?.d ?? null,
      model_id: modelId,
    };
  });
}

type ForecastContract = ReturnType<typeof contractsOut>[number];

/** The simulated percentiles with the analytic expectation, GRR and buckets, per period and over the horizon. */
function simulate(contracts: readonly ForecastContract[], runs: number, seed: number) {
  const simulation = simulateRenewals(
    contracts.map((c) => ({ period: c.period, arr: c.arr, probability: c.renewal_probability })),
    runs,
    seed,
  );
  const withBuckets = (s: (typeof simulation)["total"], members: readonly ForecastContract[]) => ({
    ...s,
    forecast_grr: forecastGrr(s.expected_arr, s.arr_up_for_renewal),
    buckets: bucketTotals(members.map((c) => ({ arr: c.arr, probability: c.renewal_probability }))),
  });
  const periods = simulation.periods.map((p) =>
    withBuckets(
      p,
      contracts.filter((c) => c.period === p.period),
    ),
  );
  return { periods, horizon: withBuckets(simulation.total, contracts) };
}

/** Contracts per probability source, and the model versions behind them (newest first) with their contracts. */
function modelsUsed(contracts: readonly ForecastContract[], models: ReadonlyMap<string, ModelFacts>) {
  const counts: Record<string, number> = {};
  const perModel = new Map<string, number>();
  for (const c of contracts) {
    counts[c.probability_source] = (counts[c.probability_source] ?? 0) + 1;
    if (c.model_id) perModel.set(c.model_id, (perModel.get(c.model_id) ?? 0) + 1);
  }
  const versions = [...perModel.entries()]
    .map(([id, n]) => ({
      ...(models.get(id) ?? { version: 0, kind: "unknown", calibrated: false, trained_at: "" }),
      contracts: n,
    }))
    .sort((a, b) => b.version - a.version);
  return { counts, versions };
}

/** The page of contracts after the cursor's position (by renewal date, then contract id). */
function forecastPage(
  contracts: readonly ForecastContract[],
  after: CursorPosition | null,
  limit: number,
  fingerprint: string,
) {
  const start = after
    ? contracts.findIndex(
        (c) => [c.renewal_date, c.contract_id].join("\u0000") > [String(after.k[0]), after.id].join("\u0000"),
      )
    : 0;
  const rest = start < 0 ? [] : contracts.slice(start);
  const page = rest.slice(0, limit).map(({ model_id: _model, ...c }) => c);
  const last = page.at(-1);
  const next =
    rest.length > limit && last ? encodeCursor({ k: [last.renewal_date], id: last.contract_id, q: fingerprint }) : null;
  return { page, next };
}

/** The forecast's text: the horizon's figures, the buckets, and a table of the periods. */
function forecastText(
  data: {
    contracts_counted: number;
    horizon: ReturnType<typeof simulate>["horizon"];
    periods: ReturnType<typeof simulate>["periods"];
    simulation: { runs: number };
    model: {
      versions: ReturnType<typeof modelsUsed>["versions"];
      historical_renewal_rate: ProbabilitySources["history"];
    };
  },
  call: { today: string; until: string; seed: number },
): string {
  const { horizon, periods } = data;
  const { versions, historical_renewal_rate: history } = data.model;
  const modelLine =
    versions.length > 0
      ? `model v${versions.map((v) => `${v.version} (${v.calibrated ? "calibrated" : "not calibrated"})`).join(", v")}`
      : history
        ? `historical renewal rate ${history.rate} over ${history.outcomes_counted} outcomes`
        : "documented prior model";
  return [
    `${data.contracts_counted} renewals ${call.today}..${call.until}: ARR ${horizon.arr_up_for_renewal} up, expected ${horizon.expected_arr} (forecast GRR ${pct(horizon.forecast_grr) ?? "–"}); simulated P10/P50/P90 ${horizon.p10}/${horizon.p50}/${horizon.p90} over ${data.simulation.runs} runs, seed ${call.seed}; ${modelLine}.`,
    `Buckets: commit (p ≥ ${COMMIT_FROM}) ${horizon.buckets.commit.arr}, best case (${BEST_CASE_FROM} ≤ p < ${COMMIT_FROM}) ${horizon.buckets.best_case.arr}, at risk ${horizon.buckets.at_risk.arr}.`,
    markdownTable(
      ["Period", "Contracts", "ARR up", "Expected", "P10", "P50", "P90", "GRR"],
      periods.map((p) => [
        p.period,
        p.contracts,
        p.arr_up_for_renewal,
        p.expected_arr,
        p.p10,
        p.p50,
        p.p90,
        pct(p.forecast_grr),
      ]),
    ),
  ].join("\n");
}
