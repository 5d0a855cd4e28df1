import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { median, round } from "../../platform/lib/stats";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
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
import { workspaceSettings } from "../../records/workspace-settings";
import {
  slaBreaches as breachesOf,
  factWindows,
  labelTotals,
  type Rule,
  ruleTexts,
  type ServiceLevels,
} from "./domain/segments";
import { labelMakeup } from "./queries/segments";
import { type BreachRow, tierSlaBreaches } from "./queries/tiers";
import { assignLabels, evaluatedRow, evaluateLabels, windowsField } from "./segment-customers";

/** Window of tickets whose first response is measured for check_sla. */
export const SLA_TICKET_WINDOW_DAYS = 90;

const ACTIONS = ["list", "evaluate", "assign", "check_sla"] as const;

const breachRow = z.object({
  account_id: z.string(),
  name: z.string(),
  tier: z.string(),
  owner_user_id: z.string().nullable(),
  tickets_measured: z.number().int().describe("Tickets created in the window with a first response."),
  median_first_response_hours: z.number().nullable(),
  response_sla_hours: z.number(),
  last_meeting_at: z.string().nullable(),
  days_since_meeting: z.number().int().nullable().describe("Null when no meeting was ever logged."),
  ebr_cadence_days: z.number().int(),
  dedicated_csm: z.boolean(),
  breaches: z.array(z.enum(["response", "ebr", "owner"])),
});

