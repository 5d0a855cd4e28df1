import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { isoDay } from "../../platform/lib/time";
import { defineTool } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { findAccountByRef } from "../../records/accounts";
import type { AccountHealth, HealthRunConfig } from "./domain/health-run";
import { COMPONENTS, MEASURES, PRESET_DESCRIPTIONS, PRESETS } from "./domain/model";
import { computeHealth, HEALTH_CHUNK_SIZE, loadHealthConfig } from "./jobs";
import { activeAccountIdsPage } from "./queries/scored-accounts";

const bandSchema = z.enum(["red", "yellow", "green"]);

const scaleSchema = z.union([
  z.object({ kind: z.literal("linear"), x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }),
  z.object({
    kind: z.literal("grid"),
    steps: z.array(z.object({ up_to: z.number().nullable(), score: z.number() })),
  }),
  z.object({
    kind: z.literal("tiers"),
    direction: z.enum(["higher", "lower"]),
    good: z.number(),
    average: z.number(),
  }),
]);

const moveSchema = z
  .object({
    direction: z.enum(["up", "down"]),
    to_band: bandSchema,
    threshold: z.number(),
    score_points: z.number().describe("Score points to the threshold (down: a fall of more than this)."),
    component: z.enum(COMPONENTS),
    normalized_points: z.number(),
    normalized_target: z.number(),
    raw_targets: z.array(
      z.object({
        measure: z.string(),
        raw_now: z.number(),
        raw_target: z
          .number()
          .nullable()
          .describe("null where the scale is a step scale or the target is out of range."),
      }),
    ),
  })
  .nullable();

const scorecardField = z
  .string()
  .nullable()
  .describe("The segment whose health.scorecards entry scored this account; null = the workspace model.");

const accountRowSchema = z.object({
  account_id: z.string(),
  account_name: z.string(),
  scorecard: scorecardField,
  score: z.number(),
  band: bandSchema,
  previous_band: bandSchema.nullable().describe("Band of the latest stored score before today."),
  trend_7d: z.number().nullable(),
  trend_30d: z.number().nullable(),
  dropped: z.array(z.string()).describe("Components without data, their weight shared out over the others."),
  alert: z.string().nullable().describe("Why an alert was raised today, or null."),
});

const explanationSchema = z.object({
  account_id: z.string(),
  account_name: z.string(),
  day: z.string(),
  scorecard: scorecardField,
  preset: z.enum(PRESETS).describe("The preset this account was scored with."),
  bands: z.object({ red_below: z.number(), green_from: z.number() }).describe("The bands this account was judged by."),
  score: z.number(),
  band: bandSchema,
  components: z.array(
    z.object({
      component: z.enum(COMPONENTS),
      normalized: z.number().nullable(),
      weight_configured: z.number(),
      weight_effective: z.number(),
      contribution: z.number().describe("normalized × weight_effective / 100."),
      measures: z.array(
        z.object({
          name: z.string(),
          description: z.string(),
          window_days: z.number().describe("0 = current state, not windowed."),
          weight_in_component: z.number(),
          raw: z.number().nullable(),
          score: z.number().nullable(),
          scale: scaleSchema,
        }),
      ),
    }),
  ),
  dropped: z.array(z.object({ component: z.enum(COMPONENTS), reason: z.string() })),
  evidence: z.record(z.string(), z.union([z.number(), z.string(), z.null(), z.array(z.string())])),
  previous: z.object({ day: z.string(), score: z.number(), band: bandSchema }).nullable(),
  score_7d_ago: z.number().nullable(),
  score_30d_ago: z.number().nullable(),
  trend_7d: z.number().nullable(),
  trend_30d: z.number().nullable(),
  next_band_up: moveSchema,
  next_band_down: moveSchema,
  alert: z
    .object({ reason: z.string(), task_id: z.string(), created: z.boolean(), slack_queued: z.boolean() })
    .nullable(),
});

