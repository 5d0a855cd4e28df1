import { z } from "zod";
import { renderTemplate, TEMPLATE_VARIABLES } from "../../email/render";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
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
import {
  type ActiveCampaign,
  activeCampaigns,
  enrollMatching,
  parseCampaign,
  runDueSteps,
  type StepRunSummary,
} from "./campaign-runs";
import {
  type CampaignStep,
  campaignStepsSchema,
  describeRule,
  orderSteps,
  type TriggerRule,
  triggerSchema,
} from "./domain/campaign-rules";
import {
  activateUnchangedCampaign,
  activationMatches,
  type CampaignReportRows,
  type CampaignRow,
  campaignPage,
  campaignReports,
  enrollmentCounts,
  findCampaign,
  insertCampaign,
  markCampaignsEvaluated,
  pauseCampaignRow,
  type ReportCampaignRow,
  reportCampaignPage,
  updateCampaignDefinition,
} from "./queries/campaigns";
import { liveTriggerSql } from "./queries/triggers";

const ACTIONS = ["create", "update", "list", "get", "activate", "pause", "evaluate", "report"] as const;
type Action = (typeof ACTIONS)[number];
/** Enrollments whose due steps run within one activate or evaluate call; the rest run with their account's nightly health chunk. */
export const IMMEDIATE_STEP_LIMIT = 200;

const campaignOutput = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["active", "paused", "archived"]),
  trigger: z.array(z.record(z.string(), z.unknown())).describe("The rules; ANY of them enrolls an account."),
  trigger_text: z.array(z.string()).describe("The rules in words."),
  steps: z.array(z.record(z.string(), z.unknown())).describe("Steps in day_offset order (email templates and tasks)."),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  last_evaluated_at: z.string().nullable(),
});
type CampaignOut = z.input<typeof campaignOutput>;

const stepRunOutput = z.object({
  enrollments_checked: z.number().int().describe("Enrollments with a step due."),
  emails_queued: z.number().int(),
  tasks_created: z.number().int(),
  emails_without_recipient: z.number().int().describe("Email steps passed over: no eligible champion/decision maker."),
  email_errors: z.number().int().describe("Enrollments held at an email the outbox refused; retried next run."),
  enrollments_completed: z.number().int(),
});

const retentionGroup = z.object({
  n: z.number().int().describe("Observations counted."),
  retained: z.number().int().describe("Not churned (accounts.churned_at) within retention_days of the reference day."),
  retention_rate: z.number().nullable().describe("retained / n; null when n is 0."),
});

const reportRow = z.object({
  campaign_id: z.string(),
  name: z.string(),
  status: z.string(),
  enrolled: z.number().int(),
  active: z.number().int(),
  completed: z.number().int(),
  emails: z
    .object({
      total: z.number().int(),
      queued: z.number().int(),
      sent: z.number().int().describe("Sent, delivered, opened or clicked."),
      opened: z.number().int(),
      clicked: z.number().int(),
      not_delivered: z.number().int().describe("Bounced, failed or suppressed."),
    })
    .describe("Outbox messages of origin campaign:<id> to enrolled accounts."),
  responses: z
    .number()
    .int()
    .describe(
      "Enrollments with an opened/clicked campaign email or an inbound activity (from the customer) on or after enrollment; the team's own calls and notes do not count.",
    ),
  response_rate: z.number().nullable().describe("responses / enrolled."),
  retention: z.object({
    retention_days: z.number().int(),
    enrolled_on_or_before: z.string().describe("Only enrollments at least retention_days old count."),
    enrolled: retentionGroup.describe("Enrolled accounts, from their enrollment day."),
    comparison: retentionGroup.describe(
      "Accounts never enrolled in this campaign that had the same stored health band (health_scores) on an enrollment day as an account enrolled that day, not churned before it; one observation per account and day.",
    ),
  }),
});

