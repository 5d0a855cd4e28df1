import { z } from "zod";
import { queueEmail } from "../../email/queue-email";
import { renderEmail, templateValues } from "../../email/render";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { refuseMisplacedFields } from "../../platform/mcp/action-fields";
import { confirmationScope, issueConfirmation, verifyConfirmation } from "../../platform/mcp/confirmation";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { readSettings } from "../../records/settings";
import { recipientsFor } from "./campaign-runs";
import { type InterventionFacts, outcomesByPlaybook } from "./domain/outcomes";
import { libraryEmailBody, OUTCOMES, PLAYBOOK_LIBRARY, PLAYBOOKS, type PlaybookStep } from "./domain/playbooks";
import { openInterventionStatements } from "./queries/interventions";

const TOOL = "execute_retention_campaign";
const ACTIONS = ["open", "send_step", "step", "close", "get", "list", "stats"] as const;
type Action = (typeof ACTIONS)[number];

/** The fields each action reads; any other field given is refused so a mistake is not silently ignored. */
const FIELDS_BY_ACTION: Record<Action, string[]> = {
  open: ["account_id", "playbook", "owner", "steps", "reason"],
  send_step: ["intervention_id", "position", "contact_id", "body", "dry_run", "confirmation_token"],
  step: ["intervention_id", "position", "status"],
  close: ["intervention_id", "outcome", "reason"],
  get: ["intervention_id"],
  list: ["status", "playbook", "account_id", "owner", "cursor"],
  stats: ["window_days"],
};

const stepInput = z
  .object({
    kind: z.enum(["task", "email"]).describe("task (created for the owner on open) or email (sent with send_step)."),
    title: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine((title) => !/[\r\n]/.test(title), "a step title must be one line")
      .describe("Task title, or for an email the subject template ({{contact.name}}, {{account.name}}, {{csm.name}})."),
    due_offset_days: z.number().int().min(0).max(365).describe("Days after opening that the step is due."),
  })
  .strict();

const stepOutput = z.object({
  position: z.number().int().describe("1-based order of the step."),
  kind: z.enum(["task", "email"]),
  title: z.string().describe("Task title or email subject template."),
  status: z.enum(["pending", "done", "skipped"]),
  due_date: z.string().nullable(),
  task_id: z.string().nullable().describe("The task a task step created."),
  outbox_id: z.string().nullable().describe("The outbox message an email step sent."),
  completed_at: z.string().nullable(),
});

const interventionOutput = z.object({
  id: z.string(),
  account_id: z.string(),
  account_name: z.string().nullable(),
  playbook: z.string(),
  owner_user_id: z.string().nullable(),
  status: z.enum(["open", "closed"]),
  outcome: z.enum(OUTCOMES).nullable(),
  reason: z.string().nullable().describe("Why it was opened, or at close why it ended so (team-written)."),
  arr_at_open: z.number(),
  arr_at_close: z.number().nullable(),
  campaign_id: z.string().nullable(),
  opened_at: z.string(),
  closed_at: z.string().nullable(),
  created_by: z.string().nullable(),
  steps: z.array(stepOutput).optional().describe("get/open/close/step/send_step: the steps in order."),
});
type InterventionOut = z.input<typeof interventionOutput>;

const playbookStats = z.object({
  playbook: z.string().describe('Playbook type, or "all".'),
  opened: z.number().int().describe("Opened in the window."),
  closed: z.number().int().describe("Closed in the window."),
  saved: z.number().int(),
  downsized: z.number().int(),
  churned: z.number().int(),
  save_rate: z.number().nullable().describe("saved / closed (downsized is not saved); null when none closed."),
  retention_rate: z.number().nullable().describe("(saved + downsized) / closed; null when none closed."),
  arr_at_open_closed: z.number().describe("ARR at open of the interventions closed in the window."),
  arr_saved: z.number().describe("ARR at close of the saved and downsized ones."),
  arr_lost: z.number().describe("ARR at open of the churned ones."),
  median_days_to_close: z.number().nullable(),
});

interface Args {
  action: Action;
  intervention_id?: string;
  account_id?: string;
  playbook?: (typeof PLAYBOOKS)[number];
  owner?: string;
  steps?: z.output<typeof stepInput>[];
  reason?: string;
  position?: number;
  contact_id?: string;
  body?: string;
  dry_run?: boolean;
  confirmation_token?: string;
  status?: "pending" | "done" | "skipped" | "open" | "closed" | "all";
  outcome?: (typeof OUTCOMES)[number];
  window_days: number;
  limit: number;
  cursor?: string;
}

