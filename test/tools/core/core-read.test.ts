import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_coreread";
const OTHER_WS = "ws_coreread-other";
const today = isoDay(clock.now());
/** The day `offset` days from today (negative = past). */
const day = (offset: number) => addDays(today, offset);

let client: Client;

function account(row: {
  id: string;
  name: string;
  domain: string;
  segment: string;
  tier: string;
  stage: string;
  status: string;
  owner: string | null;
  arr: number;
  score: number | null;
  band: string | null;
  renewal: string | null;
  workspace?: string;
  external_id?: string;
}): D1PreparedStatement {
  return insert("accounts", {
    id: row.id,
    workspace_id: row.workspace ?? WS,
    external_id: row.external_id ?? null,
    name: row.name,
    domain: row.domain,
    industry: "software",
    segment: row.segment,
    tier: row.tier,
    lifecycle_stage: row.stage,
    status: row.status,
    owner_user_id: row.owner,
    arr: row.arr,
    health_score: row.score,
    health_band: row.band,
    renewal_date: row.renewal,
  });
}

function ticket(row: {
  id: string;
  account: string;
  subject: string;
  body: string;
  status: string;
  priority: string;
  created: string;
  solved?: string;
  csat?: number;
  workspace?: string;
}): D1PreparedStatement {
  return insert("tickets", {
    id: row.id,
    workspace_id: row.workspace ?? WS,
    account_id: row.account,
    subject: row.subject,
    body: row.body,
    status: row.status,
    priority: row.priority,
    created_at: row.created,
    solved_at: row.solved ?? null,
    csat_score: row.csat ?? null,
    updated_at: row.created,
  });
}

const ADMIN = "usr_coreread_admin";
const CSM = "usr_cr_csm";

