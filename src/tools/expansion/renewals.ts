import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY, type ToolContext, type ToolDefinition } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { workspaceSettings } from "../../records/workspace-settings";
import { priorModel, sampleSize } from "../retention/domain/risk-model";
import { latestRiskModel, scoreAccounts } from "../retention/risk-scoring";
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
import { effectiveSchedules, nextReminder, offsetsForTier } from "./domain/renewal-schedule";
import { compareText } from "./queries/book";

/** Default window of track_renewals: the next 120 days. */
export const DEFAULT_WINDOW_DAYS = 120;
/** Default horizon of forecast_renewals: the next 12 months. */
export const DEFAULT_HORIZON_MONTHS = 12;
/** Default Monte Carlo runs. */
export const DEFAULT_SIMULATIONS = 10_000;
/** Most Bernoulli draws (runs × contracts) one forecast makes; above it the runs are reduced and the answer says so. */
export const MAX_DRAWS = 20_000_000;

/** An open renewal: the contract is active without an outcome and its account has not churned. */
const OPEN_RENEWAL = "c.status = 'active' AND c.outcome IS NULL AND a.status <> 'churned'";

const filterArgs = {
  owner: z.string().min(1).max(100).optional().describe("Only accounts owned by this user id."),
  tier: z.string().min(1).max(50).optional().describe("Only accounts of this value tier (accounts.tier)."),
  segment: z.string().min(1).max(50).optional().describe("Only accounts of this segment (accounts.segment)."),
  health_band: z
    .enum(["red", "yellow", "green"])
    .optional()
    .describe("Only accounts whose stored health band is this."),
};

type Filters = {
  owner?: string | undefined;
  tier?: string | undefined;
  segment?: string | undefined;
  health_band?: string | undefined;
};

/** SQL for the account filters, binding ?3..?6; a null parameter matches every account. */
const FILTER_SQL = `(?3 IS NULL OR a.owner_user_id = ?3) AND (?4 IS NULL OR a.tier = ?4)
  AND (?5 IS NULL OR a.segment = ?5) AND (?6 IS NULL OR a.health_band = ?6)`;

const filterParams = (f: Filters) => [f.owner ?? null, f.tier ?? null, f.segment ?? null, f.health_band ?? null];

const round2 = (value: number) => Math.round(value * 100) / 100;
const pct = (value: number | null) => (value === null ? null : `${Math.round(value * 100)}%`);

const reminderOut = z.object({
  reminder_id: z.string(),
  offset_days: z.number().int().describe("Days before the renewal date."),
  due_day: z.string().describe("Renewal date − offset."),
  status: z.enum(["queued", "sent", "acknowledged", "skipped"]),
  sent_at: z.string().nullable(),
  acknowledged_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  note: z.string().nullable().describe("Why it was skipped, or what did not go out (e.g. no email sender)."),
});

const renewalOut = z.object({
  contract_id: z.string(),
  account_id: z.string(),
  account_name: z.string(),
  renewal_date: z.string().describe("The contract's end date."),
  days_left: z.number().int().describe("Days from today (UTC) to the renewal date."),
  arr: z.number(),
  auto_renew: z.boolean(),
  owner_user_id: z.string().nullable(),
  owner_name: z.string().nullable(),
  tier: z.string().nullable(),
  segment: z.string().nullable(),
  health_score: z.number().nullable().describe("Latest stored health score (0–100)."),
  health_band: z.string().nullable(),
  churn_probability: z.number().nullable().describe("accounts.churn_probability from the latest risk model run."),
  renewal_opportunity: z
    .object({ opportunity_id: z.string(), stage: z.string(), amount: z.number(), close_date: z.string().nullable() })
    .nullable()
    .describe("The account's open renewal opportunity closing last, if any."),
  reminder_offsets_days: z.array(z.number().int()).describe("The schedule this account's tier follows."),
  reminders: z.array(reminderOut).describe("Reminders made for this contract, largest offset first."),
  next_reminder: z
    .object({
      offset_days: z.number().int(),
      due_day: z.string(),
      pending: z.boolean().describe("True when already due and waiting for the next daily run."),
    })
    .nullable(),
});

interface RenewalRow {
  id: string;
  account_id: string;
  end_date: string;
  arr: number;
  auto_renew: number;
  name: string;
  tier: string | null;
  segment: string | null;
  owner_user_id: string | null;
  owner_name: string | null;
  health_score: number | null;
  health_band: string | null;
  churn_probability: number | null;
}

