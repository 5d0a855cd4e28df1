import { z } from "zod";
import { renderTemplate, TEMPLATE_VARIABLES } from "../../email/render";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
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
import {
  type ActiveCampaign,
  activeCampaigns,
  enrollMatching,
  parseCampaign,
  runDueSteps,
  type StepRunSummary,
  triggerFactsCte,
} from "./campaign-runs";
import {
  type CampaignStep,
  campaignStepsSchema,
  describeRule,
  liveTriggerSql,
  orderSteps,
  type TriggerRule,
  triggerSchema,
} from "./queries/triggers";

const TOOL = "automate_retention_campaigns";
const ACTIONS = ["create", "update", "list", "get", "activate", "pause", "evaluate", "report"] as const;
type Action = (typeof ACTIONS)[number];
/** Enrollments whose due steps run within one activate or evaluate call; the rest run with their account's nightly health chunk. */
export const IMMEDIATE_STEP_LIMIT = 200;

/** The fields each action reads; any other field given is refused so a mistake is not silently ignored. */
const FIELDS_BY_ACTION: Record<Action, string[]> = {
  create: ["name", "trigger", "steps"],
  update: ["campaign_id", "name", "trigger", "steps"],
  list: ["cursor"],
  get: ["campaign_id"],
  activate: ["campaign_id", "dry_run", "confirmation_token"],
  pause: ["campaign_id"],
  evaluate: [],
  report: ["campaign_id", "retention_days", "cursor"],
};

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
    .describe("Enrollments with an opened/clicked campaign email or any activity logged on or after enrollment."),
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
export const automateRetentionCampaigns = defineTool({
  name: TOOL,
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
    "report: per campaign enrolled/active/completed, emails queued/sent/opened/clicked, responses (opened or clicked campaign email, or an activity logged after enrollment), and retention of enrolled vs comparable never-enrolled accounts (same health band on the enrollment day): share not churned retention_days (default 90) after the reference day, counting only enrollments at least that old, with n per group.",
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
  actions: {
    create: { writes: true, role: "csm" },
    update: { writes: true, role: "csm" },
    list: { writes: false },
    get: { writes: false },
    activate: { writes: true, role: "csm" },
    pause: { writes: true, role: "csm" },
    evaluate: { writes: true, role: "csm" },
    report: { writes: false },
  },
  examples: [
    { title: "Retention campaigns", args: () => ({ action: "list" }) },
    { title: "One campaign", args: (ids) => ({ action: "get", campaign_id: ids.campaignId }) },
    { title: "A campaign's results", args: (ids) => ({ action: "report", campaign_id: ids.campaignId }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async handler(args, ctx) {
    refuseMisplacedFields(args, FIELDS_BY_ACTION[args.action], ["limit", "retention_days"]);
    switch (args.action) {
      case "create":
        return createCampaign(ctx, args);
      case "update":
        return updateCampaign(ctx, args);
      case "list":
        return listCampaigns(ctx, args);
      case "get":
        return getCampaign(ctx, args);
      case "activate":
        return activateCampaign(ctx, args);
      case "pause":
        return pauseCampaign(ctx, args);
      case "evaluate":
        return evaluateNow(ctx);
      case "report":
        return reportCampaigns(ctx, args);
    }
  },
});

function need<T>(value: T | undefined, action: string, field: string): T {
  if (value === undefined) throw new ToolError(`action ${action} needs \`${field}\`.`);
  return value;
}

/** Refuses email templates naming variables that do not exist (missing values are only known per recipient). */
function checkTemplates(steps: readonly CampaignStep[]): void {
  const every = Object.fromEntries(TEMPLATE_VARIABLES.map((v) => [v, "x"]));
  for (const [i, step] of steps.entries()) {
    if (step.kind !== "email") continue;
    for (const [part, text] of [
      ["subject", step.subject],
      ["body", step.body],
    ] as const) {
      const result = renderTemplate(text, every, part === "subject" ? "line" : "text");
      if (!result.ok) {
        throw new ToolError(
          `Step ${i + 1} ${part} uses unknown template variable(s) ${result.unknown.map((n) => `{{${n}}}`).join(", ")}; known: ${TEMPLATE_VARIABLES.join(", ")}.`,
        );
      }
    }
  }
}

interface CampaignRow {
  id: string;
  name: string;
  status: "active" | "paused" | "archived";
  trigger: string;
  steps: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  last_evaluated_at: string | null;
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
  const row = await ctx.env.DB.prepare(
    `SELECT id, name, status, trigger, steps, created_by, created_at, updated_at, last_evaluated_at
       FROM retention_campaigns WHERE workspace_id = ?1 AND id = ?2`,
  )
    .bind(ctx.principal.workspaceId, id)
    .first<CampaignRow>();
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
  const stamp = ctx.now.toISOString();
  await ctx.env.DB.prepare(
    `INSERT INTO retention_campaigns (id, workspace_id, name, status, trigger, steps, created_by, created_at, updated_at)
     VALUES (?1, ?2, ?3, 'paused', ?4, ?5, ?6, ?7, ?7)`,
  )
    .bind(
      id,
      ctx.principal.workspaceId,
      name,
      JSON.stringify(trigger),
      JSON.stringify(steps),
      ctx.principal.userId,
      stamp,
    )
    .run();
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
  await ctx.env.DB.prepare(
    `UPDATE retention_campaigns SET name = coalesce(?3, name), trigger = coalesce(?4, trigger), steps = coalesce(?5, steps),
            status = CASE WHEN ?6 THEN 'paused' ELSE status END, updated_at = ?7
      WHERE workspace_id = ?1 AND id = ?2`,
  )
    .bind(
      ctx.principal.workspaceId,
      id,
      args.name ?? null,
      args.trigger ? JSON.stringify(args.trigger) : null,
      steps ? JSON.stringify(steps) : null,
      reconfirm ? 1 : 0,
      ctx.now.toISOString(),
    )
    .run();
  const campaign = campaignOut(await loadCampaign(ctx, id));
  const fields = (["name", "trigger", "steps"] as const).filter((f) => args[f] !== undefined);
  ctx.audit({ action: "update", targetType: "campaign", targetId: id, details: { fields, paused: reconfirm } });
  return {
    data: { action: "update" as const, campaign },
    text: `Updated ${fields.join(", ")} of ${id}.${reconfirm ? " The campaign was active and is now paused: activate it again to confirm the new trigger or steps." : ""}\n${campaignText(campaign)}`,
  };
}

async function listCampaigns(ctx: ToolContext, args: Args) {
  const fingerprint = queryFingerprint([TOOL, "list"]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const { results } = await ctx.env.DB.prepare(
    `SELECT id, name, status, trigger, steps, created_by, created_at, updated_at, last_evaluated_at
       FROM retention_campaigns WHERE workspace_id = ?1
        AND (?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id < ?3))
      ORDER BY created_at DESC, id DESC LIMIT ?4`,
  )
    .bind(ctx.principal.workspaceId, (position?.k[0] as string | undefined) ?? null, position?.id ?? "", args.limit + 1)
    .all<CampaignRow>();
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
  const counts = await ctx.env.DB.prepare(
    `SELECT count(*) AS enrolled, coalesce(sum(status = 'active'), 0) AS active, coalesce(sum(status = 'completed'), 0) AS completed
       FROM campaign_enrollments WHERE workspace_id = ?1 AND campaign_id = ?2`,
  )
    .bind(ctx.principal.workspaceId, id)
    .first<{ enrolled: number; active: number; completed: number }>();
  const enrollment_counts = counts ?? { enrolled: 0, active: 0, completed: 0 };
  return {
    data: { action: "get" as const, campaign, enrollment_counts },
    text: `${campaignText(campaign)}\nEnrollments: ${enrollment_counts.enrolled} (${enrollment_counts.active} active, ${enrollment_counts.completed} completed).`,
  };
}

/** SQL: 1 when the account `f.account_id` has a contact campaign emails can go to (see `recipientsFor`). */
const HAS_RECIPIENT = `EXISTS (SELECT 1 FROM contacts c WHERE c.workspace_id = ?1 AND c.account_id = f.account_id
    AND (c.is_champion = 1 OR c.is_decision_maker = 1) AND c.left_at IS NULL
    AND c.unsubscribed = 0 AND c.bounced = 0 AND c.spam_reported = 0 AND coalesce(c.email, '') <> '')`;

async function activateCampaign(ctx: ToolContext, args: Args) {
  const id = need(args.campaign_id, "activate", "campaign_id");
  const row = await loadCampaign(ctx, id);
  if (row.status === "active") throw new ToolError(`Campaign ${id} is already active.`);
  const parsed = parseCampaign(row);
  if (!parsed)
    throw new ToolError(`Campaign ${id} has stored rules or steps that no longer validate; update them first.`);
  const day = isoDay(ctx.now);
  const scope = confirmationScope(ctx.principal, TOOL);
  const payload = { campaign_id: id, trigger: parsed.trigger, steps: parsed.steps };
  const dryRun = args.dry_run ?? args.confirmation_token === undefined;
  if (dryRun) {
    const rules = liveTriggerSql(parsed.trigger, 6);
    const { results } = await ctx.env.DB.prepare(
      `${triggerFactsCte(null)}
       SELECT f.account_id, f.account_name, ${rules.snapshot} AS matched, ${HAS_RECIPIENT} AS reachable,
              count(*) OVER () AS total, sum(${HAS_RECIPIENT}) OVER () AS total_reachable
         FROM f WHERE ${rules.condition}
          AND NOT EXISTS (SELECT 1 FROM campaign_enrollments e WHERE e.workspace_id = ?1 AND e.campaign_id = ?4
                            AND e.account_id = f.account_id)
        ORDER BY f.account_id LIMIT ?5`,
    )
      .bind(ctx.principal.workspaceId, day, addDays(day, -7), id, args.limit, ...rules.params)
      .all<{ account_id: string; account_name: string; matched: string; total: number; total_reachable: number }>();
    const total = results[0]?.total ?? 0;
    const reachable = results[0]?.total_reachable ?? 0;
    const firstDay = parsed.steps.filter((s) => s.day_offset === 0);
    const preview = {
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
    const confirmation = await issueConfirmation(ctx.env, scope, payload, ctx.now);
    ctx.audit({ action: "activate_preview", targetType: "campaign", targetId: id, details: { matching: total } });
    return {
      data: { action: "activate" as const, evaluation_day: day, campaign: campaignOut(row), preview, confirmation },
      text: `Activating ${id} now would enroll ${total} account(s) and queue ${preview.emails_today} email(s) and ${preview.tasks_today} task(s) today (${preview.accounts_without_recipient} without an eligible recipient). Nothing was changed; call again with confirmation_token (valid until ${confirmation.expires_at}).\n${markdownTable(
        ["Account", "Matched"],
        preview.accounts.map((a) => [a.name, JSON.stringify(a.matched)]),
      )}`,
    };
  }
  if (!args.confirmation_token) {
    throw new ToolError("Activation needs the confirmation_token of a dry run: call with dry_run=true first.");
  }
  await verifyConfirmation(ctx.env, scope, payload, args.confirmation_token, ctx.now);
  const activated = await ctx.env.DB.prepare(
    `UPDATE retention_campaigns SET status = 'active', updated_at = ?3
      WHERE workspace_id = ?1 AND id = ?2 AND status <> 'active' AND trigger = ?4 AND steps = ?5`,
  )
    .bind(ctx.principal.workspaceId, id, ctx.now.toISOString(), row.trigger, row.steps)
    .run();
  if (!activated.meta.changes) throw new ToolError(`Campaign ${id} changed meanwhile; run the dry run again.`);
  const { enrolled, steps_run } = await evaluate(ctx, [parsed], day);
  const campaign = campaignOut(await loadCampaign(ctx, id));
  ctx.audit({ action: "activate", targetType: "campaign", targetId: id, details: { enrolled, steps_run } });
  return {
    data: { action: "activate" as const, evaluation_day: day, campaign, enrolled, steps_run },
    text: `Activated ${id}: ${enrolled[0]?.new_enrollments ?? 0} account(s) enrolled, ${steps_run[0]?.emails_queued ?? 0} email(s) queued and ${steps_run[0]?.tasks_created ?? 0} task(s) created today.`,
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
    await ctx.env.DB.prepare(
      "UPDATE retention_campaigns SET last_evaluated_at = ?2 WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?3))",
    )
      .bind(ws, ctx.now.toISOString(), JSON.stringify(campaigns.map((c) => c.id)))
      .run();
  }
  const enrolled = campaigns.map((c) => ({ campaign_id: c.id, new_enrollments: counts.get(c.id) ?? 0 }));
  return { enrolled, steps_run };
}

async function pauseCampaign(ctx: ToolContext, args: Args) {
  const id = need(args.campaign_id, "pause", "campaign_id");
  const before = await loadCampaign(ctx, id);
  if (before.status !== "active") throw new ToolError(`Campaign ${id} is ${before.status}, not active.`);
  await ctx.env.DB.prepare(
    "UPDATE retention_campaigns SET status = 'paused', updated_at = ?3 WHERE workspace_id = ?1 AND id = ?2",
  )
    .bind(ctx.principal.workspaceId, id, ctx.now.toISOString())
    .run();
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

const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

async function reportCampaigns(ctx: ToolContext, args: Args) {
  const ws = ctx.principal.workspaceId;
  const fingerprint = queryFingerprint([TOOL, "report", args.campaign_id ?? null, args.retention_days]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  if (args.campaign_id) await loadCampaign(ctx, args.campaign_id);
  const { results: campaigns } = await ctx.env.DB.prepare(
    `SELECT id, name, status FROM retention_campaigns WHERE workspace_id = ?1 AND (?2 IS NULL OR id = ?2) AND id > ?3
      ORDER BY id LIMIT ?4`,
  )
    .bind(ws, args.campaign_id ?? null, position?.id ?? "", args.limit + 1)
    .all<{ id: string; name: string; status: string }>();
  const page = campaigns.slice(0, args.limit);
  const cutoff = addDays(isoDay(ctx.now), -args.retention_days);
  const statements = page.flatMap((c) => [
    ctx.env.DB.prepare(
      `SELECT count(*) AS enrolled, coalesce(sum(e.status = 'active'), 0) AS active,
              coalesce(sum(e.status = 'completed'), 0) AS completed,
              coalesce(sum(EXISTS (SELECT 1 FROM outbox_messages o WHERE o.workspace_id = ?1 AND o.account_id = e.account_id
                             AND o.origin = ?3 AND (o.opened_at IS NOT NULL OR o.clicked_at IS NOT NULL OR o.status IN ('opened', 'clicked')))
                      OR EXISTS (SELECT 1 FROM activities v WHERE v.workspace_id = ?1 AND v.account_id = e.account_id
                             AND v.occurred_at >= e.enrolled_at)), 0) AS responses
         FROM campaign_enrollments e WHERE e.workspace_id = ?1 AND e.campaign_id = ?2`,
    ).bind(ws, c.id, `campaign:${c.id}`),
    ctx.env.DB.prepare(
      `SELECT count(o.id) AS total, coalesce(sum(o.status = 'queued'), 0) AS queued,
              coalesce(sum(o.status IN ('sent', 'delivered', 'opened', 'clicked')), 0) AS sent,
              coalesce(sum(o.opened_at IS NOT NULL OR o.status IN ('opened', 'clicked')), 0) AS opened,
              coalesce(sum(o.clicked_at IS NOT NULL OR o.status = 'clicked'), 0) AS clicked,
              coalesce(sum(o.status IN ('bounced', 'failed', 'suppressed')), 0) AS not_delivered
         FROM campaign_enrollments e
         JOIN outbox_messages o ON o.workspace_id = ?1 AND o.account_id = e.account_id AND o.origin = ?3
        WHERE e.workspace_id = ?1 AND e.campaign_id = ?2`,
    ).bind(ws, c.id, `campaign:${c.id}`),
    ctx.env.DB.prepare(
      `WITH enr AS (
         SELECT e.account_id, substr(e.enrolled_at, 1, 10) AS d,
                (SELECT h.band FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = e.account_id
                    AND h.day = substr(e.enrolled_at, 1, 10)) AS band
           FROM campaign_enrollments e
          WHERE e.workspace_id = ?1 AND e.campaign_id = ?2 AND e.enrolled_at < date(?3, '+1 day')),
       ref AS (SELECT DISTINCT d, band FROM enr WHERE band IS NOT NULL),
       comp AS (
         SELECT DISTINCT a.id AS account_id, ref.d FROM ref
           JOIN accounts a ON a.workspace_id = ?1
           JOIN health_scores h ON h.workspace_id = ?1 AND h.account_id = a.id AND h.day = ref.d AND h.band = ref.band
          WHERE (a.churned_at IS NULL OR substr(a.churned_at, 1, 10) > ref.d)
            AND NOT EXISTS (SELECT 1 FROM campaign_enrollments x WHERE x.workspace_id = ?1 AND x.campaign_id = ?2
                              AND x.account_id = a.id)),
       obs AS (SELECT 'enrolled' AS grp, account_id, d FROM enr UNION ALL SELECT 'comparison', account_id, d FROM comp)
       SELECT obs.grp, count(*) AS n,
              coalesce(sum(NOT (a.churned_at IS NOT NULL AND substr(a.churned_at, 1, 10) <= date(obs.d, '+' || ?4 || ' days'))), 0) AS retained
         FROM obs CROSS JOIN accounts a ON a.workspace_id = ?1 AND a.id = obs.account_id
        GROUP BY obs.grp`,
    ).bind(ws, c.id, cutoff, args.retention_days),
  ]);
  const results = statements.length > 0 ? await ctx.env.DB.batch(statements) : [];
  const report = page.map((c, i) => {
    const counts = results[i * 3]?.results[0] as {
      enrolled: number;
      active: number;
      completed: number;
      responses: number;
    };
    const emails = results[i * 3 + 1]?.results[0] as z.input<typeof reportRow>["emails"];
    const groups = (results[i * 3 + 2]?.results ?? []) as { grp: string; n: number; retained: number }[];
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
        retention_days: args.retention_days,
        enrolled_on_or_before: cutoff,
        enrolled: group("enrolled"),
        comparison: group("comparison"),
      },
    };
  });
  const last = page.at(-1);
  const next = campaigns.length > args.limit && last ? encodeCursor({ k: [], id: last.id, q: fingerprint }) : null;
  const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 1000) / 10}%`);
  return {
    data: { action: "report" as const, report, next_cursor: next },
    text: `${report.length} campaign(s); retention = not churned ${args.retention_days} days after the enrollment day, enrollments on or before ${cutoff}.\n${markdownTable(
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
    )}`,
  };
}
