import { z } from "zod";
import { queueAlert } from "../../alerts/slack";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { dayArg } from "../../platform/mcp/args";
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
import { requireAccount } from "../../records/accounts";
import { workspaceSettings } from "../../records/workspace-settings";
import {
  type EscalationStats,
  escalationStats,
  meanOf,
  postResolutionWindows,
  SEVERITIES,
  type Severity,
  slaDueAt,
  slaStatus,
} from "./domain/escalation-sla";
import { type DayWindow, dayWindow } from "./domain/satisfaction-window";
import {
  assignEscalationStatement,
  csatInAccountWindows,
  type EscalationRow,
  type EventGuard,
  escalationEventStatement,
  escalationPage,
  escalationsOpenedIn,
  escalationTimeline,
  findEscalation,
  findUserByReference,
  insertEscalationStatement,
  markInProgressStatement,
  reopenEscalationStatement,
  resolveEscalationStatement,
  ticketExists,
} from "./queries/escalations";

const ACTIONS = ["open", "assign", "update", "notify", "resolve", "reopen", "get", "list", "stats"] as const;
type Action = (typeof ACTIONS)[number];
const STATUSES = ["open", "in_progress", "resolved"] as const;
type Status = (typeof STATUSES)[number];
const STATUS_FILTERS = ["active", ...STATUSES, "all"] as const;
/** Severities whose opening posts a Slack alert. */
const ALERT_ON_OPEN: readonly Severity[] = ["critical", "high"];
/** Days after a resolution in which the account's CSAT answers count as post-resolution CSAT. */
export const POST_RESOLUTION_DAYS = 30;
/** Timeline events returned by get. */
const TIMELINE_LIMIT = 200;

const severityEnum = z.enum(SEVERITIES);

const escalationOut = z.object({
  id: z.string(),
  account_id: z.string(),
  account_name: z.string().nullable(),
  ticket_id: z.string().nullable(),
  title: z.string(),
  description: z.string().nullable().describe("Summary written by the team."),
  severity: severityEnum,
  status: z.enum(STATUSES),
  owner_user_id: z.string().nullable(),
  owner_name: z.string().nullable(),
  opened_at: z.string(),
  sla_window_start: z.string().describe("Start of the current SLA window: the opening, or the latest reopening."),
  sla_due_at: z.string(),
  sla_state: z
    .enum(["on_track", "at_risk", "breached", "met"])
    .describe(
      "Unresolved: breached past due, at_risk with under 25% of the window left, else on_track. Resolved: met or breached at resolution.",
    ),
  sla_hours_left: z.number().describe("Hours to the due time (now, or at resolution); negative when past."),
  resolved_at: z.string().nullable(),
  root_cause: z.string().nullable(),
  resolution: z.string().nullable(),
  reopen_count: z.number().int(),
});
type EscalationOut = z.output<typeof escalationOut>;

const eventOut = z.object({
  id: z.string(),
  at: z.string(),
  kind: z.enum(["opened", "assigned", "updated", "notified", "resolved", "reopened"]),
  actor_user_id: z.string().nullable(),
  note: z.string().nullable(),
});

const severityStatsOut = z.object({
  opened: z.number().int(),
  resolved: z.number().int(),
  median_hours_to_resolve: z.number().nullable(),
  mean_hours_to_resolve: z.number().nullable(),
  sla_met_pct: z.number().nullable().describe("Resolved by the due time in force at resolution, % of resolved."),
});

