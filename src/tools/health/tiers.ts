import { z } from "zod";
import { workspaceSettings } from "../../db/workspace-settings";
import { markdownTable } from "../../domain/markdown-table";
import { median, slaBreaches } from "../../domain/segments";
import { addDays, daysBetween, isoDay } from "../../lib/time";
import { ToolError } from "../../mcp/errors";
import { cursorArg, limitArg, nextCursorField, queryFingerprint } from "../../mcp/pagination";
import { defineTool } from "../../mcp/tool";
import { assignOrEvaluate, evaluateAll, evaluatedRow, loadFacts, pageOf, windowsField } from "./segments";

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
export const segmentByValueTier = defineTool({
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
  actionRoles: { assign: "csm" },
  readActions: ["list", "evaluate", "check_sla"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const definitions = (await workspaceSettings(ctx)).tiers;
    const { rows, windows } = await loadFacts(ctx);
    const evaluated = evaluateAll(rows, definitions, "tier");
    const differing = evaluated.filter((e) => e.match.name !== e.stored).length;
    const base = { windows, accounts_counted: evaluated.length, differing };

    const shared = await assignOrEvaluate(ctx, args, evaluated, "tier", base);
    if (shared) return shared;

    if (args.action === "check_sla") {
      if (args.tier && !definitions.some((d) => d.name === args.tier)) {
        throw new ToolError(`No tier named "${args.tier}"; tiers are ${definitions.map((d) => d.name).join(", ")}.`);
      }
      const today = isoDay(ctx.now);
      const ticketsFrom = addDays(today, -SLA_TICKET_WINDOW_DAYS);
      const checked = evaluated.filter((e) => e.match.name !== null && (!args.tier || e.match.name === args.tier));
      const ws = ctx.principal.workspaceId;
      // Tickets and meetings of the checked accounts, one statement each over an id list (indexes on ws, account, time).
      const ids = JSON.stringify(checked.map((e) => e.id));
      const [tickets, meetings] = await ctx.env.DB.batch([
        ctx.env.DB.prepare(
          `SELECT account_id, (julianday(first_response_at) - julianday(created_at)) * 24 AS hours
             FROM tickets
            WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?3))
              AND created_at >= ?2 AND first_response_at IS NOT NULL`,
        ).bind(ws, ticketsFrom, ids),
        ctx.env.DB.prepare(
          `SELECT account_id, max(occurred_at) AS last_at FROM activities
            WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2)) AND kind = 'meeting'
            GROUP BY account_id`,
        ).bind(ws, ids),
      ]);
      const hoursBy = new Map<string, number[]>();
      for (const t of tickets!.results as unknown as { account_id: string; hours: number }[]) {
        const list = hoursBy.get(t.account_id) ?? [];
        list.push(t.hours);
        hoursBy.set(t.account_id, list);
      }
      const lastMeeting = new Map(
        (meetings!.results as unknown as { account_id: string; last_at: string }[]).map((m) => [
          m.account_id,
          m.last_at,
        ]),
      );
      const breaching = checked.flatMap((e) => {
        const def = definitions.find((d) => d.name === e.match.name)!;
        const hours = hoursBy.get(e.id) ?? [];
        const med = median(hours);
        const last = lastMeeting.get(e.id) ?? null;
        const received = {
          median_first_response_hours: med === null ? null : Math.round(med * 100) / 100,
          days_since_meeting: last === null ? null : daysBetween(last, today),
          has_owner: e.owner_user_id !== null,
        };
        const breaches = slaBreaches(received, def.service);
        if (breaches.length === 0) return [];
        return [
          {
            id: e.id,
            row: {
              account_id: e.id,
              name: e.name,
              tier: def.name,
              owner_user_id: e.owner_user_id,
              tickets_measured: hours.length,
              median_first_response_hours: received.median_first_response_hours,
              response_sla_hours: def.service.response_sla_hours,
              last_meeting_at: last,
              days_since_meeting: received.days_since_meeting,
              ebr_cadence_days: def.service.ebr_cadence_days,
              dedicated_csm: def.service.dedicated_csm,
              breaches: breaches as ("response" | "ebr" | "owner")[],
            },
          },
        ];
      });
      const fingerprint = queryFingerprint(["tier_sla", args.tier ?? null, today]);
      const { page, next } = pageOf(breaching, fingerprint, args.limit, args.cursor);
      const rowsOut = page.map((b) => b.row);
      return {
        data: {
          action: "check_sla" as const,
          ...base,
          sla_window: { tickets_from: ticketsFrom, today },
          accounts_checked: checked.length,
          in_breach: breaching.length,
          breaches: rowsOut,
          next_cursor: next,
        },
        text: [
          `${breaching.length} of ${checked.length} accounts miss a service level (tickets since ${ticketsFrom}).`,
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

    const tiers = definitions.map((def) => {
      const members = evaluated.filter((e) => e.match.name === def.name);
      return {
        name: def.name,
        rules: def.rules.length ? def.rules.map((r) => `${r.field} ${r.op} ${JSON.stringify(r.value)}`) : ["catch-all"],
        service: def.service,
        accounts: members.length,
        arr: members.reduce((s, m) => s + Number(m.facts.arr), 0),
      };
    });
    return {
      data: { action: "list" as const, ...base, tiers },
      text: [
        `${tiers.length} tiers over ${evaluated.length} accounts (${differing} stored tiers differ).`,
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
  },
});
