import { z } from "zod";
import { accountAgentStub } from "../../agents/account-agent-stub";
import { SqlParams } from "../../platform/db/sql-params";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, daysBetween, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { LICENSED_SEATS_SQL } from "../../records/contracts";
import { evaluateRiskFlags, type HealthBand, percentChange, RISK_CODES } from "./domain/risk-flags";

const dayArg = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "use YYYY-MM-DD");

/** Sortable columns; nullable ones list accounts without a value after all others, in either direction. */
const SORTS = {
  name: { column: "name", nullable: false, type: "string" },
  arr: { column: "arr", nullable: false, type: "number" },
  renewal_date: { column: "renewal_date", nullable: true, type: "string" },
  health_score: { column: "health_score", nullable: true, type: "number" },
} as const;

type SortKey = keyof typeof SORTS;

/** Where a page ended: in the run of accounts with a sort value, or in the trailing run without one. */
interface ListPosition {
  withoutValue: boolean;
  value: string | number | null;
  id: string;
}

interface AccountListRow {
  id: string;
  name: string;
  segment: string | null;
  tier: string | null;
  lifecycle_stage: string;
  status: "active" | "churned" | "prospect";
  owner_user_id: string | null;
  owner_email: string | null;
  arr: number;
  health_score: number | null;
  health_band: HealthBand | null;
  renewal_date: string | null;
}

const accountRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  tier: z.string().nullable(),
  lifecycle_stage: z.string(),
  status: z.enum(["active", "churned", "prospect"]),
  owner_user_id: z.string().nullable(),
  owner_email: z.string().nullable(),
  arr: z.number().describe("Sum of the account's active contracts."),
  health_score: z.number().nullable().describe("Latest stored health score (0–100); null if none computed."),
  health_band: z.enum(["red", "yellow", "green"]).nullable(),
  renewal_date: z.string().nullable().describe("End of the earliest active contract."),
  days_to_renewal: z.number().nullable().describe("Days from today to renewal_date (negative when past)."),
});

/** Escapes LIKE wildcards so the text matches literally (ESCAPE '\'). */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function readPosition(cursor: string, fingerprint: string, sort: SortKey): ListPosition {
  const { k, id } = decodeCursor(cursor, fingerprint);
  const [segment, value] = k;
  const spec = SORTS[sort];
  const valid =
    k.length === 2 &&
    ((segment === 0 && typeof value === spec.type) || (segment === 1 && spec.nullable && value === null));
  if (!valid) {
    throw new ToolError(
      "Malformed `cursor`: pass the `next_cursor` value from the previous page unchanged, or omit it.",
    );
  }
  return { withoutValue: segment === 1, value: value ?? null, id };
}

