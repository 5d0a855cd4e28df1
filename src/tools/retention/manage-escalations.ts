import { z } from "zod";
import { queueAlert } from "../../alerts/slack";
import { jsonChunks } from "../../platform/db/json-chunks";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
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
import { workspaceSettings } from "../../records/workspace-settings";
import {
  type EscalationFacts,
  escalationStats,
  meanOf,
  mergeAccountWindows,
  SEVERITIES,
  type Severity,
  slaDueAt,
  slaStatus,
} from "./domain/escalation-sla";
import { dayWindow } from "./domain/satisfaction-window";

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

const dayArg = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "use YYYY-MM-DD");
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

interface EscalationRow {
  id: string;
  account_id: string;
  account_name: string | null;
  ticket_id: string | null;
  title: string;
  description: string | null;
  severity: Severity;
  status: Status;
  owner_user_id: string | null;
  owner_name: string | null;
  opened_at: string;
  window_start: string;
  sla_due_at: string;
  resolved_at: string | null;
  root_cause: string | null;
  resolution: string | null;
  reopen_count: number;
}

/** Escalations with account and owner names and the start of their SLA window (latest reopening, else opening). */
const SELECT_ESCALATIONS = `SELECT e.id, e.account_id, a.name AS account_name, e.ticket_id, e.title, e.description, e.severity,
       e.status, e.owner_user_id, u.name AS owner_name, e.opened_at, e.sla_due_at, e.resolved_at, e.root_cause,
       e.resolution, e.reopen_count,
       coalesce((SELECT max(v.at) FROM escalation_events v
                  WHERE v.workspace_id = ?1 AND v.escalation_id = e.id AND v.kind = 'reopened'), e.opened_at) AS window_start
  FROM escalations e
  LEFT JOIN accounts a ON a.workspace_id = ?1 AND a.id = e.account_id
  LEFT JOIN users u ON u.workspace_id = ?1 AND u.id = e.owner_user_id`;

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
  const row = await ctx.env.DB.prepare(`${SELECT_ESCALATIONS} WHERE e.workspace_id = ?1 AND e.id = ?2`)
    .bind(ctx.principal.workspaceId, id)
    .first<EscalationRow>();
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
  const user = await ctx.env.DB.prepare(
    `SELECT id, email, disabled_at FROM users
      WHERE workspace_id = ?1 AND (CASE WHEN ?3 = 1 THEN lower(email) = lower(?2) ELSE id = ?2 END)`,
  )
    .bind(
      ctx.principal.workspaceId,
      reference === "me" ? ctx.principal.userId : reference.trim(),
      reference.includes("@") ? 1 : 0,
    )
    .first<{ id: string; email: string; disabled_at: string | null }>();
  if (!user) throw notFound("user", reference);
  if (user.disabled_at) throw new ToolError(`User ${user.email} is disabled; choose an active user.`);
  return { id: user.id, email: user.email };
}

/** The alert text of an escalation (team-written fields only). */
function alertText(prefix: string, e: EscalationOut, note?: string): string {
  const text = `${prefix} [${e.severity.toUpperCase()}] ${e.account_name ?? e.account_id}: ${e.title} (${e.id}). Status ${e.status}; SLA due ${e.sla_due_at} (${e.sla_state}, ${e.sla_hours_left} h left); owner ${e.owner_name ?? "unassigned"}.${note ? ` Note: ${note}` : ""}`;
  return text.length > 3000 ? `${text.slice(0, 2999)}…` : text;
}

function eventStatement(ctx: ToolContext, escalationId: string, kind: string, note: string | null, condition: string) {
  return ctx.env.DB.prepare(
    `INSERT INTO escalation_events (id, workspace_id, escalation_id, at, kind, actor_user_id, note)
     SELECT ?3, ?1, e.id, ?4, ?5, ?6, ?7 FROM escalations e WHERE e.workspace_id = ?1 AND e.id = ?2 AND ${condition}`,
  ).bind(
    ctx.principal.workspaceId,
    escalationId,
    newId("ese"),
    ctx.now.toISOString(),
    kind,
    ctx.principal.userId,
    note,
  );
}