beforeAll(async () => {
  const { key } = await createWorkspace("coreread", "viewer");
  await createWorkspace("coreread-other", "admin");
  client = await connectClient(key);
  const usage = (accountId: string, d: string, events: number, users: number, sessions = 0) =>
    insert("usage_daily", {
      workspace_id: WS,
      account_id: accountId,
      day: d,
      events,
      active_users: users,
      sessions,
    });
  const health = (accountId: string, d: string, score: number, band: string, components = "[]") =>
    insert("health_scores", { workspace_id: WS, account_id: accountId, day: d, score, band, components });

  await env.DB.batch([
    insert("users", {
      id: ADMIN,
      workspace_id: WS,
      email: "admin-owner@coreread.test",
      name: "Ada Admin",
      role: "admin",
    }),
    insert("users", { id: CSM, workspace_id: WS, email: "csm@coreread.test", name: "Cy Csm", role: "csm" }),
    // Seven accounts with hand-set rollup columns (what list_accounts reads).
    account({
      id: "acc_cr_1",
      name: "Orbit Logistics",
      domain: "orbit.io",
      segment: "enterprise",
      tier: "tier1",
      stage: "adoption",
      status: "active",
      owner: ADMIN,
      arr: 120000,
      score: 62,
      band: "yellow",
      renewal: day(45),
      external_id: "crm-orbit",
    }),
    account({
      id: "acc_cr_2",
      name: "Nimbus Health",
      domain: "nimbus.health",
      segment: "mid_market",
      tier: "tier2",
      stage: "onboarding",
      status: "active",
      owner: CSM,
      arr: 30000,
      score: 85,
      band: "green",
      renewal: day(200),
    }),
    account({
      id: "acc_cr_3",
      name: "Acme Analytics",
      domain: "acme.com",
      segment: "enterprise",
      tier: "tier1",
      stage: "mature",
      status: "active",
      owner: ADMIN,
      arr: 90000,
      score: 35,
      band: "red",
      renewal: day(20),
    }),
    account({
      id: "acc_cr_4",
      name: "Blue Harbor",
      domain: "blueharbor.com",
      segment: "smb",
      tier: "tier3",
      stage: "adoption",
      status: "prospect",
      owner: null,
      arr: 8000,
      score: null,
      band: null,
      renewal: null,
    }),
    account({
      id: "acc_cr_5",
      name: "Cobalt Systems",
      domain: "cobalt.dev",
      segment: "mid_market",
      tier: "tier2",
      stage: "renewal",
      status: "active",
      owner: CSM,
      arr: 45000,
      score: 55,
      band: "yellow",
      renewal: day(80),
    }),
    account({
      id: "acc_cr_6",
      name: "Delta Foods",
      domain: "deltafoods.com",
      segment: "smb",
      tier: "tier3",
      stage: "mature",
      status: "churned",
      owner: ADMIN,
      arr: 0,
      score: 72,
      band: "green",
      renewal: null,
    }),
    account({
      id: "acc_cr_7",
      name: "Evergreen Bank",
      domain: "evergreen.bank",
      segment: "enterprise",
      tier: "tier1",
      stage: "adoption",
      status: "active",
      owner: ADMIN,
      arr: 150000,
      score: 48,
      band: "yellow",
      renewal: day(120),
    }),
    // Another workspace with look-alike data that must never show up.
    account({
      id: "acc_cro_1",
      name: "Orbit Freight",
      domain: "orbitfreight.com",
      segment: "enterprise",
      tier: "tier1",
      stage: "adoption",
      status: "active",
      owner: null,
      arr: 500000,
      score: 20,
      band: "red",
      renewal: day(10),
      workspace: OTHER_WS,
    }),
    ticket({
      id: "tkt_cro_1",
      account: "acc_cro_1",
      subject: "Orbit timeout",
      body: "orbit timeout everywhere",
      status: "open",
      priority: "urgent",
      created: `${day(-1)}T08:00:00Z`,
      workspace: OTHER_WS,
    }),

    // Orbit Logistics (acc_cr_1): the overview fixture, dated relative to today.
    insert("products", { id: "prd_cr_core", workspace_id: WS, name: "Core platform", family: "platform", price: 2000 }),
    insert("products", {
      id: "prd_cr_addon",
      workspace_id: WS,
      name: "Analytics add-on",
      family: "addon",
      kind: "add_on",
      price: 2000,
    }),
    insert("contracts", {
      id: "ctr_cr_0",
      workspace_id: WS,
      account_id: "acc_cr_1",
      start_date: day(-685),
      end_date: day(-320),
      status: "ended",
      arr: 90000,
      outcome: "renewed",
      outcome_date: day(-320),
    }),
    insert("contracts", {
      id: "ctr_cr_1",
      workspace_id: WS,
      account_id: "acc_cr_1",
      start_date: day(-320),
      end_date: day(45),
      status: "active",
      auto_renew: 0,
      arr: 100000,
    }),
    insert("contracts", {
      id: "ctr_cr_2",
      workspace_id: WS,
      account_id: "acc_cr_1",
      start_date: day(-100),
      end_date: day(265),
      status: "active",
      auto_renew: 1,
      arr: 20000,
    }),
    insert("contract_items", {
      id: "ci_cr_1",
      workspace_id: WS,
      contract_id: "ctr_cr_1",
      product_id: "prd_cr_core",
      seats: 40,
      arr: 80000,
    }),
    insert("contract_items", {
      id: "ci_cr_2",
      workspace_id: WS,
      contract_id: "ctr_cr_1",
      product_id: "prd_cr_addon",
      seats: 10,
      arr: 20000,
    }),
    insert("contract_items", {
      id: "ci_cr_3",
      workspace_id: WS,
      contract_id: "ctr_cr_2",
      product_id: "prd_cr_core",
      seats: 10,
      arr: 20000,
    }),
    // Usage: 10 days of 100 events / 12 users in the last 30 complete days, 10 days of 200 / 20 before;
    // today and day −61 fall outside both windows.
    ...Array.from({ length: 10 }, (_, i) => usage("acc_cr_1", day(-1 - i), 100, 12)),
    ...Array.from({ length: 10 }, (_, i) => usage("acc_cr_1", day(-31 - i), 200, 20)),
    usage("acc_cr_1", today, 999, 99),
    usage("acc_cr_1", day(-61), 999, 99),
    health("acc_cr_1", day(-40), 80, "green"),
    health("acc_cr_1", day(-35), 75, "green"),
    health("acc_cr_1", day(-20), 68, "yellow"),
    health("acc_cr_1", day(-10), 66, "yellow"),
    health(
      "acc_cr_1",
      day(-3),
      62,
      "yellow",
      '[{"name":"usage","raw":0.5,"normalized":50,"weight":30,"contribution":15}]',
    ),
    ticket({
      id: "tkt_cr_11",
      account: "acc_cr_1",
      subject: "Export crashes",
      body: "The CSV export crashes every time with a timeout.",
      status: "open",
      priority: "urgent",
      created: `${day(-12)}T09:00:00Z`,
    }),
    ticket({
      id: "tkt_cr_12",
      account: "acc_cr_1",
      subject: "Permissions question",
      body: "Who can see billing?",
      status: "pending",
      priority: "high",
      created: `${day(-5)}T09:00:00Z`,
    }),
    ticket({
      id: "tkt_cr_13",
      account: "acc_cr_1",
      subject: "Old issue",
      body: "Fixed long ago.",
      status: "solved",
      priority: "normal",
      created: `${day(-50)}T09:00:00Z`,
      solved: `${day(-48)}T09:00:00Z`,
    }),
    ticket({
      id: "tkt_cr_14",
      account: "acc_cr_1",
      subject: "Typo in invoice",
      body: "Minor typo.",
      status: "new",
      priority: "low",
      created: `${day(-2)}T09:00:00Z`,
    }),
    ticket({
      id: "tkt_cr_15",
      account: "acc_cr_1",
      subject: "Dashboard slow",
      body: "Our orbit dashboards take a minute to load.",
      status: "solved",
      priority: "normal",
      created: `${day(-70)}T09:00:00Z`,
      solved: `${day(-69)}T09:00:00Z`,
    }),
    insert("survey_responses", {
      id: "srv_cr_1",
      workspace_id: WS,
      account_id: "acc_cr_1",
      kind: "nps",
      score: 9,
      responded_at: `${day(-100)}T10:00:00Z`,
    }),
    insert("survey_responses", {
      id: "srv_cr_2",
      workspace_id: WS,
      account_id: "acc_cr_1",
      kind: "nps",
      score: 4,
      comment: "Exports keep failing.",
      responded_at: `${day(-15)}T10:00:00Z`,
    }),
    insert("survey_responses", {
      id: "srv_cr_3",
      workspace_id: WS,
      account_id: "acc_cr_1",
      kind: "csat",
      score: 5,
      responded_at: `${day(-1)}T10:00:00Z`,
    }),
    insert("contacts", {
      id: "con_cr_1",
      workspace_id: WS,
      account_id: "acc_cr_1",
      name: "Dana Park",
      email: "dana@orbitlog.com",
      role: "champion",
      is_champion: 1,
      left_at: day(-20),
    }),
    insert("contacts", {
      id: "con_cr_2",
      workspace_id: WS,
      account_id: "acc_cr_1",
      name: "Lee Chen",
      email: "lee@orbitlog.com",
      role: "decision_maker",
      is_decision_maker: 1,
    }),
    insert("contacts", {
      id: "con_cr_3",
      workspace_id: WS,
      account_id: "acc_cr_1",
      name: "Sam Ortiz",
      email: "sam@orbitlog.com",
      role: "user",
    }),
    insert("contacts", {
      id: "con_cr_4",
      workspace_id: WS,
      account_id: "acc_cr_1",
      name: "Old Champion",
      email: "old@orbitlog.com",
      role: "champion",
      is_champion: 1,
      left_at: day(-200),
    }),
    insert("activities", {
      id: "act_cr_1",
      workspace_id: WS,
      account_id: "acc_cr_1",
      user_id: ADMIN,
      kind: "meeting",
      direction: "outbound",
      subject: "QBR prep",
      occurred_at: `${day(-25)}T14:00:00Z`,
    }),
    insert("activities", {
      id: "act_cr_2",
      workspace_id: WS,
      account_id: "acc_cr_1",
      kind: "email",
      direction: "inbound",
      subject: "Re: pricing question",
      occurred_at: `${day(-45)}T14:00:00Z`,
    }),
    insert("outbox_messages", {
      id: "obx_cr_1",
      workspace_id: WS,
      idempotency_key: "renewal-notice-1",
      account_id: "acc_cr_1",
      to_email: "lee@orbitlog.com",
      subject: "Your renewal is coming up",
      body_text: "Hello",
      status: "delivered",
      created_at: `${day(-7)}T08:00:00Z`,
      sent_at: `${day(-7)}T08:01:00Z`,
    }),
    insert("opportunities", {
      id: "opp_cr_1",
      workspace_id: WS,
      account_id: "acc_cr_1",
      name: "Analytics add-on expansion",
      kind: "upsell",
      stage: "qualified",
      status: "open",
      amount: 15000,
      probability: 0.4,
      close_date: day(60),
    }),
    insert("opportunities", {
      id: "opp_cr_2",
      workspace_id: WS,
      account_id: "acc_cr_1",
      name: "Last year's renewal",
      kind: "renewal",
      status: "won",
      amount: 90000,
    }),
    insert("kb_articles", {
      id: "kb_cr_1",
      workspace_id: WS,
      title: "Exporting reports",
      body: "How to export a report to CSV.",
      status: "published",
    }),
    insert("kb_articles", {
      id: "kb_cr_2",
      workspace_id: WS,
      title: "Export internals",
      body: "Draft notes about the export pipeline.",
      status: "draft",
    }),
    insert("feedback_items", {
      id: "fb_cr_1",
      workspace_id: WS,
      account_id: "acc_cr_1",
      kind: "feature_request",
      title: "Scheduled exports",
      body: "Please add scheduled exports to S3.",
      feature: "exports",
      created_at: `${day(-8)}T10:00:00Z`,
    }),

    // Evergreen Bank (acc_cr_7): the timeline fixture, on fixed dates in January 2026.
    usage("acc_cr_7", "2026-01-05", 10, 2, 3),
    usage("acc_cr_7", "2026-01-07", 20, 4, 5),
    usage("acc_cr_7", "2026-01-12", 5, 1, 1),
    usage("acc_cr_7", "2026-01-18", 15, 3, 2),
    ticket({
      id: "tkt_cr_71",
      account: "acc_cr_7",
      subject: "Login loop",
      body: "We keep getting sent back to the login page.",
      status: "solved",
      priority: "high",
      created: "2026-01-08T10:00:00Z",
      solved: "2026-01-09T16:00:00Z",
      csat: 5,
    }),
    insert("survey_responses", {
      id: "srv_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      kind: "nps",
      score: 3,
      comment: "Too slow",
      responded_at: "2026-01-10T08:00:00Z",
    }),
    insert("feedback_items", {
      id: "fb_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      kind: "feature_request",
      title: "Dark mode",
      body: "Please add a dark theme.",
      feature: "ui",
      created_at: "2026-01-06T12:00:00Z",
    }),
    insert("activities", {
      id: "act_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      user_id: ADMIN,
      kind: "call",
      direction: "outbound",
      subject: "Kickoff call",
      occurred_at: "2026-01-12T15:00:00Z",
    }),
    insert("activities", {
      id: "act_cr_72",
      workspace_id: WS,
      account_id: "acc_cr_7",
      kind: "email",
      direction: "inbound",
      subject: "Question about SSO",
      occurred_at: "2026-01-13T09:00:00Z",
    }),
    insert("outbox_messages", {
      id: "obx_cr_71",
      workspace_id: WS,
      idempotency_key: "welcome-71",
      account_id: "acc_cr_7",
      to_email: "it@evergreen.bank",
      subject: "Welcome to onboarding",
      body_text: "Welcome",
      status: "sent",
      created_at: "2026-01-14T10:00:00Z",
      sent_at: "2026-01-14T10:00:05Z",
    }),
    insert("account_stage_history", {
      id: "sh_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      from_stage: "onboarding",
      to_stage: "adoption",
      reason: "kickoff done",
      changed_at: "2026-01-05T09:00:00Z",
    }),
    health("acc_cr_7", "2026-01-04", 55, "yellow"),
    health("acc_cr_7", "2026-01-11", 58, "yellow"),
    health("acc_cr_7", "2026-01-15", 72, "green"),
    health("acc_cr_7", "2026-01-16", 74, "green"),
    insert("contracts", {
      id: "ctr_cr_70",
      workspace_id: WS,
      account_id: "acc_cr_7",
      start_date: "2025-01-05",
      end_date: "2026-01-04",
      status: "ended",
      arr: 140000,
      outcome: "renewed",
      outcome_date: "2026-01-04",
    }),
    insert("contracts", {
      id: "ctr_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      start_date: "2026-01-05",
      end_date: "2027-01-04",
      status: "active",
      arr: 150000,
    }),
    insert("tasks", {
      id: "tsk_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      title: "Send SSO guide",
      priority: "high",
      status: "done",
      created_at: "2026-01-07T11:00:00.000Z",
      completed_at: "2026-01-16T10:00:00.000Z",
    }),
    insert("onboarding_plans", {
      id: "pl_cr_71",
      workspace_id: WS,
      account_id: "acc_cr_7",
      name: "Bank onboarding",
      start_date: "2026-01-05",
    }),
    insert("onboarding_milestones", {
      id: "ms_cr_71",
      workspace_id: WS,
      plan_id: "pl_cr_71",
      name: "Admin training",
      position: 1,
      status: "done",
      completed_at: "2026-01-17T12:00:00Z",
    }),
    insert("onboarding_milestones", {
      id: "ms_cr_72",
      workspace_id: WS,
      plan_id: "pl_cr_71",
      name: "Go live",
      position: 2,
      status: "pending",
    }),
  ]);
});