export const manageEscalations = defineActionTool({
  name: "manage_escalations",
  title: "Manage escalations",
  toolset: "retention",
  description:
    "Customer escalations with a severity-based SLA: due time = opening (or reopening) + settings.escalation_sla_hours for the severity (defaults critical 4, high 24, medium 72, low 168 h). " +
    "SLA state: breached past due, at_risk when under 25% of the SLA window is left, else on_track; a resolved one met or breached its due time. " +
    "Writes (csm): open (account_id, title, severity, optional ticket_id, description, owner; default owner the account owner; timeline `opened`; a Slack alert for critical and high), assign (owner), update (note on the timeline; open → in_progress), notify (a Slack alert with the summary and a `notified` event; Slack only, no email; refused when no Slack destination is set), resolve (root_cause required, resolution), reopen (reopen_count + 1, status open, new SLA from the reopen time). " +
    'Reads: get (one with its timeline), list (open and in_progress by default; filters account_id, severity, status, owner; sorted by SLA due time; paginated), stats (escalations opened in the window, default 90 days: count by severity, hours from opening to the latest resolution median and mean, SLA met rate, reopen rate = reopened at least once / resolved at least once, post-resolution CSAT = mean of the account\'s CSAT answers within 30 days after each resolution, with n). owner is a user id, email or "me".',
  input: {
    action: z.enum(ACTIONS).describe("open, assign, update, notify, resolve, reopen, get, list or stats."),
    escalation_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("assign/update/notify/resolve/reopen/get: the escalation (esc_…)."),
    account_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("open (required): the account; list: only this account."),
    title: z.string().trim().min(1).max(200).optional().describe("open (required): what is escalated."),
    severity: severityEnum
      .optional()
      .describe("open (required): critical, high, medium or low; list: only this severity."),
    ticket_id: z.string().min(1).max(100).optional().describe("open: the support ticket behind it."),
    description: z.string().max(5000).optional().describe("open: summary written by the team."),
    owner: z
      .string()
      .min(1)
      .max(254)
      .optional()
      .describe('open/assign (required for assign): who owns it; list: only theirs. A user id, an email or "me".'),
    note: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .optional()
      .describe("update (required)/assign/notify/reopen: a note for the timeline (notify: added to the alert)."),
    root_cause: z.string().trim().min(3).max(2000).optional().describe("resolve (required): the root cause."),
    resolution: z.string().trim().min(1).max(2000).optional().describe("resolve: what was done."),
    status: z
      .enum(STATUS_FILTERS)
      .optional()
      .describe("list: active (default: open and in_progress), open, in_progress, resolved or all."),
    window_days: z
      .number()
      .int()
      .min(1)
      .max(730)
      .optional()
      .describe("stats: days of openings in the window ending on `to` (default 90)."),
    from: dayArg.optional().describe("stats: first day (UTC) of openings counted, YYYY-MM-DD."),
    to: dayArg.optional().describe("stats: last day (UTC) of openings counted, YYYY-MM-DD (default today)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    escalation: escalationOut.optional().describe("Writes and get: the escalation as stored now."),
    timeline: z.array(eventOut).optional().describe("get: events oldest first (up to 200)."),
    slack_queued: z
      .boolean()
      .optional()
      .describe("open/notify: a Slack alert was queued (open: critical/high only, and only with a Slack destination)."),
    escalations: z.array(escalationOut).optional().describe("list: this page, by SLA due time."),
    matching: z.number().int().optional().describe("list: escalations matching the filters."),
    breached: z.number().int().optional().describe("list: of those, unresolved and past due now."),
    window: z
      .object({ from: z.string(), to: z.string(), window_days: z.number().int() })
      .optional()
      .describe("stats: UTC days of opened_at counted, both included."),
    by_severity: z.record(z.string(), severityStatsOut).optional().describe("stats: per severity."),
    overall: severityStatsOut.optional().describe("stats: all severities."),
    reopen: z
      .object({
        ever_resolved: z.number().int(),
        reopened: z.number().int(),
        reopen_rate_pct: z.number().nullable(),
      })
      .optional()
      .describe("stats: reopened at least once / resolved at least once."),
    post_resolution_csat: z
      .object({
        mean: z.number().nullable().describe("Mean CSAT (1–5)."),
        n: z.number().int().describe("CSAT answers counted (each once)."),
        days_after: z.number().int(),
      })
      .optional()
      .describe("stats: the account's CSAT answers within 30 days after each resolution of a resolved escalation."),
    next_cursor: nextCursorField.optional(),
  },
  minRole: "viewer",
  examples: [
    { title: "One escalation and its timeline", args: (ids) => ({ action: "get", escalation_id: ids.escalationId }) },
    { title: "Open escalations by SLA due time", args: () => ({ action: "list" }) },
    {
      title: "All of an account's escalations",
      args: (ids) => ({ action: "list", account_id: ids.accountId, status: "all" }),
    },
    { title: "Escalation SLA and reopen statistics", args: () => ({ action: "stats" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  commonFields: ["limit"],
  actions: {
    open: {
      writes: true,
      role: "csm",
      fields: ["account_id", "title", "severity", "ticket_id", "description", "owner"],
      run: (args, ctx) => openEscalation(ctx, args),
    },
    assign: {
      writes: true,
      role: "csm",
      fields: ["escalation_id", "owner", "note"],
      run: (args, ctx) => changeEscalation(ctx, "assign", args),
    },
    update: {
      writes: true,
      role: "csm",
      fields: ["escalation_id", "note"],
      run: (args, ctx) => changeEscalation(ctx, "update", args),
    },
    notify: {
      writes: true,
      role: "csm",
      fields: ["escalation_id", "note"],
      run: (args, ctx) => changeEscalation(ctx, "notify", args),
    },
    resolve: {
      writes: true,
      role: "csm",
      fields: ["escalation_id", "root_cause", "resolution"],
      run: (args, ctx) => changeEscalation(ctx, "resolve", args),
    },
    reopen: {
      writes: true,
      role: "csm",
      fields: ["escalation_id", "note"],
      run: (args, ctx) => changeEscalation(ctx, "reopen", args),
    },
    get: { writes: false, fields: ["escalation_id"], run: (args, ctx) => getEscalation(ctx, args) },
    list: {
      writes: false,
      fields: ["account_id", "severity", "status", "owner", "limit", "cursor"],
      run: (args, ctx) => listEscalations(ctx, args),
    },
    stats: { writes: false, fields: ["window_days", "from", "to"], run: (args, ctx) => stats(ctx, args) },
  },
});

interface EscalationArgs {
  escalation_id?: string;
  account_id?: string;
  title?: string;
  severity?: Severity;
  ticket_id?: string;
  description?: string;
  owner?: string;
  note?: string;
  root_cause?: string;
  resolution?: string;
  status?: (typeof STATUS_FILTERS)[number];
  window_days?: number;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

function toOut(row: EscalationRow, now: Date): EscalationOut {
  const sla = slaStatus({
    windowStart: row.window_start,
    dueAt: row.sla_due_at,
    now: now.toISOString(),
    resolvedAt: row.status === "resolved" ? row.resolved_at : null,
  });
  const { window_start, ...rest } = row;
  return { ...rest, sla_window_start: window_start, sla_state: sla.state, sla_hours_left: sla.hours_left };
}

async function loadEscalation(ctx: ToolContext, id: string): Promise<EscalationOut> {
  const row = await findEscalation(ctx.env.DB, ctx.principal.workspaceId, id);
  if (!row) throw notFound("escalation", id);
  return toOut(row, ctx.now);
}

/** Resolves an owner reference (user id, email or "me") to an active user of the workspace. */
async function resolveOwner(ctx: ToolContext, reference: string): Promise<{ id: string; email: string }> {
  if (reference === "me" && !ctx.principal.userId) {
    throw new ToolError(
      '"me" needs a credential that belongs to a user; this is a workspace service key. Name the owner.',
    );
  }
  const user = await findUserByReference(ctx.env.DB, ctx.principal.workspaceId, {
    value: reference === "me" ? ctx.principal.userId : reference.trim(),
    byEmail: reference.includes("@"),
  });
  if (!user) throw notFound("user", reference);
  if (user.disabled_at) throw new ToolError(`User ${user.email} is disabled; choose an active user.`);
  return { id: user.id, email: user.email };
}

/** The alert text of an escalation (team-written fields only). */
function alertText(prefix: string, e: EscalationOut, note?: string): string {
  const text = `${prefix} [${e.severity.toUpperCase()}] ${e.account_name ?? e.account_id}: ${e.title} (${e.id}). Status ${e.status}; SLA due ${e.sla_due_at} (${e.sla_state}, ${e.sla_hours_left} h left); owner ${e.owner_name ?? "unassigned"}.${note ? ` Note: ${note}` : ""}`;
  return text.length > 3000 ? `${text.slice(0, 2999)}…` : text;
}

/** A timeline event by the caller, now, written only while the escalation is as `guard` says. */
function eventStatement(ctx: ToolContext, escalationId: string, kind: string, note: string | null, guard: EventGuard) {
  return escalationEventStatement(
    ctx.env.DB,
    ctx.principal.workspaceId,
    { id: newId("ese"), escalationId, at: ctx.now.toISOString(), kind, actorUserId: ctx.principal.userId, note },
    guard,
  );
}

async function openEscalation(ctx: ToolContext, args: EscalationArgs) {
  if (!args.account_id || !args.title || !args.severity) {
    throw new ToolError("action open needs `account_id`, `title` and `severity` (critical, high, medium or low).");
  }
  const workspaceId = ctx.principal.workspaceId;
  const account = await requireAccount(ctx.env.DB, workspaceId, args.account_id);
  if (args.ticket_id && !(await ticketExists(ctx.env.DB, workspaceId, args.ticket_id))) {
    throw notFound("ticket", args.ticket_id);
  }
  const owner = args.owner ? (await resolveOwner(ctx, args.owner)).id : account.owner_user_id;
  const settings = await workspaceSettings(ctx);
  const openedAt = ctx.now.toISOString();
  const due = slaDueAt(openedAt, args.severity, settings.escalation_sla_hours);
  const id = newId("esc");
  await ctx.env.DB.batch([
    insertEscalationStatement(ctx.env.DB, workspaceId, {
      id,
      accountId: account.id,
      ticketId: args.ticket_id ?? null,
      title: args.title,
      description: args.description ?? null,
      severity: args.severity,
      ownerUserId: owner,
      slaDueAt: due,
      openedAt,
      createdBy: ctx.principal.userId,
    }),
    eventStatement(
      ctx,
      id,
      "opened",
      `severity ${args.severity}; SLA ${settings.escalation_sla_hours[args.severity]} h, due ${due}`,
      "any",
    ),
  ]);
  const escalation = await loadEscalation(ctx, id);
  const alerted = ALERT_ON_OPEN.includes(args.severity);
  const slackQueued = alerted
    ? (
        await queueAlert(ctx.env, {
          workspaceId,
          idempotencyKey: `escalation:${id}:opened`,
          text: alertText("Escalation opened", escalation),
        })
      ).queued
    : false;
  ctx.audit({
    action: "open",
    targetType: "escalation",
    targetId: id,
    details: { account_id: account.id, severity: args.severity, sla_due_at: due, owner_user_id: owner },
  });
  return {
    data: { action: "open" as const, escalation, slack_queued: slackQueued },
    text: `Opened ${args.severity} escalation ${id} on ${escalation.account_name}: SLA due ${due}${alerted ? (slackQueued ? "; Slack alert queued" : "; no Slack destination, no alert") : ""}.`,
  };
}

async function getEscalation(ctx: ToolContext, args: EscalationArgs) {
  if (!args.escalation_id) throw new ToolError("action get needs `escalation_id`.");
  const escalation = await loadEscalation(ctx, args.escalation_id);
  const timeline = await escalationTimeline(ctx.env.DB, ctx.principal.workspaceId, escalation.id, TIMELINE_LIMIT);
  return {
    data: { action: "get" as const, escalation, timeline },
    text: [
      `${escalation.severity} escalation ${escalation.id} on ${escalation.account_name}: ${escalation.status}, SLA ${escalation.sla_state} (due ${escalation.sla_due_at}).`,
      markdownTable(
        ["At", "Event", "Note"],
        timeline.map((t) => [t.at, t.kind, t.note]),
      ),
    ].join("\n"),
  };
}

type ChangeAction = Exclude<Action, "open" | "get" | "list" | "stats">;

/** One write's effect: the state its event needs, the change itself, the event's note. */
interface Change {
  guard: EventGuard;
  update: D1PreparedStatement | null;
  note: string | null;
  slackQueued?: boolean;
}

/** Checks that a write may be made to the escalation as it is, and prepares it. */
async function planChange(
  ctx: ToolContext,
  action: ChangeAction,
  before: EscalationOut,
  args: EscalationArgs,
): Promise<Change> {
  const db = ctx.env.DB;
  const workspaceId = ctx.principal.workspaceId;
  const stamp = ctx.now.toISOString();
  switch (action) {
    case "assign": {
      if (!args.owner) throw new ToolError('action assign needs `owner` (a user id, an email or "me").');
      const owner = await resolveOwner(ctx, args.owner);
      const note = `owner ${owner.email}${args.note ? `: ${args.note}` : ""}`;
      return { guard: "any", note, update: assignEscalationStatement(db, workspaceId, before.id, owner.id) };
    }
    case "update": {
      if (!args.note) throw new ToolError("action update needs `note`.");
      if (before.status === "resolved") throw new ToolError(`Escalation ${before.id} is resolved; reopen it first.`);
      return { guard: "unresolved", note: args.note, update: markInProgressStatement(db, workspaceId, before.id) };
    }
    case "notify": {
      const queued = await queueAlert(ctx.env, {
        workspaceId,
        idempotencyKey: `escalation:${before.id}:notified:${stamp}`,
        text: alertText("Escalation", before, args.note),
      });
      if (!queued.queued) {
        throw new ToolError(
          "No Slack destination is configured: connect a slack integration (or set SLACK_WEBHOOK_URL) to notify.",
        );
      }
      return {
        guard: "any",
        note: `Slack alert queued${args.note ? `: ${args.note}` : ""}`,
        update: null,
        slackQueued: true,
      };
    }
    case "resolve": {
      if (!args.root_cause) throw new ToolError("action resolve needs `root_cause`.");
      if (before.status === "resolved") throw new ToolError(`Escalation ${before.id} is already resolved.`);
      const resolution = { resolvedAt: stamp, rootCause: args.root_cause, resolution: args.resolution ?? null };
      return {
        guard: "unresolved",
        note: `root cause: ${args.root_cause}${args.resolution ? `; resolution: ${args.resolution}` : ""}`,
        update: resolveEscalationStatement(db, workspaceId, before.id, resolution),
      };
    }
    case "reopen": {
      if (before.status !== "resolved")
        throw new ToolError(`Escalation ${before.id} is ${before.status}, not resolved.`);
      const settings = await workspaceSettings(ctx);
      const due = slaDueAt(stamp, before.severity, settings.escalation_sla_hours);
      return {
        guard: "resolved",
        note: `new SLA due ${due}${args.note ? `: ${args.note}` : ""}`,
        update: reopenEscalationStatement(db, workspaceId, before.id, due),
      };
    }
  }
}

const EVENT_KINDS: Record<ChangeAction, string> = {
  assign: "assigned",
  update: "updated",
  notify: "notified",
  resolve: "resolved",
  reopen: "reopened",
};

/** A write to an existing escalation: its change and its timeline event in one transaction. */
async function changeEscalation(ctx: ToolContext, action: ChangeAction, args: EscalationArgs) {
  if (!args.escalation_id) throw new ToolError(`action ${action} needs \`escalation_id\`.`);
  const before = await loadEscalation(ctx, args.escalation_id);
  const { guard, update, note, slackQueued } = await planChange(ctx, action, before, args);
  // The event is written only while the escalation is still in the state checked above, in the
  // same transaction as the change, so a concurrent write cannot leave a timeline that lies.
  const results = await ctx.env.DB.batch([
    eventStatement(ctx, before.id, EVENT_KINDS[action], note, guard),
    ...(update ? [update] : []),
  ]);
  if (!results[0]?.meta.changes) {
    throw new ToolError(`Escalation ${before.id} changed meanwhile; get it again and retry.`);
  }
  const escalation = await loadEscalation(ctx, before.id);
  ctx.audit({
    action,
    targetType: "escalation",
    targetId: before.id,
    details: { status: escalation.status, owner_user_id: escalation.owner_user_id, sla_due_at: escalation.sla_due_at },
  });
  return {
    data: { action, escalation, ...(slackQueued === undefined ? {} : { slack_queued: slackQueued }) },
    text: `Escalation ${escalation.id} ${EVENT_KINDS[action]}: ${escalation.status}, SLA ${escalation.sla_state} (due ${escalation.sla_due_at}, ${escalation.sla_hours_left} h left).`,
  };
}

async function listEscalations(ctx: ToolContext, args: EscalationArgs) {
  const statusFilter = args.status ?? "active";
  const statuses: Status[] =
    statusFilter === "active" ? ["open", "in_progress"] : statusFilter === "all" ? [...STATUSES] : [statusFilter];
  const owner = args.owner ? await resolveOwner(ctx, args.owner) : null;
  const fingerprint = queryFingerprint([
    "manage_escalations.list",
    statuses,
    args.account_id ?? null,
    args.severity ?? null,
    owner?.id ?? null,
  ]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const { rows, matching, breached } = await escalationPage(ctx.env.DB, ctx.principal.workspaceId, {
    statuses,
    accountId: args.account_id,
    severity: args.severity,
    ownerUserId: owner?.id,
    after: position ? { slaDueAt: String(position.k[0] ?? ""), id: position.id } : null,
    limit: args.limit + 1,
    now: ctx.now.toISOString(),
  });
  const shown = rows.slice(0, args.limit).map((row) => toOut(row, ctx.now));
  const last = shown.at(-1);
  const next =
    rows.length > args.limit && last ? encodeCursor({ k: [last.sla_due_at], id: last.id, q: fingerprint }) : null;
  return {
    data: { action: "list" as const, escalations: shown, matching, breached, next_cursor: next },
    text: [
      `${matching} ${statusFilter} escalation(s), ${breached} past their SLA now${next ? "; more with next_cursor" : ""}.`,
      escalationTable(shown),
    ].join("\n"),
  };
}

function escalationTable(shown: readonly EscalationOut[]): string {
  return markdownTable(
    ["Id", "Severity", "Account", "Title", "Status", "SLA due", "SLA", "Hours left", "Owner"],
    shown.map((e) => [
      e.id,
      e.severity,
      e.account_name,
      e.title,
      e.status,
      e.sla_due_at,
      e.sla_state,
      e.sla_hours_left,
      e.owner_name,
    ]),
  );
}

const percent = (value: number | null) => (value === null ? "–" : `${value}%`);

async function stats(ctx: ToolContext, args: EscalationArgs) {
  const window = dayWindow(ctx.now, args.window_days ?? 90, args.from, args.to);
  if ("error" in window) throw new ToolError(window.error);
  const workspaceId = ctx.principal.workspaceId;
  const rows = await escalationsOpenedIn(ctx.env.DB, workspaceId, {
    from: window.from,
    endExclusive: window.end_exclusive,
  });
  const summary = escalationStats(rows);
  // Each account's post-resolution windows merged, so every CSAT response is summed once without DISTINCT.
  const afterResolution = postResolutionWindows(rows, POST_RESOLUTION_DAYS);
  const { answered, scoreSum } = await csatInAccountWindows(ctx.env.DB, workspaceId, afterResolution);
  const csat = meanOf(scoreSum, answered);
  return {
    data: {
      action: "stats" as const,
      window: { from: window.from, to: window.to, window_days: window.window_days },
      by_severity: summary.by_severity,
      overall: summary.overall,
      reopen: {
        ever_resolved: summary.ever_resolved,
        reopened: summary.reopened,
        reopen_rate_pct: summary.reopen_rate_pct,
      },
      post_resolution_csat: { ...csat, days_after: POST_RESOLUTION_DAYS },
    },
    text: statsText(window, summary, csat),
  };
}

function statsText(window: DayWindow, summary: EscalationStats, csat: { mean: number | null; n: number }): string {
  return [
    `Escalations opened ${window.from}..${window.to}: ${summary.overall.opened} (${summary.overall.resolved} resolved, SLA met ${percent(summary.overall.sla_met_pct)}); reopen rate ${percent(summary.reopen_rate_pct)} (${summary.reopened}/${summary.ever_resolved}); post-resolution CSAT ${csat.mean ?? "–"} (n ${csat.n}).`,
    markdownTable(
      ["Severity", "Opened", "Resolved", "Median h", "Mean h", "SLA met %"],
      SEVERITIES.map((s) => {
        const v = summary.by_severity[s];
        return [s, v.opened, v.resolved, v.median_hours_to_resolve, v.mean_hours_to_resolve, v.sla_met_pct];
      }),
    ),
  ].join("\n");
}
