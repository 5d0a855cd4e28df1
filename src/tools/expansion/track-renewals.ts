import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import type { WorkspaceSettings } from "../../records/settings";
import { workspaceSettings } from "../../records/workspace-settings";
import { effectiveSchedules, nextReminder, offsetsForTier } from "./domain/renewal-schedule";
import { acknowledgeReminder, type ReminderRow } from "./queries/reminders";
import {
  openRenewalsPage,
  type RenewalFilters,
  type RenewalOpportunityRow,
  type RenewalRow,
  reminderAudience,
  renewalFilterArgs,
  renewalPageDetails,
} from "./queries/renewals";

/** Default window of track_renewals: the next 120 days. */
export const DEFAULT_WINDOW_DAYS = 120;

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

const TRACK_ACTIONS = ["list", "schedule", "acknowledge"] as const;

/** Upcoming renewals with their reminder status, the reminder schedule, and acknowledging a reminder. */
export const trackRenewals = defineActionTool({
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
    ...renewalFilterArgs,
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
  examples: [
    { title: "Renewals in the next 120 days", args: () => ({ action: "list" }) },
    {
      title: "Red renewals of a segment within a year",
      args: (ids) => ({ action: "list", window_days: 365, segment: ids.segment, health_band: "red" }),
    },
    { title: "The renewal reminder schedule per tier", args: () => ({ action: "schedule" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  commonFields: ["window_days", "limit"],
  actions: {
    list: {
      writes: false,
      fields: ["window_days", "owner", "tier", "segment", "health_band", "limit", "cursor"],
      run: (args, ctx) => listRenewals(ctx, args),
    },
    schedule: { writes: false, fields: [], run: (_args, ctx) => scheduleOf(ctx) },
    acknowledge: {
      writes: true,
      role: "csm",
      fields: ["reminder_id"],
      run: (args, ctx) => {
        if (!args.reminder_id) {
          throw new ToolError(
            "acknowledge needs `reminder_id`: take it from a renewal's `reminders` in the list action.",
          );
        }
        return acknowledge(ctx, args.reminder_id);
      },
    },
  },
});

type RenewalOut = z.output<typeof renewalOut>;

async function listRenewals(
  ctx: ToolContext,
  args: RenewalFilters & { window_days: number; limit: number; cursor?: string | undefined },
) {
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
  const after = { endDate: String(position?.k[0] ?? ""), id: position?.id ?? "" };
  // The settings load beside the renewals rather than one round trip before them.
  const [settings, { rows, totals }] = await Promise.all([
    workspaceSettings(ctx),
    openRenewalsPage(ctx.env.DB, ctx.principal.workspaceId, { today, until, filters: args, after, limit: args.limit }),
  ]);
  const page = rows.slice(0, args.limit);
  const { reminders, opportunities } = await renewalPageDetails(
    ctx.env.DB,
    ctx.principal.workspaceId,
    page.map((r) => r.id),
    [...new Set(page.map((r) => r.account_id))],
  );
  const renewals = renewalsOut(page, today, settings.renewal_reminders, reminders, opportunities);
  const last = page.at(-1);
  const nextCursor =
    rows.length > args.limit && last ? encodeCursor({ k: [last.end_date], id: last.id, q: fingerprint }) : null;
  const data = {
    action: "list" as const,
    window: { from: today, to: until, window_days: args.window_days },
    contracts_counted: totals.contracts,
    arr_renewing: round(totals.arr),
    renewals,
    next_cursor: nextCursor,
  };
  return { data, text: listText(renewals, totals, data.window) };
}

/** Each renewal of the page with its reminders, the next reminder due and its open renewal opportunity. */
function renewalsOut(
  page: readonly RenewalRow[],
  today: string,
  schedule: WorkspaceSettings["renewal_reminders"],
  reminderRows: readonly ReminderRow[],
  opportunityRows: readonly RenewalOpportunityRow[],
): RenewalOut[] {
  const reminders = new Map<string, ReminderRow[]>();
  for (const r of reminderRows) {
    reminders.set(r.contract_id, [...(reminders.get(r.contract_id) ?? []), r]);
  }
  const opportunities = new Map<
    string,
    { opportunity_id: string; stage: string; amount: number; close_date: string | null }
  >();
  for (const o of opportunityRows) {
    // Ordered by close date: the last one read is the one closing last.
    opportunities.set(o.account_id, {
      opportunity_id: o.id,
      stage: o.stage,
      amount: o.amount,
      close_date: o.close_date,
    });
  }
  return page.map((r) => {
    const daysLeft = daysBetween(today, r.end_date);
    const offsets = offsetsForTier(schedule, r.tier);
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
      reminders: made.map(reminderData),
      next_reminder: next
        ? {
            offset_days: next.offset,
            due_day: next.pending ? today : addDays(r.end_date, -next.offset),
            pending: next.pending,
          }
        : null,
    };
  });
}

/** A reminder as the answers show it. */
function reminderData(m: ReminderRow) {
  return {
    reminder_id: m.id,
    offset_days: m.offset_days,
    due_day: m.due_day,
    status: m.status,
    sent_at: m.sent_at,
    acknowledged_at: m.acknowledged_at,
    acknowledged_by: m.acknowledged_by,
    note: m.note,
  };
}

/** The list's text: the window's totals and a table of the page. */
function listText(
  renewals: readonly RenewalOut[],
  totals: { contracts: number; arr: number },
  window: { from: string; to: string; window_days: number },
): string {
  const reminderCell = (made: RenewalOut["reminders"]) =>
    made.map((m) => `${m.offset_days}:${m.status}`).join(" ") || "–";
  return [
    `${totals.contracts} open renewals from ${window.from} to ${window.to} (${window.window_days} days), ARR ${round(totals.arr)} renewing; ${renewals.length} shown.`,
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
  ].join("\n");
}

async function scheduleOf(ctx: ToolContext) {
  const [settings, audience] = await Promise.all([
    workspaceSettings(ctx),
    reminderAudience(ctx.env.DB, ctx.principal.workspaceId),
  ]);
  const config = settings.renewal_reminders;
  const tierCounts = audience.tiers;
  const configured = new Set(Object.keys(config.by_tier));
  const schedules = effectiveSchedules(config).map((s) => ({
    tier: s.tier,
    offsets_days: s.offsets_days,
    accounts: tierCounts
      .filter((t) => (s.tier === null ? t.tier === null || !configured.has(t.tier) : t.tier === s.tier))
      .reduce((sum, t) => sum + t.accounts, 0),
  }));
  const slackConfigured = Boolean(ctx.env.SLACK_WEBHOOK_URL) || audience.slackIntegrations > 0;
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
  const by = ctx.principal.userId ?? ctx.principal.keyId ?? "unknown";
  const at = ctx.now.toISOString();
  const row = await acknowledgeReminder(ctx.env.DB, ctx.principal.workspaceId, { reminderId, at, by });
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
    reminder: reminderData(row),
    contract_id: row.contract_id,
  };
  return {
    data,
    text: newly
      ? `Acknowledged the ${row.offset_days}-day reminder of contract ${row.contract_id}.`
      : `The ${row.offset_days}-day reminder of contract ${row.contract_id} was already acknowledged on ${row.acknowledged_at} by ${row.acknowledged_by}.`,
  };
}