export const calculateHealthScore = defineTool({
  name: "calculate_health_score",
  title: "Calculate health score",
  toolset: "health",
  description:
    "Computes and stores today's (UTC) health score 0–100 for one account (account_id: id or external id) or many (segment, owner, or all=true; active accounts in id order, paginated by cursor, limit ≤ 200). " +
    "Score = weighted mean of five components (weights from settings health.weights, summing to 100): usage (license utilization = average daily active users over the days with data among the last 30 complete days ÷ licensed seats, and events of the last 30 days vs the 30 before), engagement (activities + email opens + clicks in 30 days), support (open urgent/high tickets, tickets created in 30 days), satisfaction (latest NPS 0–10, mean CSAT 1–5 over 90 days), financial (failed or past-due open payments in 90 days, days to renewal). " +
    "Each measure is scored 0–100 on a scale shown in the answer, chosen by settings health.preset: balanced, gainsight_style (all linear) or totango_style (good/average/poor = 100/60/0). A component without data is dropped and its weight shared out proportionally. " +
    "Bands: red < health.bands.red_below ≤ yellow < health.bands.green_from ≤ green. Per-segment scorecards (health.scorecards) replace the weights, bands and/or preset for accounts whose stored segment they name; each answer says which scorecard scored an account. One account gets the full explanation (raw inputs, normalized values, weights configured/effective, contributions, record ids, 7/30-day trend, and the smallest single-component change that reaches the next band up or drops it a band); many get a compact table. " +
    "Alerts: a fall into a lower band than the latest score before today, or a drop of more than health.alert_drop points vs 7 days earlier, opens one health_alert task and queues one Slack alert per account and day; repeating the call the same day overwrites the same rows and raises no second alert.",
  input: {
    account_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("One account: its id (acc_…) or external id. Omit to score many."),
    segment: z.string().min(1).max(100).optional().describe("Many: only active accounts of this segment."),
    owner: z.string().min(1).max(100).optional().describe("Many: only active accounts owned by this user id."),
    all: z.boolean().optional().describe("Many: every active account of the workspace (true)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    day: z.string().describe("UTC day the scores are stored for."),
    preset: z.enum(PRESETS),
    preset_meaning: z.string(),
    weights: z.record(z.string(), z.number()).describe("Configured component weights (sum 100)."),
    bands: z.object({ red_below: z.number(), green_from: z.number() }),
    scorecards: z
      .array(
        z.object({
          segment: z.string(),
          preset: z.enum(PRESETS).optional(),
          weights: z.record(z.string(), z.number()).optional(),
          bands: z.object({ red_below: z.number(), green_from: z.number() }).optional(),
        }),
      )
      .describe("Per-segment scorecards configured (health.scorecards); each overrides what it sets for its segment."),
    alert_drop: z.number(),
    accounts_counted: z.number(),
    not_scored: z.array(z.string()).describe("Accounts with no component carrying weight: nothing stored."),
    alerts_created: z.number(),
    explanation: explanationSchema.nullable().describe("One account: the full explanation."),
    accounts: z.array(accountRowSchema),
    next_cursor: nextCursorField,
  },
  examples: [{ title: "Score one account now, with its explanation", args: (ids) => ({ account_id: ids.accountId }) }],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const workspaceId = ctx.principal.workspaceId;
    const day = isoDay(ctx.now);
    const config = await loadHealthConfig(ctx.env, workspaceId);
    const selectors = [
      args.account_id !== undefined,
      args.segment !== undefined || args.owner !== undefined,
      args.all === true,
    ];
    if (selectors.filter(Boolean).length !== 1) {
      throw new ToolError("Give exactly one of: account_id, a filter (segment and/or owner), or all=true.");
    }
    const { ids, nextCursor } = await accountsToScore(ctx.env.DB, workspaceId, args);
    const { computed, notScored, alertsCreated } = await scoreInChunks(ctx.env, workspaceId, ids, day);
    ctx.audit({
      action: "calculate",
      targetType: args.account_id !== undefined ? "account" : "accounts",
      targetId: args.account_id !== undefined ? ids[0] : undefined,
      details: { day, accounts: computed.length, alerts_created: alertsCreated, preset: config.preset },
    });
    const single = args.account_id !== undefined ? computed[0] : undefined;
    return {
      data: {
        day,
        preset: config.preset,
        preset_meaning: PRESET_DESCRIPTIONS[config.preset],
        weights: config.weights,
        bands: config.bands,
        scorecards: config.scorecards,
        alert_drop: config.alert_drop,
        accounts_counted: computed.length,
        not_scored: notScored,
        alerts_created: alertsCreated,
        explanation: single ? explain(single) : null,
        accounts: computed.map(row),
        next_cursor: nextCursor,
      },
      text: healthText(config, day, {
        single,
        oneAccount: args.account_id !== undefined,
        computed,
        alertsCreated,
        nextCursor,
      }),
    };
  },
});

/** The accounts to score: one by id or external id, or a page of active accounts matching the filter. */
async function accountsToScore(
  db: D1Database,
  workspaceId: string,
  args: { account_id?: string; segment?: string; owner?: string; limit: number; cursor?: string },
): Promise<{ ids: string[]; nextCursor: string | null }> {
  if (args.account_id !== undefined) {
    const found = (await findAccountByRef(db, workspaceId, args.account_id))?.id ?? null;
    if (!found) throw notFound("account", args.account_id);
    return { ids: [found], nextCursor: null };
  }
  const fingerprint = queryFingerprint({ t: "health", segment: args.segment, owner: args.owner });
  const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
  const page = await activeAccountIdsPage(db, workspaceId, {
    segment: args.segment,
    owner: args.owner,
    after,
    limit: args.limit,
  });
  const ids = page.slice(0, args.limit);
  const last = ids.at(-1);
  const nextCursor = page.length > args.limit && last ? encodeCursor({ k: [], id: last, q: fingerprint }) : null;
  return { ids, nextCursor };
}

