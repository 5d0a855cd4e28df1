import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import {
  discountOffList,
  evaluateUpsell,
  gatedFeatures,
  nextPlanUp,
  p90RankFromTop,
  type UpsellFacts,
} from "../../../src/tools/expansion/domain/upsell";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_upsell";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);

const PRO = { id: "p_pro", name: "Pro", price: 540 };
const ENT = { id: "p_ent", name: "Enterprise", price: 960 };

/** The fixture account A: 100 Pro seats at 10 % off, p90 of 95 daily users, events 1200 vs 1000, health 80. */
const accountA: UpsellFacts = {
  seats: 100,
  p90ActiveUsers: 95,
  eventsRecent: 1200,
  eventsPrior: 1000,
  gatedFeatures: ["admin_console"],
  healthScore: 80,
  healthBand: "green",
  plan: PRO,
  nextPlan: ENT,
  discount: 0.1,
};

describe("upsell scoring (pure)", () => {
  it("scores components by the stated formula and suggests the next plan when a gated feature is in use", () => {
    const e = evaluateUpsell(accountA);
    // utilization 0.95 → (0.95 − 0.5) / 0.5 = 0.9; growth 0.2 → 0.4; one gated feature → 0.5; health 0.8.
    expect(e.components.utilization).toBeCloseTo(0.95, 12);
    expect(e.components.utilization_normalized).toBeCloseTo(0.9, 12);
    expect(e.components.growth).toBeCloseTo(0.2, 12);
    expect(e.components.growth_normalized).toBeCloseTo(0.4, 12);
    expect(e.components.gated_features_normalized).toBe(0.5);
    expect(e.components.health_normalized).toBe(0.8);
    // 100 × (0.5 × 0.9 + 0.2 × 0.4 + 0.2 × 0.5 + 0.1 × 0.8) = 71.
    expect(e.score).toBe(71);
    expect(e.qualified).toBe(true);
    // seats needed ceil(95 / 0.8) = 119; 119 × 960 × 0.9 − 100 × 540 × 0.9 = 102816 − 48600.
    expect(e.suggestion).toEqual({
      kind: "next_plan",
      product: ENT,
      seats_after: 119,
      seats_added: 19,
      arr_uplift: 54216,
    });
  });

  it("suggests more seats of the plan without gated features", () => {
    const e = evaluateUpsell({ ...accountA, gatedFeatures: [] });
    expect(e.score).toBe(61);
    // 19 × 540 × 0.9.
    expect(e.suggestion).toEqual({
      kind: "more_seats",
      product: PRO,
      seats_after: 119,
      seats_added: 19,
      arr_uplift: 9234,
    });
  });

  it("excludes red, unscored, low-scoring yellow and accounts not near a limit", () => {
    expect(evaluateUpsell({ ...accountA, healthBand: "red" }).reason).toBe("health band red");
    expect(evaluateUpsell({ ...accountA, healthBand: null }).reason).toBe("health band unscored");
    const yellow = { ...accountA, healthBand: "yellow", gatedFeatures: [], eventsRecent: 1000, healthScore: 50 };
    // 100 × (0.45 + 0 + 0 + 0.05) = 50 < 60.
    expect(evaluateUpsell(yellow).score).toBe(50);
    expect(evaluateUpsell(yellow).reason).toBe("yellow band with score below 60");
    expect(
      evaluateUpsell(yellow, undefined, { nearLimitUtilization: 0.8, targetUtilization: 0.8, yellowMinScore: 50 })
        .qualified,
    ).toBe(true);
    expect(evaluateUpsell({ ...accountA, gatedFeatures: [], p90ActiveUsers: 79 }).reason).toBe("not near a plan limit");
  });

  it("takes the 90th percentile as a nearest rank from the top, idle days counting", () => {
    expect(p90RankFromTop(30)).toBe(4);
    expect(p90RankFromTop(10)).toBe(2);
    expect(p90RankFromTop(7)).toBe(1);
    expect(p90RankFromTop(90)).toBe(10);
  });

  it("derives discount, the next plan up and gated features from the catalog", () => {
    expect(discountOffList([{ seats: 100, arr: 48600, price: 540 }])).toBeCloseTo(0.1, 12);
    expect(discountOffList([{ seats: 0, arr: 0, price: 540 }])).toBe(0);
    const plans = [
      { ...ENT, family: "Platform" },
      { ...PRO, family: "Platform" },
      { id: "p_other", name: "Other", price: 600, family: "Other" },
      { id: "p_start", name: "Starter", price: 240, family: "Platform" },
    ];
    expect(nextPlanUp(plans[3]!, plans)?.id).toBe("p_pro");
    expect(nextPlanUp(plans[1]!, plans)?.id).toBe("p_ent");
    expect(nextPlanUp(plans[0]!, plans)).toBeNull();
    const features = new Map([
      ["p_pro", new Set(["dashboards", "alerts"])],
      ["p_ent", new Set(["dashboards", "alerts", "admin_console"])],
    ]);
    expect(
      gatedFeatures(["dashboards", "admin_console", "mystery", "admin_console"], PRO, [PRO, ENT], features),
    ).toEqual(["admin_console"]);
  });
});

