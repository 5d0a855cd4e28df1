import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { associationRules, confidence, lift, support } from "../../../src/tools/expansion/domain/association";
import {
  bestRule,
  crossSellScore,
  expectedArr,
  isLookalike,
  lookalikeCounts,
  seatsBasis,
} from "../../../src/tools/expansion/domain/crosssell";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_crosssell";
const today = isoDay(clock.now());

/**
 * Five accounts: 1 {P, AI, API}, 2 {P, AI}, 3 {P, API}, 4 {S, AI}, 5 {S}.
 * Owners: P 3, S 2, AI 3, API 2.
 */
const BASKETS = [["P", "AI", "API"], ["P", "AI"], ["P", "API"], ["S", "AI"], ["S"]];

describe("association rules (pure, by hand)", () => {
  it("computes support, confidence and lift from counts", () => {
    expect(support(2, 5)).toBe(0.4);
    expect(support(1, 0)).toBe(0);
    expect(confidence(2, 3)).toBe(2 / 3);
    expect(confidence(1, 0)).toBe(0);
    // P → API: both 2, P 3, API 2, of 5: (2/3) / (2/5) = 5/3.
    expect(lift(2, 3, 2, 5)).toBe(5 / 3);
    expect(lift(1, 0, 2, 5)).toBe(0);
  });

  it("lists every rule toward the consequents, sorted by lift then confidence", () => {
    const rules = associationRules(BASKETS, { minSupport: 0, minConfidence: 0 }, new Set(["AI", "API"]));
    expect(
      rules.map((r) => [r.antecedent, r.consequent, r.accounts_with_both, r.support, r.confidence, r.lift]),
    ).toEqual([
      ["P", "API", 2, 0.4, 2 / 3, 5 / 3],
      ["P", "AI", 2, 0.4, 2 / 3, 10 / 9],
      ["API", "AI", 1, 0.2, 1 / 2, 5 / 6],
      ["S", "AI", 1, 0.2, 1 / 2, 5 / 6],
      ["AI", "API", 1, 0.2, 1 / 3, 5 / 6],
    ]);
    expect(rules[0]).toMatchObject({ accounts_with_antecedent: 3, accounts_with_consequent: 2 });
  });

  it("applies the support and confidence thresholds, and counts a repeated product once", () => {
    const bySupport = associationRules(BASKETS, { minSupport: 0.3, minConfidence: 0 }, new Set(["AI", "API"]));
    expect(bySupport.map((r) => `${r.antecedent}>${r.consequent}`)).toEqual(["P>API", "P>AI"]);
    const byConfidence = associationRules(BASKETS, { minSupport: 0, minConfidence: 0.5 }, new Set(["AI", "API"]));
    expect(byConfidence.map((r) => `${r.antecedent}>${r.consequent}`)).toEqual(["P>API", "P>AI", "API>AI", "S>AI"]);
    const repeated = associationRules([["A", "A", "B"], []], { minSupport: 0, minConfidence: 0 });
    expect(repeated.map((r) => [r.antecedent, r.consequent, r.support, r.confidence, r.lift])).toEqual([
      ["A", "B", 0.5, 1, 2],
      ["B", "A", 0.5, 1, 2],
    ]);
  });

  it("picks the best rule, look-alikes, seats basis, expected ARR and score", () => {
    const rules = associationRules(BASKETS, { minSupport: 0, minConfidence: 0 }, new Set(["AI", "API"]));
    expect(bestRule(new Set(["P", "AI"]), "API", rules)).toMatchObject({ antecedent: "P", confidence: 2 / 3 });
    expect(bestRule(new Set(["S"]), "API", rules)).toBeNull();
    const a = { id: "a", industry: "Retail", segment: "SMB", employees: 100 };
    expect(isLookalike(a, { id: "b", industry: "Retail", segment: "SMB", employees: 200 })).toBe(true);
    expect(isLookalike(a, { id: "b", industry: "Retail", segment: "SMB", employees: 201 })).toBe(false);
    expect(isLookalike(a, { id: "b", industry: "Retail", segment: "SMB", employees: 50 })).toBe(true);
    expect(isLookalike(a, { id: "b", industry: "Retail", segment: "Mid-Market", employees: 100 })).toBe(false);
    expect(isLookalike(a, { ...a })).toBe(false);
    const peers = lookalikeCounts([
      { ...a, products: new Set(["P"]) },
      { id: "b", industry: "Retail", segment: "SMB", employees: 150, products: new Set(["P", "AI"]) },
      { id: "c", industry: "Retail", segment: "SMB", employees: 201, products: new Set(["AI"]) },
    ]);
    expect(peers.get("a")?.lookalikes).toBe(1);
    expect([peers.get("a")?.owning("AI"), peers.get("a")?.owning("P"), peers.get("a")?.owning("API")]).toEqual([
      1, 1, 0,
    ]);
    expect([peers.get("b")?.lookalikes, peers.get("b")?.owning("AI"), peers.get("b")?.owning("P")]).toEqual([2, 1, 1]);
    expect(peers.get("c")?.lookalikes).toBe(1);
    // Median share of 0.2 and 0.4 = 0.3 of 10 seats.
    expect(seatsBasis(10, [0.2, 0.4])).toBe(3);
    expect(seatsBasis(10, [])).toBe(10);
    expect(seatsBasis(0, [0.5])).toBe(1);
    expect(expectedArr(100, 3, 2 / 3)).toBe(200);
    // 100 × (0.5 × 2/3 + 0.25 × (5/3 − 1) / 2 + 0.25 × 1) = 66.67.
    expect(crossSellScore(2 / 3, 5 / 3, 1)).toBe(66.7);
    expect(crossSellScore(1, 5, 0)).toBe(75);
    expect(crossSellScore(0.5, 0.5, 0)).toBe(25);
  });
});

