/** The shared fixture of the core read tools' tests: one workspace with hand-set rows, and a look-alike other one. */
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_coreread";
const OTHER_WS = "ws_coreread-other";
export const today = isoDay(clock.now());
/** The day `offset` days from today (negative = past). */
export const day = (offset: number) => addDays(today, offset);

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

export const ADMIN = "usr_coreread_admin";
export const CSM = "usr_cr_csm";

/**
 * Seeds the read fixture (two workspaces: accounts, contracts, usage, health, tickets, surveys,
 * contacts, activities, emails, opportunities, KB articles, feedback, a timeline account) and
 * returns a viewer client of the first.
 */
export async function seedReadWorkspace(): Promise<Client> {
  const { key } = await createWorkspace("coreread", "viewer");
  await createWorkspace("coreread-other", "admin");
  const client = await connectClient(key);
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
  return client;
}