interface SearchResult {
  id: string;
  title: string;
  url: string;
  kind: string;
  title_is_customer_text: boolean;
  snippet: string | null;
  customer_text: { snippet: string } | null;
}

describe("search", () => {
  const ids = async (args: Record<string, unknown>) =>
    (await callOk<{ results: SearchResult[] }>(client, "search", args)).results.map((r) => r.id);

  it("finds an account by name, ranks the title match first and never returns another workspace's rows", async () => {
    const { results } = await callOk<{ results: SearchResult[] }>(client, "search", { query: "orbit" });
    expect(results.map((r) => r.id)).toEqual(["account:acc_cr_1", "ticket:tkt_cr_15"]);
    expect(results[0]).toEqual({
      id: "account:acc_cr_1",
      title: "Orbit Logistics",
      url: "cs-mcp://account/acc_cr_1",
      kind: "account",
      title_is_customer_text: false,
      snippet: "**Orbit** Logistics",
      customer_text: null,
    });
    expect(results[1]).toMatchObject({ title_is_customer_text: true, snippet: null });
    expect(results[1]!.customer_text!.snippet).toContain("**orbit**");
  });

  it("finds an account by domain and a ticket by a word of its body, with stemming", async () => {
    expect(await ids({ query: "nimbus.health" })).toEqual(["account:acc_cr_2"]);
    expect(await ids({ query: "timeout" })).toEqual(["ticket:tkt_cr_11"]);
    expect(await ids({ query: "crashing" })).toEqual(["ticket:tkt_cr_11"]);
    expect(await ids({ query: "evergr*" })).toEqual(["account:acc_cr_7"]);
  });

  it("filters by kind and returns only published knowledge-base articles", async () => {
    expect(await ids({ query: "orbit", kinds: ["ticket"] })).toEqual(["ticket:tkt_cr_15"]);
    expect(await ids({ query: "export", kinds: ["kb_article"] })).toEqual(["kb_article:kb_cr_1"]);
    expect(await ids({ query: "export", kinds: ["kb_article", "feedback"], limit: 1 })).toHaveLength(1);
  });

  it("survives hostile queries with a clean result or an actionable error, never an internal error", async () => {
    for (const query of ['"', "*", "()", "-"]) {
      const message = await callError(client, "search", { query });
      expect(message).toContain("no searchable words");
    }
    for (const query of [
      "AND OR",
      "NEAR(",
      'NEAR("a" "b", 2)',
      "title:orbit",
      "orbit OR",
      "^orbit",
      "{title}: x",
      "x'; DROP",
    ]) {
      const result = await client.callTool({ name: "search", arguments: { query } });
      expect(result.isError, query).toBeFalsy();
    }
    expect(await ids({ query: 'orbit"' })).toEqual(["account:acc_cr_1", "ticket:tkt_cr_15"]);
    const long = await callError(client, "search", { query: "a".repeat(300) });
    expect(long).toContain("query");
    expect(long).not.toContain("Internal error");
  });
});

