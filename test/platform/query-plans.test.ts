/**
 * Every statement the read tools run, planned by SQLite on a generated demo workspace: no plan may
 * read a table that grows with usage whole, neither across workspaces (a scan) nor across the
 * workspace's whole history (a search on the workspace alone). Plans are taken without ANALYZE,
 * as production D1 has no sqlite_stat1. New read tools and read actions must be given arguments
 * in `CALLS`; a later page (next_cursor) of each call is planned too.
 */
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { collectWorkspace, type GenerateOptions, generateWorkspace } from "../../scripts/seed/generate";
import type { SeedData } from "../../scripts/seed/rows";
import { insertStatements } from "../../scripts/seed/sql";
import { sealSecrets } from "../../src/integrations/secrets";
import { generateApiKey } from "../../src/platform/auth/api-keys";
import type { D1Meter } from "../../src/platform/db/metered";
import { clock } from "../../src/platform/lib/clock";
import { sha256Hex } from "../../src/platform/lib/crypto";
import { addDays, isoDay } from "../../src/platform/lib/time";
import type { AnyTool } from "../../src/platform/mcp/define-tool";
import { D1_META_KEY } from "../../src/platform/mcp/server";
import { REFRESH_ACCOUNT_ROLLUPS_SQL } from "../../src/records/rollups";
import { afterHealthChunk } from "../../src/tools/health/after-health";
import { computeHealth, HEALTH_CHUNK_SIZE } from "../../src/tools/health/jobs";
import { REGISTRY } from "../../src/toolsets";
import { connectClient } from "../helpers/mcp";
import { formatPlan, GROWING_TABLES, type PlanRow, unboundedReadsOfGrowingTables } from "../helpers/query-plan-scans";

const WS = "ws_qplan";
// Anchored on today, so every tool's default window (which ends today) holds data.
const TODAY = isoDay(clock.now());
const OPTIONS: GenerateOptions = { seed: 11, accounts: 50, anchorDay: TODAY, workspaceId: WS, slug: "qplan" };

/** Ids from the fixture that tools are called with. */
interface Fixture {
  accountId: string;
  contactId: string;
  contractId: string;
  segment: string;
  tier: string;
  ownerId: string;
  ticketId: string;
  escalationId: string;
  interventionId: string;
  campaignId: string;
  integrationId: string;
  deadLetterId: string;
  outboxMessageId: string;
  feature: string;
}

type Args = Record<string, unknown>;

/**
 * Arguments per read call, keyed `tool` or `tool action`: each entry lists the argument sets to
 * call with (filters change the SQL, so the common ones are called too).
 */
