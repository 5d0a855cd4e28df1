import { z } from "zod";
import { SqlParams } from "../../platform/db/sql-params";
import { newId } from "../../platform/lib/ids";
import { markdownTable } from "../../platform/lib/markdown-table";
import { isoDay } from "../../platform/lib/time";
import { refuseMisplacedFields } from "../../platform/mcp/action-fields";
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
import { workspaceSettings } from "../../records/workspace-settings";
import { PLAYBOOK_LIBRARY } from "../retention/domain/playbooks";
import { openInterventionStatements } from "../retention/queries/interventions";
import { computeStage, DEFAULT_STUCK_DAYS, stageSpans } from "./domain/lifecycle";
import { sqlText } from "./domain/segments";

const ACTIONS = ["list", "evaluate", "move", "history", "stuck"] as const;
/** Moves per write statement: one JSON parameter each, kept well under D1's statement size. */
const MOVE_CHUNK = 500;

/** The fields each action reads; any other field given is refused so a mistake is not silently ignored. */
const FIELDS_BY_ACTION: Record<(typeof ACTIONS)[number], string[]> = {
  list: [],
  evaluate: ["cursor"],
  move: ["account_id", "stage", "reason", "apply_rules"],
  history: ["account_id"],
  stuck: ["thresholds", "cursor"],
};

interface AccountRow {
  id: string;
  name: string;
  lifecycle_stage: string;
  status: string;
  customer_since: string | null;
  renewal_date: string | null;
  health_band: string | null;
  arr: number;
  entered: string | null;
}

/** Accounts with the fields stage rules read and the time of their latest stage change. */
async function loadAccounts(ctx: ToolContext, accountId?: string): Promise<AccountRow[]> {
  const one = accountId ? " AND a.id = ?2" : "";
  const stmt = ctx.env.DB.prepare(
    `SELECT a.id, a.name, a.lifecycle_stage, a.status, a.customer_since, a.renewal_date, a.health_band, a.arr,
            (SELECT max(h.changed_at) FROM account_stage_history h
              WHERE h.workspace_id = ?1 AND h.account_id = a.id) AS entered
       FROM accounts a WHERE a.workspace_id = ?1${one} ORDER BY a.id`,
  );
  const { results } = await (accountId
    ? stmt.bind(ctx.principal.workspaceId, accountId)
    : stmt.bind(ctx.principal.workspaceId)
  ).all<AccountRow>();
  return results;
}

/**
 * Each account's stage entry and whole days in stage to `today` (bound as `?2`): it entered its
 * stage at its latest stage-history row (one index seek per account), else at customer_since
 * (basis null and days null when neither is known).
 */
const STAGE_DAYS_SQL = `
  WITH entries AS MATERIALIZED (
    SELECT a.id, a.name, a.lifecycle_stage, a.arr, a.customer_since,
           (SELECT max(h.changed_at) FROM account_stage_history h
             WHERE h.workspace_id = ?1 AND h.account_id = a.id) AS entered
      FROM accounts a WHERE a.workspace_id = ?1),
  spans AS (
    SELECT id, name, lifecycle_stage AS stage, arr,
           coalesce(nullif(entered, ''), nullif(customer_since, '')) AS since,
           CASE WHEN nullif(entered, '') IS NOT NULL THEN 'history'
                WHEN nullif(customer_since, '') IS NOT NULL THEN 'customer_since' END AS basis
      FROM entries),
  stage_days AS (
    SELECT *, CAST(round(julianday(?2) - julianday(substr(since, 1, 10))) AS INTEGER) AS days FROM spans)`;

const accountStageSchema = z.object({
  account_id: z.string(),
  name: z.string(),
  stored_stage: z.string(),
  computed_stage: z.string().nullable().describe("Stage of the first matching rule; null when none matches."),
  rule: z.number().int().nullable().describe("1-based position of the matching rule."),
  differs: z.boolean(),
});