interface ReminderRow {
  id: string;
  contract_id: string;
  offset_days: number;
  due_day: string;
  status: "queued" | "sent" | "acknowledged" | "skipped";
  sent_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  note: string | null;
}

async function listRenewals(
  ctx: ToolContext,
  args: Filters & { window_days: number; limit: number; cursor?: string | undefined },
) {
  const ws = ctx.principal.workspaceId;
  const today = isoDay(ctx.now);
  const until = addDays(today, args.window_days);
  const fingerprint = queryFingerprint([
    "track_renewals",
    today,
    args.window_days,
    args.owner,
    args.tier,
    args.segment,
    args.health_band,
  ]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const from = `FROM contracts c
      JOIN accounts a ON +a.workspace_id = ?1 AND a.id = c.account_id
      LEFT JOIN users u ON +u.workspace_id = ?1 AND u.id = a.owner_user_id
     WHERE c.workspace_id = ?1 AND c.end_date >= ?2 AND c.end_date <= ?7 AND ${OPEN_RENEWAL} AND ${FILTER_SQL}`;
  const params = [ws, today, ...filterParams(args), until];
  // The settings load beside the renewals rather than one round trip before them.
  const [settings, [pageRes, totalsRes]] = await Promise.all([
    workspaceSettings(ctx),
    ctx.env.DB.batch([
      ctx.env.DB.prepare(
        `SELECT c.id, c.account_id, c.end_date, c.arr, c.auto_renew, a.name, a.tier, a.segment, a.owner_user_id,
              u.name AS owner_name, a.health_score, a.health_band, a.churn_probability
         ${from}
         AND (c.end_date, c.id) > (?8, ?9)
       ORDER BY c.end_date, c.id
       LIMIT ?10`,
      ).bind(...params, String(position?.k[0] ?? ""), position?.id ?? "", args.limit + 1),
      ctx.env.DB.prepare(`SELECT count(*) AS contracts, coalesce(sum(c.arr), 0) AS arr ${from}`).bind(...params),
    ]),
  ]);
  const rows = (pageRes?.results ?? []) as RenewalRow[];
  const totals = (totalsRes?.results[0] ?? { contracts: 0, arr: 0 }) as { contracts: number; arr: number };
  const page = rows.slice(0, args.limit);
  const contractIds = JSON.stringify(page.map((r) => r.id));
  const accountIds = JSON.stringify([...new Set(page.map((r) => r.account_id))]);
  const [remindersRes, opportunitiesRes] =
    page.length > 0
      ? await ctx.env.DB.batch([
          ctx.env.DB.prepare(
            `SELECT id, contract_id, offset_days, due_day, status, sent_at, acknowledged_at, acknowledged_by, note
               FROM renewal_reminders WHERE workspace_id = ?1 AND contract_id IN (SELECT value FROM json_each(?2))
              ORDER BY contract_id, offset_days DESC`,
          ).bind(ws, contractIds),
          ctx.env.DB.prepare(
            `SELECT account_id, id, stage, amount, close_date FROM opportunities
              WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2)) AND status = 'open'
                AND +kind = 'renewal'
              ORDER BY account_id, close_date, id`,
          ).bind(ws, accountIds),
        ])
      : [];
  const reminders = new Map<string, ReminderRow[]>();
  for (const r of (remindersRes?.results ?? []) as ReminderRow[]) {
    reminders.set(r.contract_id, [...(reminders.get(r.contract_id) ?? []), r]);
  }
  const opportunities = new Map<
    string,
    { opportunity_id: string; stage: string; amount: number; close_date: string | null }
  >();
  for (const o of (opportunitiesRes?.results ?? []) as {
    account_id: string;
    id: string;
    stage: string;
    amount: number;
    close_date: string | null;
  }[]) {
    // Ordered by close date: the last one read is the one closing last.
    opportunities.set(o.account_id, {
      opportunity_id: o.id,
      stage: o.stage,
      amount: o.amount,
      close_date: o.close_date,
    });
  }
  const renewals = page.map((r) => {
    const daysLeft = daysBetween(today, r.end_date);
    const offsets = offsetsForTier(settings.renewal_reminders, r.tier);
    const made = reminders.get(r.id) ?? [];
    const next = nextReminder(
      offsets,
      daysLeft,
      made.map((m) => m.offset_days),
    );
    return {
      contract_id: r.id,
      account_id: r.account_id,
      account_name: r.name,
      renewal_date: r.end_date,
      days_left: daysLeft,
      arr: r.arr,
      auto_renew: Boolean(r.auto_renew),
      owner_user_id: r.owner_user_id,
      owner_name: r.owner_name,
      tier: r.tier,
      segment: r.segment,
      health_score: r.health_score,
      health_band: r.health_band,
      churn_probability: r.churn_probability,
      renewal_opportunity: opportunities.get(r.account_id) ?? null,
      reminder_offsets_days: offsets,
      reminders: made.map((m) => ({
        reminder_id: m.id,
        offset_days: m.offset_days,
        due_day: m.due_day,
        status: m.status,
        sent_at: m.sent_at,
        acknowledged_at: m.acknowledged_at,
        acknowledged_by: m.acknowledged_by,
        note: m.note,
      })),
      next_reminder: next
        ? {
            offset_days: next.offset,
            due_day: next.pending ? today : addDays(r.end_date, -next.offset),
            pending: next.pending,
          }
        : null,
    };
  });
  const last = page.at(-1);
  const nextCursor =
    rows.length > args.limit && last ? encodeCursor({ k: [last.end_date], id: last.id, q: fingerprint }) : null;
  const data = {
    action: "list" as const,
    window: { from: today, to: until, window_days: args.window_days },
    contracts_counted: totals.contracts,
    arr_renewing: round2(totals.arr),
    renewals,
    next_cursor: nextCursor,
  };
  const reminderCell = (made: (typeof renewals)[number]["reminders"]) =>
    made.map((m) => `${m.offset_days}:${m.status}`).join(" ") || "–";
  return {
    data,
    text: [
      `${totals.contracts} open renewals from ${today} to ${until} (${args.window_days} days), ARR ${round2(totals.arr)} renewing; ${renewals.length} shown.`,
      markdownTable(
        ["Renews", "Days", "Account", "ARR", "Owner", "Health", "Churn", "Reminders", "Next"],
        renewals.map((r) => [
          r.renewal_date,
          r.days_left,
          r.account_name,
          r.arr,
          r.owner_name,
          r.health_score === null ? null : `${r.health_score} ${r.health_band ?? ""}`.trim(),
          pct(r.churn_probability),
          reminderCell(r.reminders),
          r.next_reminder ? `${r.next_reminder.offset_days}d on ${r.next_reminder.due_day}` : null,
        ]),
      ),
    ].join("\n"),
  };
}

async function scheduleOf(ctx: ToolContext) {
  const [settings, [tiersRes, destinationRes]] = await Promise.all([
    workspaceSettings(ctx),
    ctx.env.DB.batch([
      ctx.env.DB.prepare(
        "SELECT tier, count(*) AS accounts FROM accounts WHERE workspace_id = ?1 AND status = 'active' GROUP BY tier",
      ).bind(ctx.principal.workspaceId),
      ctx.env.DB.prepare(
        "SELECT count(*) AS n FROM integrations WHERE workspace_id = ?1 AND provider = 'slack' AND status = 'active'",
      ).bind(ctx.principal.workspaceId),
    ]),
  ]);
  const config = settings.renewal_reminders;
  const tierCounts = (tiersRes?.results ?? []) as { tier: string | null; accounts: number }[];
  const configured = new Set(Object.keys(config.by_tier));
  const schedules = effectiveSchedules(config).map((s) => ({
    tier: s.tier,
    offsets_days: s.offsets_days,
    accounts: tierCounts
      .filter((t) => (s.tier === null ? t.tier === null || !configured.has(t.tier) : t.tier === s.tier))
      .reduce((sum, t) => sum + t.accounts, 0),
  }));
  const slackConfigured =
    Boolean(ctx.env.SLACK_WEBHOOK_URL) || ((destinationRes?.results[0] as { n: number } | undefined)?.n ?? 0) > 0;
  const data = {
    action: "schedule" as const,
    schedules,
    channels: {
      email_owner: config.email_owner,
      create_task: config.create_task,
      slack: config.slack,
      slack_destination_configured: slackConfigured,
    },
  };
  return {
    data,
    text: [
      `Renewal reminders: ${schedules.length} schedule(s); email owner ${config.email_owner ? "on" : "off"}, task ${config.create_task ? "on" : "off"}, Slack ${config.slack && slackConfigured ? "on" : "off"}.`,
      markdownTable(
        ["Tier", "Days before renewal", "Active accounts"],
        schedules.map((s) => [s.tier ?? "(default)", s.offsets_days.join("/"), s.accounts]),
      ),
    ].join("\n"),
  };
}

async function acknowledge(ctx: ToolContext, reminderId: string) {
  const ws = ctx.principal.workspaceId;
  const by = ctx.principal.userId ?? ctx.principal.keyId ?? "unknown";
  const at = ctx.now.toISOString();
  const [, readRes] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `UPDATE renewal_reminders SET status = 'acknowledged', acknowledged_at = ?3, acknowledged_by = ?4
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'sent'`,
    ).bind(ws, reminderId, at, by),
    ctx.env.DB.prepare(
      `SELECT id, contract_id, offset_days, due_day, status, sent_at, acknowledged_at, acknowledged_by, note
         FROM renewal_reminders WHERE workspace_id = ?1 AND id = ?2`,
    ).bind(ws, reminderId),
  ]);
  const row = readRes?.results[0] as ReminderRow | undefined;
  if (!row) throw notFound("renewal reminder", reminderId);
  if (row.status !== "acknowledged") {
    throw new ToolError(
      `Reminder ${reminderId} is ${row.status}${row.status === "skipped" ? " and was never sent" : " and has not gone out yet"}; only a sent reminder can be acknowledged.`,
    );
  }
  const newly = row.acknowledged_at === at && row.acknowledged_by === by;
  ctx.audit({
    action: "acknowledge_renewal_reminder",
    targetType: "renewal_reminder",
    targetId: reminderId,
    details: { contract_id: row.contract_id, offset_days: row.offset_days, newly_acknowledged: newly },
  });
  const data = {
    action: "acknowledge" as const,
    already_acknowledged: !newly,
    reminder: {
      reminder_id: row.id,
      offset_days: row.offset_days,
      due_day: row.due_day,
      status: row.status,
      sent_at: row.sent_at,
      acknowledged_at: row.acknowledged_at,
      acknowledged_by: row.acknowledged_by,
      note: row.note,
    },
    contract_id: row.contract_id,
  };
  return {
    data,
    text: newly
      ? `Acknowledged the ${row.offset_days}-day reminder of contract ${row.contract_id}.`
      : `The ${row.offset_days}-day reminder of contract ${row.contract_id} was already acknowledged on ${row.acknowledged_at} by ${row.acknowledged_by}.`,
  };
}

