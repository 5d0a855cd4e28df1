import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk } from "../../helpers/mcp";
import { ADMIN, day, seedReadWorkspace, today } from "./read-fixture";

let client: Client;

beforeAll(async () => {
  client = await seedReadWorkspace();
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