/** Lifecycle stages: rule evaluation, moves with history and reasons, durations and stuck accounts. */
export const manageLifecycleStages = defineTool({
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
  actions: {
    list: { writes: false },
    evaluate: { writes: false },
    move: { writes: true },
    history: { writes: false },
    stuck: { writes: false },
  },
  examples: [
    { title: "Accounts per lifecycle stage", args: () => ({ action: "list" }) },
    { title: "Which accounts the stage rules would move", args: () => ({ action: "evaluate" }) },
    { title: "An account's stage history", args: (ids) => ({ action: "history", account_id: ids.accountId }) },
    { title: "Accounts stuck in a stage", args: () => ({ action: "stuck" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler(args, ctx) {
    refuseMisplacedFields(args, FIELDS_BY_ACTION[args.action], ["limit"]);
    const today = isoDay(ctx.now);
    const base = { action: args.action, today, next_cursor: null };
    switch (args.action) {
      case "list": {
        // Per stage in SQL: durations counted per day value first, so the middle two known durations
        // (the median) are found on running counts of a few hundred rows, not by ranking every account.
        const { results } = await ctx.env.DB.prepare(
          `${STAGE_DAYS_SQL},
           histogram AS (
             SELECT stage, days, count(*) AS n, sum(arr) AS arr, sum(basis = 'customer_since') AS from_since
               FROM stage_days GROUP BY stage, days),
           running AS (
             SELECT *, sum(CASE WHEN days IS NOT NULL THEN n END)
                         OVER (PARTITION BY stage ORDER BY days ROWS UNBOUNDED PRECEDING) AS up_to,
                       sum(CASE WHEN days IS NOT NULL THEN n END) OVER (PARTITION BY stage) AS known
               FROM histogram)
           SELECT stage, sum(n) AS accounts, sum(arr) AS arr, coalesce(max(known), 0) AS known,
                  coalesce(sum(days * n), 0) AS days_sum, sum(from_since) AS from_since,
                  min(CASE WHEN days IS NOT NULL AND up_to >= (known + 1) / 2 THEN days END) AS mid_low,
                  min(CASE WHEN days IS NOT NULL AND up_to >= (known + 2) / 2 THEN days END) AS mid_high
             FROM running GROUP BY stage`,
        )
          .bind(ctx.principal.workspaceId, today)
          .all<{
            stage: string;
            accounts: number;
            arr: number;
            known: number;
            days_sum: number;
            from_since: number;
            mid_low: number | null;
            mid_high: number | null;
          }>();
        const stages = results
          .sort((x, y) => x.stage.localeCompare(y.stage))
          .map((r) => ({
            stage: r.stage,
            accounts: r.accounts,
            arr: r.arr,
            median_days_in_stage:
              r.mid_low === null || r.mid_high === null
                ? null
                : r.known % 2 === 1
                  ? r.mid_low
                  : (r.mid_low + r.mid_high) / 2,
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
          data: { ...base, stages, accounts_counted: counted },
          text: `${counted} accounts in ${stages.length} stages (days in stage to ${today}; accounts without stage history count from customer_since).\n${table}`,
        };
      }
      case "evaluate": {
        const rules = (await workspaceSettings(ctx)).lifecycle_rules;
        const fingerprint = queryFingerprint(["lifecycle-evaluate"]);
        const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
        const { results } = await ctx.env.DB.prepare(
          `SELECT id, name, lifecycle_stage, status, customer_since, renewal_date, health_band, arr, NULL AS entered
             FROM accounts WHERE workspace_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3`,
        )
          .bind(ctx.principal.workspaceId, after, args.limit + 1)
          .all<AccountRow>();
        const page = results.slice(0, args.limit);
        const accounts = page.map((a) => {
          const c = computeStage(
            {
              status: a.status,
              customerSince: a.customer_since,
              renewalDate: a.renewal_date,
              healthBand: a.health_band,
            },
            rules,
            today,
          );
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
          data: { ...base, accounts, accounts_counted: accounts.length, next_cursor: next },
          text: `${differing} of ${accounts.length} accounts on this page would change stage under the ${rules.length} rules.\n${table}`,
        };
      }
      case "move":
        return move(ctx, args, today);
      case "history": {
        if (!args.account_id) throw new ToolError("history needs account_id.");
        const [account] = await loadAccounts(ctx, args.account_id);
        if (!account) throw notFound("account", args.account_id);
        const { results } = await ctx.env.DB.prepare(
          `SELECT from_stage, to_stage, reason, changed_at FROM account_stage_history
            WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY changed_at, id`,
        )
          .bind(ctx.principal.workspaceId, account.id)
          .all<{ from_stage: string | null; to_stage: string; reason: string | null; changed_at: string }>();
        const history = stageSpans(results, today);
        const table = markdownTable(
          ["changed", "from", "to", "days", "reason"],
          history.map((h) => [h.changed_at.slice(0, 10), h.from_stage, h.to_stage, h.days_in_stage, h.reason]),
        );
        return {
          data: { ...base, history, accounts_counted: 1 },
          text: `${account.name}: ${history.length} stage changes, now ${account.lifecycle_stage}.\n${table}`,
        };
      }
      case "stuck": {
        const thresholds: Record<string, number> = { ...DEFAULT_STUCK_DAYS, ...args.thresholds };
        const fingerprint = queryFingerprint(["lifecycle-stuck", thresholds]);
        const p = new SqlParams();
        p.add(ctx.principal.workspaceId);
        p.add(today);
        let afterPosition = "";
        if (args.cursor) {
          const pos = decodeCursor(args.cursor, fingerprint);
          const days = p.add(Number(pos.k[0]));
          afterPosition = ` WHERE days < ${days} OR (days = ${days} AND id > ${p.add(pos.id)})`;
        }
        const limit = p.add(args.limit + 1);
        const thresholdSql = `CASE stage ${Object.entries(thresholds)
          .map(([stage, days]) => `WHEN ${sqlText(stage)} THEN ${Number(days)}`)
          .join(" ")} END`;
        // Stuck accounts found and ranked in SQL (longest in stage first, then by id); the first row
        // carries the counts, one page follows.
        const { results } = await ctx.env.DB.prepare(
          `${STAGE_DAYS_SQL},
           stuck AS MATERIALIZED (
             SELECT id, name, stage, days, threshold, since, basis
               FROM (SELECT *, ${thresholdSql} AS threshold FROM stage_days WHERE basis IS NOT NULL)
              WHERE days > threshold)
           SELECT NULL AS id, NULL AS name, NULL AS stage, NULL AS days, NULL AS threshold, NULL AS since, NULL AS basis,
                  (SELECT count(*) FROM entries) AS accounts_count, (SELECT count(*) FROM stuck) AS stuck_count
           UNION ALL
           SELECT *, NULL, NULL FROM (SELECT * FROM stuck${afterPosition} ORDER BY days DESC, id LIMIT ${limit})`,
        )
          .bind(...p.values)
          .all<{
            id: string;
            name: string;
            stage: string;
            days: number;
            threshold: number;
            since: string;
            basis: "history" | "customer_since";
            accounts_count: number | null;
            stuck_count: number | null;
          }>();
        const [totals, ...rows] = results;
        const accountsCount = totals!.accounts_count ?? 0;
        const stuckCount = totals!.stuck_count ?? 0;
        const stuck = rows.slice(0, args.limit).map((r) => ({
          account_id: r.id,
          name: r.name,
          stage: r.stage,
          days_in_stage: r.days,
          threshold_days: r.threshold,
          since: r.since,
          basis: r.basis,
        }));
        const last = stuck.at(-1);
        const next =
          rows.length > args.limit && last
            ? encodeCursor({ k: [last.days_in_stage], id: last.account_id, q: fingerprint })
            : null;
        const table = markdownTable(
          ["account", "stage", "days", "threshold"],
          stuck.map((s) => [s.account_id, s.stage, s.days_in_stage, s.threshold_days]),
        );
        return {
          data: { ...base, stuck, thresholds, accounts_counted: accountsCount, next_cursor: next },
          text: `${stuckCount} of ${accountsCount} accounts stuck beyond their stage threshold.\n${table}`,
        };
      }
    }
  },
});

async function move(
  ctx: ToolContext,
  args: { account_id?: string; stage?: string; reason?: string; apply_rules?: boolean; limit: number },
  today: string,
) {
  const nowIso = ctx.now.toISOString();
  const settings = await workspaceSettings(ctx);
  let moves: { account_id: string; from_stage: string; to_stage: string; reason: string }[];
  let considered: number;
  if (args.apply_rules) {
    if (args.account_id || args.stage)
      throw new ToolError("Give either apply_rules: true or account_id with stage, not both.");
    const rules = settings.lifecycle_rules;
    const rows = await loadAccounts(ctx);
    considered = rows.length;
    moves = rows.flatMap((a) => {
      const c = computeStage(
        { status: a.status, customerSince: a.customer_since, renewalDate: a.renewal_date, healthBand: a.health_band },
        rules,
        today,
      );
      return c && c.stage !== a.lifecycle_stage
        ? [{ account_id: a.id, from_stage: a.lifecycle_stage, to_stage: c.stage, reason: `rule:${c.rule}` }]
        : [];
    });
  } else {
    if (!args.account_id || !args.stage || !args.reason) {
      throw new ToolError("move needs account_id, stage and reason, or apply_rules: true.");
    }
    const [account] = await loadAccounts(ctx, args.account_id);
    if (!account) throw notFound("account", args.account_id);
    considered = 1;
    moves =
      account.lifecycle_stage === args.stage
        ? []
        : [{ account_id: account.id, from_stage: account.lifecycle_stage, to_stage: args.stage, reason: args.reason }];
  }
  // History first, then the stage, each only where the stored stage is still the one read: a change made
  // meanwhile by another caller is neither overwritten nor recorded twice. One batch is one transaction.
  const recorded = moves.map((m) => ({ ...m, id: newId("stg") }));
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < recorded.length; i += MOVE_CHUNK) {
    const chunk = JSON.stringify(recorded.slice(i, i + MOVE_CHUNK));
    statements.push(
      ctx.env.DB.prepare(
        `INSERT INTO account_stage_history (id, workspace_id, account_id, from_stage, to_stage, reason, changed_at)
         SELECT json_extract(j.value, '$.id'), ?1, a.id, a.lifecycle_stage, json_extract(j.value, '$.to_stage'),
                json_extract(j.value, '$.reason'), ?3
           FROM json_each(?2) j JOIN accounts a ON a.workspace_id = ?1 AND a.id = json_extract(j.value, '$.account_id')
                AND a.lifecycle_stage = json_extract(j.value, '$.from_stage')`,
      ).bind(ctx.principal.workspaceId, chunk, nowIso),
      ctx.env.DB.prepare(
        // By primary key from the id list (\`+workspace_id\`), not once per account of the workspace.
        `UPDATE accounts SET lifecycle_stage = j.to_stage, updated_at = ?3
           FROM (SELECT value ->> '$.account_id' AS id, value ->> '$.to_stage' AS to_stage,
                        value ->> '$.from_stage' AS from_stage FROM json_each(?2)) AS j
          WHERE +accounts.workspace_id = ?1 AND accounts.id = j.id AND accounts.lifecycle_stage = j.from_stage`,
      ).bind(ctx.principal.workspaceId, chunk, nowIso),
    );
  }
  const moveStatements = statements.length;
  // Entering a stage with a playbook opens its intervention, in the same batch and only for moves that happened.
  const playbooks = settings.lifecycle_playbooks;
  const openings = recorded.flatMap((m) => {
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
  const opening = openInterventionStatements(
    ctx.env.DB,
    { workspaceId: ctx.principal.workspaceId, createdBy: ctx.principal.userId, now: ctx.now, today },
    openings,
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