const CALLS: Record<string, (f: Fixture) => Args[]> = {
  // core
  search: () => [{ query: "report export" }, { query: "login", kinds: ["ticket", "feedback"] }],
  fetch: (f) => [{ id: `account:${f.accountId}` }, { id: `contact:${f.contactId}` }, { id: `ticket:${f.ticketId}` }],
  get_workspace_overview: () => [{}],
  list_accounts: (f) => [
    {},
    { segment: f.segment, sort: "health_score", order: "desc" },
    { health_band: "red" },
    { renewal_within_days: 120, sort: "renewal_date" },
    { owner: f.ownerId, text: "a", sort: "arr" },
  ],
  get_account_overview: (f) => [{ account_id: f.accountId }],
  get_account_timeline: (f) => [{ account_id: f.accountId }, { account_id: f.accountId, kinds: ["ticket_opened"] }],
  list_outbox: (f) => [{}, { message_id: f.outboxMessageId }, { account_id: f.accountId, status: "queued" }],
  "configure_workspace get": () => [{}],
  "configure_workspace history": () => [{}],
  "manage_integrations list": () => [{}],
  "manage_integrations get": (f) => [{ integration_id: f.integrationId }],
  "manage_dead_letters list": () => [{}, { status: "all" }],
  "manage_dead_letters get": (f) => [{ dead_letter_id: f.deadLetterId }],
  "manage_tasks list": (f) => [{}, { account_id: f.accountId, status: "all" }, { overdue: true }],
  // health
  track_usage_engagement: (f) => [{}, { account_id: f.accountId }, { segment: f.segment }],
  track_feature_adoption: (f) => [{}, { account_id: f.accountId }, { segment: f.segment, feature: f.feature }],
  track_adoption_milestones: (f) => [{}, { account_id: f.accountId }],
  analyze_engagement_patterns: (f) => [{ account_id: f.accountId }, { contact_id: f.contactId }],
  "manage_lifecycle_stages list": () => [{}],
  "manage_lifecycle_stages evaluate": () => [{}],
  "manage_lifecycle_stages history": (f) => [{ account_id: f.accountId }],
  "manage_lifecycle_stages stuck": () => [{}],
  "segment_customers list": () => [{}],
  "segment_customers evaluate": () => [{}],
  "segment_by_value_tier list": () => [{}],
  "segment_by_value_tier evaluate": () => [{}],
  "segment_by_value_tier check_sla": (f) => [{}, { tier: f.tier }],
  // retention
  identify_churn_risk: (f) => [{}, { account_id: f.accountId }, { segment: f.segment, sort: "probability" }],
  "score_risk_factors library": () => [{}],
  "score_risk_factors account": (f) => [{ account_id: f.accountId }],
  "score_risk_factors model": () => [{}],
  "automate_retention_campaigns list": () => [{}],
  "automate_retention_campaigns get": (f) => [{ campaign_id: f.campaignId }],
  "automate_retention_campaigns report": (f) => [{ campaign_id: f.campaignId }],
  "execute_retention_campaign get": (f) => [{ intervention_id: f.interventionId }],
  "execute_retention_campaign list": (f) => [{}, { account_id: f.accountId, status: "all" }],
  "execute_retention_campaign stats": () => [{}],
  "monitor_satisfaction scores": () => [{}, { kind: "nps", window_days: 365 }],
  "monitor_satisfaction detractors": () => [{}],
  "manage_escalations get": (f) => [{ escalation_id: f.escalationId }],
  "manage_escalations list": (f) => [{}, { account_id: f.accountId, status: "all" }],
  "manage_escalations stats": () => [{}],
  analyze_churn_postmortem: () => [{}, { window_days: 730 }],
  // expansion
  "track_renewals list": (f) => [{}, { window_days: 365, segment: f.segment, health_band: "red" }],
  "track_renewals schedule": () => [{}],
  forecast_renewals: (f) => [{}, { period: "quarter", segment: f.segment }],
  "identify_upsell_opportunities list": (f) => [{}, { segment: f.segment, include_unqualified: true }],
  "identify_crosssell_opportunities rules": () => [{}],
  "identify_crosssell_opportunities list": (f) => [{}, { segment: f.segment }],
  "identify_expansion_opportunities account": (f) => [{ account_id: f.accountId }],
  "identify_expansion_opportunities list": (f) => [{}, { segment: f.segment }],
  "identify_expansion_opportunities pipeline": () => [{}],
  track_revenue_expansion: (f) => [{}, { granularity: "quarter", segment: f.segment }],
  "negotiate_renewals prepare": (f) => [{ contract_id: f.contractId }, { account_id: f.accountId }],
  "negotiate_renewals list": (f) => [{ account_id: f.accountId }, { contract_id: f.contractId }],
  optimize_customer_lifetime_value: (f) => [{}, { account_id: f.accountId }, { segment: f.segment }],
};

/**
 * Unbounded reads accepted, each with its reason. An entry matches a read of `table` in a
 * statement of that call whose SQL contains `sql`.
 */
const EXPECTED_UNBOUNDED: { call: string; table: string; sql: string; reason: string }[] = [
  {
    call: "get_workspace_overview",
    table: "tickets",
    sql: "(SELECT count(*) FROM tickets WHERE workspace_id = ?1) AS tickets",
    reason: "a workspace total: counting every ticket is the figure (from a covering index)",
  },
  {
    call: "get_workspace_overview",
    table: "survey_responses",
    sql: "(SELECT count(*) FROM survey_responses WHERE workspace_id = ?1) AS survey_responses",
    reason: "a workspace total: counting every response is the figure (from a covering index)",
  },
  {
    call: "get_workspace_overview",
    table: "usage_daily",
    sql: "(SELECT max(day) FROM usage_daily WHERE workspace_id = ?1)",
    reason: "max() on usage_daily_ws_day (workspace_id, day) reads one index entry; plans do not show it",
  },
  {
    call: "get_workspace_overview",
    table: "tickets",
    sql: "(SELECT max(created_at) FROM tickets WHERE workspace_id = ?1)",
    reason: "max() on tickets_ws_created (workspace_id, created_at) reads one index entry; plans do not show it",
  },
  {
    call: "get_workspace_overview",
    table: "survey_responses",
    sql: "(SELECT max(responded_at) FROM survey_responses WHERE workspace_id = ?1)",
    reason:
      "needs index survey_responses(workspace_id, responded_at): responses without an account rule out a per-account max",
  },
  {
    call: "get_workspace_overview",
    table: "health_scores",
    sql: "(SELECT max(day) FROM health_scores WHERE workspace_id = ?1)",
    reason: "max() on health_scores_ws_day (workspace_id, day) reads one index entry; plans do not show it",
  },
];

