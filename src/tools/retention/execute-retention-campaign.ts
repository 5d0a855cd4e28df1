import { z } from "zod";
import { queueEmail } from "../../email/queue-email";
import { renderEmail, templateValues } from "../../email/render";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
import { confirmationScope, issueConfirmation, verifyConfirmation } from "../../platform/mcp/confirmation";
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
import { readSettings } from "../../records/settings";
import { interventionFacts, outcomesByPlaybook, type PlaybookOutcomes } from "./domain/outcomes";
import { libraryEmailBody, OUTCOMES, PLAYBOOK_LIBRARY, PLAYBOOKS, type PlaybookStep } from "./domain/playbooks";
import { recipientsFor } from "./queries/campaigns";
import {
  closeInterventionStatements,
  emailContext,
  findIntervention,
  findUserByIdOrEmail,
  interventionPage,
  interventionsSince,
  markEmailStepSent,
  markStepStatements,
  openInterventionStatements,
} from "./queries/interventions";

const ACTIONS = ["open", "send_step", "step", "close", "get", "list", "stats"] as const;
type Action = (typeof ACTIONS)[number];

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
export const executeRetentionCampaign = defineActionTool({
  name: "execute_retention_campaign",
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
  commonFields: ["limit", "window_days"],
  actions: {
    open: {
      writes: true,
      role: "csm",
      fields: ["account_id", "playbook", "owner", "steps", "reason"],
      run: (args, ctx) => openIntervention(ctx, args),
    },
    send_step: {
      writes: true,
      sends: true,
      role: "csm",
      fields: ["intervention_id", "position", "contact_id", "body", "dry_run", "confirmation_token"],
      run: (args, ctx) => sendStep(ctx, args),
    },
    step: {
      writes: true,
      role: "csm",
      fields: ["intervention_id", "position", "status"],
      run: (args, ctx) => markStep(ctx, args),
    },
    close: {
      writes: true,
      role: "csm",
      fields: ["intervention_id", "outcome", "reason"],
      run: (args, ctx) => closeIntervention(ctx, args),
    },
    get: { writes: false, fields: ["intervention_id"], run: (args, ctx) => getIntervention(ctx, args) },
    list: {
      writes: false,
      fields: ["status", "playbook", "account_id", "owner", "cursor"],
      run: (args, ctx) => listInterventions(ctx, args),
    },
    stats: { writes: false, fields: ["window_days"], run: (args, ctx) => interventionStats(ctx, args.window_days) },
  },
});

function need<T>(value: T | undefined, action: string, field: string): T {
  if (value === undefined) throw new ToolError(`action ${action} needs \`${field}\`.`);
  return value;
}

type StepOut = z.input<typeof stepOutput>;

async function loadIntervention(ctx: ToolContext, id: string): Promise<InterventionOut> {
  const intervention = await findIntervention(ctx.env.DB, ctx.principal.workspaceId, id);
  if (!intervention) throw notFound("intervention", id);
  return intervention;
}

/** Resolves an owner reference (user id, email or "me") to an active user id of the workspace. */
async function resolveOwner(ctx: ToolContext, reference: string): Promise<string> {
  if (reference === "me" && !ctx.principal.userId) {
    throw new ToolError('"me" needs a credential that belongs to a user; this is a workspace service key.');
  }
  const user = await findUserByIdOrEmail(
    ctx.env.DB,
    ctx.principal.workspaceId,
    reference === "me" ? ctx.principal.userId : reference.trim(),
  );
  if (!user) throw notFound("user", reference);
  if (user.disabled_at) throw new ToolError(`User ${reference} is disabled; choose an active user.`);
  return user.id;
}

async function openIntervention(ctx: ToolContext, args: Args) {
  const accountId = need(args.account_id, "open", "account_id");
  const playbook = need(args.playbook, "open", "playbook");
  const ws = ctx.principal.workspaceId;
  const account = await requireAccount(ctx.env.DB, ws, accountId);
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
  const tasks = steps.filter((step) => step.kind === "task").length;
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
      tasks,
    },
  });
  return {
    data: { action: "open" as const, intervention },
    text: `Opened ${playbook} intervention ${id} on ${account.name} (ARR ${account.arr}) with ${steps.length} steps; ${tasks} tasks created, emails wait for send_step.\n${stepsTable(intervention)}`,
  };
}