/** Computes and stores the accounts' health in chunks of {@link HEALTH_CHUNK_SIZE}. */
async function scoreInChunks(env: Env, workspaceId: string, ids: readonly string[], day: string) {
  const computed: AccountHealth[] = [];
  const notScored: string[] = [];
  let alertsCreated = 0;
  for (let i = 0; i < ids.length; i += HEALTH_CHUNK_SIZE) {
    const summary = await computeHealth(env, workspaceId, ids.slice(i, i + HEALTH_CHUNK_SIZE), day);
    computed.push(...summary.accounts);
    notScored.push(...summary.not_scored);
    alertsCreated += summary.alerts_created;
  }
  return { computed, notScored, alertsCreated };
}

/** The answer's text: the model in force, then one account's explanation or the many-accounts table. */
function healthText(
  config: HealthRunConfig,
  day: string,
  run: {
    single: AccountHealth | undefined;
    oneAccount: boolean;
    computed: AccountHealth[];
    alertsCreated: number;
    nextCursor: string | null;
  },
): string {
  const weights = COMPONENTS.map((c) => `${c} ${config.weights[c]}`).join(", ");
  const head = `Health on ${day}, preset ${config.preset}, weights ${weights}; bands red < ${config.bands.red_below} ≤ yellow < ${config.bands.green_from} ≤ green.`;
  const { single } = run;
  if (single) {
    const e = explain(single);
    const table = markdownTable(
      ["component", "normalized", "weight (eff.)", "contribution"],
      e.components.map((c) => [
        c.component,
        c.normalized === null ? "dropped" : String(c.normalized),
        `${c.weight_configured} (${c.weight_effective})`,
        String(c.contribution),
      ]),
    );
    const up = single.moves.up
      ? ` Next band up (${single.moves.up.to_band}): +${single.moves.up.normalized_points} normalized points of ${single.moves.up.component}.`
      : "";
    return `${head}\n${single.account_name}: ${e.score} (${e.band}), 7d ${signed(e.trend_7d)}, 30d ${signed(e.trend_30d)}.${up}${
      e.dropped.length ? ` Dropped: ${e.dropped.map((d) => `${d.component} (${d.reason})`).join("; ")}.` : ""
    }${single.alert?.created ? ` Alert: ${single.alert.reason}.` : ""}\n${table}`;
  }
  if (run.oneAccount) return `${head}\nNo component of this account carries weight: nothing stored.`;
  const table = markdownTable(
    ["account", "score", "band", "7d", "alert"],
    run.computed.map((a) => [
      a.account_name,
      String(a.result.score),
      a.result.band ?? "",
      signed(a.trend_7d),
      a.alert?.created ? "new" : "",
    ]),
  );
  return `${head}\n${run.computed.length} accounts scored, ${run.alertsCreated} alerts raised${run.nextCursor ? "; more with next_cursor" : ""}.\n${table}`;
}

/** One account's full explanation: measures, components, evidence, history, next band moves and alert. */
function explain(a: AccountHealth): z.input<typeof explanationSchema> {
  return {
    account_id: a.account_id,
    account_name: a.account_name,
    day: a.day,
    scorecard: a.scorecard,
    preset: a.result.preset,
    bands: a.bands,
    score: a.result.score ?? 0,
    band: a.result.band ?? "red",
    components: a.result.components.map((c) => ({
      component: c.component,
      normalized: c.normalized,
      weight_configured: c.weight_configured,
      weight_effective: c.weight_effective,
      contribution: c.contribution,
      measures: c.measures.map((m) => {
        const definition = MEASURES.find((d) => d.name === m.name);
        return {
          name: m.name,
          description: definition?.description ?? "",
          window_days: m.window_days,
          weight_in_component: m.weight,
          raw: m.raw,
          score: m.score,
          scale: m.scale,
        };
      }),
    })),
    dropped: a.result.dropped,
    evidence: { ...a.evidence },
    previous: a.previous,
    score_7d_ago: a.score_7d_ago,
    score_30d_ago: a.score_30d_ago,
    trend_7d: a.trend_7d,
    trend_30d: a.trend_30d,
    next_band_up: a.moves.up,
    next_band_down: a.moves.down,
    alert: a.alert,
  };
}

/** One account's row of the many-accounts table. */
function row(a: AccountHealth): z.input<typeof accountRowSchema> {
  return {
    account_id: a.account_id,
    account_name: a.account_name,
    scorecard: a.scorecard,
    score: a.result.score ?? 0,
    band: a.result.band ?? "red",
    previous_band: a.previous?.band ?? null,
    trend_7d: a.trend_7d,
    trend_30d: a.trend_30d,
    dropped: a.result.dropped.map((d) => d.component),
    alert: a.alert?.reason ?? null,
  };
}

/** A trend with its sign, or – without one. */
function signed(v: number | null): string {
  return v === null ? "–" : v > 0 ? `+${v}` : `${v}`;
}