describe("fetch", () => {
  interface Doc {
    id: string;
    title: string;
    text: string;
    url: string;
    kind: string;
    metadata: Record<string, unknown>;
    customer_text: { title: string; body: string } | null;
  }

  it("returns a ticket with its customer-written parts labelled", async () => {
    const doc = await callOk<Doc>(client, "fetch", { id: "ticket:tkt_cr_11" });
    expect(doc).toMatchObject({
      id: "ticket:tkt_cr_11",
      title: "Export crashes",
      url: "cs-mcp://ticket/tkt_cr_11",
      kind: "ticket",
      customer_text: { title: "Export crashes", body: "The CSV export crashes every time with a timeout." },
    });
    expect(doc.metadata).toMatchObject({
      id: "tkt_cr_11",
      account_id: "acc_cr_1",
      account_name: "Orbit Logistics",
      status: "open",
      priority: "urgent",
    });
    expect(doc.text).toContain(
      "[customer-written body]\nThe CSV export crashes every time with a timeout.\n[end customer-written body]",
    );
  });

  it("accepts the URL form and returns an account and a knowledge-base article", async () => {
    const account = await callOk<Doc>(client, "fetch", { id: "cs-mcp://account/acc_cr_1" });
    expect(account).toMatchObject({ id: "account:acc_cr_1", title: "Orbit Logistics", customer_text: null });
    expect(account.metadata).toMatchObject({ arr: 120000, segment: "enterprise", renewal_date: day(45) });
    const article = await callOk<Doc>(client, "fetch", { id: "kb_article:kb_cr_1" });
    expect(article.text).toContain("How to export a report to CSV.");
  });

  it("reads another workspace's id exactly like a missing one", async () => {
    const foreign = await callError(client, "fetch", { id: "account:acc_cro_1" });
    const missing = await callError(client, "fetch", { id: "account:acc_nope" });
    expect(foreign.replace("acc_cro_1", "X")).toBe(missing.replace("acc_nope", "X"));
    expect(await callError(client, "fetch", { id: "ticket:tkt_cro_1" })).toContain("No ticket");
    expect(await callError(client, "fetch", { id: "bogus" })).toContain("Unrecognised id");
  });
});