export const listAccounts = defineTool({
  name: "list_accounts",
  title: "List accounts",
  toolset: "core",
  description:
    "Accounts of this workspace, filtered and sorted, one page at a time. Filters combine with AND: segment, tier, owner (user id or email), lifecycle stage, status, health band (or 'unscored'), renewal window (within N days from today, or from/to dates), ARR range, and text contained in the name or domain. " +
    "Sort by name, arr, renewal_date or health_score (asc/desc, id breaks ties); accounts without a renewal date or health score come last. " +
    "Each row: id, name, segment, tier, stage, owner, ARR (sum of active contracts), latest health score/band, renewal date and days to renewal (from today, UTC).",
  input: {
    segment: z.string().min(1).max(100).optional().describe("Exact segment, e.g. enterprise."),
    tier: z.string().min(1).max(100).optional().describe("Exact tier, e.g. tier1."),
    owner: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("Owner as a user id, or the owner's email (case-insensitive)."),
    lifecycle_stage: z.string().min(1).max(50).optional().describe("Exact lifecycle stage, e.g. adoption."),
    status: z.enum(["active", "churned", "prospect"]).optional().describe("Account status."),
    health_band: z
      .enum(["red", "yellow", "green", "unscored"])
      .optional()
      .describe("Latest health band; 'unscored' = no health score computed yet."),
    renewal_within_days: z
      .number()
      .int()
      .min(0)
      .max(3650)
      .optional()
      .describe("Renewal date between today and today + N days (inclusive). Not combinable with renewal_from/to."),
    renewal_from: dayArg.optional().describe("Renewal date on or after this day (YYYY-MM-DD)."),
    renewal_to: dayArg.optional().describe("Renewal date on or before this day (YYYY-MM-DD)."),
    arr_min: z.number().min(0).optional().describe("ARR at least this amount."),
    arr_max: z.number().min(0).optional().describe("ARR at most this amount."),
    text: z
      .string()
      .min(1)
      .max(48)
      .optional()
      .describe("Text contained in the account name or domain (case-insensitive, at most 48 bytes)."),
    sort: z
      .enum(["name", "arr", "renewal_date", "health_score"])
      .default("name")
      .describe("Sort column (default name)."),
    order: z.enum(["asc", "desc"]).default("asc").describe("Sort direction (default asc)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    as_of: z.string().describe("Today (UTC), the reference day for renewal windows and days_to_renewal."),
    sort: z.string().describe("Applied sort, e.g. arr desc."),
    accounts: z.array(accountRowSchema),
    returned: z.number().describe("Rows on this page."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "First page of accounts", args: () => ({}) },
    {
      title: "A segment by health score, best first",
      args: (ids) => ({ segment: ids.segment, sort: "health_score", order: "desc" }),
    },
    { title: "Accounts in the red band", args: () => ({ health_band: "red" }) },
    {
      title: "Renewals in the next 120 days, soonest first",
      args: () => ({ renewal_within_days: 120, sort: "renewal_date" }),
    },
    { title: "One owner's book by ARR", args: (ids) => ({ owner: ids.ownerId, text: "a", sort: "arr" }) },
  ],
  annotations: READ_ONLY,
  async handler(args, { env, principal, now }) {
    const { sort, order, limit, cursor, ...filters } = args;
    const today = isoDay(now);
    if (args.renewal_within_days !== undefined && (args.renewal_from || args.renewal_to)) {
      throw new ToolError("Use either renewal_within_days or renewal_from/renewal_to, not both.");
    }
    if (args.renewal_from && args.renewal_to && args.renewal_from > args.renewal_to) {
      throw new ToolError("renewal_from is after renewal_to; swap them.");
    }
    if (args.arr_min !== undefined && args.arr_max !== undefined && args.arr_min > args.arr_max) {
      throw new ToolError("arr_min is above arr_max; swap them.");
    }
    const pattern = args.text === undefined ? undefined : likeContains(args.text);
    if (pattern !== undefined && new TextEncoder().encode(pattern).length > 50) {
      throw new ToolError(
        "`text` is too long once encoded: use at most 48 bytes (fewer for accented or non-Latin text).",
      );
    }
    const fingerprint = queryFingerprint(["list_accounts", filters, sort, order]);
    const position = cursor ? readPosition(cursor, fingerprint, sort) : null;
    const spec = SORTS[sort];
    const direction = order === "asc" ? "ASC" : "DESC";
    const after = order === "asc" ? ">" : "<";

    const statement = (withoutValue: boolean, from: ListPosition | null) => {
      const p = new SqlParams();
      const where = [`a.workspace_id = ${p.add(principal.workspaceId)}`];
      if (args.segment) where.push(`a.segment = ${p.add(args.segment)}`);
      if (args.tier) where.push(`a.tier = ${p.add(args.tier)}`);
      if (args.owner) {
        where.push(
          args.owner.includes("@")
            ? `a.owner_user_id IN (SELECT id FROM users WHERE workspace_id = a.workspace_id AND email = ${p.add(args.owner)} COLLATE NOCASE)`
            : `a.owner_user_id = ${p.add(args.owner)}`,
        );
      }
      if (args.lifecycle_stage) where.push(`a.lifecycle_stage = ${p.add(args.lifecycle_stage)}`);
      if (args.status) where.push(`a.status = ${p.add(args.status)}`);
      if (args.health_band === "unscored") where.push("a.health_band IS NULL");
      else if (args.health_band) where.push(`a.health_band = ${p.add(args.health_band)}`);
      if (args.renewal_within_days !== undefined) {
        where.push(`a.renewal_date >= ${p.add(today)}`);
        where.push(`a.renewal_date <= ${p.add(addDays(today, args.renewal_within_days))}`);
      }
      if (args.renewal_from) where.push(`a.renewal_date >= ${p.add(args.renewal_from)}`);
      if (args.renewal_to) where.push(`a.renewal_date <= ${p.add(args.renewal_to)}`);
      if (args.arr_min !== undefined) where.push(`a.arr >= ${p.add(args.arr_min)}`);
      if (args.arr_max !== undefined) where.push(`a.arr <= ${p.add(args.arr_max)}`);
      if (pattern !== undefined) {
        const like = p.add(pattern);
        where.push(`(a.name LIKE ${like} ESCAPE '\\' OR a.domain LIKE ${like} ESCAPE '\\')`);
      }
      const column = `a.${spec.column}`;
      let orderBy: string;
      if (withoutValue) {
        where.push(`${column} IS NULL`);
        if (from) where.push(`a.id ${after} ${p.add(from.id)}`);
        orderBy = `a.id ${direction}`;
      } else {
        if (spec.nullable) where.push(`${column} IS NOT NULL`);
        if (from && from.value !== null) {
          const value = p.add(from.value);
          where.push(`(${column} ${after} ${value} OR (${column} = ${value} AND a.id ${after} ${p.add(from.id)}))`);
        }
        orderBy = `${column} ${direction}, a.id ${direction}`;
      }
      return env.DB.prepare(
        `SELECT a.id, a.name, a.segment, a.tier, a.lifecycle_stage, a.status, a.owner_user_id, u.email AS owner_email,
                a.arr, a.health_score, a.health_band, a.renewal_date
           FROM accounts a
           LEFT JOIN users u ON u.id = a.owner_user_id AND u.workspace_id = a.workspace_id
          WHERE ${where.join(" AND ")}
          ORDER BY ${orderBy}
          LIMIT ${p.add(limit + 1)}`,
      ).bind(...p.values);
    };

    // One extra row tells whether another page exists. While still among accounts that have a sort
    // value, the first accounts without one are fetched in the same round trip in case this page reaches them.
    let rows: AccountListRow[];
    if (position?.withoutValue) {
      rows = (await statement(true, position).all<AccountListRow>()).results;
    } else if (spec.nullable) {
      const [withValue, withoutValue] = await env.DB.batch<AccountListRow>([
        statement(false, position),
        statement(true, null),
      ]);
      rows = [...withValue!.results, ...withoutValue!.results].slice(0, limit + 1);
    } else {
      rows = (await statement(false, position).all<AccountListRow>()).results;
    }

    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > limit && last) {
      const value = last[spec.column];
      nextCursor = encodeCursor({ k: [value === null ? 1 : 0, value], id: last.id, q: fingerprint });
    }
    const accounts = page.map((row) => ({
      ...row,
      days_to_renewal: row.renewal_date ? daysBetween(today, row.renewal_date) : null,
    }));
    const summary = `${accounts.length} account${accounts.length === 1 ? "" : "s"} sorted by ${sort} ${order}${nextCursor ? "; more on the next page (pass next_cursor)" : ""}.`;
    const table = accounts.length
      ? `\n${markdownTable(
          ["id", "name", "segment", "tier", "stage", "owner", "ARR", "health", "renewal (days)"],
          accounts.map((a) => [
            a.id,
            a.name,
            a.segment,
            a.tier,
            a.lifecycle_stage,
            a.owner_email ?? a.owner_user_id,
            Math.round(a.arr),
            a.health_score === null ? "unscored" : `${a.health_score} ${a.health_band ?? ""}`,
            a.renewal_date ? `${a.renewal_date} (${a.days_to_renewal})` : null,
          ]),
          40,
        )}`
      : "";
    return {
      data: { as_of: today, sort: `${sort} ${order}`, accounts, returned: accounts.length, next_cursor: nextCursor },
      text: `${summary}${table}`,
    };
  },
});