/** The actions a tool's `action` argument accepts, or none for a tool without one. */
function actionsOf(tool: AnyTool): string[] {
  const action = tool.input.action;
  if (!action) return [];
  const schema = z.toJSONSchema(action) as { enum?: string[] };
  return schema.enum ?? [];
}

/** Every read call: each read-only tool (per action when it has some) and each read action of a write tool. */
function readCalls(): { key: string; tool: string; action?: string }[] {
  return REGISTRY.tools.flatMap((tool) => {
    const actions = tool.annotations.readOnlyHint ? actionsOf(tool) : [...(tool.readActions ?? [])];
    if (tool.annotations.readOnlyHint && actions.length === 0) return [{ key: tool.name, tool: tool.name }];
    return actions.map((action) => ({ key: `${tool.name} ${action}`, tool: tool.name, action }));
  });
}

function pick<T>(rows: readonly T[], test: (row: T) => boolean, what: string): T {
  const row = rows.find(test);
  if (!row) throw new Error(`fixture has no ${what}`);
  return row;
}

/** Loads the demo workspace, the nightly health and risk scores, and rows the demo does not generate. */
async function loadFixture(): Promise<Fixture> {
  for (const statement of insertStatements(generateWorkspace(OPTIONS))) await env.DB.prepare(statement).run();
  await env.DB.prepare(REFRESH_ACCOUNT_ROLLUPS_SQL).bind(WS).run();
  const data: SeedData = collectWorkspace(OPTIONS);

  const active = data.accounts.filter((a) => a.status === "active").map((a) => a.id);
  // Scores a month and a week back too, so trends and band changes have history.
  for (const day of [addDays(TODAY, -30), addDays(TODAY, -7), TODAY]) {
    for (let i = 0; i < active.length; i += HEALTH_CHUNK_SIZE) {
      const chunk = active.slice(i, i + HEALTH_CHUNK_SIZE);
      await computeHealth(env, WS, chunk, day);
      await afterHealthChunk(env, WS, chunk, day);
    }
  }

  const ticketCount = new Map<string, number>();
  for (const t of data.tickets) ticketCount.set(t.account_id, (ticketCount.get(t.account_id) ?? 0) + 1);
  const account = pick(
    [...data.accounts].sort((a, b) => (ticketCount.get(b.id) ?? 0) - (ticketCount.get(a.id) ?? 0)),
    (a) => a.status === "active",
    "active account",
  );
  const contact = pick(data.contacts, (c) => c.account_id === account.id, "contact");
  const contract = pick(data.contracts, (c) => c.account_id === account.id && c.status === "active", "contract");
  const feature = pick(data.usage_feature_daily, (u) => u.account_id === account.id, "feature day").feature;

  // Raw events, audit rows, an integration, a dead letter and an email: the demo generates none.
  const events = Array.from({ length: 60 }, (_, i) =>
    env.DB.prepare(
      `INSERT INTO usage_events (id, workspace_id, account_id, contact_id, user_ref, event, feature, occurred_at, message_id)
       VALUES (?1, ?2, ?3, ?4, ?5, 'feature_used', ?6, ?7, ?8)`,
    ).bind(
      `uev_qplan_${i}`,
      WS,
      account.id,
      contact.id,
      contact.email,
      feature,
      `${addDays(TODAY, -(i % 20) - 1)}T10:00:00Z`,
      `msg_qplan_${i}`,
    ),
  );
  const audits = Array.from({ length: 10 }, (_, i) =>
    env.DB.prepare(
      `INSERT INTO audit_log (id, workspace_id, tool, action, target_type, target_id, details, request_id, created_at)
       VALUES (?1, ?2, 'manage_lifecycle_stages', 'move', 'account', ?3, '{}', ?4, ?5)`,
    ).bind(`aud_qplan_${i}`, WS, account.id, `req_qplan_${i}`, `${addDays(TODAY, -i)}T09:00:00Z`),
  );
  await env.DB.batch([
    ...events,
    ...audits,
    env.DB.prepare(
      "INSERT INTO integrations (id, workspace_id, provider, name, secret_ciphertext) VALUES ('int_qplan', ?1, 'segment', 'Product events', ?2)",
    ).bind(WS, await sealSecrets({ current: "whsec_qplan", previous: null }, env.ENCRYPTION_KEY)),
    env.DB.prepare(
      "INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts) VALUES ('dlq_qplan', ?1, 'cs-jobs', 'qmsg_qplan', '{}', 'boom', 3)",
    ).bind(WS),
    env.DB.prepare(
      `INSERT INTO outbox_messages (id, workspace_id, idempotency_key, account_id, contact_id, to_email, subject, body_text)
       VALUES ('eml_qplan', ?1, 'qplan-1', ?2, ?3, ?4, 'Check-in', 'Hello')`,
    ).bind(WS, account.id, contact.id, contact.email),
  ]);

  return {
    accountId: account.id,
    contactId: contact.id,
    contractId: contract.id,
    segment: account.segment,
    tier: account.tier,
    ownerId: account.owner_user_id,
    ticketId: pick(data.tickets, (t) => t.account_id === account.id, "ticket").id,
    escalationId: pick(data.escalations, () => true, "escalation").id,
    interventionId: pick(data.interventions, () => true, "intervention").id,
    campaignId: pick(data.retention_campaigns, () => true, "campaign").id,
    integrationId: "int_qplan",
    deadLetterId: "dlq_qplan",
    outboxMessageId: "eml_qplan",
    feature,
  };
}