describe("identify_upsell_opportunities through MCP", () => {
  let csm: Client;
  let viewer: Client;
  const planFeatures = { p_pro: ["dashboards", "alerts"], p_ent: ["dashboards", "alerts", "admin_console"] };

  beforeAll(async () => {
    const c = await createWorkspace("upsell", "csm");
    const v = await createWorkspace("upsell", "viewer");
    await createWorkspace("upsell-other");
    csm = await connectClient(c.key, "?toolsets=expansion");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const account = (
      id: string,
      band: string | null,
      score: number | null,
      extra: Record<string, string | number> = {},
    ) =>
      insert("accounts", {
        id,
        workspace_id: WS,
        name: `Account ${id}`,
        segment: "SMB",
        health_band: band,
        health_score: score,
        ...extra,
      });
    const contract = (id: string, accountId: string, status = "active") =>
      insert("contracts", {
        id,
        workspace_id: WS,
        account_id: accountId,
        start_date: day(-200),
        end_date: day(165),
        status,
      });
    const item = (id: string, contractId: string, productId: string, seats: number, arr: number) =>
      insert("contract_items", { id, workspace_id: WS, contract_id: contractId, product_id: productId, seats, arr });
    const usage = (accountId: string, offset: number, activeUsers: number, events: number) =>
      insert("usage_daily", {
        workspace_id: WS,
        account_id: accountId,
        day: day(offset),
        active_users: activeUsers,
        events,
      });
    await env.DB.batch([
      insert("products", {
        id: "p_start",
        workspace_id: WS,
        name: "Starter",
        family: "Platform",
        kind: "plan",
        price: 240,
      }),
      insert("products", { id: "p_pro", workspace_id: WS, name: "Pro", family: "Platform", kind: "plan", price: 540 }),
      insert("products", {
        id: "p_ent",
        workspace_id: WS,
        name: "Enterprise",
        family: "Platform",
        kind: "plan",
        price: 960,
      }),
      account("acc_a", "green", 80, { owner_user_id: "usr_upsell_csm" }),
      account("acc_b", "red", 30),
      account("acc_c", "yellow", 50, { segment: "Mid-Market" }),
      account("acc_d", "green", 90),
      account("acc_e", "green", 90, { status: "churned" }),
      contract("ctr_a", "acc_a"),
      item("cti_a", "ctr_a", "p_pro", 100, 48600),
      contract("ctr_a_old", "acc_a", "ended"),
      item("cti_a_old", "ctr_a_old", "p_start", 500, 1),
      contract("ctr_b", "acc_b"),
      item("cti_b", "ctr_b", "p_pro", 10, 5400),
      contract("ctr_c", "acc_c"),
      item("cti_c", "ctr_c", "p_start", 20, 4800),
      contract("ctr_d", "acc_d"),
      item("cti_d", "ctr_d", "p_pro", 50, 27000),
      contract("ctr_e", "acc_e"),
      item("cti_e", "ctr_e", "p_pro", 5, 2700),
      // acc_a: recent window 120, 100, 97, 95, 80 users (p90 = 4th highest = 95), events 1200;
      // prior window 1000 events; today and day −70 are outside both windows.
      usage("acc_a", -1, 120, 300),
      usage("acc_a", -2, 100, 300),
      usage("acc_a", -3, 97, 200),
      usage("acc_a", -10, 95, 200),
      usage("acc_a", -11, 80, 200),
      usage("acc_a", -40, 99, 1000),
      usage("acc_a", -70, 400, 99_999),
      usage("acc_a", 0, 500, 5000),
      ...[-2, -3, -4, -5].map((d) => usage("acc_b", d, 10, 25)),
      ...[-3, -4, -5, -6].map((d) => usage("acc_c", d, 18, 25)),
      usage("acc_c", -33, 5, 100),
      ...[-3, -4, -5, -6].map((d) => usage("acc_d", d, 20, 25)),
      usage("acc_e", -3, 50, 100),
      // A CRM deal for more seats with no product recorded, open on acc_c.
      insert("opportunities", {
        id: "opp_crm_c",
        workspace_id: WS,
        account_id: "acc_c",
        name: "C +5 seats",
        kind: "upsell",
        stage: "qualified",
        status: "open",
        amount: 1200,
        source: "crm",
      }),
      insert("usage_feature_daily", {
        workspace_id: WS,
        account_id: "acc_a",
        day: day(-5),
        feature: "admin_console",
        events: 3,
        active_users: 1,
      }),
      insert("usage_feature_daily", {
        workspace_id: WS,
        account_id: "acc_a",
        day: day(-45),
        feature: "alerts",
        events: 3,
        active_users: 1,
      }),
    ]);
  });

  it("lists the healthy account near its limit with the exact score, suggestion and uplift", async () => {
    const out = await callOk<{
      accounts_counted: number;
      qualified: number;
      excluded: Record<string, number>;
      gated_features_basis: string;
      total_arr_uplift: number;
      candidates: Record<string, unknown>[];
      windows: Record<string, string>;
    }>(viewer, "identify_upsell_opportunities", { action: "list", plan_features: planFeatures });
    expect(out.accounts_counted).toBe(4);
    expect(out.windows).toEqual({
      recent_from: day(-30),
      recent_to: day(-1),
      prior_from: day(-60),
      prior_to: day(-31),
    });
    expect(out.qualified).toBe(1);
    expect(out.gated_features_basis).toBe("plan_features");
    // b red; c yellow: utilization 0.9 → 0.8, growth 0, health 0.5 → 100 × (0.4 + 0.05) = 45 < 60; d at 40 %.
    expect(out.excluded).toEqual({
      "health band red": 1,
      "yellow band with score below 60": 1,
      "not near a plan limit": 1,
    });
    expect(out.total_arr_uplift).toBe(54216);
    expect(out.candidates).toEqual([
      {
        account_id: "acc_a",
        name: "Account acc_a",
        segment: "SMB",
        owner_user_id: "usr_upsell_csm",
        health_band: "green",
        health_score: 80,
        plan_product_id: "p_pro",
        plan_name: "Pro",
        seats: 100,
        peak_active_users: 120,
        p90_active_users: 95,
        utilization: 0.95,
        events_recent: 1200,
        events_prior: 1000,
        growth: 0.2,
        gated_features: ["admin_console"],
        components: { utilization: 0.9, growth: 0.4, gated_features: 0.5, health: 0.8 },
        score: 71,
        discount: 0.1,
        qualified: true,
        reason: null,
        suggestion: {
          kind: "next_plan",
          product_id: "p_ent",
          product_name: "Enterprise",
          seats_after: 119,
          seats_added: 19,
          arr_uplift: 54216,
        },
        open_opportunity_id: null,
      },
    ]);
  });

  it("without plan features suggests seats; a lower yellow threshold admits the yellow account", async () => {
    const out = await callOk<{
      gated_features_basis: string;
      candidates: {
        account_id: string;
        score: number;
        suggestion: { arr_uplift: number; seats_added: number };
        open_opportunity_id: string | null;
      }[];
    }>(viewer, "identify_upsell_opportunities", { action: "list", yellow_min_score: 45, sort: "uplift" });
    expect(out.gated_features_basis).toBe("not_configured");
    // a: 19 × 540 × 0.9 = 9234 (score 61); c: ceil(18 / 0.8) = 23 → 3 × 240 = 720 (score 45).
    // acc_c's open CRM upsell without a product is shown as the deal already open.
    expect(
      out.candidates.map((c) => [
        c.account_id,
        c.score,
        c.suggestion.seats_added,
        c.suggestion.arr_uplift,
        c.open_opportunity_id,
      ]),
    ).toEqual([
      ["acc_a", 61, 19, 9234, null],
      ["acc_c", 45, 3, 720, "opp_crm_c"],
    ]);
    const filtered = await callOk<{ candidates: { account_id: string }[] }>(viewer, "identify_upsell_opportunities", {
      action: "list",
      yellow_min_score: 45,
      segment: "Mid-Market",
    });
    expect(filtered.candidates.map((c) => c.account_id)).toEqual(["acc_c"]);
    const page = await callOk<{ candidates: { account_id: string }[]; next_cursor: string | null }>(
      viewer,
      "identify_upsell_opportunities",
      { action: "list", yellow_min_score: 45, limit: 1 },
    );
    expect(page.candidates.map((c) => c.account_id)).toEqual(["acc_a"]);
    const rest = await callOk<{ candidates: { account_id: string }[]; next_cursor: string | null }>(
      viewer,
      "identify_upsell_opportunities",
      { action: "list", yellow_min_score: 45, limit: 1, cursor: page.next_cursor },
    );
    expect(rest.candidates.map((c) => c.account_id)).toEqual(["acc_c"]);
    expect(rest.next_cursor).toBeNull();
  });

  it("creates the opportunity once, refuses viewers and reports unqualified accounts", async () => {
    await expect(
      viewer.callTool({ name: "identify_upsell_opportunities", arguments: { action: "create" } }),
    ).rejects.toThrow(/needs the csm role/);
    const first = await callOk<{ created: Record<string, unknown>[]; already_open: unknown[] }>(
      csm,
      "identify_upsell_opportunities",
      { action: "create", plan_features: planFeatures },
    );
    expect(first.created).toHaveLength(1);
    expect(first.created[0]).toMatchObject({ account_id: "acc_a", product_id: "p_ent", amount: 54216, score: 71 });
    const row = await env.DB.prepare(
      "SELECT account_id, kind, stage, status, amount, product_id, source, score, probability FROM opportunities WHERE workspace_id = ?1 AND id <> 'opp_crm_c'",
    )
      .bind(WS)
      .all();
    expect(row.results).toEqual([
      {
        account_id: "acc_a",
        kind: "upsell",
        stage: "identified",
        status: "open",
        amount: 54216,
        product_id: "p_ent",
        source: "upsell_signals",
        score: 71,
        probability: null,
      },
    ]);
    const again = await callOk<{ created: unknown[]; already_open: unknown[]; not_qualified: unknown[] }>(
      csm,
      "identify_upsell_opportunities",
      { action: "create", plan_features: planFeatures, account_ids: ["acc_a", "acc_b"] },
    );
    expect(again.created).toEqual([]);
    expect(again.already_open).toEqual([{ account_id: "acc_a", product_id: "p_ent" }]);
    expect(again.not_qualified).toEqual([{ account_id: "acc_b", reason: "health band red" }]);
    // An id of no account here (made up, or another workspace's) is not found, and nothing is written.
    expect(
      await callError(csm, "identify_upsell_opportunities", {
        action: "create",
        plan_features: planFeatures,
        account_ids: ["acc_a", "acc_missing"],
      }),
    ).toBe('No account with id "acc_missing" in this workspace. Use list or search tools to find valid ids.');
    const listed = await callOk<{ candidates: { open_opportunity_id: string | null }[] }>(
      viewer,
      "identify_upsell_opportunities",
      { action: "list", plan_features: planFeatures },
    );
    expect(listed.candidates[0]?.open_opportunity_id).toBe(first.created[0]?.opportunity_id);
    // acc_c qualifies from a yellow threshold of 45, but its open CRM upsell (no product) is the same deal.
    const yellow = await callOk<{ created: unknown[]; already_open: unknown[] }>(csm, "identify_upsell_opportunities", {
      action: "create",
      account_ids: ["acc_c"],
      yellow_min_score: 45,
    });
    expect(yellow).toMatchObject({ created: [], already_open: [{ account_id: "acc_c", product_id: "p_start" }] });
    const count = await env.DB.prepare("SELECT count(*) AS n FROM opportunities WHERE workspace_id = ?1")
      .bind(WS)
      .first<{ n: number }>();
    expect(count?.n).toBe(2);
    const audit = await env.DB.prepare(
      "SELECT tool, action, details FROM audit_log WHERE workspace_id = ?1 ORDER BY created_at, id",
    )
      .bind(WS)
      .all<{ tool: string; action: string; details: string }>();
    expect(audit.results.map((a) => [a.tool, a.action, JSON.parse(a.details)])).toEqual([
      [
        "identify_upsell_opportunities",
        "create_upsell_opportunities",
        { created: [first.created[0]?.opportunity_id], already_open: 0 },
      ],
      ["identify_upsell_opportunities", "create_upsell_opportunities", { created: [], already_open: 1 }],
      ["identify_upsell_opportunities", "create_upsell_opportunities", { created: [], already_open: 1 }],
    ]);
  });

  it("refuses plan_features keys that are not plan products", async () => {
    expect(
      await callError(viewer, "identify_upsell_opportunities", { action: "list", plan_features: { p_nope: ["x"] } }),
    ).toContain('plan_features key "p_nope" is not a plan product');
  });
});