/** Length of each usage window, in complete days before today. */
const USAGE_WINDOW_DAYS = 30;
/** Longest lists in the overview; totals are always reported in full. */
const MAX_CONTRACTS = 50;
const MAX_TOUCHPOINTS = 5;
const MAX_OPPORTUNITIES = 20;
const MAX_STAKEHOLDERS = 50;
/** Trend horizons for the health score, in days. */
const HEALTH_TREND_DAYS = [7, 30] as const;

interface AccountDetailRow {
  id: string;
  external_id: string | null;
  name: string;
  domain: string | null;
  industry: string | null;
  employees: number | null;
  region: string | null;
  plan: string | null;
  segment: string | null;
  tier: string | null;
  lifecycle_stage: string;
  status: "active" | "churned" | "prospect";
  owner_user_id: string | null;
  owner_name: string | null;
  owner_email: string | null;
  customer_since: string | null;
  churned_at: string | null;
}

interface ContractRow {
  id: string;
  external_id: string | null;
  start_date: string;
  end_date: string;
  auto_renew: number;
  arr: number;
  total_count: number;
  total_arr: number;
}

interface ContractItemRow {
  contract_id: string;
  product_id: string;
  product_name: string | null;
  family: string | null;
  seats: number;
  arr: number;
}

interface HealthRow {
  day: string;
  score: number;
  band: HealthBand;
  components: string;
  model_version: number;
}

interface UsageWindowRow {
  usage_window: "current" | "prior";
  days: number;
  events: number;
  active_user_days: number;
}

interface StakeholderRow {
  id: string;
  name: string;
  email: string | null;
  title: string | null;
  role: string | null;
  is_champion: number;
  is_decision_maker: number;
  left_at: string | null;
  last_seen_at: string | null;
  total_count: number;
}

interface ActivityRow {
  id: string;
  kind: "call" | "meeting" | "note" | "email";
  direction: "inbound" | "outbound" | null;
  subject: string;
  occurred_at: string;
  user_id: string | null;
  contact_id: string | null;
}

interface OpportunityRow {
  id: string;
  name: string;
  kind: string;
  stage: string;
  amount: number;
  probability: number | null;
  close_date: string | null;
  total_count: number;
  total_amount: number;
}

const usageWindowSchema = z.object({
  from: z.string(),
  to: z.string(),
  days_counted: z.number().describe("Days in the window that have a usage rollup row."),
  events: z.number(),
  avg_active_users: z.number().nullable().describe("Sum of daily active users / days_counted; null without rows."),
});

const evidenceSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

function parseComponents(stored: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

export const getAccountOverview = defineTool({
  name: "get_account_overview",
  title: "Account overview (360°)",
  toolset: "core",
  description:
    "Everything about one account (by id or external id) from stored data: firmographics and owner; active contracts with line items, ARR (sum of active contracts) and the next renewal (earliest active contract end, days left, auto-renew); " +
    "health (latest stored score with its components, and the change vs the latest score on or before 7 and 30 days earlier; never estimated when none is stored); " +
    "usage over the last 30 complete days vs the 30 days before (events, average daily active users over days with data, license utilization = average daily active users / licensed seats, the seats on the plan items of active contracts); " +
    "open tickets by priority and the oldest one's age; latest activities and outbound emails; latest NPS; open opportunities; stakeholders (champions, decision makers, who left). " +
    "Risk flags come from fixed rules, each reported with its rule and evidence: usage down ≥ 30%; utilization < 50%; ≥ 2 open urgent/high tickets; latest NPS ≤ 6; a champion left in the last 90 days; renewal within 90 days with a red or yellow band; no logged activity in 30 days. " +
    "Live (from the account's own state, ahead of the daily rollups): today's ingested events per feature, distinct active users today (UTC), when a user was last seen, and the days and events not yet flushed to the daily rollups.",
  input: {
    account_id: z.string().min(1).max(100).optional().describe("Account id (e.g. acc_123). Give this or external_id."),
    external_id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("The account's id in the source CRM. Give this or account_id."),
  },
  output: {
    as_of: z.string().describe("Today (UTC), the reference day for every window and age."),
    account: z.object({
      id: z.string(),
      external_id: z.string().nullable(),
      name: z.string(),
      domain: z.string().nullable(),
      industry: z.string().nullable(),
      employees: z.number().nullable(),
      region: z.string().nullable(),
      plan: z.string().nullable(),
      segment: z.string().nullable(),
      tier: z.string().nullable(),
      lifecycle_stage: z.string(),
      status: z.enum(["active", "churned", "prospect"]),
      owner: z.object({ user_id: z.string(), name: z.string().nullable(), email: z.string().nullable() }).nullable(),
      customer_since: z.string().nullable(),
      churned_at: z.string().nullable(),
    }),
    contracts: z.object({
      active_count: z.number(),
      arr: z.number().describe("Sum of ARR over all active contracts."),
      licensed_seats: z
        .number()
        .describe("Seats on the plan items of active contracts (add-ons and services license nobody)."),
      next_renewal: z
        .object({ contract_id: z.string(), date: z.string(), days_left: z.number(), auto_renew: z.boolean() })
        .nullable(),
      active: z.array(
        z.object({
          id: z.string(),
          external_id: z.string().nullable(),
          start_date: z.string(),
          end_date: z.string(),
          days_left: z.number(),
          auto_renew: z.boolean(),
          arr: z.number(),
          items: z.array(
            z.object({
              product_id: z.string(),
              product_name: z.string().nullable(),
              family: z.string().nullable(),
              seats: z.number(),
              arr: z.number(),
            }),
          ),
        }),
      ),
    }),
    health: z.object({
      latest: z
        .object({
          day: z.string(),
          score: z.number(),
          band: z.enum(["red", "yellow", "green"]),
          age_days: z.number(),
          model_version: z.number(),
          components: z
            .array(z.unknown())
            .describe("As stored: each component's raw input, normalized value, weight, contribution."),
        })
        .nullable(),
      trend: z.array(
        z.object({
          days: z.number(),
          compared_day: z.string().nullable().describe("Latest stored score day on or before latest.day − days."),
          compared_score: z.number().nullable(),
          change: z.number().nullable().describe("latest.score − compared_score; null without an earlier score."),
        }),
      ),
      note: z.string().nullable(),
    }),
    usage: z.object({
      window_days: z.number(),
      current: usageWindowSchema,
      prior: usageWindowSchema,
      events_change_pct: z
        .number()
        .nullable()
        .describe("(current − prior) / prior events × 100; null when prior is 0."),
      avg_active_users_change_pct: z.number().nullable(),
      licensed_seats: z.number(),
      license_utilization: z
        .number()
        .nullable()
        .describe("current.avg_active_users / licensed_seats (fraction); null without seats or usage."),
    }),
    open_tickets: z.object({
      open_count: z.number().describe("Tickets with status new, open or pending."),
      by_priority: z.object({ urgent: z.number(), high: z.number(), normal: z.number(), low: z.number() }),
      oldest_open: z.object({ ticket_id: z.string(), created_at: z.string(), age_days: z.number() }).nullable(),
    }),
    touchpoints: z.object({
      last_activity_at: z.string().nullable(),
      days_since_last_activity: z.number().nullable(),
      activities: z.array(
        z.object({
          id: z.string(),
          kind: z.enum(["call", "meeting", "note", "email"]),
          direction: z.enum(["inbound", "outbound"]).nullable(),
          occurred_at: z.string(),
          user_id: z.string().nullable(),
          contact_id: z.string().nullable(),
          subject: z.string().nullable().describe("Subject written by the team; null for inbound items."),
          customer_text: z
            .object({ subject: z.string() })
            .nullable()
            .describe("Subject of an inbound (customer-written) item."),
        }),
      ),
      emails: z.array(
        z.object({
          id: z.string(),
          to_email: z.string(),
          subject: z.string(),
          status: z.string(),
          created_at: z.string(),
          sent_at: z.string().nullable(),
        }),
      ),
    }),
    satisfaction: z.object({
      latest_nps: z.object({ response_id: z.string(), score: z.number(), responded_at: z.string() }).nullable(),
    }),
    risk: z.object({
      flags: z.array(z.object({ code: z.enum(RISK_CODES), rule: z.string(), evidence: evidenceSchema })),
      rules_evaluated: z.array(z.enum(RISK_CODES)),
    }),
    opportunities: z.object({
      open_count: z.number(),
      open_amount: z.number(),
      open: z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          kind: z.string(),
          stage: z.string(),
          amount: z.number(),
          probability: z.number().nullable(),
          close_date: z.string().nullable(),
        }),
      ),
    }),
    live: z
      .object({
        day: z.string().describe("The UTC day the counters are for (today)."),
        events_today: z.number().describe("Usage events ingested for today."),
        active_users_today: z.number().describe("Distinct users with an event today."),
        features_today: z
          .array(z.object({ feature: z.string(), events: z.number(), active_users: z.number() }))
          .describe("Today's events and distinct users per feature, most used first."),
        last_seen_at: z.string().nullable().describe("Time of the latest usage event ingested; null if none."),
        unflushed: z
          .object({ days: z.number(), events: z.number() })
          .describe("Days and events ingested but not yet written to the daily usage rollups."),
      })
      .describe("Live usage from the account's own state; the usage windows above read the daily rollups."),
    stakeholders: z.object({
      total: z.number(),
      contacts: z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          email: z.string().nullable(),
          title: z.string().nullable(),
          role: z.string().nullable(),
          is_champion: z.boolean(),
          is_decision_maker: z.boolean(),
          left: z.boolean(),
          left_at: z.string().nullable(),
          last_seen_at: z.string().nullable(),
        }),
      ),
    }),
  },
  examples: [{ title: "Everything about one account", args: (ids) => ({ account_id: ids.accountId }) }],
  annotations: READ_ONLY,
  async handler({ account_id, external_id }, { env, principal, now }) {
    if ((account_id === undefined) === (external_id === undefined)) {
      throw new ToolError("Give exactly one of account_id or external_id.");
    }
    const ws = principal.workspaceId;
    const account = await env.DB.prepare(
      `SELECT a.id, a.external_id, a.name, a.domain, a.industry, a.employees, a.region, a.plan, a.segment, a.tier,
              a.lifecycle_stage, a.status, a.owner_user_id, u.name AS owner_name, u.email AS owner_email,
              a.customer_since, a.churned_at
         FROM accounts a
         LEFT JOIN users u ON u.id = a.owner_user_id AND u.workspace_id = a.workspace_id
        WHERE a.workspace_id = ?1 AND ${account_id !== undefined ? "a.id" : "a.external_id"} = ?2`,
    )
      .bind(ws, account_id ?? external_id)
      .first<AccountDetailRow>();
    if (!account) {
      throw account_id !== undefined ? notFound("account", account_id) : notFound("account", `external:${external_id}`);
    }

    const today = isoDay(now);
    const current = { from: addDays(today, -USAGE_WINDOW_DAYS), to: addDays(today, -1) };
    const prior = { from: addDays(today, -2 * USAGE_WINDOW_DAYS), to: addDays(today, -USAGE_WINDOW_DAYS - 1) };
    const championSince = addDays(today, -90);
    const bind = (sql: string, ...extra: (string | number)[]) => env.DB.prepare(sql).bind(ws, account.id, ...extra);
    // The live snapshot is read while the rollups are queried.
    const liveSnapshot = accountAgentStub(env, `${ws}:${account.id}`).then((agent) => agent.snapshot());
    // A unary + on status or kind keeps SQLite on the per-account indexes rather than a workspace-wide status index.
    const [
      contractsResult,
      itemsResult,
      seatsResult,
      healthResult,
      trend7Result,
      trend30Result,
      usageResult,
      ticketsResult,
      oldestTicketResult,
      activitiesResult,
      emailsResult,
      npsResult,
      championsResult,
      opportunitiesResult,
      stakeholdersResult,
    ] = await env.DB.batch([
      bind(
        `SELECT id, external_id, start_date, end_date, auto_renew, arr,
                count(*) OVER () AS total_count, sum(arr) OVER () AS total_arr
           FROM contracts WHERE workspace_id = ?1 AND account_id = ?2 AND +status = 'active'
          ORDER BY end_date, id LIMIT ?3`,
        MAX_CONTRACTS,
      ),
      bind(
        `SELECT ci.contract_id, ci.product_id, p.name AS product_name, p.family, ci.seats, ci.arr
           FROM contract_items ci
           LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
          WHERE ci.workspace_id = ?1 AND ci.contract_id IN (
                SELECT id FROM contracts WHERE workspace_id = ?1 AND account_id = ?2 AND +status = 'active'
                 ORDER BY end_date, id LIMIT ?3)
          ORDER BY ci.contract_id, p.name, ci.id`,
        MAX_CONTRACTS,
      ),
      bind(LICENSED_SEATS_SQL),
      bind(
        `SELECT day, score, band, components, model_version FROM health_scores
          WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY day DESC LIMIT 1`,
      ),
      ...HEALTH_TREND_DAYS.map((days) =>
        bind(
          `SELECT day, score FROM health_scores
            WHERE workspace_id = ?1 AND account_id = ?2
              AND day <= date((SELECT max(day) FROM health_scores WHERE workspace_id = ?1 AND account_id = ?2), ?3)
            ORDER BY day DESC LIMIT 1`,
          `-${days} days`,
        ),
      ),
      bind(
        `SELECT CASE WHEN day >= ?3 THEN 'current' ELSE 'prior' END AS usage_window, count(*) AS days,
                coalesce(sum(events), 0) AS events, coalesce(sum(active_users), 0) AS active_user_days
           FROM usage_daily WHERE workspace_id = ?1 AND account_id = ?2 AND day >= ?4 AND day <= ?5
          GROUP BY 1`,
        current.from,
        prior.from,
        current.to,
      ),
      bind(
        `SELECT priority, count(*) AS n FROM tickets
          WHERE workspace_id = ?1 AND account_id = ?2 AND +status IN ('new', 'open', 'pending') GROUP BY priority`,
      ),
      bind(
        `SELECT id, created_at FROM tickets
          WHERE workspace_id = ?1 AND account_id = ?2 AND +status IN ('new', 'open', 'pending')
          ORDER BY created_at, id LIMIT 1`,
      ),
      bind(
        `SELECT id, kind, direction, subject, occurred_at, user_id, contact_id FROM activities
          WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY occurred_at DESC, id DESC LIMIT ?3`,
        MAX_TOUCHPOINTS,
      ),
      bind(
        `SELECT id, to_email, subject, status, created_at, sent_at FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY created_at DESC, id DESC LIMIT ?3`,
        MAX_TOUCHPOINTS,
      ),
      bind(
        `SELECT id AS response_id, score, responded_at FROM survey_responses
          WHERE workspace_id = ?1 AND account_id = ?2 AND +kind = 'nps' ORDER BY responded_at DESC, id DESC LIMIT 1`,
      ),
      bind(
        `SELECT id AS contactId, left_at AS leftAt FROM contacts
          WHERE workspace_id = ?1 AND account_id = ?2 AND left_at >= ?3 AND (is_champion = 1 OR role = 'champion')`,
        championSince,
      ),
      bind(
        `SELECT id, name, kind, stage, amount, probability, close_date,
                count(*) OVER () AS total_count, sum(amount) OVER () AS total_amount
           FROM opportunities WHERE workspace_id = ?1 AND account_id = ?2 AND status = 'open'
          ORDER BY close_date IS NULL, close_date, id LIMIT ?3`,
        MAX_OPPORTUNITIES,
      ),
      bind(
        `SELECT id, name, email, title, role, is_champion, is_decision_maker, left_at, last_seen_at,
                count(*) OVER () AS total_count
           FROM contacts WHERE workspace_id = ?1 AND account_id = ?2
          ORDER BY left_at IS NOT NULL, is_champion DESC, is_decision_maker DESC, name, id LIMIT ?3`,
        MAX_STAKEHOLDERS,
      ),
    ]);

    // Contracts and renewal.
    const contractRows = contractsResult!.results as ContractRow[];
    const itemRows = itemsResult!.results as ContractItemRow[];
    const licensedSeats = (seatsResult!.results[0] as { seats: number }).seats;
    const active = contractRows.map((c) => ({
      id: c.id,
      external_id: c.external_id,
      start_date: c.start_date,
      end_date: c.end_date,
      days_left: daysBetween(today, c.end_date),
      auto_renew: c.auto_renew === 1,
      arr: c.arr,
      items: itemRows.filter((item) => item.contract_id === c.id).map(({ contract_id: _contract, ...item }) => item),
    }));
    const firstContract = active[0];
    const contracts = {
      active_count: contractRows[0]?.total_count ?? 0,
      arr: contractRows[0]?.total_arr ?? 0,
      licensed_seats: licensedSeats,
      next_renewal: firstContract
        ? {
            contract_id: firstContract.id,
            date: firstContract.end_date,
            days_left: firstContract.days_left,
            auto_renew: firstContract.auto_renew,
          }
        : null,
      active,
    };

    // Health: the stored history only.
    const latestHealth = healthResult!.results[0] as HealthRow | undefined;
    const trendRows = [trend7Result, trend30Result].map(
      (r) => r!.results[0] as { day: string; score: number } | undefined,
    );
    const health = {
      latest: latestHealth
        ? {
            day: latestHealth.day,
            score: latestHealth.score,
            band: latestHealth.band,
            age_days: daysBetween(latestHealth.day, today),
            model_version: latestHealth.model_version,
            components: parseComponents(latestHealth.components),
          }
        : null,
      trend: HEALTH_TREND_DAYS.map((days, i) => {
        const compared = latestHealth ? trendRows[i] : undefined;
        return {
          days,
          compared_day: compared?.day ?? null,
          compared_score: compared?.score ?? null,
          change: compared && latestHealth ? round(latestHealth.score - compared.score, 2) : null,
        };
      }),
      note: latestHealth ? null : "No health score computed yet for this account.",
    };

    // Usage windows.
    const usageRows = usageResult!.results as UsageWindowRow[];
    const usageWindow = (name: "current" | "prior", range: { from: string; to: string }) => {
      const row = usageRows.find((r) => r.usage_window === name);
      const days = row?.days ?? 0;
      return {
        ...range,
        days_counted: days,
        events: row?.events ?? 0,
        avg_active_users: days > 0 ? row!.active_user_days / days : null,
      };
    };
    const currentUsage = usageWindow("current", current);
    const priorUsage = usageWindow("prior", prior);
    const utilization =
      currentUsage.avg_active_users !== null && licensedSeats > 0
        ? currentUsage.avg_active_users / licensedSeats
        : null;
    const usage = {
      window_days: USAGE_WINDOW_DAYS,
      current: {
        ...currentUsage,
        avg_active_users: currentUsage.avg_active_users === null ? null : round(currentUsage.avg_active_users, 2),
      },
      prior: {
        ...priorUsage,
        avg_active_users: priorUsage.avg_active_users === null ? null : round(priorUsage.avg_active_users, 2),
      },
      events_change_pct: percentChange(currentUsage.events, priorUsage.events),
      avg_active_users_change_pct:
        currentUsage.avg_active_users !== null && priorUsage.avg_active_users !== null
          ? percentChange(currentUsage.avg_active_users, priorUsage.avg_active_users)
          : null,
      licensed_seats: licensedSeats,
      license_utilization: utilization === null ? null : round(utilization, 3),
    };

    // Open tickets.
    const byPriority = { urgent: 0, high: 0, normal: 0, low: 0 };
    for (const row of ticketsResult!.results as { priority: keyof typeof byPriority; n: number }[]) {
      byPriority[row.priority] = row.n;
    }
    const oldest = oldestTicketResult!.results[0] as { id: string; created_at: string } | undefined;
    const openTickets = {
      open_count: byPriority.urgent + byPriority.high + byPriority.normal + byPriority.low,
      by_priority: byPriority,
      oldest_open: oldest
        ? { ticket_id: oldest.id, created_at: oldest.created_at, age_days: daysBetween(oldest.created_at, today) }
        : null,
    };

    // Touchpoints: inbound items were written by the customer.
    const activityRows = activitiesResult!.results as ActivityRow[];
    const lastActivityAt = activityRows[0]?.occurred_at ?? null;
    const touchpoints = {
      last_activity_at: lastActivityAt,
      days_since_last_activity: lastActivityAt ? daysBetween(lastActivityAt, today) : null,
      activities: activityRows.map(({ subject, ...activity }) => ({
        ...activity,
        subject: activity.direction === "inbound" ? null : subject,
        customer_text: activity.direction === "inbound" ? { subject } : null,
      })),
      emails: emailsResult!.results as {
        id: string;
        to_email: string;
        subject: string;
        status: string;
        created_at: string;
        sent_at: string | null;
      }[],
    };

    const latestNps =
      (npsResult!.results[0] as { response_id: string; score: number; responded_at: string } | undefined) ?? null;

    const flags = evaluateRiskFlags({
      asOf: today,
      usage: { windowDays: USAGE_WINDOW_DAYS, currentEvents: currentUsage.events, priorEvents: priorUsage.events },
      seats: { avgActiveUsers: currentUsage.avg_active_users, licensedSeats },
      openTickets: { urgent: byPriority.urgent, high: byPriority.high },
      latestNps: latestNps
        ? { responseId: latestNps.response_id, score: latestNps.score, respondedAt: latestNps.responded_at }
        : null,
      championsLeft: championsResult!.results as { contactId: string; leftAt: string }[],
      renewalDate: contracts.next_renewal?.date ?? null,
      health: { band: latestHealth?.band ?? null, score: latestHealth?.score ?? null },
      lastActivityAt,
    });

    const opportunityRows = opportunitiesResult!.results as OpportunityRow[];
    const opportunities = {
      open_count: opportunityRows[0]?.total_count ?? 0,
      open_amount: opportunityRows[0]?.total_amount ?? 0,
      open: opportunityRows.map(({ total_count: _count, total_amount: _amount, ...opportunity }) => opportunity),
    };

    const stakeholderRows = stakeholdersResult!.results as StakeholderRow[];
    const stakeholders = {
      total: stakeholderRows[0]?.total_count ?? 0,
      contacts: stakeholderRows.map((c) => ({
        id: c.id,
        name: c.name,
        email: c.email,
        title: c.title,
        role: c.role,
        is_champion: c.is_champion === 1,
        is_decision_maker: c.is_decision_maker === 1,
        left: c.left_at !== null,
        left_at: c.left_at,
        last_seen_at: c.last_seen_at,
      })),
    };

    const snapshot = await liveSnapshot;
    const live = {
      day: snapshot.day,
      events_today: snapshot.eventsToday,
      active_users_today: snapshot.activeUsersToday,
      features_today: snapshot.featuresToday.map((f) => ({
        feature: f.feature,
        events: f.events,
        active_users: f.activeUsers,
      })),
      last_seen_at: snapshot.lastSeenAt,
      unflushed: snapshot.unflushed,
    };

    const { owner_user_id, owner_name, owner_email, ...firmographics } = account;
    const data = {
      as_of: today,
      account: {
        ...firmographics,
        owner: owner_user_id ? { user_id: owner_user_id, name: owner_name, email: owner_email } : null,
      },
      contracts,
      health,
      usage,
      open_tickets: openTickets,
      touchpoints,
      satisfaction: { latest_nps: latestNps },
      risk: { flags, rules_evaluated: [...RISK_CODES] },
      opportunities,
      live,
      stakeholders,
    };

    const pct = (value: number | null) => (value === null ? "n/a" : `${value > 0 ? "+" : ""}${value}%`);
    const renewal = contracts.next_renewal
      ? `next renewal ${contracts.next_renewal.date} (${contracts.next_renewal.days_left} days, auto-renew ${contracts.next_renewal.auto_renew ? "on" : "off"})`
      : "no active contract";
    const healthLine = health.latest
      ? `Health ${health.latest.score} (${health.latest.band}) on ${health.latest.day}; change ${health.trend.map((t) => `${t.days}d ${t.change === null ? "n/a" : t.change}`).join(", ")}.`
      : "No health score computed yet.";
    const lines = [
      `${account.name} (${account.id}): ${account.status}, stage ${account.lifecycle_stage}, segment ${account.segment ?? "–"}, tier ${account.tier ?? "–"}, owner ${owner_email ?? owner_user_id ?? "none"}.`,
      `ARR ${Math.round(contracts.arr).toLocaleString("en-US")} on ${contracts.active_count} active contract(s); ${renewal}.`,
      healthLine,
      `Usage ${current.from}..${current.to} vs prior 30 days: events ${currentUsage.events} vs ${priorUsage.events} (${pct(usage.events_change_pct)}), avg active users ${usage.current.avg_active_users ?? "n/a"} over ${currentUsage.days_counted} day(s) with data; utilization ${usage.license_utilization === null ? "n/a" : `${round(usage.license_utilization * 100, 1)}%`} of ${licensedSeats} seats.`,
      `Open tickets ${openTickets.open_count} (urgent ${byPriority.urgent}, high ${byPriority.high})${openTickets.oldest_open ? `, oldest ${openTickets.oldest_open.age_days} days` : ""}; open opportunities ${opportunities.open_count} (${Math.round(opportunities.open_amount).toLocaleString("en-US")}); stakeholders ${stakeholders.total}; last activity ${lastActivityAt ?? "none"}.`,
      `Live today (${live.day}): ${live.events_today} events, ${live.active_users_today} active users${live.features_today.length > 0 ? ` (top feature ${live.features_today[0]?.feature})` : ""}; last seen ${live.last_seen_at ?? "never"}; ${live.unflushed.events} event(s) on ${live.unflushed.days} day(s) not yet in the daily rollups.`,
      `Risk flags: ${flags.length} of ${RISK_CODES.length} rules.`,
    ];
    if (flags.length > 0) {
      lines.push(
        markdownTable(
          ["flag", "evidence"],
          flags.map((f) => [
            f.code,
            Object.entries(f.evidence)
              .map(([key, value]) => `${key}=${value}`)
              .join(", "),
          ]),
          120,
        ),
      );
    }
    return { data, text: lines.join("\n") };
  },
});