/** Retention interventions run from playbooks, their steps and outcomes, and save rates by playbook. */
export const executeRetentionCampaign = defineTool({
  name: TOOL,
  title: "Retention interventions",
  toolset: "retention",
  description:
    `Retention interventions for one account from a playbook (${PLAYBOOKS.filter((p) => p !== "custom").join(", ")}; or custom with your steps). ` +
    "open (csm+): account_id, playbook, owner (default the account owner), optional steps replacing the playbook's, reason; stores ARR at open = the account's ARR; task steps become tasks (source intervention) for the owner, due opened day + offset; email steps are NOT sent on open. " +
    "send_step (csm+): sends one email step to the account's champion (else decision maker) who has not left, unsubscribed or bounced (or contact_id): dry_run (default, unless a confirmation_token is given) returns the rendered email and a confirmation_token bound to intervention, position, recipient and templates (10 minutes); the call with the token queues exactly one email (idempotency key intervention:<id>:<position>) and marks the step done. Library email steps bring their body; other email steps need body. " +
    "step (csm+): marks a step done or skipped (a task step's task is completed or cancelled). " +
    "close (csm+): outcome saved, downsized or churned with a reason; ARR at close = the account's ARR then; pending steps are skipped and their open tasks cancelled. " +
    "get: one intervention with steps. list: filter by status, playbook, account_id, owner; newest opened first; paginated. " +
    "stats: per playbook over window_days (default 365) by closed_at: opened (by opened_at), closed, saved, downsized, churned, save rate = saved / closed (downsized not counted as saved), retention rate = (saved + downsized) / closed, ARR at open of closed, ARR saved = ARR at close of saved and downsized, ARR lost = ARR at open of churned, median days open to close.",
  input: {
    action: z.enum(ACTIONS).describe("open, send_step, step, close, get, list or stats."),
    intervention_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("send_step/step/close/get: the intervention (int_…)."),
    account_id: z.string().min(1).max(100).optional().describe("open: the account; list: only this account."),
    playbook: z.enum(PLAYBOOKS).optional().describe("open: the playbook type; list: only this type."),
    owner: z
      .string()
      .min(1)
      .max(254)
      .optional()
      .describe('open: who runs it (user id, email or "me"; default the account owner); list: only theirs.'),
    steps: z
      .array(stepInput)
      .min(1)
      .max(20)
      .optional()
      .describe("open: steps replacing the playbook's defaults (required for custom), in order."),
    reason: z.string().trim().min(1).max(1000).optional().describe("open: why; close: why it ended so (required)."),
    position: z.number().int().min(1).max(20).optional().describe("send_step/step: the step's 1-based position."),
    contact_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("send_step: another eligible contact of the account than the default champion/decision maker."),
    body: z
      .string()
      .min(1)
      .max(20_000)
      .optional()
      .describe("send_step: plain-text body template for an email step the library has no body for."),
    dry_run: z
      .boolean()
      .optional()
      .describe("send_step: true previews (default without a token); false sends and needs confirmation_token."),
    confirmation_token: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("send_step: the token of the dry run of exactly this send."),
    status: z
      .enum(["done", "skipped", "open", "closed", "all"])
      .optional()
      .describe("step: done or skipped; list: open, closed or all (default all)."),
    outcome: z.enum(OUTCOMES).optional().describe("close: saved, downsized or churned."),
    window_days: z.number().int().min(1).max(3650).default(365).describe("stats: days back from today (default 365)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    intervention: interventionOutput.optional().describe("open/send_step/step/close/get: the intervention now."),
    interventions: z.array(interventionOutput).optional().describe("list: this page."),
    next_cursor: nextCursorField.optional(),
    preview: z
      .object({
        position: z.number().int(),
        contact_id: z.string(),
        to: z.string(),
        subject: z.string(),
        text: z.string().describe("Rendered body as it will be sent."),
      })
      .optional()
      .describe("send_step: the email as rendered."),
    confirmation: z
      .object({ token: z.string(), expires_at: z.string() })
      .optional()
      .describe("send_step dry run: pass token as confirmation_token to send."),
    sent: z
      .object({
        outbox_id: z.string(),
        status: z.string(),
        created: z.boolean().describe("False when this step's email had already been queued: nothing new was sent."),
      })
      .optional()
      .describe("send_step with a token: the outbox message."),
    window: z
      .object({ from: z.string(), to: z.string(), window_days: z.number().int() })
      .optional()
      .describe("stats: closed_at (and opened_at for opened) from..to."),
    playbooks: z.array(playbookStats).optional().describe("stats: per playbook with any intervention in the window."),
    total: playbookStats.optional().describe("stats: all playbooks together."),
  },
  minRole: "viewer",
  actions: {
    open: { writes: true, role: "csm" },
    send_step: { writes: true, role: "csm" },
    step: { writes: true, role: "csm" },
    close: { writes: true, role: "csm" },
    get: { writes: false },
    list: { writes: false },
    stats: { writes: false },
  },
  examples: [
    {
      title: "One intervention and its steps",
      args: (ids) => ({ action: "get", intervention_id: ids.interventionId }),
    },
    { title: "Open interventions", args: () => ({ action: "list" }) },
    {
      title: "All of an account's interventions",
      args: (ids) => ({ action: "list", account_id: ids.accountId, status: "all" }),
    },
    { title: "Intervention outcomes", args: () => ({ action: "stats" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async handler(args, ctx) {
    refuseMisplacedFields(args, FIELDS_BY_ACTION[args.action], ["limit", "window_days"]);
    switch (args.action) {
      case "open":
        return openIntervention(ctx, args);
      case "send_step":
        return sendStep(ctx, args);
      case "step":
        return markStep(ctx, args);
      case "close":
        return closeIntervention(ctx, args);
      case "get": {
        const intervention = await loadIntervention(ctx, need(args.intervention_id, "get", "intervention_id"));
        return { data: { action: "get" as const, intervention }, text: summaryText(intervention) };
      }
      case "list":
        return listInterventions(ctx, args);
      case "stats":
        return interventionStats(ctx, args.window_days);
    }
  },
});

function need<T>(value: T | undefined, action: string, field: string): T {
  if (value === undefined) throw new ToolError(`action ${action} needs \`${field}\`.`);
  return value;
}

interface InterventionRow extends Omit<InterventionOut, "steps"> {}

const interventionColumns = `i.id, i.account_id, a.name AS account_name, i.playbook, i.owner_user_id, i.status, i.outcome,
  i.reason, i.arr_at_open, i.arr_at_close, i.campaign_id, i.opened_at, i.closed_at, i.created_by`;

async function loadIntervention(ctx: ToolContext, id: string): Promise<InterventionOut> {
  const ws = ctx.principal.workspaceId;
  const [row, steps] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `SELECT ${interventionColumns} FROM interventions i
         LEFT JOIN accounts a ON a.workspace_id = i.workspace_id AND a.id = i.account_id
        WHERE i.workspace_id = ?1 AND i.id = ?2`,
    ).bind(ws, id),
    ctx.env.DB.prepare(
      `SELECT position, kind, title, status, due_date, task_id, outbox_id, completed_at FROM intervention_steps
        WHERE workspace_id = ?1 AND intervention_id = ?2 ORDER BY position`,
    ).bind(ws, id),
  ]);
  const intervention = row?.results[0] as InterventionRow | undefined;
  if (!intervention) throw notFound("intervention", id);
  return { ...intervention, steps: (steps?.results ?? []) as z.input<typeof stepOutput>[] };
}

/** Resolves an owner reference (user id, email or "me") to an active user id of the workspace. */
async function resolveOwner(ctx: ToolContext, reference: string): Promise<string> {
  if (reference === "me" && !ctx.principal.userId) {
    throw new ToolError('"me" needs a credential that belongs to a user; this is a workspace service key.');
  }
  const user = await ctx.env.DB.prepare(
    `SELECT id, disabled_at FROM users WHERE workspace_id = ?1 AND (id = ?2 OR lower(email) = lower(?2))`,
  )
    .bind(ctx.principal.workspaceId, reference === "me" ? ctx.principal.userId : reference.trim())
    .first<{ id: string; disabled_at: string | null }>();
  if (!user) throw notFound("user", reference);
  if (user.disabled_at) throw new ToolError(`User ${reference} is disabled; choose an active user.`);
  return user.id;
}

async function openIntervention(ctx: ToolContext, args: Args) {
  const accountId = need(args.account_id, "open", "account_id");
  const playbook = need(args.playbook, "open", "playbook");
  const ws = ctx.principal.workspaceId;
  const account = await ctx.env.DB.prepare(
    "SELECT id, name, arr, owner_user_id FROM accounts WHERE workspace_id = ?1 AND id = ?2",
  )
    .bind(ws, accountId)
    .first<{ id: string; name: string; arr: number; owner_user_id: string | null }>();
  if (!account) throw notFound("account", accountId);
  const steps: PlaybookStep[] = args.steps ?? PLAYBOOK_LIBRARY[playbook].steps;
  if (steps.length === 0) throw new ToolError("A custom playbook needs `steps`: its tasks and emails in order.");
  const owner = args.owner ? await resolveOwner(ctx, args.owner) : (account.owner_user_id ?? ctx.principal.userId);
  const { statements, ids } = openInterventionStatements(
    ctx.env.DB,
    { workspaceId: ws, createdBy: ctx.principal.userId, now: ctx.now, today: isoDay(ctx.now) },
    [{ accountId, playbook, steps, ownerUserId: owner, reason: args.reason ?? null }],
  );
  const id = ids[0] as string;
  await ctx.env.DB.batch(statements);
  const intervention = await loadIntervention(ctx, id);
  ctx.audit({
    action: "open",
    targetType: "intervention",
    targetId: id,
    // The reason column is overwritten by the closing reason; the audit row keeps the opening one.
    details: {
      account_id: accountId,
      playbook,
      owner_user_id: owner,
      reason: args.reason ?? null,
      steps: steps.length,
      tasks: steps.filter((step) => step.kind === "task").length,
    },
  });
  return {
    data: { action: "open" as const, intervention },
    text: `Opened ${playbook} intervention ${id} on ${account.name} (ARR ${account.arr}) with ${steps.length} steps; ${steps.filter((step) => step.kind === "task").length} tasks created, emails wait for send_step.\n${stepsTable(intervention)}`,
  };
}

function stepsTable(intervention: InterventionOut): string {
  return markdownTable(
    ["#", "Kind", "Title", "Due", "Status"],
    (intervention.steps ?? []).map((s) => [s.position, s.kind, s.title, s.due_date, s.status]),
  );
}

function summaryText(i: InterventionOut): string {
  return `${i.playbook} intervention ${i.id} on ${i.account_name ?? i.account_id}: ${i.status}${i.outcome ? ` (${i.outcome})` : ""}, ARR at open ${i.arr_at_open}${i.arr_at_close !== null ? `, at close ${i.arr_at_close}` : ""}.\n${stepsTable(i)}`;
}

function stepAt(intervention: InterventionOut, position: number) {
  const step = intervention.steps?.find((s) => s.position === position);
  if (!step) {
    throw new ToolError(
      `Intervention ${intervention.id} has no step ${position}; it has steps 1–${intervention.steps?.length ?? 0}.`,
    );
  }
  return step;
}

interface EmailContext {
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  contact_title: string | null;
  contact_account_id: string | null;
  left_at: string | null;
  blocked: number | null;
  account_name: string | null;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
  settings: string;
}

async function sendStep(ctx: ToolContext, args: Args) {
  const id = need(args.intervention_id, "send_step", "intervention_id");
  const position = need(args.position, "send_step", "position");
  const intervention = await loadIntervention(ctx, id);
  const step = stepAt(intervention, position);
  if (step.kind !== "email") throw new ToolError(`Step ${position} is a task; mark it with action step.`);
  if (step.status === "done" && step.outbox_id) {
    return {
      data: {
        action: "send_step" as const,
        intervention,
        sent: { outbox_id: step.outbox_id, status: "already_sent", created: false },
      },
      text: `Step ${position} of ${id} was already sent (outbox ${step.outbox_id}); nothing new was sent.`,
    };
  }
  if (step.status !== "pending")
    throw new ToolError(`Step ${position} of ${id} is ${step.status}; only a pending step is sent.`);
  if (intervention.status !== "open")
    throw new ToolError(`Intervention ${id} is closed; its emails are no longer sent.`);
  const contactId =
    args.contact_id ??
    (await recipientsFor(ctx.env, ctx.principal.workspaceId, [intervention.account_id])).get(intervention.account_id)
      ?.contact_id;
  if (!contactId) {
    throw new ToolError(
      `Account ${intervention.account_id} has no champion or decision maker who can be emailed (not left, not unsubscribed or bounced, with an address); give contact_id.`,
    );
  }
  const bodyTemplate = args.body ?? libraryEmailBody(intervention.playbook, step.title);
  if (!bodyTemplate) {
    throw new ToolError(
      `Step ${position} is not a library email of ${intervention.playbook}; give its \`body\` template.`,
    );
  }
  const context = await ctx.env.DB.prepare(
    `SELECT c.id AS contact_id, c.name AS contact_name, c.email AS contact_email, c.title AS contact_title,
            c.account_id AS contact_account_id, c.left_at,
            (c.unsubscribed = 1 OR c.bounced = 1 OR c.spam_reported = 1) AS blocked,
            a.name AS account_name, a.domain AS account_domain, u.name AS csm_name, u.email AS csm_email, w.settings
       FROM workspaces w
       JOIN accounts a ON a.workspace_id = w.id AND a.id = ?2
       LEFT JOIN contacts c ON c.workspace_id = w.id AND c.id = ?3
       LEFT JOIN users u ON u.workspace_id = w.id AND u.id = a.owner_user_id
      WHERE w.id = ?1`,
  )
    .bind(ctx.principal.workspaceId, intervention.account_id, contactId)
    .first<EmailContext>();
  if (!context?.contact_id || context.contact_account_id !== intervention.account_id) {
    throw new ToolError(`Contact ${contactId} is not a contact of account ${intervention.account_id}.`);
  }
  if (context.left_at || context.blocked || !context.contact_email) {
    throw new ToolError(
      `Contact ${contactId} cannot be emailed (left the customer, unsubscribed, bounced or has no address); choose another contact.`,
    );
  }
  const sender = readSettings(JSON.parse(context.settings)).email_sender;
  if (!sender) {
    throw new ToolError("No email sender is configured: set email_sender (name and email) with configure_workspace.");
  }
  const rendered = renderEmail({ subject: step.title, text: bodyTemplate }, templateValues(context, sender));
  if (!rendered.ok) throw new ToolError(rendered.error);
  const preview = {
    position,
    contact_id: contactId,
    to: context.contact_email,
    subject: rendered.subject,
    text: rendered.text,
  };
  const scope = confirmationScope(ctx.principal, TOOL);
  const payload = { intervention_id: id, position, contact_id: contactId, subject: step.title, body: bodyTemplate };
  const dryRun = args.dry_run ?? args.confirmation_token === undefined;
  if (dryRun) {
    const confirmation = await issueConfirmation(ctx.env, scope, payload, ctx.now);
    ctx.audit({
      action: "send_step_preview",
      targetType: "intervention",
      targetId: id,
      details: { position, contact_id: contactId },
    });
    return {
      data: { action: "send_step" as const, intervention, preview, confirmation },
      text: `Preview of step ${position} of ${id} to ${context.contact_email}: "${rendered.subject}". Nothing was sent; call again with confirmation_token (valid until ${confirmation.expires_at}) to send.`,
    };
  }
  if (!args.confirmation_token) {
    throw new ToolError(
      "Sending needs the confirmation_token of a dry run of this send: call with dry_run=true first.",
    );
  }
  await verifyConfirmation(ctx.env, scope, payload, args.confirmation_token, ctx.now);
  const queued = await queueEmail(ctx.env, {
    workspaceId: ctx.principal.workspaceId,
    to: context.contact_email,
    contactId,
    accountId: intervention.account_id,
    subject: step.title,
    text: bodyTemplate,
    idempotencyKey: `intervention:${id}:${position}`,
    origin: `intervention:${id}`,
  });
  await ctx.env.DB.prepare(
    `UPDATE intervention_steps SET status = 'done', outbox_id = ?4, completed_at = ?5
      WHERE workspace_id = ?1 AND intervention_id = ?2 AND position = ?3 AND status = 'pending'`,
  )
    .bind(ctx.principal.workspaceId, id, position, queued.id, ctx.now.toISOString())
    .run();
  ctx.audit({
    action: "send_step",
    targetType: "intervention",
    targetId: id,
    details: { position, contact_id: contactId, outbox_id: queued.id, created: queued.created },
  });
  return {
    data: {
      action: "send_step" as const,
      intervention: await loadIntervention(ctx, id),
      preview,
      sent: { outbox_id: queued.id, status: queued.status, created: queued.created },
    },
    text: `${queued.created ? "Queued" : "Already queued"} step ${position} of ${id} to ${context.contact_email} (outbox ${queued.id}, ${queued.status}).`,
  };
}

async function markStep(ctx: ToolContext, args: Args) {
  const id = need(args.intervention_id, "step", "intervention_id");
  const position = need(args.position, "step", "position");
  const status = args.status;
  if (status !== "done" && status !== "skipped") throw new ToolError("action step needs `status`: done or skipped.");
  const intervention = await loadIntervention(ctx, id);
  if (intervention.status !== "open") throw new ToolError(`Intervention ${id} is closed; its steps no longer change.`);
  const step = stepAt(intervention, position);
  if (step.status !== "pending") throw new ToolError(`Step ${position} of ${id} is already ${step.status}.`);
  const ws = ctx.principal.workspaceId;
  const stamp = ctx.now.toISOString();
  const statements = [
    ctx.env.DB.prepare(
      `UPDATE intervention_steps SET status = ?4, completed_at = ?5
        WHERE workspace_id = ?1 AND intervention_id = ?2 AND position = ?3 AND status = 'pending'`,
    ).bind(ws, id, position, status, stamp),
  ];
  if (step.task_id) {
    statements.push(
      ctx.env.DB.prepare(
        "UPDATE tasks SET status = ?3, completed_at = ?4 WHERE workspace_id = ?1 AND id = ?2 AND status = 'open'",
      ).bind(ws, step.task_id, status === "done" ? "done" : "cancelled", status === "done" ? stamp : null),
    );
  }
  await ctx.env.DB.batch(statements);
  const after = await loadIntervention(ctx, id);
  ctx.audit({ action: "step", targetType: "intervention", targetId: id, details: { position, status } });
  return {
    data: { action: "step" as const, intervention: after },
    text: `Step ${position} of ${id} marked ${status}${step.task_id ? ` (task ${step.task_id} ${status === "done" ? "completed" : "cancelled"})` : ""}.`,
  };
}

async function closeIntervention(ctx: ToolContext, args: Args) {
  const id = need(args.intervention_id, "close", "intervention_id");
  const outcome = need(args.outcome, "close", "outcome");
  const reason = need(args.reason, "close", "reason");
  const intervention = await loadIntervention(ctx, id);
  if (intervention.status !== "open")
    throw new ToolError(`Intervention ${id} is already closed (${intervention.outcome}).`);
  const ws = ctx.principal.workspaceId;
  const stamp = ctx.now.toISOString();
  const [, , closed] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `UPDATE tasks SET status = 'cancelled' WHERE workspace_id = ?1 AND status = 'open'
          AND id IN (SELECT task_id FROM intervention_steps WHERE workspace_id = ?1 AND intervention_id = ?2
                        AND status = 'pending' AND task_id IS NOT NULL)`,
    ).bind(ws, id),
    ctx.env.DB.prepare(
      `UPDATE intervention_steps SET status = 'skipped', completed_at = ?3
        WHERE workspace_id = ?1 AND intervention_id = ?2 AND status = 'pending'`,
    ).bind(ws, id, stamp),
    ctx.env.DB.prepare(
      `UPDATE interventions SET status = 'closed', outcome = ?3, reason = ?4, closed_at = ?5,
              arr_at_close = (SELECT a.arr FROM accounts a WHERE a.workspace_id = ?1 AND a.id = interventions.account_id)
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'open'`,
    ).bind(ws, id, outcome, reason, stamp),
  ]);
  if (!closed?.meta.changes) throw new ToolError(`Intervention ${id} was closed meanwhile; get it to see how.`);
  const after = await loadIntervention(ctx, id);
  ctx.audit({
    action: "close",
    targetType: "intervention",
    targetId: id,
    details: { outcome, arr_at_open: after.arr_at_open, arr_at_close: after.arr_at_close },
  });
  return {
    data: { action: "close" as const, intervention: after },
    text: `Closed ${id} as ${outcome}: ARR at open ${after.arr_at_open}, at close ${after.arr_at_close}.`,
  };
}