interface ListPage {
  accounts: { id: string; days_to_renewal: number | null; owner_email: string | null }[];
  next_cursor: string | null;
}

describe("list_accounts", () => {
  const list = async (args: Record<string, unknown>) =>
    (await callOk<ListPage>(client, "list_accounts", args)).accounts.map((a) => a.id);

  async function allPages(args: Record<string, unknown>): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: ListPage = await callOk<ListPage>(client, "list_accounts", {
        ...args,
        ...(cursor ? { cursor } : {}),
      });
      pages.push(page.accounts.map((a) => a.id));
      cursor = page.next_cursor;
    } while (cursor && pages.length < 10);
    return pages;
  }

  it("filters on each field", async () => {
    expect(await list({ segment: "enterprise" })).toEqual(["acc_cr_3", "acc_cr_7", "acc_cr_1"]);
    expect(await list({ tier: "tier2" })).toEqual(["acc_cr_5", "acc_cr_2"]);
    expect(await list({ owner: CSM })).toEqual(["acc_cr_5", "acc_cr_2"]);
    expect(await list({ owner: "CSM@CoreRead.test" })).toEqual(["acc_cr_5", "acc_cr_2"]);
    expect(await list({ lifecycle_stage: "adoption" })).toEqual(["acc_cr_4", "acc_cr_7", "acc_cr_1"]);
    expect(await list({ status: "churned" })).toEqual(["acc_cr_6"]);
    expect(await list({ health_band: "yellow" })).toEqual(["acc_cr_5", "acc_cr_7", "acc_cr_1"]);
    expect(await list({ health_band: "unscored" })).toEqual(["acc_cr_4"]);
    expect(await list({ renewal_within_days: 90 })).toEqual(["acc_cr_3", "acc_cr_5", "acc_cr_1"]);
    expect(await list({ renewal_from: day(50), renewal_to: day(150) })).toEqual(["acc_cr_5", "acc_cr_7"]);
    expect(await list({ arr_min: 40000, arr_max: 130000 })).toEqual(["acc_cr_3", "acc_cr_5", "acc_cr_1"]);
    expect(await list({ text: "HAR" })).toEqual(["acc_cr_4"]);
    expect(await list({ text: ".bank" })).toEqual(["acc_cr_7"]);
    expect(await list({ text: "%" })).toEqual([]);
    expect(await list({ segment: "enterprise", health_band: "yellow" })).toEqual(["acc_cr_7", "acc_cr_1"]);
  });

  it("returns compact rows with days to renewal and the owner's email", async () => {
    const page = await callOk<ListPage>(client, "list_accounts", { segment: "enterprise", sort: "arr", order: "desc" });
    expect(page.accounts.map((a) => [a.id, a.days_to_renewal, a.owner_email])).toEqual([
      ["acc_cr_7", 120, "admin-owner@coreread.test"],
      ["acc_cr_1", 45, "admin-owner@coreread.test"],
      ["acc_cr_3", 20, "admin-owner@coreread.test"],
    ]);
  });

  it("sorts by each column, accounts without a value last", async () => {
    expect(await list({ sort: "arr", order: "desc" })).toEqual([
      "acc_cr_7",
      "acc_cr_1",
      "acc_cr_3",
      "acc_cr_5",
      "acc_cr_2",
      "acc_cr_4",
      "acc_cr_6",
    ]);
    expect(await list({ sort: "health_score" })).toEqual([
      "acc_cr_3",
      "acc_cr_7",
      "acc_cr_5",
      "acc_cr_1",
      "acc_cr_6",
      "acc_cr_2",
      "acc_cr_4",
    ]);
    expect(await list({ sort: "health_score", order: "desc" })).toEqual([
      "acc_cr_2",
      "acc_cr_6",
      "acc_cr_1",
      "acc_cr_5",
      "acc_cr_7",
      "acc_cr_3",
      "acc_cr_4",
    ]);
    expect(await list({ renewal_within_days: 90, sort: "renewal_date" })).toEqual(["acc_cr_3", "acc_cr_1", "acc_cr_5"]);
  });

  it("paginates across three pages in a stable order without duplicates", async () => {
    expect(await allPages({ limit: 3 })).toEqual([
      ["acc_cr_3", "acc_cr_4", "acc_cr_5"],
      ["acc_cr_6", "acc_cr_7", "acc_cr_2"],
      ["acc_cr_1"],
    ]);
    // Crosses from accounts with a renewal date into those without one in the middle of a page.
    expect(await allPages({ limit: 3, sort: "renewal_date" })).toEqual([
      ["acc_cr_3", "acc_cr_1", "acc_cr_5"],
      ["acc_cr_7", "acc_cr_2", "acc_cr_4"],
      ["acc_cr_6"],
    ]);
    expect(await allPages({ limit: 3, sort: "renewal_date", order: "desc" })).toEqual([
      ["acc_cr_2", "acc_cr_7", "acc_cr_5"],
      ["acc_cr_1", "acc_cr_3", "acc_cr_6"],
      ["acc_cr_4"],
    ]);
    // A page that ends on the last account with a value still finds the ones without.
    expect(await allPages({ limit: 6, sort: "health_score" })).toEqual([
      ["acc_cr_3", "acc_cr_7", "acc_cr_5", "acc_cr_1", "acc_cr_6", "acc_cr_2"],
      ["acc_cr_4"],
    ]);
    expect(await allPages({ limit: 2, sort: "arr" })).toEqual([
      ["acc_cr_6", "acc_cr_4"],
      ["acc_cr_2", "acc_cr_5"],
      ["acc_cr_3", "acc_cr_1"],
      ["acc_cr_7"],
    ]);
  });

  it("refuses bad cursors, limits and contradictory filters", async () => {
    expect(await callError(client, "list_accounts", { cursor: "not-a-cursor" })).toContain("Malformed `cursor`");
    const first = await callOk<ListPage>(client, "list_accounts", { limit: 2 });
    expect(await callError(client, "list_accounts", { limit: 2, sort: "arr", cursor: first.next_cursor })).toContain(
      "other filters or sort",
    );
    expect(await callError(client, "list_accounts", { limit: 500 })).toContain("limit");
    expect(await callError(client, "list_accounts", { renewal_within_days: 30, renewal_from: day(0) })).toContain(
      "either renewal_within_days",
    );
    expect(await callError(client, "list_accounts", { text: "x".repeat(49) })).toContain("text");
  });
});