async function openEscalation(ctx: ToolContext, args: EscalationArgs) {
  if (!args.account_id || !args.title || !args.severity) {
    throw new ToolError("action open needs `account_id`, `title` and `severity` (critical, high, medium or low).");
  }
  const workspaceId = ctx.principal.workspaceId;
  const account = await ctx.env.DB.prepare("SELECT id, owner_user_id FROM accounts WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, args.account_id)
    .first<{ id: string; owner_user_id: string | null }>();
  if (!account) throw notFound("account", args.account_id);
  if (args.ticket_id) {
    const ticket = await ctx.env.DB.prepare("SELECT id FROM tickets WHERE workspace_id = ?1 AND id = ?2")
      .bind(workspaceId, args.ticket_id)
      .first();
    if (!ticket) throw notFound("ticket", args.ticket_id);
  }
  const owner = args.owner ? (await resolveOwner(ctx, args.owner)).id : account.owner_user_id;
  const settings = await workspaceSettings(ctx);
  const openedAt = ctx.now.toISOString();
  const due = slaDueAt(openedAt, args.severity, settings.escalation_sla_hours);
  const id = newId("esc");
  await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `INSERT INTO escalations (id, workspace_id, account_id, ticket_id, title, description, severity, status, owner_user_id,
                                sla_due_at, opened_at, created_by)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?10, ?11)`,
    ).bind(
      id,
      workspaceId,
      account.id,
      args.ticket_id ?? null,
      args.title,
      args.description ?? null,
      args.severity,
      owner,
      due,
      openedAt,
      ctx.principal.userId,
    ),
    eventStatement(
      ctx,
      id,
      "opened",
      `severity ${args.severity}; SLA ${settings.escalation_sla_hours[args.severity]} h, due ${due}`,
      "true",
    ),
  ]);
  const escalation = await loadEscalation(ctx, id);
  let slackQueued = false;
  if (ALERT_ON_OPEN.includes(args.severity)) {
    slackQueued = (
      await queueAlert(ctx.env, {
        workspaceId,
        idempotencyKey: `escalation:${id}:opened`,
        text: alertText("Escalation opened", escalation),
      })
    ).queued;
  }
  ctx.audit({
    action: "open",
    targetType: "escalation",
    targetId: id,
    details: { account_id: account.id, severity: args.severity, sla_due_at: due, owner_user_id: owner },
  });
  return {
    data: { action: "open" as const, escalation, slack_queued: slackQueued },
    text: `Opened ${args.severity} escalation ${id} on ${escalation.account_name}: SLA due ${due}${ALERT_ON_OPEN.includes(args.severity) ? (slackQueued ? "; Slack alert queued" : "; no Slack destination, no alert") : ""}.`,
  };
}