describe("identify_crosssell_opportunities through MCP", () => {
  let csm: Client;
  let viewer: Client;

  beforeAll(async () => {
    const c = await createWorkspace("crosssell", "csm");
    const v = await createWorkspace("crosssell", "viewer");
    await createWorkspace("crosssell-other");
    csm = await connectClient(c.key, "?toolsets=expansion");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const account = (n: number, industry: string, employees: number, band: string) =>
      insert("accounts", {
        id: `acc_${n}`,
        workspace_id: WS,
        name: `Account ${n}`,
        industry,
        segment: "SMB",
        employees,
        health_band: band,
      });
    const statements = [
      insert("products", { id: "P", workspace_id: WS, name: "Pro", kind: "plan", price: 500 }),
      insert("products", { id: "S", workspace_id: WS, name: "Starter", kind: "plan", price: 200 }),
      insert("products", { id: "AI", workspace_id: WS, name: "AI Insights", kind: "add_on", price: 240 }),
      insert("products", { id: "API", workspace_id: WS, name: "API Access", kind: "add_on", price: 100 }),
      account(1, "Retail", 100, "green"),
      account(2, "Retail", 150, "green"),
      account(3, "Retail", 300, "yellow"),
      account(4, "Finance", 100, "green"),
      account(5, "Finance", 100, "red"),
    ];
    const items: [number, string, number][] = [
      [1, "P", 10],
      [1, "AI", 5],
      [1, "API", 2],
      [2, "P", 10],
      [2, "AI", 5],
      [3, "P", 10],
      [3, "API", 4],
      [4, "S", 10],
      [4, "AI", 10],
      [5, "S", 10],
    ];
    for (let n = 1; n <= 5; n++) {
      statements.push(
        insert("contracts", {
          id: `ctr_${n}`,
          workspace_id: WS,
          account_id: `acc_${n}`,
          start_date: addDays(today, -100),
          end_date: addDays(today, 265),
          status: "active",
        }),
      );
    }
    for (const [n, product, seats] of items) {
      statements.push(
        insert("contract_items", {
          id: `cti_${n}_${product}`,
          workspace_id: WS,
          contract_id: `ctr_${n}`,
          product_id: product,
          seats,
          arr: seats * 100,
        }),
      );
    }
    // Another workspace's account owning Pro and API Access must not count in these baskets.
    statements.push(
      insert("accounts", { id: "acc_other", workspace_id: "ws_crosssell-other", name: "Other", segment: "SMB" }),
      insert("contracts", {
        id: "ctr_other",
        workspace_id: "ws_crosssell-other",
        account_id: "acc_other",
        start_date: addDays(today, -100),
        end_date: addDays(today, 265),
        status: "active",
      }),
      insert("contract_items", {
        id: "cti_other_P",
        workspace_id: "ws_crosssell-other",
        contract_id: "ctr_other",
        product_id: "P",
        seats: 10,
        arr: 1000,
      }),
      insert("contract_items", {
        id: "cti_other_API",
        workspace_id: "ws_crosssell-other",
        contract_id: "ctr_other",
        product_id: "API",
        seats: 10,
        arr: 1000,
      }),
    );
    // A CRM cross-sell with no product on acc_4 does not stand for the API Access sale.
    statements.push(
      insert("opportunities", {
        id: "opp_crm_4",
        workspace_id: WS,
        account_id: "acc_4",
        name: "acc_4 add-on",
        kind: "cross_sell",
        status: "open",
        amount: 100,
        source: "crm",
      }),
    );
    await env.DB.batch(statements);
  });

  it("returns the rule table with exact measures", async () => {
    const out = await callOk<{ accounts_counted: number; rules_found: number; rules: Record<string, unknown>[] }>(
      viewer,
      "identify_crosssell_opportunities",
      { action: "rules", limit: 2 },
    );
    expect(out.accounts_counted).toBe(5);
    expect(out.rules_found).toBe(5);
    expect(out.rules).toEqual([
      {
        antecedent_product_id: "P",
        antecedent_name: "Pro",
        consequent_product_id: "API",
        consequent_name: "API Access",
        accounts_with_both: 2,
        accounts_with_antecedent: 3,
        accounts_with_consequent: 2,
        support: 0.4,
        confidence: 0.6667,
        lift: 1.6667,
      },
      {
        antecedent_product_id: "P",
        antecedent_name: "Pro",
        consequent_product_id: "AI",
        consequent_name: "AI Insights",
        accounts_with_both: 2,
        accounts_with_antecedent: 3,
        accounts_with_consequent: 3,
        support: 0.4,
        confidence: 0.6667,
        lift: 1.1111,
      },
    ]);
  });

  it("lists candidates with best rule, look-alikes, seats basis, expected ARR and score", async () => {
    const out = await callOk<{
      candidates_found: number;
      total_expected_arr: number;
      candidates: Record<string, unknown>[];
    }>(viewer, "identify_crosssell_opportunities", { action: "list", sort: "expected_arr" });
    // acc_1 owns both add-ons; acc_5 is red.
    expect(out.candidates_found).toBe(3);
    expect(out.total_expected_arr).toBe(1100);
    expect(
      out.candidates.map((c) => [
        c.account_id,
        c.product_id,
        (c.rule as { antecedent_product_id: string }).antecedent_product_id,
        c.lookalikes,
        c.lookalikes_owning,
        c.lookalike_adoption,
        c.seats_basis,
        c.expected_arr,
        c.score,
      ]),
    ).toEqual([
      // AI owners' shares 0.5, 0.5, 1 → 0.5 × 10 = 5 seats; 240 × 5 × 2/3 = 800;
      // 100 × (0.5 × 2/3 + 0.25 × (10/9 − 1) / 2 + 0.25 × 1) = 59.72; look-alike: acc_2 only (150 ≥ 300 / 2).
      ["acc_3", "AI", "P", 1, 1, 1, 5, 800, 59.7],
      // API shares 0.2, 0.4 → 3 seats; 100 × 3 × 2/3 = 200; look-alikes acc_1 and acc_3, both own API.
      ["acc_2", "API", "P", 2, 2, 1, 3, 200, 66.7],
      // AI → API: confidence 1/3, lift 5/6 (adds nothing); look-alike acc_5 lacks API: 100 × 0.5 / 3 = 16.67.
      ["acc_4", "API", "AI", 1, 0, 0, 3, 100, 16.7],
    ]);
    const strict = await callOk<{ candidates: { account_id: string }[] }>(viewer, "identify_crosssell_opportunities", {
      action: "list",
      min_confidence: 0.5,
    });
    expect(strict.candidates.map((c) => c.account_id)).toEqual(["acc_2", "acc_3"]);
  });

  it("creates cross-sell opportunities once", async () => {
    const first = await callOk<{ created: Record<string, unknown>[] }>(csm, "identify_crosssell_opportunities", {
      action: "create",
      top: 2,
    });
    expect(first.created.map((c) => [c.account_id, c.product_id, c.amount, c.score])).toEqual([
      ["acc_2", "API", 200, 66.7],
      ["acc_3", "AI", 800, 59.7],
    ]);
    const rows = await env.DB.prepare(
      "SELECT account_id, kind, stage, status, amount, product_id, source, score FROM opportunities WHERE workspace_id = ?1 AND source = 'crosssell_affinity' ORDER BY account_id",
    )
      .bind(WS)
      .all();
    expect(rows.results).toEqual([
      {
        account_id: "acc_2",
        kind: "cross_sell",
        stage: "identified",
        status: "open",
        amount: 200,
        product_id: "API",
        source: "crosssell_affinity",
        score: 66.7,
      },
      {
        account_id: "acc_3",
        kind: "cross_sell",
        stage: "identified",
        status: "open",
        amount: 800,
        product_id: "AI",
        source: "crosssell_affinity",
        score: 59.7,
      },
    ]);
    const again = await callOk<{ created: unknown[]; already_open: unknown[]; not_qualified: unknown[] }>(
      csm,
      "identify_crosssell_opportunities",
      { action: "create", account_ids: ["acc_2", "acc_3", "acc_5"] },
    );
    expect(again.created).toEqual([]);
    expect(again.already_open).toEqual([
      { account_id: "acc_2", product_id: "API" },
      { account_id: "acc_3", product_id: "AI" },
    ]);
    expect(again.not_qualified).toEqual([
      {
        account_id: "acc_5",
        reason: "no cross-sell candidate (red band, owns every product with a rule, or below the filters)",
      },
    ]);
    const fourth = await callOk<{ created: { account_id: string; product_id: string }[] }>(
      csm,
      "identify_crosssell_opportunities",
      { action: "create", account_ids: ["acc_4"] },
    );
    expect(fourth.created.map((c) => [c.account_id, c.product_id])).toEqual([["acc_4", "API"]]);
    expect(
      await callError(csm, "identify_crosssell_opportunities", {
        action: "create",
        account_ids: ["acc_2", "acc_nowhere"],
      }),
    ).toBe('No account with id "acc_nowhere" in this workspace. Use list or search tools to find valid ids.');
    await expect(
      viewer.callTool({ name: "identify_crosssell_opportunities", arguments: { action: "create" } }),
    ).rejects.toThrow(/needs the csm role/);
  });
});