describe("get_account_overview", () => {
  interface Overview {
    as_of: string;
    account: { id: string; name: string; owner: { user_id: string; email: string | null } | null };
    contracts: {
      active_count: number;
      arr: number;
      licensed_seats: number;
      next_renewal: { contract_id: string; date: string; days_left: number; auto_renew: boolean } | null;
      active: { id: string; items: { product_id: string; product_name: string | null; seats: number }[] }[];
    };
    health: {
      latest: { day: string; score: number; band: string; age_days: number; components: unknown[] } | null;
      trend: { days: number; compared_day: string | null; compared_score: number | null; change: number | null }[];
      note: string | null;
    };
    usage: Record<string, unknown>;
    open_tickets: Record<string, unknown>;
    touchpoints: {
      last_activity_at: string | null;
      days_since_last_activity: number | null;
      activities: { id: string; subject: string | null; customer_text: { subject: string } | null }[];
      emails: { id: string }[];
    };
    satisfaction: { latest_nps: { response_id: string; score: number } | null };
    risk: { flags: { code: string; rule: string; evidence: Record<string, unknown> }[]; rules_evaluated: string[] };
    opportunities: { open_count: number; open_amount: number; open: { id: string }[] };
    live: Record<string, unknown>;
    stakeholders: { total: number; contacts: { id: string; left: boolean; is_champion: boolean }[] };
  }

  it("computes contracts, health, usage, tickets and risk flags from the stored rows", async () => {
    const o = await callOk<Overview>(client, "get_account_overview", { account_id: "acc_cr_1" });
    expect(o.as_of).toBe(today);
    expect(o.account).toMatchObject({
      id: "acc_cr_1",
      name: "Orbit Logistics",
      owner: { user_id: ADMIN, email: "admin-owner@coreread.test" },
    });
    expect(o.contracts).toMatchObject({
      active_count: 2,
      arr: 120000,
      licensed_seats: 50,
      next_renewal: { contract_id: "ctr_cr_1", date: day(45), days_left: 45, auto_renew: false },
    });
    expect(o.contracts.active.map((c) => [c.id, c.items.map((i) => [i.product_name, i.seats])])).toEqual([
      [
        "ctr_cr_1",
        [
          ["Analytics add-on", 10],
          ["Core platform", 40],
        ],
      ],
      ["ctr_cr_2", [["Core platform", 10]]],
    ]);
    expect(o.health.latest).toMatchObject({ day: day(-3), score: 62, band: "yellow", age_days: 3 });
    expect(o.health.latest!.components).toEqual([
      { name: "usage", raw: 0.5, normalized: 50, weight: 30, contribution: 15 },
    ]);
    expect(o.health.trend).toEqual([
      { days: 7, compared_day: day(-10), compared_score: 66, change: -4 },
      { days: 30, compared_day: day(-35), compared_score: 75, change: -13 },
    ]);
    expect(o.usage).toEqual({
      window_days: 30,
      current: { from: day(-30), to: day(-1), days_counted: 10, events: 1000, avg_active_users: 12 },
      prior: { from: day(-60), to: day(-31), days_counted: 10, events: 2000, avg_active_users: 20 },
      events_change_pct: -50,
      avg_active_users_change_pct: -40,
      licensed_seats: 50,
      license_utilization: 0.24,
    });
    expect(o.open_tickets).toEqual({
      open_count: 3,
      by_priority: { urgent: 1, high: 1, normal: 0, low: 1 },
      oldest_open: { ticket_id: "tkt_cr_11", created_at: `${day(-12)}T09:00:00Z`, age_days: 12 },
    });
    expect(o.touchpoints.last_activity_at).toBe(`${day(-25)}T14:00:00Z`);
    expect(o.touchpoints.days_since_last_activity).toBe(25);
    expect(o.touchpoints.activities.map((a) => [a.id, a.subject, a.customer_text])).toEqual([
      ["act_cr_1", "QBR prep", null],
      ["act_cr_2", null, { subject: "Re: pricing question" }],
    ]);
    expect(o.touchpoints.emails.map((e) => e.id)).toEqual(["obx_cr_1"]);
    expect(o.satisfaction.latest_nps).toMatchObject({ response_id: "srv_cr_2", score: 4 });
    expect(o.opportunities).toMatchObject({ open_count: 1, open_amount: 15000 });
    expect(o.opportunities.open.map((x) => x.id)).toEqual(["opp_cr_1"]);
    expect(o.stakeholders.total).toBe(4);
    expect(o.stakeholders.contacts.map((c) => [c.id, c.left])).toEqual([
      ["con_cr_2", false],
      ["con_cr_3", false],
      ["con_cr_1", true],
      ["con_cr_4", true],
    ]);
    expect(o.risk.flags.map((f) => [f.code, f.evidence])).toEqual([
      ["usage_decline", { window_days: 30, current_events: 1000, prior_events: 2000, change_pct: -50 }],
      ["low_license_utilization", { avg_active_users: 12, licensed_seats: 50, utilization: 0.24 }],
      ["high_priority_tickets", { open_urgent: 1, open_high: 1 }],
      ["detractor_nps", { score: 4, responded_at: `${day(-15)}T10:00:00Z`, response_id: "srv_cr_2" }],
      ["champion_left", { champions_left: 1, latest_contact_id: "con_cr_1", latest_left_at: day(-20) }],
      ["renewal_at_risk", { renewal_date: day(45), days_to_renewal: 45, health_band: "yellow", health_score: 62 }],
    ]);
    expect(o.risk.rules_evaluated).toHaveLength(7);
  });

  it("finds an account by external id and says when no health score exists", async () => {
    const byExternal = await callOk<Overview>(client, "get_account_overview", { external_id: "crm-orbit" });
    expect(byExternal.account.id).toBe("acc_cr_1");
    const bare = await callOk<Overview>(client, "get_account_overview", { account_id: "acc_cr_4" });
    expect(bare.health).toEqual({
      latest: null,
      trend: [
        { days: 7, compared_day: null, compared_score: null, change: null },
        { days: 30, compared_day: null, compared_score: null, change: null },
      ],
      note: "No health score computed yet for this account.",
    });
    expect(bare.contracts).toEqual({ active_count: 0, arr: 0, licensed_seats: 0, next_renewal: null, active: [] });
    expect(bare.risk.flags.map((f) => f.code)).toEqual(["no_recent_activity"]);
    // No usage was ever ingested for it: the live part is empty, not estimated.
    expect(bare.live).toEqual({
      day: today,
      events_today: 0,
      active_users_today: 0,
      features_today: [],
      last_seen_at: null,
      unflushed: { days: 0, events: 0 },
    });
  });

  it("reads another workspace's account exactly like a missing one", async () => {
    const foreign = await callError(client, "get_account_overview", { account_id: "acc_cro_1" });
    const missing = await callError(client, "get_account_overview", { account_id: "acc_missing" });
    expect(foreign.replace("acc_cro_1", "X")).toBe(missing.replace("acc_missing", "X"));
    expect(await callError(client, "get_account_overview", {})).toContain("exactly one");
  });
});