let fixture: Fixture;
let client: Client;
const checkedPerCall = new Map<string, number>();
const allowanceUsed = new Set<number>();

beforeAll(async () => {
  fixture = await loadFixture();
  // An admin key for the demo's own admin user, so every read action is allowed.
  const key = generateApiKey();
  await env.DB.prepare(
    "INSERT INTO api_keys (id, workspace_id, user_id, name, role, prefix, key_hash) VALUES ('key_qplan', ?1, 'usr_qplan_admin', 'plans', 'admin', ?2, ?3)",
  )
    .bind(WS, key.slice(0, 8), await sha256Hex(key))
    .run();
  client = await connectClient(key, "?toolsets=all", { "X-Debug-D1": "sql" });
}, 180_000);

afterAll(() => {
  const lines = [...checkedPerCall].map(([call, n]) => `${call}: ${n}`);
  console.log(`Query plans checked per read call (statements):\n${lines.join("\n")}`);
});

describe("unbounded-read detection", () => {
  const planOf = async (sql: string, ...params: unknown[]) =>
    (
      await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<PlanRow>()
    ).results;
  const readsOf = async (sql: string, ...params: unknown[]) =>
    unboundedReadsOfGrowingTables(sql, await planOf(sql, ...params)).map((r) => `${r.kind} ${r.table}`);

  it("reports scans of growing tables, aliased or through an index, and workspace-only searches", async () => {
    expect(await readsOf("SELECT count(*) AS n FROM usage_daily WHERE events > 5")).toEqual(["full scan usage_daily"]);
    expect(
      await readsOf("SELECT t.id FROM accounts a JOIN tickets t ON t.account_id = a.id WHERE a.workspace_id = ?1", WS),
    ).toEqual(["full scan tickets"]);
    expect(await readsOf("SELECT workspace_id, day FROM health_scores ORDER BY workspace_id, account_id, day")).toEqual(
      ["full scan health_scores"],
    );
    expect(await readsOf("SELECT max(probability) FROM risk_scores r WHERE r.workspace_id = ?1", WS)).toEqual([
      "whole workspace risk_scores",
    ]);
  });

  it("leaves reads bounded by an account or a range alone", async () => {
    const byAccount = `SELECT u.day, e.value FROM json_each(?2) e CROSS JOIN usage_daily u
      ON u.workspace_id = ?1 AND u.account_id = e.value WHERE u.day >= '2026-01-01'`;
    expect(await readsOf(byAccount, WS, "[]")).toEqual([]);
    expect(
      await readsOf("SELECT count(*) FROM tickets WHERE workspace_id = ?1 AND created_at >= ?2", WS, TODAY),
    ).toEqual([]);
  });
});