async function listInterventions(ctx: ToolContext, args: Args) {
  const status = args.status ?? "all";
  if (!["open", "closed", "all"].includes(status)) throw new ToolError("list takes status open, closed or all.");
  const owner = args.owner ? await resolveOwner(ctx, args.owner) : null;
  const fingerprint = queryFingerprint([TOOL, status, args.playbook ?? null, args.account_id ?? null, owner]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const { results } = await ctx.env.DB.prepare(
    `SELECT ${interventionColumns} FROM interventions i
       LEFT JOIN accounts a ON a.workspace_id = i.workspace_id AND a.id = i.account_id
      WHERE i.workspace_id = ?1 AND (?2 = 'all' OR i.status = ?2) AND (?3 IS NULL OR i.playbook = ?3)
        AND (?4 IS NULL OR i.account_id = ?4) AND (?5 IS NULL OR i.owner_user_id = ?5)
        AND (?6 IS NULL OR i.opened_at < ?6 OR (i.opened_at = ?6 AND i.id < ?7))
      ORDER BY i.opened_at DESC, i.id DESC LIMIT ?8`,
  )
    .bind(
      ctx.principal.workspaceId,
      status,
      args.playbook ?? null,
      args.account_id ?? null,
      owner,
      (position?.k[0] as string | undefined) ?? null,
      position?.id ?? "",
      args.limit + 1,
    )
    .all<InterventionRow>();
  const page = results.slice(0, args.limit);
  const last = page.at(-1);
  const next =
    results.length > args.limit && last ? encodeCursor({ k: [last.opened_at], id: last.id, q: fingerprint }) : null;
  return {
    data: { action: "list" as const, interventions: page, next_cursor: next },
    text: `${page.length} intervention(s) on this page${next ? "; more with next_cursor" : ""}.\n${markdownTable(
      ["id", "Account", "Playbook", "Status", "Outcome", "Opened", "ARR at open"],
      page.map((i) => [i.id, i.account_name, i.playbook, i.status, i.outcome, i.opened_at.slice(0, 10), i.arr_at_open]),
    )}`,
  };
}

async function interventionStats(ctx: ToolContext, windowDays: number) {
  const to = isoDay(ctx.now);
  const from = addDays(to, -windowDays);
  const { results } = await ctx.env.DB.prepare(
    `SELECT playbook, opened_at, closed_at, outcome, arr_at_open, arr_at_close FROM interventions
      WHERE workspace_id = ?1 AND status = 'open' AND opened_at >= ?2
     UNION ALL
     SELECT playbook, opened_at, closed_at, outcome, arr_at_open, arr_at_close FROM interventions
      WHERE workspace_id = ?1 AND status = 'closed' AND (opened_at >= ?2 OR closed_at >= ?2)`,
  )
    .bind(ctx.principal.workspaceId, from)
    .all<{
      playbook: string;
      opened_at: string;
      closed_at: string | null;
      outcome: InterventionFacts["outcome"];
      arr_at_open: number;
      arr_at_close: number | null;
    }>();
  const facts: InterventionFacts[] = results.map((r) => {
    const closedInWindow = r.closed_at !== null && r.closed_at >= from;
    return {
      playbook: r.playbook,
      opened_in_window: r.opened_at >= from,
      outcome: closedInWindow ? r.outcome : null,
      arr_at_open: r.arr_at_open,
      arr_at_close: r.arr_at_close,
      days_to_close: closedInWindow && r.closed_at ? daysBetween(r.opened_at, r.closed_at) : null,
    };
  });
  const { playbooks, total } = outcomesByPlaybook(facts);
  const pct = (v: number | null) => (v === null ? null : `${Math.round(v * 1000) / 10}%`);
  return {
    data: { action: "stats" as const, window: { from, to, window_days: windowDays }, playbooks, total },
    text: `Interventions closed ${from}..${to}: ${total.closed} (${total.saved} saved, ${total.downsized} downsized, ${total.churned} churned); save rate ${pct(total.save_rate) ?? "n/a"} (saved only), ARR saved ${total.arr_saved}, ARR lost ${total.arr_lost}.\n${markdownTable(
      [
        "Playbook",
        "Opened",
        "Closed",
        "Saved",
        "Downsized",
        "Churned",
        "Save rate",
        "ARR saved",
        "ARR lost",
        "Median days",
      ],
      playbooks.map((p) => [
        p.playbook,
        p.opened,
        p.closed,
        p.saved,
        p.downsized,
        p.churned,
        pct(p.save_rate),
        p.arr_saved,
        p.arr_lost,
        p.median_days_to_close,
      ]),
    )}`,
  };
}
