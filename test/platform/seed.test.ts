import { env } from "cloudflare:workers";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import {
  accountProfiles,
  collectWorkspace,
  type GenerateOptions,
  generateWorkspace,
} from "../../scripts/seed/generate";
import { DEMO_PASSWORD, demoPasswordHash } from "../../scripts/seed/password";
import { SEED_TABLES, type SeedData } from "../../scripts/seed/rows";
import { deleteWorkspaceStatements, insertStatements, SqlEmitter } from "../../scripts/seed/sql";
import { clock } from "../../src/platform/lib/clock";
import { verifyPassword } from "../../src/platform/lib/crypto";
import { addDays } from "../../src/platform/lib/time";
import { REFRESH_ACCOUNT_ROLLUPS_SQL } from "../../src/records/rollups";
import { workspaceSettingsSchema } from "../../src/records/settings";
import * as schema from "../../src/schema";
import { campaignStepsSchema, triggerSchema } from "../../src/tools/retention/domain/campaign-rules";

const ANCHOR = "2026-06-15";
const OPTIONS: GenerateOptions = {
  seed: 7,
  accounts: 60,
  anchorDay: ANCHOR,
  workspaceId: "ws_seedgen",
  slug: "seedgen",
};
const data: SeedData = collectWorkspace(OPTIONS);
const trajectoryOf = new Map(accountProfiles(OPTIONS).map((p) => [p.id, p.trajectory]));
const idsOf = (trajectory: string) => [...trajectoryOf].filter(([, t]) => t === trajectory).map(([id]) => id);

/** Columns per table as declared in the drizzle schema. */
const schemaColumns = new Map(
  Object.values(schema as Record<string, unknown>)
    .filter((value): value is SQLiteTable => is(value, SQLiteTable))
    .map((table) => getTableConfig(table))
    .map((config) => [config.name, config.columns.map((c) => c.name).sort()]),
);

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

const usageByAccount = groupBy(data.usage_daily, (u) => u.account_id);

describe("demo generator: determinism and scale", () => {
  it("gives byte-identical rows and SQL for the same options", () => {
    expect(JSON.stringify(collectWorkspace(OPTIONS))).toBe(JSON.stringify(data));
    const small = { ...OPTIONS, accounts: 12 };
    expect([...insertStatements(generateWorkspace(small))].join("\n")).toBe(
      [...insertStatements(generateWorkspace(small))].join("\n"),
    );
  });

  it("gives different data for a different seed", () => {
    const other = collectWorkspace({ ...OPTIONS, seed: 8 });
    expect(other.accounts.map((a) => a.name)).not.toEqual(data.accounts.map((a) => a.name));
    expect(JSON.stringify(other.usage_daily)).not.toBe(JSON.stringify(data.usage_daily));
  });

  it("makes as many accounts as asked, with unique prefixed ids and every trajectory", () => {
    expect(collectWorkspace({ ...OPTIONS, accounts: 5 }).accounts).toHaveLength(5);
    expect(data.accounts).toHaveLength(60);
    expect(new Set(data.accounts.map((a) => a.id)).size).toBe(60);
    expect(new Set(data.accounts.map((a) => a.name)).size).toBe(60);
    expect(data.accounts.every((a) => a.id.startsWith("acc_seedgen_") && /^crm-\d{6}$/.test(a.external_id))).toBe(true);
    expect(data.tickets.every((t) => t.id.startsWith("tkt_") && t.external_id.startsWith("zd-"))).toBe(true);
    for (const t of ["healthy", "growing", "declining", "seasonal", "churned", "onboarding"]) {
      expect(idsOf(t).length, t).toBeGreaterThan(0);
    }
    expect(() => collectWorkspace({ ...OPTIONS, accounts: 0 })).toThrow();
  });

  it("names every column of the schema, and only those", () => {
    for (const table of SEED_TABLES) {
      const row = data[table][0];
      expect(row, table).toBeDefined();
      expect(Object.keys(row ?? {}).sort(), table).toEqual(schemaColumns.get(table));
    }
  });

  it("stores a demo password hash that sign-in accepts", async () => {
    const hash = await demoPasswordHash(OPTIONS.seed, OPTIONS.slug);
    expect(hash).toBe(await demoPasswordHash(OPTIONS.seed, OPTIONS.slug));
    expect(await verifyPassword(DEMO_PASSWORD, hash)).toBe(true);
    expect(await verifyPassword("wrong-password", hash)).toBe(false);
  });
});

