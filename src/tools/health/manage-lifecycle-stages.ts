import { z } from "zod";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { isoDay } from "../../platform/lib/time";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
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
import { PLAYBOOK_LIBRARY } from "../retention/domain/playbooks";
import { openInterventionStatements } from "../retention/queries/interventions";
import { computeStage, DEFAULT_STUCK_DAYS, type LifecycleRule, stageSpans } from "./domain/lifecycle";
import {
  type LifecycleAccountRow,
  lifecycleAccounts,
  lifecycleAccountsPage,
  type StageMove,
  stageHistory,
  stageMoveStatements,
  stageSummaries,
  stuckAccounts,
} from "./queries/lifecycle";

const ACTIONS = ["list", "evaluate", "move", "history", "stuck"] as const;

const accountStageSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  stored_stage: z.string(),
  computed_stage: z.string().nullable().describe("Stage of the first matching rule; null when none matches."),
  rule: z.number().int().nullable().describe("1-based position of the matching rule."),
  differs: z.boolean(),
});

/** Lifecycle stages: rule evaluation, moves with history and reasons, durations and stuck accounts. */
export const manageLifecycleStages = defineActionTool({
  name: "manage_lifecycle_stages",
  title: "Lifecycle stages",
  toolset: "health",
  description:
    "Lifecycle stages from the ordered rules in settings lifecycle_rules (first match wins; contract age = days since customer_since; renewal_within_days = renewal_date 0..value days ahead). " +
    "list: accounts and ARR per stored stage, with median/mean days in the current stage (since the latest stage-history row, else since customer_since, counted separately). " +
    "evaluate: each account's computed stage without writing, flagging differences (paginated; an account no rule matches keeps its stage). " +
    "move (csm+): one account to a given stage with a reason, or apply_rules: true to move every account whose computed stage differs (reason rule:<n>); writes the stage and one history row per moved account. " +
    "history: one account's stage changes with days in each stage. " +
    "stuck: accounts longer in their stage than a threshold (defaults onboarding 90, adoption 180, renewal 120, at_risk 60 days; override with thresholds). " +
    "Entering a stage named in settings lifecycle_playbooks (stage → playbook) opens an intervention from that playbook for the account's owner (see execute_retention_campaign), in the same transaction as the move.",
  input: {
    action: z.enum(ACTIONS).describe("list, evaluate, move, history or stuck."),
    account_id: z.string().min(1).max(100).optional().describe("move/history: the account."),
    stage: z.string().min(1).max(50).optional().describe("move: the stage to move account_id to."),
    reason: z.string().min(1).max(500).optional().describe("move: why the account moves (required with stage)."),
    apply_rules: z.boolean().optional().describe("move: true moves every account whose computed stage differs."),
    thresholds: z
      .record(z.string().min(1).max(50), z.number().int().min(1).max(3650))
      .optional()
      .describe('stuck: days per stage overriding the defaults, e.g. {"onboarding": 60}.'),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    today: z.string().describe("The UTC day durations are counted to."),
    stages: z
      .array(
        z.object({
          stage: z.string(),
          accounts: z.number().int(),
          arr: z.number(),
          median_days_in_stage: z.number().nullable(),
          mean_days_in_stage: z.number().nullable(),
          accounts_counted: z.number().int().describe("Accounts with a known stage entry."),
          counted_from_customer_since: z
            .number()
            .int()
            .describe("Accounts without history, counted from customer_since."),
        }),
      )
      .optional()
      .describe("list: stages by stored stage."),
    accounts: z.array(accountStageSchema).optional().describe("evaluate: this page of accounts by id."),
    moved: z
      .array(z.object({ account_id: z.string(), from_stage: z.string(), to_stage: z.string(), reason: z.string() }))
      .optional()
      .describe("move: accounts moved (at most limit listed; moved_count has all)."),
    moved_count: z.number().int().optional().describe("move: accounts moved."),
    changed_meanwhile: z
      .number()
      .int()
      .optional()
      .describe("move: planned moves skipped because the stored stage changed since it was read."),
    interventions_opened: z
      .number()
      .int()
      .optional()
      .describe("move: interventions opened by stage playbooks (settings lifecycle_playbooks)."),
    history: z
      .array(
        z.object({
          from_stage: z.string().nullable(),
          to_stage: z.string(),
          reason: z.string().nullable(),
          changed_at: z.string(),
          days_in_stage: z.number().int(),
          current: z.boolean(),
        }),
      )
      .optional()
      .describe("history: changes, oldest first."),
    stuck: z
      .array(
        z.object({
          account_id: z.string(),
          name: z.string(),
          stage: z.string(),
          days_in_stage: z.number().int(),
          threshold_days: z.number().int(),
          since: z.string(),
          basis: z.enum(["history", "customer_since"]),
        }),
      )
      .optional()
      .describe("stuck: this page, longest in stage first."),
    thresholds: z.record(z.string(), z.number()).optional().describe("stuck: thresholds applied."),
    accounts_counted: z.number().int().describe("Accounts considered."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Accounts per lifecycle stage", args: () => ({ action: "list" }) },
    { title: "Which accounts the stage rules would move", args: () => ({ action: "evaluate" }) },
    { title: "An account's stage history", args: (ids) => ({ action: "history", account_id: ids.accountId }) },
    { title: "Accounts stuck in a stage", args: () => ({ action: "stuck" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  commonFields: ["limit"],
  actions: {
    list: { writes: false, fields: [], run: (_args, ctx) => listStages(ctx) },
    evaluate: { writes: false, fields: ["cursor"], run: (args, ctx) => evaluateStages(ctx, args) },
    move: {
      writes: true,
      fields: ["account_id", "stage", "reason", "apply_rules"],
      run: (args, ctx) => move(ctx, args),
    },
    history: { writes: false, fields: ["account_id"], run: (args, ctx) => history(ctx, args) },
    stuck: { writes: false, fields: ["thresholds", "cursor"], run: (args, ctx) => stuck(ctx, args) },
  },
});

/** The arguments the actions read. */
interface LifecycleArgs {
  account_id?: string;
  stage?: string;
  reason?: string;
  apply_rules?: boolean;
  thresholds?: Record<string, number>;
  limit: number;
  cursor?: string;
}

/** Fields every answer carries. */
function base(action: (typeof ACTIONS)[number], today: string) {
  return { action, today, next_cursor: null };
}

/** list: accounts, ARR and days in stage per stored stage. */
async function listStages(ctx: ToolContext) {
  const today = isoDay(ctx.now);
  const results = await stageSummaries(ctx.env.DB, ctx.principal.workspaceId, today);
  const stages = results
    .sort((x, y) => x.stage.localeCompare(y.stage))
    .map((r) => ({
      stage: r.stage,
      accounts: r.accounts,
      arr: r.arr,
      median_days_in_stage:
        r.mid_low === null || r.mid_high === null ? null : r.known % 2 === 1 ? r.mid_low : (r.mid_low + r.mid_high) / 2,
      mean_days_in_stage: r.known ? Math.round((r.days_sum / r.known) * 10) / 10 : null,
      accounts_counted: r.known,
      counted_from_customer_since: r.from_since,
    }));
  const counted = stages.reduce((s, st) => s + st.accounts, 0);
  const table = markdownTable(
    ["stage", "accounts", "ARR", "median days", "mean days"],
    stages.map((s) => [s.stage, s.accounts, s.arr, s.median_days_in_stage, s.mean_days_in_stage]),
  );
  return {
    data: { ...base("list", today), stages, accounts_counted: counted },
    text: `${counted} accounts in ${stages.length} stages (days in stage to ${today}; accounts without stage history count from customer_since).\n${table}`,
  };
}

/** The stage the first matching rule gives an account on `today`, or null. */
function stageOf(a: LifecycleAccountRow, rules: readonly LifecycleRule[], today: string) {
  return computeStage(
    { status: a.status, customerSince: a.customer_since, renewalDate: a.renewal_date, healthBand: a.health_band },
    rules,
    today,
  );
}

/** evaluate: one page of accounts with their computed stage, without writing. */
async function evaluateStages(ctx: ToolContext, args: LifecycleArgs) {
  const today = isoDay(ctx.now);
  const rules = (await workspaceSettings(ctx)).lifecycle_rules;
  const fingerprint = queryFingerprint(["lifecycle-evaluate"]);
  const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
  const results = await lifecycleAccountsPage(ctx.env.DB, ctx.principal.workspaceId, { after, limit: args.limit });
  const page = results.slice(0, args.limit);
  const accounts = page.map((a) => {
    const c = stageOf(a, rules, today);
    return {
      account_id: a.id,
      name: a.name,
      stored_stage: a.lifecycle_stage,
      computed_stage: c?.stage ?? null,
      rule: c?.rule ?? null,
      differs: c !== null && c.stage !== a.lifecycle_stage,
    };
  });
  const last = page.at(-1);
  const next = results.length > args.limit && last ? encodeCursor({ k: [], id: last.id, q: fingerprint }) : null;
  const differing = accounts.filter((a) => a.differs).length;
  const table = markdownTable(
    ["account", "stored", "computed", "rule"],
    accounts.filter((a) => a.differs).map((a) => [a.account_id, a.stored_stage, a.computed_stage, a.rule]),
  );
  return {
    data: { ...base("evaluate", today), accounts, accounts_counted: accounts.length, next_cursor: next },
    text: `${differing} of ${accounts.length} accounts on this page would change stage under the ${rules.length} rules.\n${table}`,
  };
}

/** history: one account's stage changes with days in each stage. */
async function history(ctx: ToolContext, args: LifecycleArgs) {
  const today = isoDay(ctx.now);
  if (!args.account_id) throw new ToolError("history needs account_id.");
  const account = await requireAccount(ctx.env.DB, ctx.principal.workspaceId, args.account_id);
  const changes = await stageHistory(ctx.env.DB, ctx.principal.workspaceId, account.id);
  const spans = stageSpans(changes, today);
  const table = markdownTable(
    ["changed", "from", "to", "days", "reason"],
    spans.map((h) => [h.changed_at.slice(0, 10), h.from_stage, h.to_stage, h.days_in_stage, h.reason]),
  );
  return {
    data: { ...base("history", today), history: spans, accounts_counted: 1 },
    text: `${account.name}: ${spans.length} stage changes, now ${account.lifecycle_stage}.\n${table}`,
  };
}

/** stuck: accounts longer in their stage than its threshold, longest first. */
async function stuck(ctx: ToolContext, args: LifecycleArgs) {
  const today = isoDay(ctx.now);
  const thresholds: Record<string, number> = { ...DEFAULT_STUCK_DAYS, ...args.thresholds };
  const fingerprint = queryFingerprint(["lifecycle-stuck", thresholds]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const found = await stuckAccounts(ctx.env.DB, ctx.principal.workspaceId, {
    today,
    thresholds,
    after: position ? { days: Number(position.k[0]), id: position.id } : null,
    limit: args.limit,
  });
  const rows = found.rows;
  const stuckRows = rows.slice(0, args.limit).map((r) => ({
    account_id: r.id,
    name: r.name,
    stage: r.stage,
    days_in_stage: r.days,
    threshold_days: r.threshold,
    since: r.since,
    basis: r.basis,
  }));
  const last = stuckRows.at(-1);
  const next =
    rows.length > args.limit && last
      ? encodeCursor({ k: [last.days_in_stage], id: last.account_id, q: fingerprint })
      : null;
  const table = markdownTable(
    ["account", "stage", "days", "threshold"],
    stuckRows.map((s) => [s.account_id, s.stage, s.days_in_stage, s.threshold_days]),
  );
  return {
    data: {
      ...base("stuck", today),
      stuck: stuckRows,
      thresholds,
      accounts_counted: found.accounts,
      next_cursor: next,
    },
    text: `${found.stuck} of ${found.accounts} accounts stuck beyond their stage threshold.\n${table}`,
  };
}

/** The moves a move call asks for: every account whose computed stage differs (apply_rules), or one account. */
async function plannedMoves(
  ctx: ToolContext,
  args: LifecycleArgs,
  rules: readonly LifecycleRule[],
  today: string,
): Promise<{ moves: Omit<StageMove, "id">[]; considered: number }> {
  if (args.apply_rules) {
    if (args.account_id || args.stage)
      throw new ToolError("Give either apply_rules: true or account_id with stage, not both.");
    const rows = await lifecycleAccounts(ctx.env.DB, ctx.principal.workspaceId);
    const moves = rows.flatMap((a) => {
      const c = stageOf(a, rules, today);
      return c && c.stage !== a.lifecycle_stage
        ? [{ account_id: a.id, from_stage: a.lifecycle_stage, to_stage: c.stage, reason: `rule:${c.rule}` }]
        : [];
    });
    return { moves, considered: rows.length };
  }
  if (!args.account_id || !args.stage || !args.reason) {
    throw new ToolError("move needs account_id, stage and reason, or apply_rules: true.");
  }
  const account = await requireAccount(ctx.env.DB, ctx.principal.workspaceId, args.account_id);
  const moves =
    account.lifecycle_stage === args.stage
      ? []
      : [{ account_id: account.id, from_stage: account.lifecycle_stage, to_stage: args.stage, reason: args.reason }];
  return { moves, considered: 1 };
}

/** The interventions that moves into a stage with a playbook (settings lifecycle_playbooks) open. */
function playbookOpenings(recorded: readonly StageMove[], playbooks: Record<string, keyof typeof PLAYBOOK_LIBRARY>) {
  return recorded.flatMap((m) => {
    const playbook = playbooks[m.to_stage];
    return playbook
      ? [
          {
            accountId: m.account_id,
            playbook,
            steps: PLAYBOOK_LIBRARY[playbook].steps,
            ownerUserId: null,
            reason: `entered stage ${m.to_stage}`,
            ifHistoryId: m.id,
          },
        ]
      : [];
  });
}

/** move: one account to a stage, or every account whose computed stage differs; opens stage playbooks. */
async function move(ctx: ToolContext, args: LifecycleArgs) {
  const today = isoDay(ctx.now);
  const nowIso = ctx.now.toISOString();
  const settings = await workspaceSettings(ctx);
  const { moves, considered } = await plannedMoves(ctx, args, settings.lifecycle_rules, today);
  // History first, then the stage, each only where the stored stage is still the one read: a change made
  // meanwhile by another caller is neither overwritten nor recorded twice. One batch is one transaction.
  const recorded = moves.map((m) => ({ ...m, id: newId("stg") }));
  const statements = stageMoveStatements(ctx.env.DB, ctx.principal.workspaceId, { moves: recorded, now: nowIso });
  const moveStatements = statements.length;
  // Entering a stage with a playbook opens its intervention, in the same batch and only for moves that happened.
  const opening = openInterventionStatements(
    ctx.env.DB,
    { workspaceId: ctx.principal.workspaceId, createdBy: ctx.principal.userId, now: ctx.now, today },
    playbookOpenings(recorded, settings.lifecycle_playbooks),
  );
  statements.push(...opening.statements);
  const results = statements.length > 0 ? await ctx.env.DB.batch(statements) : [];
  const changed = results.slice(0, moveStatements).reduce((sum, r, i) => sum + (i % 2 === 1 ? r.meta.changes : 0), 0);
  const opened = results
    .slice(moveStatements, moveStatements + opening.interventionInserts)
    .reduce((sum, r) => sum + r.meta.changes, 0);
  ctx.audit({
    action: args.apply_rules ? "apply_stage_rules" : "move_stage",
    targetType: "account",
    targetId: args.account_id,
    details: {
      moved: changed,
      interventions_opened: opened,
      accounts: moves.slice(0, 50).map((m) => `${m.account_id}:${m.from_stage}>${m.to_stage}`),
    },
  });
  const table = markdownTable(
    ["account", "from", "to", "reason"],
    moves.slice(0, args.limit).map((m) => [m.account_id, m.from_stage, m.to_stage, m.reason]),
  );
  return {
    data: {
      action: "move" as const,
      today,
      moved: moves.slice(0, args.limit),
      moved_count: changed,
      changed_meanwhile: moves.length - changed,
      interventions_opened: opened,
      accounts_counted: considered,
      next_cursor: null,
    },
    text: `Moved ${changed} of ${considered} accounts${moves.length > changed ? ` (${moves.length - changed} changed stage meanwhile and were left as they are)` : ""}${opened > 0 ? `; ${opened} stage playbook intervention(s) opened` : ""}.\n${table}`,
  };
}