async function getEscalation(ctx: ToolContext, args: EscalationArgs) {
  if (!args.escalation_id) throw new ToolError("action get needs `escalation_id`.");
  const escalation = await loadEscalation(ctx, args.escalation_id);
  const { results: timeline } = await ctx.env.DB.prepare(
    `SELECT id, at, kind, actor_user_id, note FROM escalation_events
      WHERE workspace_id = ?1 AND escalation_id = ?2 ORDER BY at, rowid LIMIT ?3`,
  )
    .bind(ctx.principal.workspaceId, escalation.id, TIMELINE_LIMIT)
    .all<z.output<typeof eventOut>>();
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

/** How each write changes an escalation: the state it needs, and the columns it sets. */
async function changeEscalation(
  ctx: ToolContext,
  action: Exclude<Action, "open" | "get" | "list" | "stats">,
  args: EscalationArgs,
) {
  if (!args.escalation_id) throw new ToolError(`action ${action} needs \`escalation_id\`.`);
  const before = await loadEscalation(ctx, args.escalation_id);
  const workspaceId = ctx.principal.workspaceId;
  const stamp = ctx.now.toISOString();
  let condition = "true";
  let update: D1PreparedStatement | null = null;
  let note: string | null = args.note ?? null;
  let slackQueued: boolean | undefined;
  const base = "WHERE workspace_id = ?1 AND id = ?2";
  switch (action) {
    case "assign": {
      if (!args.owner) throw new ToolError('action assign needs `owner` (a user id, an email or "me").');
      const owner = await resolveOwner(ctx, args.owner);
      note = `owner ${owner.email}${args.note ? `: ${args.note}` : ""}`;
      update = ctx.env.DB.prepare(`UPDATE escalations SET owner_user_id = ?3 ${base}`).bind(
        workspaceId,
        before.id,
        owner.id,
      );
      break;
    }
    case "update": {
      if (!args.note) throw new ToolError("action update needs `note`.");
      if (before.status === "resolved") throw new ToolError(`Escalation ${before.id} is resolved; reopen it first.`);
      condition = "e.status <> 'resolved'";
      update = ctx.env.DB.prepare(
        `UPDATE escalations SET status = 'in_progress' ${base} AND status <> 'resolved'`,
      ).bind(workspaceId, before.id);
      break;
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
      slackQueued = true;
      note = `Slack alert queued${args.note ? `: ${args.note}` : ""}`;
      break;
    }
    case "resolve": {
      if (!args.root_cause) throw new ToolError("action resolve needs `root_cause`.");
      if (before.status === "resolved") throw new ToolError(`Escalation ${before.id} is already resolved.`);
      condition = "e.status <> 'resolved'";
      note = `root cause: ${args.root_cause}${args.resolution ? `; resolution: ${args.resolution}` : ""}`;
      update = ctx.env.DB.prepare(
        `UPDATE escalations SET status = 'resolved', resolved_at = ?3, root_cause = ?4, resolution = ?5 ${base} AND status <> 'resolved'`,
      ).bind(workspaceId, before.id, stamp, args.root_cause, args.resolution ?? null);
      break;
    }
    case "reopen": {
      if (before.status !== "resolved")
        throw new ToolError(`Escalation ${before.id} is ${before.status}, not resolved.`);
      const settings = await workspaceSettings(ctx);
      const due = slaDueAt(stamp, before.severity, settings.escalation_sla_hours);
      condition = "e.status = 'resolved'";
      note = `new SLA due ${due}${args.note ? `: ${args.note}` : ""}`;
      update = ctx.env.DB.prepare(
        `UPDATE escalations SET status = 'open', reopen_count = reopen_count + 1, sla_due_at = ?3, resolved_at = NULL,
                root_cause = NULL, resolution = NULL ${base} AND status = 'resolved'`,
      ).bind(workspaceId, before.id, due);
      break;
    }
  }
  const kinds = { assign: "assigned", update: "updated", notify: "notified", resolve: "resolved", reopen: "reopened" };
  // The event is written only while the escalation is still in the state checked above, in the
  // same transaction as the change, so a concurrent write cannot leave a timeline that lies.
  const results = await ctx.env.DB.batch([
    eventStatement(ctx, before.id, kinds[action], note, condition),
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
    text: `Escalation ${escalation.id} ${kinds[action]}: ${escalation.status}, SLA ${escalation.sla_state} (due ${escalation.sla_due_at}, ${escalation.sla_hours_left} h left).`,
  };
}

async function listEscalations(ctx: ToolContext, args: EscalationArgs) {
  const workspaceId = ctx.principal.workspaceId;
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
  // Only the filters given are in the SQL, so an unfiltered count reads the status index alone.
  const params: (string | number | null)[] = [workspaceId];
  const bind = (value: string | number | null) => `?${params.push(value)}`;
  const given = [
    args.account_id === undefined ? null : `e.account_id = ${bind(args.account_id)}`,
    args.severity === undefined ? null : `e.severity = ${bind(args.severity)}`,
    owner ? `e.owner_user_id = ${bind(owner.id)}` : null,
  ].flatMap((c) => (c ? [` AND ${c}`] : []));
  const filter = `e.workspace_id = ?1${given.join("")}`;
  const totalsSql = `SELECT count(*) AS matching, coalesce(sum(e.status <> 'resolved' AND e.sla_due_at < ?${params.length + 1}), 0) AS breached
      FROM escalations e WHERE ${filter} AND e.status IN (SELECT value FROM json_each(?${params.length + 2}))`;
  const totalsParams = [...params, ctx.now.toISOString(), JSON.stringify(statuses)];
  const after = position
    ? ` AND (e.sla_due_at, e.id) > (${bind(String(position.k[0] ?? ""))}, ${bind(position.id)})`
    : "";
  const pageSize = bind(args.limit + 1);
  // Each status is read in (sla_due_at, id) order up to the page size; the page is the first of their union.
  const byStatus = statuses.map(
    (status) => `SELECT * FROM (SELECT e.id, e.sla_due_at FROM escalations e
       WHERE ${filter} AND e.status = ${bind(status)}${after} ORDER BY e.sla_due_at, e.id LIMIT ${pageSize})`,
  );
  const [page, totals] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      // "+e.workspace_id" has the page's ids looked up by key rather than the workspace's escalations scanned.
      `${SELECT_ESCALATIONS} WHERE +e.workspace_id = ?1 AND e.id IN (
         SELECT id FROM (${byStatus.join(" UNION ALL ")}) ORDER BY sla_due_at, id LIMIT ${pageSize})
        ORDER BY e.sla_due_at, e.id`,
    ).bind(...params),
    ctx.env.DB.prepare(totalsSql).bind(...totalsParams),
  ]);
  const rows = (page?.results ?? []) as EscalationRow[];
  const shown = rows.slice(0, args.limit).map((row) => toOut(row, ctx.now));
  const last = shown.at(-1);
  const next =
    rows.length > args.limit && last ? encodeCursor({ k: [last.sla_due_at], id: last.id, q: fingerprint }) : null;
  const total = (totals?.results[0] ?? { matching: 0, breached: 0 }) as { matching: number; breached: number };
  return {
    data: {
      action: "list" as const,
      escalations: shown,
      matching: total.matching,
      breached: total.breached,
      next_cursor: next,
    },
    text: [
      `${total.matching} ${statusFilter} escalation(s), ${total.breached} past their SLA now${next ? "; more with next_cursor" : ""}.`,
      markdownTable(
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
      ),
    ].join("\n"),
  };
}

