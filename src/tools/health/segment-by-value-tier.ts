import { z } from "zod";
import { SqlParams } from "../../platform/db/sql-params";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineTool, type ToolContext } from "../../platform/mcp/define-tool";
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
import { slaBreaches as breachesOf, median, type Rule, type ServiceLevels, sqlText } from "./domain/segments";
import {
  assignOrEvaluate,
  computedSql,
  evaluatedRow,
  factWindows,
  labelMakeup,
  windowsField,
} from "./segment-customers";

/** Window of tickets whose first response is measured for check_sla. */
export const SLA_TICKET_WINDOW_DAYS = 90;

/** An account in breach as the SLA query returns it, with its measured ticket response hours. */
interface BreachRow {
  id: string;
  name: string;
  owner_user_id: string | null;
  tier: string;
  tickets_measured: number;
  last_meeting_at: string | null;
  hours: number[];
}

/**
 * The check_sla figures: the computed tier of every account (with how many accounts there are and
 * how many store another tier), the breach test of
 * {@link breachesOf} on its latest meeting, owner and median first-response hours (rounded to 2
 * decimals, as shown), and one page of breaching accounts by id, with the counts of checked and
 * breaching accounts, in one statement; then the response hours of the page's accounts.
 *
 * The median is tested without ranking every ticket: "rounded hours over the SLA" holds for the
 * slowest tickets of an account, so an odd count's median is over when at least (n + 1) / 2
 * tickets are, an even count's when at least n / 2 + 1 are, or, with exactly n / 2 over, when
 * the mean of the fastest ticket over and the slowest one not over is.
 */
