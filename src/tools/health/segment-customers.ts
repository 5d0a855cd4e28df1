import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { isoDay } from "../../platform/lib/time";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
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
  evaluateAll,
  evaluatedOut,
  factWindows,
  labelTotals,
  type Rule,
  ruleTexts,
  segmentMakeup,
} from "./domain/segments";
import { accountFacts, assignLabelStatements, evaluatePage, labelMakeup } from "./queries/segments";

const ACTIONS = ["list", "evaluate", "assign"] as const;

/** Output shape shared by segment and tier evaluation rows. */
export const evaluatedRow = z.object({
  account_id: z.string(),
  name: z.string(),
  stored: z.string().nullable().describe("Label stored on the account now."),
  computed: z.string().nullable().describe("Label from the rules (null when no definition matched)."),
  matched_rule: z.string().nullable().describe("The rule that matched, or catch-all."),
  differs: z.boolean(),
  facts: z
    .record(z.string(), z.union([z.string(), z.number(), z.null()]))
    .describe("Facts the rules test; usage_events_30d and arr_growth over the stated windows."),
});

/** Windows output field. */
export const windowsField = z
  .object({ usage_from: z.string(), usage_to: z.string(), arr_growth_reference_day: z.string() })
  .describe(
    "usage_events_30d sums usage_daily events over usage_from..usage_to; arr_growth compares ARR with contracts active on the reference day.",
  );

const bandMix = z.object({
  green: z.number().int(),
  yellow: z.number().int(),
  red: z.number().int(),
  unscored: z.number().int(),
});

