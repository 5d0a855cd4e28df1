import { z } from "zod";
import { accountAgentStub } from "../../agents/account-agent-stub";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  contractsSection,
  HEALTH_TREND_DAYS,
  healthSection,
  liveSection,
  openTicketsSection,
  opportunitiesSection,
  overviewWindows,
  stakeholdersSection,
  touchpointsSection,
  USAGE_WINDOW_DAYS,
  usageSection,
} from "./domain/account-overview";
import { evaluateRiskFlags, RISK_CODES } from "./domain/risk-flags";
import { type AccountDetailRow, findAccountDetail, readAccountOverview } from "./queries/accounts";

const usageWindowSchema = z.object({
  from: z.string(),
  to: z.string(),
  days_counted: z.number().describe("Days in the window that have a usage rollup row."),
  events: z.number(),
  avg_active_users: z.number().nullable().describe("Sum of daily active users / days_counted; null without rows."),
});

const evidenceSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

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
    const account = await findAccountDetail(
      env.DB,
      ws,
      account_id !== undefined ? { accountId: account_id } : { externalId: external_id! },
    );
    if (!account) {
      throw account_id !== undefined ? notFound("account", account_id) : notFound("account", `external:${external_id}`);
    }
    const today = isoDay(now);
    const windows = overviewWindows(today);
    // The live snapshot is read while the rollups are queried.
    const liveSnapshot = accountAgentStub(env, `${ws}:${account.id}`).then((agent) => agent.snapshot());
    const rows = await readAccountOverview(env.DB, ws, account.id, { ...windows, trendDays: HEALTH_TREND_DAYS });
    const contracts = contractsSection(rows, today);
    const health = healthSection(rows, today);
    const { usage, currentAvgActiveUsers } = usageSection(rows, windows);
    const openTickets = openTicketsSection(rows, today);
    const touchpoints = touchpointsSection(rows, today);
    const flags = evaluateRiskFlags({
      asOf: today,
      usage: { windowDays: USAGE_WINDOW_DAYS, currentEvents: usage.current.events, priorEvents: usage.prior.events },
      seats: { avgActiveUsers: currentAvgActiveUsers, licensedSeats: rows.licensedSeats },
      openTickets: { urgent: openTickets.by_priority.urgent, high: openTickets.by_priority.high },
      latestNps: rows.latestNps
        ? {
            responseId: rows.latestNps.response_id,
            score: rows.latestNps.score,
            respondedAt: rows.latestNps.responded_at,
          }
        : null,
      championsLeft: rows.championsLeft,
      renewalDate: contracts.next_renewal?.date ?? null,
      health: { band: rows.latestHealth?.band ?? null, score: rows.latestHealth?.score ?? null },
      lastActivityAt: touchpoints.last_activity_at,
    });
    const live = liveSection(await liveSnapshot);
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
      satisfaction: { latest_nps: rows.latestNps },
      risk: { flags, rules_evaluated: [...RISK_CODES] },
      opportunities: opportunitiesSection(rows),
      live,
      stakeholders: stakeholdersSection(rows),
    };
    return { data, text: overviewText(account, data) };
  },
});

/** The overview as a few lines of our own wording, with a table of the raised flags. */
function overviewText(account: AccountDetailRow, data: OverviewData): string {
  const { contracts, health, usage, open_tickets: openTickets, opportunities, stakeholders, live } = data;
  const { flags } = data.risk;
  const byPriority = openTickets.by_priority;
  const lastActivityAt = data.touchpoints.last_activity_at;
  const pct = (value: number | null) => (value === null ? "n/a" : `${value > 0 ? "+" : ""}${value}%`);
  const renewal = contracts.next_renewal
    ? `next renewal ${contracts.next_renewal.date} (${contracts.next_renewal.days_left} days, auto-renew ${contracts.next_renewal.auto_renew ? "on" : "off"})`
    : "no active contract";
  const healthLine = health.latest
    ? `Health ${health.latest.score} (${health.latest.band}) on ${health.latest.day}; change ${health.trend.map((t) => `${t.days}d ${t.change === null ? "n/a" : t.change}`).join(", ")}.`
    : "No health score computed yet.";
  const lines = [
    `${account.name} (${account.id}): ${account.status}, stage ${account.lifecycle_stage}, segment ${account.segment ?? "–"}, tier ${account.tier ?? "–"}, owner ${account.owner_email ?? account.owner_user_id ?? "none"}.`,
    `ARR ${Math.round(contracts.arr).toLocaleString("en-US")} on ${contracts.active_count} active contract(s); ${renewal}.`,
    healthLine,
    `Usage ${usage.current.from}..${usage.current.to} vs prior 30 days: events ${usage.current.events} vs ${usage.prior.events} (${pct(usage.events_change_pct)}), avg active users ${usage.current.avg_active_users ?? "n/a"} over ${usage.current.days_counted} day(s) with data; utilization ${usage.license_utilization === null ? "n/a" : `${round(usage.license_utilization * 100, 1)}%`} of ${usage.licensed_seats} seats.`,
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
  return lines.join("\n");
}

/** The overview's sections, as the handler assembles them. */
type OverviewData = {
  contracts: ReturnType<typeof contractsSection>;
  health: ReturnType<typeof healthSection>;
  usage: ReturnType<typeof usageSection>["usage"];
  open_tickets: ReturnType<typeof openTicketsSection>;
  touchpoints: ReturnType<typeof touchpointsSection>;
  risk: { flags: ReturnType<typeof evaluateRiskFlags> };
  opportunities: ReturnType<typeof opportunitiesSection>;
  live: ReturnType<typeof liveSection>;
  stakeholders: ReturnType<typeof stakeholdersSection>;
};