describe("demo generator: internal consistency", () => {
  // Usage per working day (Mon–Fri), so windows with more weekend days are not penalised.
  const isWorkday = (day: string) => ![0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay());
  const workdayAverage = (accountId: string, fromOffset: number, toOffset: number) => {
    const from = addDays(ANCHOR, fromOffset);
    const to = addDays(ANCHOR, toOffset);
    let workdays = 0;
    for (let d = fromOffset; d < toOffset; d++) if (isWorkday(addDays(ANCHOR, d))) workdays++;
    const events = (usageByAccount.get(accountId) ?? [])
      .filter((u) => u.day >= from && u.day < to && isWorkday(u.day))
      .reduce((s, u) => s + u.events, 0);
    return events / workdays;
  };
  const trend = (id: string) => workdayAverage(id, -30, 0) / workdayAverage(id, -120, -30);

  it("shows declining accounts' last 30 days below their prior 90-day average, healthy ones not", () => {
    for (const id of idsOf("declining")) expect(trend(id), id).toBeLessThan(0.8);
    // Healthy accounts move only within day-to-day noise, and not downwards on average.
    const healthy = idsOf("healthy").map(trend);
    for (const ratio of healthy) expect(ratio).toBeGreaterThan(0.85);
    expect(healthy.reduce((a, b) => a + b, 0) / healthy.length).toBeGreaterThanOrEqual(1);
  });

  it("stops churned accounts' usage and tickets at churn and records why they left", () => {
    const accounts = data.accounts.filter((a) => a.status === "churned");
    expect(accounts.map((a) => a.id).sort()).toEqual(idsOf("churned").sort());
    for (const account of accounts) {
      const churnedAt = account.churned_at!;
      expect(account.arr).toBe(0);
      expect(account.renewal_date).toBeNull();
      expect((usageByAccount.get(account.id) ?? []).every((u) => u.day < churnedAt)).toBe(true);
      expect(data.tickets.filter((t) => t.account_id === account.id).every((t) => t.created_at < churnedAt)).toBe(true);
      const last = data.contracts
        .filter((c) => c.account_id === account.id)
        .sort((a, b) => (a.start_date < b.start_date ? -1 : 1))
        .at(-1)!;
      expect(last.outcome).toBe("churned");
      expect(last.end_date).toBe(churnedAt);
      expect(["low_adoption", "budget", "competitor", "champion_left", "acquired"]).toContain(last.outcome_reason);
    }
  });

  it("raises escalations from the account's own urgent or high tickets, with SLA and timeline", () => {
    expect(data.escalations.length).toBeGreaterThan(0);
    const tickets = new Map(data.tickets.map((t) => [t.id, t]));
    const hours = { critical: 4, high: 24, medium: 72, low: 168 };
    for (const e of data.escalations) {
      const ticket = tickets.get(e.ticket_id ?? "");
      expect(ticket?.account_id).toBe(e.account_id);
      expect(["urgent", "high"]).toContain(ticket?.priority);
      expect(e.opened_at > (ticket?.created_at ?? "")).toBe(true);
      if (e.reopen_count === 0) {
        expect(Date.parse(e.sla_due_at) - Date.parse(e.opened_at)).toBe(hours[e.severity] * 3_600_000);
      }
      if (ticket?.solved_at === null) expect(e.status).not.toBe("resolved");
      expect((e.status === "resolved") === (e.resolved_at !== null && e.root_cause !== null)).toBe(true);
      const events = data.escalation_events.filter((v) => v.escalation_id === e.id);
      expect(events[0]?.kind).toBe("opened");
      expect(events.filter((v) => v.kind === "resolved").length).toBe(e.status === "resolved" ? 1 : 0);
    }
  });

  it("bills each term's periods to the account's billing customer, with failures on record", () => {
    expect(data.payments.some((p) => p.status === "failed")).toBe(true);
    const accounts = new Map(data.accounts.map((a) => [a.id, a]));
    for (const payment of data.payments) {
      const account = accounts.get(payment.account_id);
      expect(JSON.parse(account?.custom_fields ?? "{}").stripe_customer_id).toBe(payment.customer_ref);
      const day = payment.created_at.slice(0, 10);
      const term = data.contracts.find(
        (c) => c.account_id === payment.account_id && c.start_date <= day && day < c.end_date,
      );
      expect(term).toBeDefined();
      expect(payment.status !== "paid" || payment.paid_at !== null).toBe(true);
      expect(payment.status !== "failed" || payment.failed_at !== null).toBe(true);
    }
  });

  it("seeds settings and a rescue campaign the tools accept as they are", () => {
    const settings = workspaceSettingsSchema.safeParse(JSON.parse(data.workspaces[0]!.settings));
    expect(settings.success && settings.data.email_sender).toEqual({
      name: "Customer Success",
      email: "success@seedgen.example",
    });
    const [campaign] = data.retention_campaigns;
    expect(triggerSchema.safeParse(JSON.parse(campaign!.trigger)).success).toBe(true);
    expect(campaignStepsSchema.safeParse(JSON.parse(campaign!.steps)).success).toBe(true);
  });

  it("closes interventions with the outcome the account's next contract shows", () => {
    expect(data.interventions.length).toBeGreaterThan(0);
    for (const i of data.interventions.filter((v) => v.status === "closed")) {
      const closedDay = i.closed_at?.slice(0, 10);
      const ended = data.contracts.find((c) => c.account_id === i.account_id && c.outcome_date === closedDay);
      const expected = { churned: "churned", contracted: "downsized", renewed: "saved", expanded: "saved" } as const;
      expect(i.outcome).toBe(ended?.outcome ? expected[ended.outcome] : "missing");
      expect(i.opened_at < (i.closed_at ?? "")).toBe(true);
    }
    const steps = groupBy(data.intervention_steps, (s) => s.intervention_id);
    expect(data.interventions.every((i) => (steps.get(i.id) ?? []).length === 3)).toBe(true);
  });

  it("keeps activity inside the customer's life", () => {
    for (const account of data.accounts) {
      const usage = usageByAccount.get(account.id) ?? [];
      expect(usage.every((u) => u.day >= account.customer_since && u.day < ANCHOR)).toBe(true);
    }
    const since = new Map(data.accounts.map((a) => [a.id, a.customer_since]));
    expect(data.tickets.every((t) => t.created_at >= since.get(t.account_id)! && t.created_at < ANCHOR)).toBe(true);
  });

  it("chains each account's contracts contiguously from customer_since", () => {
    const byAccount = groupBy(data.contracts, (c) => c.account_id);
    for (const account of data.accounts) {
      const chain = (byAccount.get(account.id) ?? []).sort((a, b) => (a.start_date < b.start_date ? -1 : 1));
      expect(chain[0]?.start_date).toBe(account.customer_since);
      chain.forEach((contract, i) => {
        const previous = chain[i - 1];
        expect(contract.previous_contract_id).toBe(previous?.id ?? null);
        if (previous) expect(contract.start_date).toBe(previous.end_date);
        if (contract.status === "ended") {
          expect(contract.outcome).not.toBeNull();
          expect(contract.outcome_date! <= contract.end_date && contract.end_date <= ANCHOR).toBe(true);
        }
      });
      const active = chain.filter((c) => c.status === "active");
      expect(active).toHaveLength(account.status === "active" ? 1 : 0);
      for (const c of active) expect(c.start_date <= ANCHOR && ANCHOR < c.end_date).toBe(true);
    }
  });

  it("sets account ARR and renewal date from active contracts, and contract ARR from its items", () => {
    const itemsByContract = groupBy(data.contract_items, (i) => i.contract_id);
    for (const contract of data.contracts) {
      expect(contract.arr).toBe((itemsByContract.get(contract.id) ?? []).reduce((s, i) => s + i.arr, 0));
    }
    for (const account of data.accounts) {
      const active = data.contracts.filter((c) => c.account_id === account.id && c.status === "active");
      expect(account.arr).toBe(active.reduce((s, c) => s + c.arr, 0));
      expect(account.renewal_date).toBe(active.map((c) => c.end_date).sort()[0] ?? null);
    }
  });

  it("splits feature-day events exactly from account-day events, within its users", () => {
    const windowStart = addDays(ANCHOR, -120);
    const features = groupBy(data.usage_feature_daily, (f) => `${f.account_id}|${f.day}`);
    let checked = 0;
    for (const day of data.usage_daily) {
      const parts = features.get(`${day.account_id}|${day.day}`) ?? [];
      if (day.day < windowStart) {
        expect(parts).toHaveLength(0);
        continue;
      }
      expect(parts.reduce((s, f) => s + f.events, 0)).toBe(day.events);
      expect(parts.every((f) => f.active_users >= 1 && f.active_users <= day.active_users)).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
    expect(data.usage_feature_daily).toHaveLength([...features.values()].reduce((s, l) => s + l.length, 0));
  });

  it("never counts more active users than licensed seats", () => {
    const planIds = new Set(data.products.filter((p) => p.family === "Platform").map((p) => p.id));
    const seatsByContract = new Map(
      data.contract_items.filter((i) => planIds.has(i.product_id)).map((i) => [i.contract_id, i.seats]),
    );
    const contracts = groupBy(data.contracts, (c) => c.account_id);
    for (const u of data.usage_daily) {
      const contract = contracts.get(u.account_id)!.find((c) => c.start_date <= u.day && u.day < c.end_date);
      expect(contract, `${u.account_id} ${u.day}`).toBeDefined();
      expect(u.active_users).toBeLessThanOrEqual(seatsByContract.get(contract!.id)!);
    }
  });

  it("gives declining accounts more tickets in the last 90 days than healthy ones", () => {
    const since = addDays(ANCHOR, -90);
    const perAccount = (ids: string[]) =>
      data.tickets.filter((t) => ids.includes(t.account_id) && t.created_at >= since).length / ids.length;
    expect(perAccount(idsOf("declining"))).toBeGreaterThan(perAccount(idsOf("healthy")));
  });

  it("records the value event in usage on the day the first report was shared", () => {
    const windowStart = addDays(ANCHOR, -120);
    const planAccount = new Map(data.onboarding_plans.map((p) => [p.id, p.account_id]));
    let checked = 0;
    for (const m of data.onboarding_milestones) {
      if (m.name !== "First report shared" || !m.completed_at || m.completed_at < windowStart) continue;
      const accountId = planAccount.get(m.plan_id)!;
      const shared = data.usage_feature_daily
        .filter((f) => f.account_id === accountId && f.feature === "report_shared")
        .map((f) => f.day)
        .sort();
      expect(shared[0], accountId).toBe(m.completed_at.slice(0, 10));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe("demo SQL on D1", () => {
  it("loads statement by statement, matches the shared rollup SQL, and deletes cleanly", async () => {
    const options: GenerateOptions = { ...OPTIONS, accounts: 8, slug: "seedload", workspaceId: "ws_seedload" };
    const emitter = new SqlEmitter();
    const statements: string[] = [];
    for (const chunk of generateWorkspace(options)) statements.push(...emitter.add(chunk));
    statements.push(...emitter.finish());
    expect(statements[0]).toMatch(/^INSERT INTO workspaces /);
    for (const statement of statements) {
      expect(new TextEncoder().encode(statement).length).toBeLessThan(100_000);
      await env.DB.prepare(statement).run();
    }
    for (const [table, count] of Object.entries(emitter.counts)) {
      const row = await env.DB.prepare(
        `SELECT count(*) AS n FROM ${table} WHERE ${table === "workspaces" ? "id" : "workspace_id"} = ?1`,
      )
        .bind(options.workspaceId)
        .first<{ n: number }>();
      expect(row?.n, table).toBe(count);
    }

    const rollups = "SELECT id, arr, renewal_date FROM accounts WHERE workspace_id = ?1 ORDER BY id";
    const before = await env.DB.prepare(rollups).bind(options.workspaceId).all();
    await env.DB.prepare(REFRESH_ACCOUNT_ROLLUPS_SQL).bind(options.workspaceId, clock.now().toISOString()).run();
    const after = await env.DB.prepare(rollups).bind(options.workspaceId).all();
    expect(after.results).toEqual(before.results);

    const tenantTables = Object.values(schema as Record<string, unknown>)
      .filter((value): value is SQLiteTable => is(value, SQLiteTable))
      .map((table) => getTableConfig(table))
      .filter((config) => config.columns.some((c) => c.name === "workspace_id"))
      .map((config) => config.name);
    await env.DB.batch(deleteWorkspaceStatements(options.slug, tenantTables).map((s) => env.DB.prepare(s)));
    for (const table of Object.keys(emitter.counts)) {
      const row = await env.DB.prepare(
        `SELECT count(*) AS n FROM ${table} WHERE ${table === "workspaces" ? "id" : "workspace_id"} = ?1`,
      )
        .bind(options.workspaceId)
        .first<{ n: number }>();
      expect(row?.n, table).toBe(0);
    }
    const docs = await env.DB.prepare("SELECT count(*) AS n FROM search_docs WHERE workspace_id = ?1")
      .bind(options.workspaceId)
      .first<{ n: number }>();
    expect(docs?.n).toBe(0);
  });
});