describe("get_account_timeline", () => {
  interface Entry {
    at: string;
    kind: string;
    summary: string;
    ref_id: string;
    details: Record<string, unknown>;
    customer_text?: Record<string, string>;
  }
  interface TimelinePage {
    entries: Entry[];
    next_cursor: string | null;
  }

  const EXPECTED: [string, string, string][] = [
    ["2026-01-17T12:00:00Z", "milestone_completed", "ms_cr_71"],
    ["2026-01-16T10:00:00.000Z", "task_completed", "tsk_cr_71"],
    ["2026-01-15", "health_band_change", "2026-01-15"],
    ["2026-01-14T10:00:00Z", "email", "obx_cr_71"],
    ["2026-01-13T09:00:00Z", "activity", "act_cr_72"],
    ["2026-01-12T15:00:00Z", "activity", "act_cr_71"],
    ["2026-01-12", "usage_week", "2026-01-12"],
    ["2026-01-10T08:00:00Z", "survey_response", "srv_cr_71"],
    ["2026-01-09T16:00:00Z", "ticket_solved", "tkt_cr_71"],
    ["2026-01-08T10:00:00Z", "ticket_opened", "tkt_cr_71"],
    ["2026-01-07T11:00:00.000Z", "task_created", "tsk_cr_71"],
    ["2026-01-06T12:00:00Z", "feedback", "fb_cr_71"],
    ["2026-01-05T09:00:00Z", "stage_change", "sh_cr_71"],
    ["2026-01-05", "usage_week", "2026-01-05"],
    ["2026-01-05", "contract_started", "ctr_cr_71"],
    ["2026-01-04", "health_band_change", "2026-01-04"],
    ["2026-01-04", "contract_ended", "ctr_cr_70"],
    ["2025-01-05", "contract_started", "ctr_cr_70"],
  ];
  const key = (e: Entry) => [e.at, e.kind, e.ref_id];

  it("lists everything newest first with our summaries and customer text kept apart", async () => {
    const page = await callOk<TimelinePage>(client, "get_account_timeline", { account_id: "acc_cr_7", limit: 200 });
    expect(page.entries.map(key)).toEqual(EXPECTED);
    expect(page.next_cursor).toBeNull();
    const byKey = new Map(page.entries.map((e) => [`${e.kind}:${e.ref_id}`, e]));
    expect(byKey.get("usage_week:2026-01-05")!.summary).toBe(
      "Usage week of 2026-01-05 (2026-W02): 30 events, 8 sessions, avg 3 daily active users over 2 day(s) with data.",
    );
    expect(byKey.get("usage_week:2026-01-12")!.details).toEqual({
      events: 20,
      sessions: 3,
      active_user_days: 4,
      days: 2,
    });
    expect(byKey.get("ticket_solved:tkt_cr_71")).toMatchObject({
      summary: "Ticket solved after 30 h: priority high, CSAT 5.",
      customer_text: { subject: "Login loop" },
    });
    expect(byKey.get("survey_response:srv_cr_71")).toMatchObject({
      summary: "NPS response: score 3 (detractor).",
      customer_text: { comment: "Too slow" },
    });
    expect(byKey.get("activity:act_cr_72")).toMatchObject({
      summary: "email (inbound) logged; subject in customer_text.",
      customer_text: { subject: "Question about SSO" },
    });
    expect(byKey.get("activity:act_cr_71")!.summary).toBe('call (outbound) logged: "Kickoff call".');
    expect(byKey.get("health_band_change:2026-01-15")!.summary).toBe("Health band yellow → green (score 72).");
    expect(byKey.get("health_band_change:2026-01-04")!.summary).toBe("First health score: 55 (yellow).");
    expect(byKey.get("contract_ended:ctr_cr_70")!.summary).toBe(
      "Contract ctr_cr_70 ended: status ended, outcome renewed, ARR 140000.",
    );
    for (const entry of page.entries) {
      for (const text of Object.values(entry.customer_text ?? {})) expect(entry.summary).not.toContain(text);
    }
  });

  it("filters by kinds and by a since/until window", async () => {
    const kinds = await callOk<TimelinePage>(client, "get_account_timeline", {
      account_id: "acc_cr_7",
      kinds: ["health_band_change", "contract_ended"],
    });
    expect(kinds.entries.map(key)).toEqual([
      ["2026-01-15", "health_band_change", "2026-01-15"],
      ["2026-01-04", "health_band_change", "2026-01-04"],
      ["2026-01-04", "contract_ended", "ctr_cr_70"],
    ]);
    const window = await callOk<TimelinePage>(client, "get_account_timeline", {
      account_id: "acc_cr_7",
      since: "2026-01-10",
      until: "2026-01-14",
    });
    expect(window.entries.map(key)).toEqual(EXPECTED.slice(3, 8));
  });

  it("paginates with ties on the same instant split across pages", async () => {
    for (const limit of [1, 5, 13]) {
      const seen: [string, string, string][] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: TimelinePage = await callOk<TimelinePage>(client, "get_account_timeline", {
          account_id: "acc_cr_7",
          limit,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.entries.length).toBeLessThanOrEqual(limit);
        seen.push(...page.entries.map((e) => key(e) as [string, string, string]));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 30);
      expect(seen, `limit ${limit}`).toEqual(EXPECTED);
      expect(pages).toBe(Math.ceil(EXPECTED.length / limit));
    }
  });

  it("refuses another workspace's account and a cursor of another listing", async () => {
    expect(await callError(client, "get_account_timeline", { account_id: "acc_cro_1" })).toContain("No account");
    const first = await callOk<TimelinePage>(client, "get_account_timeline", { account_id: "acc_cr_7", limit: 2 });
    expect(
      await callError(client, "get_account_timeline", {
        account_id: "acc_cr_7",
        kinds: ["email"],
        cursor: first.next_cursor,
      }),
    ).toContain("other filters or sort");
  });
});