async function getIntervention(ctx: ToolContext, args: Args) {
  const intervention = await loadIntervention(ctx, need(args.intervention_id, "get", "intervention_id"));
  return { data: { action: "get" as const, intervention }, text: summaryText(intervention) };
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

/** An email step rendered for its recipient: the contact, address, body template and the preview answered. */
interface StepEmail {
  contactId: string;
  to: string;
  bodyTemplate: string;
  preview: { position: number; contact_id: string; to: string; subject: string; text: string };
}

/**
 * Renders an email step for its recipient: the contact given, else the account's champion or
 * decision maker; refused when that contact cannot be emailed, the body is unknown, no sender is
 * configured or a template variable has no value.
 */
async function stepEmail(ctx: ToolContext, intervention: InterventionOut, step: StepOut, args: Args) {
  const position = step.position;
  const contactId =
    args.contact_id ??
    (await recipientsFor(ctx.env.DB, ctx.principal.workspaceId, [intervention.account_id])).get(intervention.account_id)
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
  const context = await emailContext(ctx.env.DB, ctx.principal.workspaceId, intervention.account_id, contactId);
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
  const to = context.contact_email;
  const preview = { position, contact_id: contactId, to, subject: rendered.subject, text: rendered.text };
  return { contactId, to, bodyTemplate, preview } satisfies StepEmail;
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
  const email = await stepEmail(ctx, intervention, step, args);
  const scope = confirmationScope(ctx.principal, executeRetentionCampaign.name);
  const payload = {
    intervention_id: id,
    position,
    contact_id: email.contactId,
    subject: step.title,
    body: email.bodyTemplate,
  };
  const dryRun = args.dry_run ?? args.confirmation_token === undefined;
  if (dryRun) {
    const confirmation = await issueConfirmation(ctx.env, scope, payload, ctx.now);
    ctx.audit({
      action: "send_step_preview",
      targetType: "intervention",
      targetId: id,
      details: { position, contact_id: email.contactId },
    });
    return {
      data: { action: "send_step" as const, intervention, preview: email.preview, confirmation },
      text: `Preview of step ${position} of ${id} to ${email.to}: "${email.preview.subject}". Nothing was sent; call again with confirmation_token (valid until ${confirmation.expires_at}) to send.`,
    };
  }
  if (!args.confirmation_token) {
    throw new ToolError(
      "Sending needs the confirmation_token of a dry run of this send: call with dry_run=true first.",
    );
  }
  await verifyConfirmation(ctx.env, scope, payload, args.confirmation_token, ctx.now);
  return queueStepEmail(ctx, intervention, step, email);
}

/** Queues a confirmed email step (once per intervention and position) and marks the step done. */
async function queueStepEmail(ctx: ToolContext, intervention: InterventionOut, step: StepOut, email: StepEmail) {
  const { id } = intervention;
  const { position } = step;
  const queued = await queueEmail(ctx.env, {
    workspaceId: ctx.principal.workspaceId,
    to: email.to,
    contactId: email.contactId,
    accountId: intervention.account_id,
    subject: step.title,
    text: email.bodyTemplate,
    idempotencyKey: `intervention:${id}:${position}`,
    origin: `intervention:${id}`,
  });
  await markEmailStepSent(ctx.env.DB, ctx.principal.workspaceId, {
    interventionId: id,
    position,
    outboxId: queued.id,
    at: ctx.now.toISOString(),
  });
  ctx.audit({
    action: "send_step",
    targetType: "intervention",
    targetId: id,
    details: { position, contact_id: email.contactId, outbox_id: queued.id, created: queued.created },
  });
  return {
    data: {
      action: "send_step" as const,
      intervention: await loadIntervention(ctx, id),
      preview: email.preview,
      sent: { outbox_id: queued.id, status: queued.status, created: queued.created },
    },
    text: `${queued.created ? "Queued" : "Already queued"} step ${position} of ${id} to ${email.to} (outbox ${queued.id}, ${queued.status}).`,
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
  await ctx.env.DB.batch(
    markStepStatements(ctx.env.DB, ctx.principal.workspaceId, {
      interventionId: id,
      position,
      status,
      at: ctx.now.toISOString(),
      taskId: step.task_id,
    }),
  );
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
  const [, , closed] = await ctx.env.DB.batch(
    closeInterventionStatements(ctx.env.DB, ctx.principal.workspaceId, id, {
      outcome,
      reason,
      at: ctx.now.toISOString(),
    }),
  );
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
  if (status !== "open" && status !== "closed" && status !== "all") {
    throw new ToolError("list takes status open, closed or all.");
  }
  const owner = args.owner ? await resolveOwner(ctx, args.owner) : null;
  const fingerprint = queryFingerprint([
    executeRetentionCampaign.name,
    status,
    args.playbook ?? null,
    args.account_id ?? null,
    owner,
  ]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const results = await interventionPage(ctx.env.DB, ctx.principal.workspaceId, {
    status,
    playbook: args.playbook ?? null,
    accountId: args.account_id ?? null,
    ownerUserId: owner,
    after: { openedAt: (position?.k[0] as string | undefined) ?? null, id: position?.id ?? "" },
    limit: args.limit + 1,
  });
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
  const rows = await interventionsSince(ctx.env.DB, ctx.principal.workspaceId, from);
  const { playbooks, total } = outcomesByPlaybook(interventionFacts(rows, from));
  return {
    data: { action: "stats" as const, window: { from, to, window_days: windowDays }, playbooks, total },
    text: statsText(from, to, playbooks, total),
  };
}

function statsText(from: string, to: string, playbooks: PlaybookOutcomes[], total: PlaybookOutcomes): string {
  const pct = (v: number | null) => (v === null ? null : `${Math.round(v * 1000) / 10}%`);
  return `Interventions closed ${from}..${to}: ${total.closed} (${total.saved} saved, ${total.downsized} downsized, ${total.churned} churned); save rate ${pct(total.save_rate) ?? "n/a"} (saved only), ARR saved ${total.arr_saved}, ARR lost ${total.arr_lost}.\n${markdownTable(
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
  )}`;
}