const TRACK_ACTIONS = ["list", "schedule", "acknowledge"] as const;

/** Upcoming renewals with their reminder status, the reminder schedule, and acknowledging a reminder. */
export const trackRenewals = defineTool({
  name: "track_renewals",
  title: "Track renewals",
  toolset: "expansion",
  description:
    "Open renewals (contract active without an outcome, account not churned) whose renewal date (contract end date) falls from today to today + window_days (UTC, default 120), sorted by renewal date, paginated. " +
    "action list: per contract days left, ARR, auto-renew, owner, tier, segment, stored health score/band, churn probability (accounts.churn_probability from the risk model), the account's open renewal opportunity stage, and its reminders (offset, status queued/sent/acknowledged/skipped) with the next reminder due; totals over the whole filtered window (contracts_counted, arr_renewing). " +
    "action schedule: the effective reminder schedule per tier (settings renewal_reminders: offsets_days, by_tier) with active accounts following each, and the channels (owner email, owner task, Slack). " +
    "The daily cron (03:00 UTC) creates one reminder per contract and offset once renewal date − offset is reached and sends it through the jobs queue (owner email, owner task, Slack alert): only the nearest crossed offset is sent, larger ones crossed at the same time are marked skipped. " +
    "action acknowledge (csm or admin): marks a sent reminder acknowledged by the caller; repeating it changes nothing.",
  input: {
    action: z.enum(TRACK_ACTIONS).default("list").describe("list (default), schedule or acknowledge."),
    window_days: z
      .number()
      .int()
      .min(1)
      .max(730)
      .default(DEFAULT_WINDOW_DAYS)
      .describe("list: renewal dates from today to today + this many days (default 120)."),
    ...filterArgs,
    reminder_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("acknowledge: the reminder id (from list's reminders or the reminder email)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(TRACK_ACTIONS).describe("The action performed."),
    window: z
      .object({ from: z.string(), to: z.string(), window_days: z.number().int() })
      .optional()
      .describe("list: the renewal dates covered (inclusive)."),
    contracts_counted: z.number().int().optional().describe("list: open renewals in the window after filters."),
    arr_renewing: z.number().optional().describe("list: their summed contract ARR."),
    renewals: z.array(renewalOut).optional().describe("list: this page."),
    next_cursor: nextCursorField.optional(),
    schedules: z
      .array(
        z.object({
          tier: z.string().nullable().describe("null = the default schedule (tiers without their own)."),
          offsets_days: z.array(z.number().int()),
          accounts: z.number().int().describe("Active accounts following this schedule."),
        }),
      )
      .optional(),
    channels: z
      .object({
        email_owner: z.boolean(),
        create_task: z.boolean(),
        slack: z.boolean(),
        slack_destination_configured: z.boolean(),
      })
      .optional(),
    already_acknowledged: z.boolean().optional().describe("acknowledge: true when it was acknowledged before."),
    reminder: reminderOut.optional(),
    contract_id: z.string().optional(),
  },
  minRole: "viewer",
  actions: { list: { writes: false }, schedule: { writes: false }, acknowledge: { writes: true, role: "csm" } },
  examples: [
    { title: "Renewals in the next 90 days", args: () => ({ action: "list" }) },
    {
      title: "Red renewals of a segment within a year",
      args: (ids) => ({ action: "list", window_days: 365, segment: ids.segment, health_band: "red" }),
    },
    { title: "Renewal reminders due", args: () => ({ action: "schedule" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    if (args.action === "schedule") return scheduleOf(ctx);
    if (args.action === "acknowledge") {
      if (!args.reminder_id) {
        throw new ToolError(
          "acknowledge needs `reminder_id`: take it from a renewal's `reminders` in the list action.",
        );
      }
      return acknowledge(ctx, args.reminder_id);
    }
    return listRenewals(ctx, args);
  },
});

/** Where a contract's renewal probability came from. */
type ProbabilitySource = "risk_score" | "model_scored_now" | "historical_renewal_rate" | "prior_model";

interface ForecastRow {
  id: string;
  account_id: string;
  end_date: string;
  arr: number;
  name: string;
  score: string | null;
}

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
    ...filterArgs,
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
      ctx.env.DB.prepare(
        `SELECT c.id, c.account_id, c.end_date, c.arr, a.name,
                (SELECT json_object('p', s.probability, 'm', s.model_id, 'd', s.day) FROM risk_scores s
                  WHERE s.workspace_id = ?1 AND s.account_id = c.account_id ORDER BY s.day DESC LIMIT 1) AS score
           FROM contracts c
           JOIN accounts a ON +a.workspace_id = ?1 AND a.id = c.account_id
          WHERE c.workspace_id = ?1 AND c.end_date >= ?2 AND c.end_date < ?7 AND ${OPEN_RENEWAL} AND ${FILTER_SQL}`,
      )
        .bind(ws, today, ...filterParams(args), until)
        .all<ForecastRow>(),
      latestRiskModel(ctx.env, ws),
    ]);
    // By renewal date and id, sorted here: a sort in the database would count every row again as read.
    const rows = contractRows.results.sort((a, b) => compareText(a.end_date, b.end_date) || compareText(a.id, b.id));

    const scored = new Map<string, { p: number; m: string; d: string }>();
    for (const r of rows)
      if (r.score) scored.set(r.account_id, JSON.parse(r.score) as { p: number; m: string; d: string });
    const unscored = [...new Set(rows.filter((r) => !scored.has(r.account_id)).map((r) => r.account_id))];
    const models = new Map<string, { version: number; kind: string; calibrated: boolean; trained_at: string }>();
    const usedIds = [...new Set([...scored.values()].map((s) => s.m))];
    if (usedIds.length > 0) {
      const used = await ctx.env.DB.prepare(
        `SELECT id, version, kind, calibrated, trained_at FROM risk_models
          WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))`,
      )
        .bind(ws, JSON.stringify(usedIds))
        .all<{ id: string; version: number; kind: string; calibrated: number; trained_at: string }>();
      for (const m of used.results) {
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
      const outcomes = await ctx.env.DB.prepare(
        `SELECT count(*) AS n, coalesce(sum(outcome IN ('renewed', 'expanded', 'contracted')), 0) AS renewed
           FROM contracts WHERE workspace_id = ?1 AND outcome IS NOT NULL`,
      )
        .bind(ws)
        .first<{ n: number; renewed: number }>();
      if (outcomes && outcomes.n > 0) {
        history = { rate: round4(outcomes.renewed / outcomes.n), outcomes_counted: outcomes.n };
        for (const id of unscored) {
          fallback.set(id, {
            churn: 1 - outcomes.renewed / outcomes.n,
            source: "historical_renewal_rate",
            model: null,
          });
        }
      } else {
        for (const s of await scoreAccounts(ctx.env, ws, unscored, today, priorModel(sampleSize([])))) {
          fallback.set(s.account_id, { churn: s.probability, source: "prior_model", model: null });
        }
      }
    }

    const contracts = rows.map((r) => {
      const score = scored.get(r.account_id);
      const other = fallback.get(r.account_id);
      const churn = score ? score.p : (other?.churn ?? 0);
      const probability = round4(1 - churn);
      const modelId = score ? score.m : (other?.model ?? null);
      return {
        contract_id: r.id,
        account_id: r.account_id,
        account_name: r.name,
        renewal_date: r.end_date,
        period: periodOf(r.end_date, args.period),
        arr: r.arr,
        renewal_probability: probability,
        expected_arr: round2(probability * r.arr),
        bucket: bucketOf(probability),
        probability_source: (score ? "risk_score" : (other?.source ?? "prior_model")) as ProbabilitySource,
        model_version: modelId ? (models.get(modelId)?.version ?? null) : null,
        score_day: score?.d ?? null,
        model_id: modelId,
      };
    });

    const runs = Math.max(1, Math.min(args.simulations, Math.floor(MAX_DRAWS / Math.max(1, contracts.length))));
    const simulation = simulateRenewals(
      contracts.map((c) => ({ period: c.period, arr: c.arr, probability: c.renewal_probability })),
      runs,
      args.seed,
    );
    const withBuckets = (s: (typeof simulation)["total"], members: typeof contracts) => ({
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
    const horizon = withBuckets(simulation.total, contracts);

    const sources: Record<string, number> = {};
    const perModel = new Map<string, number>();
    for (const c of contracts) {
      sources[c.probability_source] = (sources[c.probability_source] ?? 0) + 1;
      if (c.model_id) perModel.set(c.model_id, (perModel.get(c.model_id) ?? 0) + 1);
    }
    const versions = [...perModel.entries()]
      .map(([id, n]) => ({
        ...(models.get(id) ?? { version: 0, kind: "unknown", calibrated: false, trained_at: "" }),
        contracts: n,
      }))
      .sort((a, b) => b.version - a.version);

    const start = after
      ? contracts.findIndex(
          (c) => [c.renewal_date, c.contract_id].join("\u0000") > [String(after.k[0]), after.id].join("\u0000"),
        )
      : 0;
    const rest = start < 0 ? [] : contracts.slice(start);
    const page = rest.slice(0, args.limit).map(({ model_id: _model, ...c }) => c);
    const last = page.at(-1);
    const nextCursor =
      rest.length > args.limit && last
        ? encodeCursor({ k: [last.renewal_date], id: last.contract_id, q: fingerprint })
        : null;

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
      model: { versions, historical_renewal_rate: history },
      probability_sources: sources,
      contracts: page,
      next_cursor: nextCursor,
    };
    const modelLine =
      versions.length > 0
        ? `model v${versions.map((v) => `${v.version} (${v.calibrated ? "calibrated" : "not calibrated"})`).join(", v")}`
        : history
          ? `historical renewal rate ${history.rate} over ${history.outcomes_counted} outcomes`
          : "documented prior model";
    return {
      data,
      text: [
        `${contracts.length} renewals ${today}..${until}: ARR ${horizon.arr_up_for_renewal} up, expected ${horizon.expected_arr} (forecast GRR ${pct(horizon.forecast_grr) ?? "–"}); simulated P10/P50/P90 ${horizon.p10}/${horizon.p50}/${horizon.p90} over ${runs} runs, seed ${args.seed}; ${modelLine}.`,
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
      ].join("\n"),
    };
  },
});

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** The same day `months` calendar months later (clamped to the month's last day). */
function addMonths(day: string, months: number): string {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date, last));
  return isoDay(target);
}

/** Expansion tools: track_renewals and forecast_renewals. */
export const renewalTools: ToolDefinition[] = [trackRenewals, forecastRenewals];