/** Segment definitions, their live make-up, per-account evaluation and assignment. */
export const segmentCustomers = defineActionTool({
  name: "segment_customers",
  title: "Customer segments",
  toolset: "health",
  description:
    "Customer segments from the workspace settings (`segments`: ordered definitions; an account belongs to the first whose rules match, any rule of a definition suffices, no rules = catch-all). " +
    "Rule fields: arr, employees, industry, region, plan, health_score (account columns), usage_events_30d (usage events summed over the 30 complete UTC days before today) and arr_growth ((ARR now − ARR of contracts active 365 days ago) / the latter, null when there was none). " +
    "action list: each definition with, from the accounts' computed segment: account count, ARR, health band mix (stored band, unscored when none), coverage model and accounts and ARR per owner. " +
    "evaluate: each account's computed segment and matched rule without writing, paginated by id, with how many stored segments differ. " +
    "assign (csm or admin): writes accounts.segment where it differs and returns the counts.",
  input: {
    action: z.enum(ACTIONS).describe("list, evaluate or assign."),
    only_differing: z.boolean().default(false).describe("evaluate: only accounts whose stored segment differs."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    windows: windowsField,
    accounts_counted: z.number().int().describe("Accounts of the workspace evaluated."),
    differing: z
      .number()
      .int()
      .describe("Accounts whose stored segment differs from the computed one (before assign)."),
    updated: z.number().int().optional().describe("assign: rows written."),
    segments: z
      .array(
        z.object({
          name: z.string(),
          coverage: z.string(),
          rules: z.array(z.string()),
          accounts: z.number().int(),
          arr: z.number(),
          health_bands: bandMix,
          per_owner: z.array(
            z.object({
              owner_user_id: z.string().nullable(),
              owner_name: z.string().nullable(),
              accounts: z.number().int(),
              arr: z.number(),
            }),
          ),
        }),
      )
      .optional()
      .describe("list: each definition with its make-up."),
    unmatched: z.number().int().optional().describe("list: accounts no definition matched."),
    accounts: z.array(evaluatedRow).optional().describe("evaluate: this page."),
    next_cursor: nextCursorField.optional(),
  },
  minRole: "viewer",
  examples: [
    { title: "Segments and their accounts", args: () => ({ action: "list" }) },
    { title: "Which accounts the segment rules would move", args: () => ({ action: "evaluate" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  // only_differing has a default, so every call carries it.
  commonFields: ["limit", "only_differing"],
  actions: {
    list: { writes: false, fields: [], run: async (_args, ctx) => listSegments(ctx) },
    evaluate: {
      writes: false,
      fields: ["only_differing", "cursor"],
      run: async (args, ctx) => evaluateLabels(ctx, args, (await workspaceSettings(ctx)).segments, "segment"),
    },
    assign: {
      writes: true,
      role: "csm",
      fields: [],
      run: async (_args, ctx) => assignLabels(ctx, (await workspaceSettings(ctx)).segments, "segment"),
    },
  },
});

/** Plural label of each stored column, as the answers name it. */
const LABELS = { segment: "segments", tier: "tiers" } as const;

type Definitions = readonly { name: string; rules: readonly Rule[] }[];

/** assign (segments and tiers): writes the computed label where it differs from the stored one. */
export async function assignLabels(ctx: ToolContext, definitions: Definitions, column: "segment" | "tier") {
  const label = LABELS[column];
  const windows = factWindows(isoDay(ctx.now));
  const rows = await accountFacts(ctx.env.DB, ctx.principal.workspaceId, windows);
  const evaluated = evaluateAll(rows, definitions, column);
  const differing = evaluated.filter((e) => e.match.name !== e.stored).length;
  const changes = evaluated.filter((e) => e.match.name !== e.stored).map((e) => ({ id: e.id, v: e.match.name }));
  const statements = assignLabelStatements(ctx.env.DB, ctx.principal.workspaceId, {
    changes,
    column,
    now: ctx.now.toISOString(),
  });
  if (statements.length > 0) await ctx.env.DB.batch(statements);
  ctx.audit({
    action: `assign_${label}`,
    targetType: "workspace",
    targetId: ctx.principal.workspaceId,
    details: { updated: changes.length, accounts_counted: evaluated.length },
  });
  return {
    data: {
      action: "assign" as const,
      windows,
      accounts_counted: evaluated.length,
      differing,
      updated: changes.length,
    },
    text: `Assigned ${label}: ${changes.length} of ${evaluated.length} accounts changed.`,
  };
}

/** evaluate (segments and tiers): pages through the accounts' computed labels without writing. */
export async function evaluateLabels(
  ctx: ToolContext,
  args: { only_differing: boolean; limit: number; cursor?: string | undefined },
  definitions: Definitions,
  column: "segment" | "tier",
) {
  const label = LABELS[column];
  const fingerprint = queryFingerprint([label, args.only_differing]);
  const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
  const windows = factWindows(isoDay(ctx.now));
  const { accounts, differing, rows } = await evaluatePage(ctx.env.DB, ctx.principal.workspaceId, {
    definitions,
    column,
    windows,
    onlyDiffering: args.only_differing,
    after,
    limit: args.limit,
  });
  const evaluated = evaluateAll(rows.slice(0, args.limit), definitions, column);
  const last = evaluated.at(-1);
  const next = rows.length > args.limit && last ? encodeCursor({ k: [], id: last.id, q: fingerprint }) : null;
  const out = evaluatedOut(evaluated);
  return {
    data: {
      action: "evaluate" as const,
      windows,
      accounts_counted: accounts,
      differing,
      accounts: out,
      next_cursor: next,
    },
    text: [
      `${accounts} accounts evaluated; ${differing} stored ${label} differ.`,
      markdownTable(
        ["Account", "Stored", "Computed", "Rule"],
        out.map((o) => [o.name, o.stored, o.computed, o.matched_rule]),
      ),
    ].join("\n"),
  };
}

/** list: each segment definition with the make-up of the accounts computed into it. */
async function listSegments(ctx: ToolContext) {
  const definitions = (await workspaceSettings(ctx)).segments;
  const windows = factWindows(isoDay(ctx.now));
  const { groups, accounts, differing } = await labelMakeup(ctx.env.DB, ctx.principal.workspaceId, {
    definitions,
    column: "segment",
    windows,
  });
  const segments = definitions.map((def) => ({
    name: def.name,
    coverage: def.coverage,
    rules: ruleTexts(def.rules),
    ...labelTotals(groups, def.name),
    ...segmentMakeup(groups, def.name),
  }));
  const unmatched = groups.filter((g) => g.computed === null).reduce((s, g) => s + g.accounts, 0);
  return {
    data: { action: "list" as const, windows, accounts_counted: accounts, differing, segments, unmatched },
    text: [
      `${segments.length} segments over ${accounts} accounts (${differing} stored segments differ).`,
      markdownTable(
        ["Segment", "Coverage", "Accounts", "ARR", "G/Y/R/–", "Owners"],
        segments.map((s) => [
          s.name,
          s.coverage,
          s.accounts,
          s.arr,
          `${s.health_bands.green}/${s.health_bands.yellow}/${s.health_bands.red}/${s.health_bands.unscored}`,
          s.per_owner.length,
        ]),
      ),
    ].join("\n"),
  };
}