interface Args {
  action: Action;
  campaign_id?: string;
  name?: string;
  trigger?: TriggerRule[];
  steps?: CampaignStep[];
  dry_run?: boolean;
  confirmation_token?: string;
  retention_days: number;
  limit: number;
  cursor?: string;
}

/** Automated retention campaigns: trigger rules that enroll accounts into an email and task sequence run through the queue. */
export const automateRetentionCampaigns = defineActionTool({
  name: "automate_retention_campaigns",
  title: "Automated retention campaigns",
  toolset: "retention",
  description:
    "Automated retention campaigns: trigger rules → enrollment → steps run through the jobs queue. " +
    "Trigger rules (ANY enrolls): churn_probability_at_least value (accounts.churn_probability), band_is red|yellow (accounts.health_band), band_fell_to [band] (the day's stored health band is below the latest earlier health_scores row's), factor_flagged factor (flagged in the latest risk_scores row), health_drop_at_least points (the day's score vs the latest on or before 7 days earlier), feature_not_adopted feature [days, default 90] (used the product in those days but never the feature: an adoption campaign for non-adopters, see track_feature_adoption). " +
    "Steps: {day_offset, kind email, subject, body} (templates with {{contact.name}}, {{account.name}}, {{csm.name}}…, sent to the account's champion, else decision maker, not left, unsubscribed or bounced) or {day_offset, kind task, title} (a task for the account owner). " +
    "create (csm+): name, trigger, steps; created paused. update: name/trigger/steps; changing trigger or steps of an active campaign pauses it until activated again. list, get. " +
    "activate (csm+): dry_run (default, unless a confirmation_token is given) previews the active accounts that match now and would be enrolled and the emails that would go out today, with a confirmation_token bound to campaign, trigger and steps; with the token the campaign becomes active and is evaluated at once. " +
    "That confirmation covers every later automatic send: after each nightly health chunk, active campaigns enroll the chunk's matching accounts (once per account and campaign, ever, with a snapshot of the rule and values) and run due steps (day_offset from the enrollment day reached), idempotently. pause stops enrollment and steps. " +
    `evaluate (csm+): runs enrollment now over all active accounts for all active campaigns, and due steps of up to ${IMMEDIATE_STEP_LIMIT} enrollments per campaign (the rest run nightly). ` +
    "report: per campaign enrolled/active/completed, emails queued/sent/opened/clicked, responses (opened or clicked campaign email, or an inbound activity from the customer after enrollment; the team's own calls and notes do not count), and retention of enrolled vs comparable never-enrolled accounts (same health band on the enrollment day): share not churned retention_days (default 90) after the reference day, counting only enrollments at least that old, with n per group.",
  input: {
    action: z.enum(ACTIONS).describe("create, update, list, get, activate, pause, evaluate or report."),
    campaign_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("update/get/activate/pause: the campaign (cmp_…); report: only this campaign."),
    name: z.string().trim().min(1).max(200).optional().describe("create (required)/update: the campaign's name."),
    trigger: triggerSchema
      .optional()
      .describe(
        'create (required)/update: 1–10 rules, any enrolls, e.g. [{"rule":"band_fell_to","band":"red"},{"rule":"churn_probability_at_least","value":0.6}].',
      ),
    steps: campaignStepsSchema
      .optional()
      .describe(
        'create (required)/update: 1–20 steps, e.g. [{"day_offset":0,"kind":"email","subject":"…","body":"…"},{"day_offset":3,"kind":"task","title":"Call the champion"}].',
      ),
    dry_run: z
      .boolean()
      .optional()
      .describe("activate: true previews (default without a token); false activates and needs confirmation_token."),
    confirmation_token: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("activate: the token of the dry run for this campaign as it is now."),
    retention_days: z
      .number()
      .int()
      .min(7)
      .max(730)
      .default(90)
      .describe("report: days after the reference day an account must not have churned by (default 90)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    evaluation_day: z.string().optional().describe("activate/evaluate: the UTC day triggers were evaluated for."),
    campaign: campaignOutput.optional().describe("create/update/get/activate/pause: the campaign now."),
    enrollment_counts: z
      .object({ enrolled: z.number().int(), active: z.number().int(), completed: z.number().int() })
      .optional()
      .describe("get: the campaign's enrollments."),
    campaigns: z.array(campaignOutput).optional().describe("list: this page, newest first."),
    preview: z
      .object({
        matching_accounts: z.number().int().describe("Active accounts matching now and not yet enrolled."),
        emails_today: z
          .number()
          .int()
          .describe(
            "Emails of day_offset 0 that would be queued today: matching accounts with a recipient × such steps.",
          ),
        accounts_without_recipient: z.number().int(),
        tasks_today: z.number().int(),
        accounts: z
          .array(
            z.object({
              account_id: z.string(),
              name: z.string(),
              matched: z.record(z.string(), z.unknown()).describe("The first matching rule and the values it saw."),
            }),
          )
          .describe("The first `limit` matching accounts by id."),
      })
      .optional()
      .describe("activate dry run: what activation would do now."),
    confirmation: z
      .object({ token: z.string(), expires_at: z.string() })
      .optional()
      .describe("activate dry run: pass token as confirmation_token to activate."),
    enrolled: z
      .array(z.object({ campaign_id: z.string(), new_enrollments: z.number().int() }))
      .optional()
      .describe("activate/evaluate: new enrollments per campaign."),
    steps_run: z
      .array(stepRunOutput.extend({ campaign_id: z.string() }))
      .optional()
      .describe("activate/evaluate: due steps run per campaign."),
    report: z.array(reportRow).optional().describe("report: per campaign."),
    next_cursor: nextCursorField.optional(),
  },
  minRole: "viewer",
  examples: [
    { title: "Retention campaigns", args: () => ({ action: "list" }) },
    { title: "One campaign", args: (ids) => ({ action: "get", campaign_id: ids.campaignId }) },
    { title: "A campaign's results", args: (ids) => ({ action: "report", campaign_id: ids.campaignId }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  commonFields: ["limit", "retention_days"],
  actions: {
    create: {
      writes: true,
      role: "csm",
      fields: ["name", "trigger", "steps"],
      run: (args, ctx) => createCampaign(ctx, args),
    },
    update: {
      writes: true,
      role: "csm",
      fields: ["campaign_id", "name", "trigger", "steps"],
      run: (args, ctx) => updateCampaign(ctx, args),
    },
    list: { writes: false, fields: ["cursor"], run: (args, ctx) => listCampaigns(ctx, args) },
    get: { writes: false, fields: ["campaign_id"], run: (args, ctx) => getCampaign(ctx, args) },
    activate: {
      writes: true,
      sends: true,
      role: "csm",
      fields: ["campaign_id", "dry_run", "confirmation_token"],
      run: (args, ctx) => activateCampaign(ctx, args),
    },
    pause: { writes: true, role: "csm", fields: ["campaign_id"], run: (args, ctx) => pauseCampaign(ctx, args) },
    evaluate: { writes: true, role: "csm", fields: [], run: (_args, ctx) => evaluateNow(ctx) },
    report: {
      writes: false,
      fields: ["campaign_id", "retention_days", "cursor"],
      run: (args, ctx) => reportCampaigns(ctx, args),
    },
  },
});

function need<T>(value: T | undefined, action: string, field: string): T {
  if (value === undefined) throw new ToolError(`action ${action} needs \`${field}\`.`);
  return value;
}

/** Refuses email templates and task titles naming variables that do not exist (missing values are only known per account). */
function checkTemplates(steps: readonly CampaignStep[]): void {
  const every = Object.fromEntries(TEMPLATE_VARIABLES.map((v) => [v, "x"]));
  for (const [i, step] of steps.entries()) {
    const parts =
      step.kind === "email"
        ? ([
            ["subject", step.subject],
            ["body", step.body],
          ] as const)
        : ([["title", step.title]] as const);
    for (const [part, text] of parts) {
      const result = renderTemplate(text, every, part === "body" ? "text" : "line");
      if (!result.ok) {
        throw new ToolError(
          `Step ${i + 1} ${part} uses unknown template variable(s) ${result.unknown.map((n) => `{{${n}}}`).join(", ")}; known: ${TEMPLATE_VARIABLES.join(", ")}.`,
        );
      }
    }
  }
}

function campaignOut(row: CampaignRow): CampaignOut {
  const trigger = JSON.parse(row.trigger) as TriggerRule[];
  return {
    ...row,
    trigger,
    trigger_text: triggerSchema.safeParse(trigger).success ? trigger.map(describeRule) : ["(stored rules are invalid)"],
    steps: JSON.parse(row.steps) as CampaignStep[],
  };
}

async function loadCampaign(ctx: ToolContext, id: string): Promise<CampaignRow> {
  const row = await findCampaign(ctx.env.DB, ctx.principal.workspaceId, id);
  if (!row) throw notFound("campaign", id);
  return row;
}

function campaignText(c: CampaignOut): string {
  return `Campaign ${c.id} "${c.name}" is ${c.status}; trigger: ${c.trigger_text.join(" OR ")}.\n${markdownTable(
    ["#", "Day", "Kind", "Subject / title"],
    (c.steps as CampaignStep[]).map((s, i) => [i + 1, s.day_offset, s.kind, s.kind === "email" ? s.subject : s.title]),
  )}`;
}

async function createCampaign(ctx: ToolContext, args: Args) {
  const name = need(args.name, "create", "name");
  const trigger = need(args.trigger, "create", "trigger");
  const steps = orderSteps(need(args.steps, "create", "steps"));
  checkTemplates(steps);
  const id = newId("cmp");
  await insertCampaign(ctx.env.DB, ctx.principal.workspaceId, {
    id,
    name,
    trigger: JSON.stringify(trigger),
    steps: JSON.stringify(steps),
    createdBy: ctx.principal.userId,
    at: ctx.now.toISOString(),
  });
  const campaign = campaignOut(await loadCampaign(ctx, id));
  ctx.audit({
    action: "create",
    targetType: "campaign",
    targetId: id,
    details: { rules: trigger.length, steps: steps.length },
  });
  return {
    data: { action: "create" as const, campaign },
    text: `${campaignText(campaign)}\nCreated paused: activate it (dry run first) to start enrolling.`,
  };
}

async function updateCampaign(ctx: ToolContext, args: Args) {
  const id = need(args.campaign_id, "update", "campaign_id");
  if (args.name === undefined && args.trigger === undefined && args.steps === undefined) {
    throw new ToolError("action update needs at least one of `name`, `trigger`, `steps`.");
  }
  const before = await loadCampaign(ctx, id);
  const steps = args.steps ? orderSteps(args.steps) : null;
  if (steps) checkTemplates(steps);
  const reconfirm = before.status === "active" && (args.trigger !== undefined || steps !== null);
  await updateCampaignDefinition(ctx.env.DB, ctx.principal.workspaceId, id, {
    name: args.name ?? null,
    trigger: args.trigger ? JSON.stringify(args.trigger) : null,
    steps: steps ? JSON.stringify(steps) : null,
    pause: reconfirm,
    at: ctx.now.toISOString(),
  });
  const campaign = campaignOut(await loadCampaign(ctx, id));
  const fields = (["name", "trigger", "steps"] as const).filter((f) => args[f] !== undefined);
  ctx.audit({ action: "update", targetType: "campaign", targetId: id, details: { fields, paused: reconfirm } });
  return {
    data: { action: "update" as const, campaign },
    text: `Updated ${fields.join(", ")} of ${id}.${reconfirm ? " The campaign was active and is now paused: activate it again to confirm the new trigger or steps." : ""}\n${campaignText(campaign)}`,
  };
}

async function listCampaigns(ctx: ToolContext, args: Args) {
  const fingerprint = queryFingerprint([automateRetentionCampaigns.name, "list"]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const results = await campaignPage(ctx.env.DB, ctx.principal.workspaceId, {
    after: { createdAt: (position?.k[0] as string | undefined) ?? null, id: position?.id ?? "" },
    limit: args.limit + 1,
  });
  const page = results.slice(0, args.limit).map(campaignOut);
  const last = page.at(-1);
  const next =
    results.length > args.limit && last ? encodeCursor({ k: [last.created_at], id: last.id, q: fingerprint }) : null;
  return {
    data: { action: "list" as const, campaigns: page, next_cursor: next },
    text: `${page.length} campaign(s) on this page${next ? "; more with next_cursor" : ""}.\n${markdownTable(
      ["id", "Name", "Status", "Trigger", "Steps"],
      page.map((c) => [c.id, c.name, c.status, c.trigger_text.join(" OR "), c.steps.length]),
    )}`,
  };
}

async function getCampaign(ctx: ToolContext, args: Args) {
  const id = need(args.campaign_id, "get", "campaign_id");
  const campaign = campaignOut(await loadCampaign(ctx, id));
  const counts = await enrollmentCounts(ctx.env.DB, ctx.principal.workspaceId, id);
  const enrollment_counts = counts ?? { enrolled: 0, active: 0, completed: 0 };
  return {
    data: { action: "get" as const, campaign, enrollment_counts },
    text: `${campaignText(campaign)}\nEnrollments: ${enrollment_counts.enrolled} (${enrollment_counts.active} active, ${enrollment_counts.completed} completed).`,
  };
}

async function activateCampaign(ctx: ToolContext, args: Args) {
  const id = need(args.campaign_id, "activate", "campaign_id");
  const row = await loadCampaign(ctx, id);
  if (row.status === "active") throw new ToolError(`Campaign ${id} is already active.`);
  const parsed = parseCampaign(row);
  if (!parsed)
    throw new ToolError(`Campaign ${id} has stored rules or steps that no longer validate; update them first.`);
  const day = isoDay(ctx.now);
  const scope = confirmationScope(ctx.principal, automateRetentionCampaigns.name);
  const payload = { campaign_id: id, trigger: parsed.trigger, steps: parsed.steps };
  const dryRun = args.dry_run ?? args.confirmation_token === undefined;
  if (dryRun) {
    const preview = await activationPreview(ctx, row, parsed, day, args.limit);
    const confirmation = await issueConfirmation(ctx.env, scope, payload, ctx.now);
    ctx.audit({
      action: "activate_preview",
      targetType: "campaign",
      targetId: id,
      details: { matching: preview.matching_accounts },
    });
    return {
      data: { action: "activate" as const, evaluation_day: day, campaign: campaignOut(row), preview, confirmation },
      text: `Activating ${id} now would enroll ${preview.matching_accounts} account(s) and queue ${preview.emails_today} email(s) and ${preview.tasks_today} task(s) today (${preview.accounts_without_recipient} without an eligible recipient). Nothing was changed; call again with confirmation_token (valid until ${confirmation.expires_at}).\n${markdownTable(
        ["Account", "Matched"],
        preview.accounts.map((a) => [a.name, JSON.stringify(a.matched)]),
      )}`,
    };
  }
  if (!args.confirmation_token) {
    throw new ToolError("Activation needs the confirmation_token of a dry run: call with dry_run=true first.");
  }
  await verifyConfirmation(ctx.env, scope, payload, args.confirmation_token, ctx.now);
  const changes = await activateUnchangedCampaign(ctx.env.DB, ctx.principal.workspaceId, {
    id,
    trigger: row.trigger,
    steps: row.steps,
    at: ctx.now.toISOString(),
  });
  if (!changes) throw new ToolError(`Campaign ${id} changed meanwhile; run the dry run again.`);
  const { enrolled, steps_run } = await evaluate(ctx, [parsed], day);
  const campaign = campaignOut(await loadCampaign(ctx, id));
  ctx.audit({ action: "activate", targetType: "campaign", targetId: id, details: { enrolled, steps_run } });
  return {
    data: { action: "activate" as const, evaluation_day: day, campaign, enrolled, steps_run },
    text: `Activated ${id}: ${enrolled[0]?.new_enrollments ?? 0} account(s) enrolled, ${steps_run[0]?.emails_queued ?? 0} email(s) queued and ${steps_run[0]?.tasks_created ?? 0} task(s) created today.`,
  };
}

/** What activating the campaign would do on `day`: the matching accounts not yet enrolled (first `limit`) and today's steps. */
async function activationPreview(
  ctx: ToolContext,
  row: CampaignRow,
  parsed: ActiveCampaign,
  day: string,
  limit: number,
) {
  const results = await activationMatches(ctx.env.DB, ctx.principal.workspaceId, {
    campaignId: row.id,
    day,
    weekBefore: addDays(day, -7),
    rules: liveTriggerSql(parsed.trigger, 6),
    limit,
  });
  const total = results[0]?.total ?? 0;
  const reachable = results[0]?.total_reachable ?? 0;
  const firstDay = parsed.steps.filter((s) => s.day_offset === 0);
  return {
    matching_accounts: total,
    emails_today: reachable * firstDay.filter((s) => s.kind === "email").length,
    accounts_without_recipient: total - reachable,
    tasks_today: total * firstDay.filter((s) => s.kind === "task").length,
    accounts: results.map((r) => ({
      account_id: r.account_id,
      name: r.account_name,
      matched: JSON.parse(r.matched) as Record<string, unknown>,
    })),
  };
}

/** Enrolls matching accounts in the campaigns and runs due steps of up to {@link IMMEDIATE_STEP_LIMIT} enrollments each. */
async function evaluate(ctx: ToolContext, campaigns: ActiveCampaign[], day: string) {
  const ws = ctx.principal.workspaceId;
  const counts = await enrollMatching(ctx.env, ws, campaigns, day, null, ctx.now);
  const steps_run: (StepRunSummary & { campaign_id: string })[] = [];
  for (const campaign of campaigns) {
    const summary = await runDueSteps(ctx.env, ws, day, { campaignId: campaign.id, limit: IMMEDIATE_STEP_LIMIT });
    steps_run.push({ campaign_id: campaign.id, ...summary });
  }
  if (campaigns.length > 0) {
    await markCampaignsEvaluated(
      ctx.env.DB,
      ws,
      campaigns.map((c) => c.id),
      ctx.now.toISOString(),
    );
  }
  const enrolled = campaigns.map((c) => ({ campaign_id: c.id, new_enrollments: counts.get(c.id) ?? 0 }));
  return { enrolled, steps_run };
}

async function pauseCampaign(ctx: ToolContext, args: Args) {
  const id = need(args.campaign_id, "pause", "campaign_id");
  const before = await loadCampaign(ctx, id);
  if (before.status !== "active") throw new ToolError(`Campaign ${id} is ${before.status}, not active.`);
  await pauseCampaignRow(ctx.env.DB, ctx.principal.workspaceId, id, ctx.now.toISOString());
  const campaign = campaignOut(await loadCampaign(ctx, id));
  ctx.audit({ action: "pause", targetType: "campaign", targetId: id });
  return {
    data: { action: "pause" as const, campaign },
    text: `Paused ${id}: no enrollments and no steps run until it is activated again.`,
  };
}

async function evaluateNow(ctx: ToolContext) {
  const day = isoDay(ctx.now);
  const campaigns = await activeCampaigns(ctx.env, ctx.principal.workspaceId);
  const { enrolled, steps_run } = await evaluate(ctx, campaigns, day);
  ctx.audit({
    action: "evaluate",
    targetType: "workspace",
    targetId: ctx.principal.workspaceId,
    details: { enrolled },
  });
  return {
    data: { action: "evaluate" as const, evaluation_day: day, enrolled, steps_run },
    text: `Evaluated ${campaigns.length} active campaign(s) for ${day}.\n${markdownTable(
      ["Campaign", "New enrollments", "Emails queued", "Tasks created", "No recipient"],
      enrolled.map((e, i) => [
        e.campaign_id,
        e.new_enrollments,
        steps_run[i]?.emails_queued,
        steps_run[i]?.tasks_created,
        steps_run[i]?.emails_without_recipient,
      ]),
    )}`,
  };
}

const rate = (part: number, whole: number) => (whole > 0 ? round(part / whole, 4) : null);

type ReportRow = z.input<typeof reportRow>;

async function reportCampaigns(ctx: ToolContext, args: Args) {
  const ws = ctx.principal.workspaceId;
  const fingerprint = queryFingerprint([
    automateRetentionCampaigns.name,
    "report",
    args.campaign_id ?? null,
    args.retention_days,
  ]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  if (args.campaign_id) await loadCampaign(ctx, args.campaign_id);
  const campaigns = await reportCampaignPage(ctx.env.DB, ws, {
    campaignId: args.campaign_id ?? null,
    afterId: position?.id ?? "",
    limit: args.limit + 1,
  });
  const page = campaigns.slice(0, args.limit);
  const cutoff = addDays(isoDay(ctx.now), -args.retention_days);
  const figures = await campaignReports(
    ctx.env.DB,
    ws,
    page.map((c) => c.id),
    { cutoff, retentionDays: args.retention_days },
  );
  const report = page.map((c, i) => reportRowOf(c, figures[i] as CampaignReportRows, args.retention_days, cutoff));
  const last = page.at(-1);
  const next = campaigns.length > args.limit && last ? encodeCursor({ k: [], id: last.id, q: fingerprint }) : null;
  return {
    data: { action: "report" as const, report, next_cursor: next },
    text: reportText(report, args.retention_days, cutoff),
  };
}

/** One campaign's report row from its figures. */
function reportRowOf(c: ReportCampaignRow, figures: CampaignReportRows, retentionDays: number, cutoff: string) {
  const { counts, emails, groups } = figures;
  const group = (name: string) => {
    const g = groups.find((r) => r.grp === name) ?? { n: 0, retained: 0 };
    return { n: g.n, retained: g.retained, retention_rate: rate(g.retained, g.n) };
  };
  return {
    campaign_id: c.id,
    name: c.name,
    status: c.status,
    enrolled: counts.enrolled,
    active: counts.active,
    completed: counts.completed,
    emails,
    responses: counts.responses,
    response_rate: rate(counts.responses, counts.enrolled),
    retention: {
      retention_days: retentionDays,
      enrolled_on_or_before: cutoff,
      enrolled: group("enrolled"),
      comparison: group("comparison"),
    },
  } satisfies ReportRow;
}

function reportText(report: readonly ReturnType<typeof reportRowOf>[], retentionDays: number, cutoff: string): string {
  const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 1000) / 10}%`);
  return `${report.length} campaign(s); retention = not churned ${retentionDays} days after the enrollment day, enrollments on or before ${cutoff}.\n${markdownTable(
    [
      "Campaign",
      "Enrolled",
      "Emails sent",
      "Opened",
      "Responses",
      "Retention enrolled (n)",
      "Retention comparison (n)",
    ],
    report.map((r) => [
      r.name,
      r.enrolled,
      r.emails.sent,
      r.emails.opened,
      r.responses,
      `${pct(r.retention.enrolled.retention_rate)} (${r.retention.enrolled.n})`,
      `${pct(r.retention.comparison.retention_rate)} (${r.retention.comparison.n})`,
    ]),
  )}`;
}