/** Value tiers from settings, their evaluation and assignment, and a service-level check per account. */
export const segmentByValueTier = defineActionTool({
  name: "segment_by_value_tier",
  title: "Value tiers and service levels",
  toolset: "health",
  description:
    "Value tiers from the workspace settings (`tiers`: ordered, first match wins, same rule fields as segments) with the service each owes (response_sla_hours, ebr_cadence_days, dedicated_csm). " +
    "action list: each tier with its account count and ARR from the computed tier. evaluate: each account's computed tier and matched rule without writing, paginated, with how many stored tiers differ. assign (csm or admin): writes accounts.tier where it differs. " +
    "check_sla: for accounts of each computed tier (or only `tier`), the median first-response hours of tickets created in the last 90 days (tickets with a first response) vs response_sla_hours, days since the last meeting activity vs ebr_cadence_days (no meeting ever = breach), and an owner when dedicated_csm; lists accounts in breach with the numbers, paginated by id.",
  input: {
    action: z.enum(ACTIONS).describe("list, evaluate, assign or check_sla."),
    tier: z.string().min(1).max(50).optional().describe("check_sla: only this tier."),
    only_differing: z.boolean().default(false).describe("evaluate: only accounts whose stored tier differs."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    windows: windowsField,
    accounts_counted: z.number().int().describe("Accounts of the workspace evaluated."),
    differing: z.number().int().describe("Accounts whose stored tier differs from the computed one (before assign)."),
    updated: z.number().int().optional().describe("assign: rows written."),
    tiers: z
      .array(
        z.object({
          name: z.string(),
          rules: z.array(z.string()),
          service: z.object({
            response_sla_hours: z.number(),
            ebr_cadence_days: z.number().int(),
            dedicated_csm: z.boolean(),
          }),
          accounts: z.number().int(),
          arr: z.number(),
        }),
      )
      .optional()
      .describe("list: each tier."),
    accounts: z.array(evaluatedRow).optional().describe("evaluate: this page."),
    sla_window: z
      .object({ tickets_from: z.string(), today: z.string() })
      .optional()
      .describe("check_sla: tickets created from tickets_from are measured; meeting age is counted to today."),
    accounts_checked: z.number().int().optional().describe("check_sla: accounts in the checked tiers."),
    in_breach: z.number().int().optional().describe("check_sla: accounts missing at least one level."),
    breaches: z.array(breachRow).optional().describe("check_sla: this page of accounts in breach."),
    next_cursor: nextCursorField.optional(),
  },
  minRole: "viewer",
  examples: [
    { title: "Value tiers and their accounts", args: () => ({ action: "list" }) },
    { title: "Which accounts the tier rules would move", args: () => ({ action: "evaluate" }) },
    { title: "Accounts behind their coverage SLA", args: () => ({ action: "check_sla" }) },
    { title: "One tier's SLA", args: (ids) => ({ action: "check_sla", tier: ids.tier }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  // only_differing has a default, so every call carries it.
  commonFields: ["limit", "only_differing"],
  actions: {
    list: { writes: false, fields: [], run: async (_args, ctx) => listTiers(ctx) },
    evaluate: {
      writes: false,
      fields: ["only_differing", "cursor"],
      run: async (args, ctx) => evaluateLabels(ctx, args, (await workspaceSettings(ctx)).tiers, "tier"),
    },
    assign: {
      writes: true,
      role: "csm",
      fields: [],
      run: async (_args, ctx) => assignLabels(ctx, (await workspaceSettings(ctx)).tiers, "tier"),
    },
    check_sla: { writes: false, fields: ["tier", "cursor"], run: (args, ctx) => checkSla(ctx, args) },
  },
});

type TierDefinition = { name: string; rules: readonly Rule[]; service: ServiceLevels };

/** check_sla: accounts of each computed tier (or one) that miss a service level, with the numbers. */
async function checkSla(
  ctx: ToolContext,
  args: { tier?: string | undefined; limit: number; cursor?: string | undefined },
) {
  const definitions = (await workspaceSettings(ctx)).tiers;
  if (args.tier && !definitions.some((d) => d.name === args.tier)) {
    throw new ToolError(`No tier named "${args.tier}"; tiers are ${definitions.map((d) => d.name).join(", ")}.`);
  }
  const today = isoDay(ctx.now);
  const ticketsFrom = addDays(today, -SLA_TICKET_WINDOW_DAYS);
  const fingerprint = queryFingerprint(["tier_sla", args.tier ?? null, today]);
  const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
  const windows = factWindows(today);
  const { accounts, differing, checked, breaching, page } = await tierSlaBreaches(
    ctx.env.DB,
    ctx.principal.workspaceId,
    definitions,
    { windows, tier: args.tier ?? null, ticketsFrom, today, after, limit: args.limit },
  );
  const rowsOut = page.slice(0, args.limit).map((b) => breachOut(b, definitions, today));
  const last = rowsOut.at(-1);
  const next = page.length > args.limit && last ? encodeCursor({ k: [], id: last.account_id, q: fingerprint }) : null;
  return {
    data: {
      action: "check_sla" as const,
      windows,
      accounts_counted: accounts,
      differing,
      sla_window: { tickets_from: ticketsFrom, today },
      accounts_checked: checked,
      in_breach: breaching,
      breaches: rowsOut,
      next_cursor: next,
    },
    text: [
      `${breaching} of ${checked} accounts miss a service level (tickets since ${ticketsFrom}).`,
      markdownTable(
        ["Account", "Tier", "Median resp h", "SLA h", "Days since meeting", "Cadence", "Breaches"],
        rowsOut.map((r) => [
          r.name,
          r.tier,
          r.median_first_response_hours,
          r.response_sla_hours,
          r.days_since_meeting ?? "never",
          r.ebr_cadence_days,
          r.breaches.join(", "),
        ]),
      ),
    ].join("\n"),
  };
}

/** An account in breach as answered: the service it received against its tier's levels, and which it misses. */
function breachOut(b: BreachRow, definitions: readonly TierDefinition[], today: string) {
  // A tier named twice owes the service of its first definition.
  const def = definitions.find((d) => d.name === b.tier)!;
  const med = median(b.hours);
  const received = {
    median_first_response_hours: med === null ? null : round(med),
    days_since_meeting: b.last_meeting_at === null ? null : daysBetween(b.last_meeting_at, today),
    has_owner: b.owner_user_id !== null,
  };
  return {
    account_id: b.id,
    name: b.name,
    tier: def.name,
    owner_user_id: b.owner_user_id,
    tickets_measured: b.tickets_measured,
    median_first_response_hours: received.median_first_response_hours,
    response_sla_hours: def.service.response_sla_hours,
    last_meeting_at: b.last_meeting_at,
    days_since_meeting: received.days_since_meeting,
    ebr_cadence_days: def.service.ebr_cadence_days,
    dedicated_csm: def.service.dedicated_csm,
    breaches: breachesOf(received, def.service) as ("response" | "ebr" | "owner")[],
  };
}

/** list: each tier with its service levels and the accounts and ARR computed into it. */
async function listTiers(ctx: ToolContext) {
  const definitions = (await workspaceSettings(ctx)).tiers;
  const windows = factWindows(isoDay(ctx.now));
  const { groups, accounts, differing } = await labelMakeup(ctx.env.DB, ctx.principal.workspaceId, {
    definitions,
    column: "tier",
    windows,
  });
  const tiers = definitions.map((def) => ({
    name: def.name,
    rules: ruleTexts(def.rules),
    service: def.service,
    ...labelTotals(groups, def.name),
  }));
  return {
    data: { action: "list" as const, windows, accounts_counted: accounts, differing, tiers },
    text: [
      `${tiers.length} tiers over ${accounts} accounts (${differing} stored tiers differ).`,
      markdownTable(
        ["Tier", "Accounts", "ARR", "SLA h", "EBR days", "Dedicated CSM"],
        tiers.map((t) => [
          t.name,
          t.accounts,
          t.arr,
          t.service.response_sla_hours,
          t.service.ebr_cadence_days,
          t.service.dedicated_csm,
        ]),
      ),
    ].join("\n"),
  };
}