describe("query plans of read tools", () => {
  const calls = readCalls();

  it("runs on a fixture holding rows in every growing table", async () => {
    const counts = await env.DB.batch<{ n: number }>(
      [...GROWING_TABLES].map((table) =>
        env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE workspace_id = ?1`).bind(WS),
      ),
    );
    const empty = [...GROWING_TABLES].filter((_, i) => !counts[i]?.results[0]?.n);
    expect(empty).toEqual([]);
  });

  it("has arguments for every read tool and read action, and for nothing else", () => {
    const keys = calls.map((c) => c.key);
    expect(
      keys.filter((k) => !(k in CALLS)),
      "read calls missing from CALLS",
    ).toEqual([]);
    expect(
      Object.keys(CALLS).filter((k) => !keys.includes(k)),
      "CALLS entries that are no read call",
    ).toEqual([]);
  });

  it.each(calls)(
    "$key reads no growing table whole",
    async ({ key, tool, action }) => {
      const argSets = CALLS[key]?.(fixture) ?? [];
      expect(argSets.length, `no arguments for ${key}`).toBeGreaterThan(0);
      const problems: string[] = [];
      let checked = 0;
      const check = async (args: Args) => {
        const result = await client.callTool({ name: tool, arguments: action ? { action, ...args } : args });
        expect(result.isError, `${key} ${JSON.stringify(args)}: ${JSON.stringify(result.content)}`).toBeFalsy();
        const statements = (result._meta?.[D1_META_KEY] as D1Meter | undefined)?.sql ?? [];
        expect(statements.length, `${key} recorded no statements`).toBeGreaterThan(0);
        for (const { sql, params } of statements) {
          const { results: plan } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .bind(...params)
            .all<PlanRow>();
          checked++;
          for (const read of unboundedReadsOfGrowingTables(sql, plan)) {
            const allowance = EXPECTED_UNBOUNDED.findIndex(
              (e) => e.call === key && e.table === read.table && sql.includes(e.sql),
            );
            if (allowance >= 0) {
              allowanceUsed.add(allowance);
              continue;
            }
            problems.push(
              `${tool}${action ? ` action ${action}` : ""} reads ${read.table} whole (${read.kind}: ${read.detail})\n` +
                `SQL: ${sql.replace(/\s+/g, " ").slice(0, 200)}\nplan:\n${formatPlan(plan)}`,
            );
          }
        }
        return (result.structuredContent as { next_cursor?: unknown } | undefined)?.next_cursor;
      };
      for (const args of argSets) {
        const cursor = await check(args);
        // A later page runs its own keyset SQL.
        if (typeof cursor === "string") await check({ ...args, cursor });
      }
      checkedPerCall.set(key, checked);
      expect(problems, problems.join("\n\n")).toEqual([]);
    },
    // Some tools run dozens of statements; a loaded machine needs more than the default 5 s.
    60_000,
  );

  it("uses every accepted read (an unused entry is stale and must go)", () => {
    expect(EXPECTED_UNBOUNDED.filter((_, i) => !allowanceUsed.has(i))).toEqual([]);
  });

  it("reports the latest health day per account as the latest stored score", async () => {
    const overview = await client.callTool({ name: "get_workspace_overview", arguments: {} });
    const { freshness } = overview.structuredContent as { freshness: { source: string; latest: string | null }[] };
    const stored = await env.DB.prepare("SELECT max(day) AS day FROM health_scores WHERE workspace_id = ?1")
      .bind(WS)
      .first<{ day: string }>();
    expect(stored?.day).toBe(TODAY);
    expect(freshness.find((f) => f.source === "health scores (latest day)")?.latest).toBe(TODAY);
  });
});