const percent = (value: number | null) => (value === null ? "–" : `${value}%`);

async function stats(ctx: ToolContext, args: EscalationArgs) {
  const window = dayWindow(ctx.now, args.window_days ?? 90, args.from, args.to);
  if ("error" in window) throw new ToolError(window.error);
  const workspaceId = ctx.principal.workspaceId;
  const { results } = await ctx.env.DB.prepare(
    `SELECT id, account_id, severity, status, opened_at, resolved_at, sla_due_at, reopen_count FROM escalations
      WHERE workspace_id = ?1 AND opened_at >= ?2 AND opened_at < ?3`,
  )
    .bind(workspaceId, window.from, window.end_exclusive)
    .all<EscalationFacts & { id: string; account_id: string }>();
  const summary = escalationStats(results);
  // Each account's post-resolution windows merged, so every CSAT response is summed once without DISTINCT.
  const afterResolution = mergeAccountWindows(
    results
      .filter((r) => r.status === "resolved" && r.resolved_at)
      .map((r) => ({
        account_id: r.account_id,
        after: r.resolved_at as string,
        until: new Date(Date.parse(r.resolved_at as string) + POST_RESOLUTION_DAYS * 86_400_000).toISOString(),
      })),
  ).map((w) => ({ a: w.account_id, r: w.after, u: w.until }));
  const chunks = jsonChunks(afterResolution);
  let answered = 0;
  let scoreSum = 0;
  if (chunks.length > 0) {
    const batches = await ctx.env.DB.batch<{ n: number; total: number | null }>(
      chunks.map((chunk) =>
        ctx.env.DB.prepare(
          // CROSS JOIN drives from the windows, so each reads its account's (workspace, account, time)
          // index range; "+r.kind" keeps that index in use rather than scanning all CSAT.
          `SELECT count(*) AS n, sum(r.score) AS total FROM json_each(?2) j
             CROSS JOIN survey_responses r ON r.workspace_id = ?1 AND r.account_id = j.value ->> '$.a'
              AND r.responded_at > j.value ->> '$.r' AND r.responded_at <= j.value ->> '$.u'
            WHERE +r.kind = 'csat'`,
        ).bind(workspaceId, chunk),
      ),
    );
    for (const batch of batches) {
      answered += batch.results[0]?.n ?? 0;
      scoreSum += batch.results[0]?.total ?? 0;
    }
  }
  const csat = meanOf(scoreSum, answered);
  const windowOut = { from: window.from, to: window.to, window_days: window.window_days };
  return {
    data: {
      action: "stats" as const,
      window: windowOut,
      by_severity: summary.by_severity,
      overall: summary.overall,
      reopen: {
        ever_resolved: summary.ever_resolved,
        reopened: summary.reopened,
        reopen_rate_pct: summary.reopen_rate_pct,
      },
      post_resolution_csat: { ...csat, days_after: POST_RESOLUTION_DAYS },
    },
    text: [
      `Escalations opened ${window.from}..${window.to}: ${summary.overall.opened} (${summary.overall.resolved} resolved, SLA met ${percent(summary.overall.sla_met_pct)}); reopen rate ${percent(summary.reopen_rate_pct)} (${summary.reopened}/${summary.ever_resolved}); post-resolution CSAT ${csat.mean ?? "–"} (n ${csat.n}).`,
      markdownTable(
        ["Severity", "Opened", "Resolved", "Median h", "Mean h", "SLA met %"],
        SEVERITIES.map((s) => {
          const v = summary.by_severity[s];
          return [s, v.opened, v.resolved, v.median_hours_to_resolve, v.mean_hours_to_resolve, v.sla_met_pct];
        }),
      ),
    ].join("\n"),
  };
}