async function loadSlaBreaches(
  ctx: ToolContext,
  definitions: readonly { name: string; rules: readonly Rule[]; service: ServiceLevels }[],
  opts: { tier: string | null; ticketsFrom: string; today: string; after: string; limit: number },
): Promise<{ accounts: number; differing: number; checked: number; breaching: number; page: BreachRow[] }> {
  const ws = ctx.principal.workspaceId;
  const p = new SqlParams();
  p.add(ws);
  const computed = computedSql(p, factWindows(ctx), definitions);
  const onlyTier = opts.tier === null ? "" : ` AND tier = ${p.add(opts.tier)}`;
  const from = p.add(opts.ticketsFrom);
  const today = p.add(opts.today);
  const after = p.add(opts.after);
  const limit = p.add(opts.limit + 1);
  // CASE takes the first arm that matches: a tier named twice owes the service of its first definition.
  const service = (level: (s: ServiceLevels) => number) =>
    `(CASE tier ${definitions.map((d) => `WHEN ${sqlText(d.name)} THEN ${Number(level(d.service))}`).join(" ")} END)`;
  const { results } = await ctx.env.DB.prepare(
    `WITH evaluated AS MATERIALIZED (
        SELECT a.id, a.name, a.owner_user_id, a.tier AS stored, ${computed} AS tier FROM accounts a WHERE a.workspace_id = ?1),
      checked AS MATERIALIZED (
        SELECT id, name, owner_user_id, tier, ${service((s) => s.response_sla_hours)} AS sla_hours,
               ${service((s) => s.ebr_cadence_days)} AS cadence_days, ${service((s) => Number(s.dedicated_csm))} AS dedicated
          FROM evaluated WHERE tier IS NOT NULL${onlyTier}),
      responses AS (
        SELECT account_id, count(*) AS n, sum(over) AS n_over,
               max(CASE WHEN NOT over THEN hours END) AS slowest_within, min(CASE WHEN over THEN hours END) AS fastest_over
          FROM (SELECT c.id AS account_id, hours, round(hours * 100) / 100 > c.sla_hours AS over
                  FROM checked c
                  CROSS JOIN (SELECT account_id, (julianday(first_response_at) - julianday(created_at)) * 24 AS hours
                                FROM tickets WHERE workspace_id = ?1 AND created_at >= ${from}
                                 AND first_response_at IS NOT NULL) t
                    ON t.account_id = c.id)
         GROUP BY account_id),
      measured AS MATERIALIZED (
        SELECT c.*, coalesce(r.n, 0) AS tickets_measured, r.n_over, r.slowest_within, r.fastest_over,
               (SELECT max(v.occurred_at) FROM activities v
                 WHERE v.workspace_id = ?1 AND v.account_id = c.id AND v.kind = 'meeting') AS last_meeting_at
          FROM checked c LEFT JOIN responses r ON r.account_id = c.id),
      breaching AS MATERIALIZED (
        SELECT id, name, owner_user_id, tier, tickets_measured, last_meeting_at FROM measured
         WHERE (tickets_measured % 2 = 1 AND n_over >= (tickets_measured + 1) / 2)
            OR (tickets_measured > 0 AND tickets_measured % 2 = 0 AND (n_over >= tickets_measured / 2 + 1
                OR (n_over = tickets_measured / 2 AND round((slowest_within + fastest_over) / 2 * 100) / 100 > sla_hours)))
            OR last_meeting_at IS NULL
            OR julianday(${today}) - julianday(substr(last_meeting_at, 1, 10)) > cadence_days
            OR (dedicated AND owner_user_id IS NULL))
     SELECT NULL AS id, NULL AS name, NULL AS owner_user_id, NULL AS tier, NULL AS tickets_measured, NULL AS last_meeting_at,
            (SELECT count(*) FROM evaluated) AS accounts_count, (SELECT count(*) FROM evaluated WHERE tier IS NOT stored) AS differing_count,
            (SELECT count(*) FROM checked) AS checked_count, (SELECT count(*) FROM breaching) AS breaching_count
     UNION ALL
     SELECT *, NULL, NULL, NULL, NULL FROM (SELECT * FROM breaching WHERE id > ${after} ORDER BY id LIMIT ${limit})`,
  )
    .bind(...p.values)
    .all<
      Omit<BreachRow, "hours"> & Partial<Record<`${"accounts" | "differing" | "checked" | "breaching"}_count`, number>>
    >();
  // The first row carries the counts; the page follows.
  const [totals, ...rows] = results;
  const measured = rows.filter((r) => r.tickets_measured > 0).map((r) => r.id);
  const hours = new Map<string, number[]>();
  if (measured.length > 0) {
    const { results: tickets } = await ctx.env.DB.prepare(
      `SELECT account_id, (julianday(first_response_at) - julianday(created_at)) * 24 AS hours
         FROM tickets
        WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2))
          AND created_at >= ?3 AND first_response_at IS NOT NULL`,
    )
      .bind(ws, JSON.stringify(measured), opts.ticketsFrom)
      .all<{ account_id: string; hours: number }>();
    for (const t of tickets) hours.set(t.account_id, [...(hours.get(t.account_id) ?? []), t.hours]);
  }
  return {
    accounts: totals!.accounts_count ?? 0,
    differing: totals!.differing_count ?? 0,
    checked: totals!.checked_count ?? 0,
    breaching: totals!.breaching_count ?? 0,
    page: rows.map((r) => ({
      id: r.id,
      name: r.name,
      owner_user_id: r.owner_user_id,
      tier: r.tier,
      tickets_measured: r.tickets_measured,
      last_meeting_at: r.last_meeting_at,
      hours: hours.get(r.id) ?? [],
    })),
  };
}

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
  actions: {
    list: { writes: false },
    evaluate: { writes: false },
    assign: { writes: true, role: "csm" },
    check_sla: { writes: false },
  },
  examples: [
    { title: "Value tiers and their accounts", args: () => ({ action: "list" }) },
    { title: "Which accounts the tier rules would move", args: () => ({ action: "evaluate" }) },
    { title: "Accounts behind their coverage SLA", args: () => ({ action: "check_sla" }) },
    { title: "One tier's SLA", args: (ids) => ({ action: "check_sla", tier: ids.tier }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const definitions = (await workspaceSettings(ctx)).tiers;
    const shared = await assignOrEvaluate(ctx, args, definitions, "tier");
    if (shared) return shared;

    if (args.action === "check_sla") {
      if (args.tier && !definitions.some((d) => d.name === args.tier)) {
        throw new ToolError(`No tier named "${args.tier}"; tiers are ${definitions.map((d) => d.name).join(", ")}.`);
      }
      const today = isoDay(ctx.now);
      const ticketsFrom = addDays(today, -SLA_TICKET_WINDOW_DAYS);
      const fingerprint = queryFingerprint(["tier_sla", args.tier ?? null, today]);
      const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
      const { accounts, differing, checked, breaching, page } = await loadSlaBreaches(ctx, definitions, {
        tier: args.tier ?? null,
        ticketsFrom,
        today,
        after,
        limit: args.limit,
      });
      const rowsOut = page.slice(0, args.limit).map((b) => {
        // A tier named twice owes the service of its first definition.
        const def = definitions.find((d) => d.name === b.tier)!;
        const med = median(b.hours);
        const received = {
          median_first_response_hours: med === null ? null : Math.round(med * 100) / 100,
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
      });
      const last = rowsOut.at(-1);
      const next =
        page.length > args.limit && last ? encodeCursor({ k: [], id: last.account_id, q: fingerprint }) : null;
      return {
        data: {
          action: "check_sla" as const,
          windows: factWindows(ctx),
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

    const { groups, windows, accounts, differing } = await labelMakeup(ctx, definitions, "tier");
    const base = { windows, accounts_counted: accounts, differing };
    const tiers = definitions.map((def) => {
      const members = groups.filter((g) => g.computed === def.name);
      return {
        name: def.name,
        rules: def.rules.length ? def.rules.map((r) => `${r.field} ${r.op} ${JSON.stringify(r.value)}`) : ["catch-all"],
        service: def.service,
        accounts: members.reduce((s, m) => s + m.accounts, 0),
        arr: members.reduce((s, m) => s + m.arr, 0),
      };
    });
    return {
      data: { action: "list" as const, ...base, tiers },
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
  },
});
