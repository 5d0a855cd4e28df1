import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import {
  DEFAULT_STAGE_PROBABILITIES,
  effectiveProbability,
  seatGap,
  segmentSeatRatios,
  stakeholderCoverage,
  weightedPipeline,
  whitespaceArr,
} from "../../../src/tools/expansion/domain/whitespace";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_whitespace";
const today = isoDay(clock.now());

/** Open pipeline: 1000 qualified (no probability), 2000 identified at a stored 0.5, 4000 in negotiation, 500 in an unknown stage. */
const PIPELINE = [
  { stage: "qualified", amount: 1000, probability: null, close_date: "2026-12-15" },
  { stage: "identified", amount: 2000, probability: 0.5, close_date: "2026-12-20" },
  { stage: "negotiation", amount: 4000, probability: null, close_date: "2027-01-10" },
  { stage: "discovery", amount: 500, probability: null, close_date: null },
];

describe("whitespace and pipeline (pure, by hand)", () => {
  it("computes stakeholder coverage, seat potential and whitespace ARR", () => {
    expect(stakeholderCoverage({ champion: false, decision_maker: true, economic_buyer: true })).toEqual({
      known: 2,
      coverage: 2 / 3,
      missing: ["champion"],
    });
    const ratios = segmentSeatRatios([
      { segment: "SMB", employees: 100, seats: 10 },
      { segment: "SMB", employees: 50, seats: 10 },
      { segment: "SMB", employees: 200, seats: 10 },
      { segment: "Ent", employees: null, seats: 100 },
      { segment: "Ent", employees: 10, seats: 0 },
    ]);
    // Medians of 0.1, 0.2, 0.05 → 0.1; Ent has no usable account.
    expect([...ratios]).toEqual([["SMB", 0.1]]);
    expect(seatGap(200, 0.1, 10)).toEqual({ potential: 20, gap: 10 });
    expect(seatGap(50, 0.1, 10)).toEqual({ potential: 5, gap: 0 });
    expect(seatGap(null, 0.1, 10)).toBeNull();
    expect(seatGap(100, undefined, 10)).toBeNull();
    const items = [
      { product_id: "AI", name: "AI", kind: "add_on", price: 240, seats_basis: 5, arr: 1200 },
      { product_id: "SUP", name: "Support", kind: "service", price: 50, seats_basis: 10, arr: 500 },
    ];
    // 1200 + 500 + 10 × 500.
    expect(whitespaceArr(items, 10, 500)).toBe(6700);
  });

  it("weights the pipeline by stored or stage probabilities, by stage and by close month", () => {
    expect(effectiveProbability({ stage: "qualified", probability: null }, DEFAULT_STAGE_PROBABILITIES)).toEqual({
      probability: 0.25,
      basis: "stage_default",
    });
    expect(effectiveProbability({ stage: "qualified", probability: 0.9 }, DEFAULT_STAGE_PROBABILITIES).basis).toBe(
      "stored",
    );
    expect(effectiveProbability({ stage: "x", probability: null }, DEFAULT_STAGE_PROBABILITIES)).toEqual({
      probability: 0,
      basis: "unknown_stage",
    });
    // 1000 × 0.25 + 2000 × 0.5 + 4000 × 0.75 + 500 × 0 = 4250.
    expect(weightedPipeline(PIPELINE, DEFAULT_STAGE_PROBABILITIES)).toEqual({
      total: { key: "all", opportunities: 4, amount: 7500, weighted: 4250 },
      by_stage: [
        { key: "identified", opportunities: 1, amount: 2000, weighted: 1000 },
        { key: "qualified", opportunities: 1, amount: 1000, weighted: 250 },
        { key: "negotiation", opportunities: 1, amount: 4000, weighted: 3000 },
        { key: "discovery", opportunities: 1, amount: 500, weighted: 0 },
      ],
      by_close_month: [
        { key: "2026-12", opportunities: 2, amount: 3000, weighted: 1250 },
        { key: "2027-01", opportunities: 1, amount: 4000, weighted: 3000 },
        { key: "none", opportunities: 1, amount: 500, weighted: 0 },
      ],
    });
  });
});

describe("identify_expansion_opportunities through MCP", () => {
  let viewer: Client;

  beforeAll(async () => {
    const v = await createWorkspace("whitespace", "viewer");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const account = (id: string, segment: string, employees: number | null, extra: Record<string, string> = {}) =>
      insert("accounts", { id, workspace_id: WS, name: `Account ${id}`, segment, employees, ...extra });
    const contract = (id: string, accountId: string) =>
      insert("contracts", {
        id,
        workspace_id: WS,
        account_id: accountId,
        start_date: addDays(today, -100),
        end_date: addDays(today, 265),
        status: "active",
      });
    const item = (contractId: string, productId: string, seats: number) =>
      insert("contract_items", {
        id: `cti_${contractId}_${productId}`,
        workspace_id: WS,
        contract_id: contractId,
        product_id: productId,
        seats,
        arr: seats * 100,
      });
    const contact = (id: string, accountId: string, extra: Record<string, string | number>) =>
      insert("contacts", { id, workspace_id: WS, account_id: accountId, name: id, ...extra });
    const opportunity = (
      id: string,
      accountId: string,
      kind: string,
      stage: string,
      amount: number,
      probability: number | null,
      closeDate: string | null,
      status = "open",
    ) =>
      insert("opportunities", {
        id,
        workspace_id: WS,
        account_id: accountId,
        name: id,
        kind,
        stage,
        status,
        amount,
        probability,
        close_date: closeDate,
      });
    await env.DB.batch([
      insert("products", { id: "P", workspace_id: WS, name: "Pro", kind: "plan", price: 500 }),
      insert("products", { id: "AI", workspace_id: WS, name: "AI Insights", kind: "add_on", price: 240 }),
      insert("products", { id: "API", workspace_id: WS, name: "API Access", kind: "add_on", price: 100 }),
      insert("products", { id: "SUP", workspace_id: WS, name: "Premium Support", kind: "service", price: 50 }),
      account("w1", "SMB", 100, { owner_user_id: "usr_owner" }),
      account("w2", "SMB", 50),
      account("w3", "SMB", 200),
      account("w4", "Enterprise", null),
      account("w5", "SMB", 1000, { status: "churned" }),
      contract("c1", "w1"),
      item("c1", "P", 10),
      item("c1", "AI", 5),
      contract("c2", "w2"),
      item("c2", "P", 10),
      item("c2", "API", 2),
      contract("c3", "w3"),
      item("c3", "P", 10),
      contract("c4", "w4"),
      item("c4", "P", 100),
      contact("k1", "w3", { is_champion: 1, role: "champion", left_at: `${addDays(today, -5)}T00:00:00Z` }),
      contact("k2", "w3", { is_decision_maker: 1, role: "decision_maker" }),
      contact("k3", "w3", { role: "economic_buyer" }),
      contact("k4", "w1", { is_champion: 1, role: "user" }),
      opportunity("o1", "w1", "upsell", "qualified", 1000, null, "2026-12-15"),
      opportunity("o2", "w2", "cross_sell", "identified", 2000, 0.5, "2026-12-20"),
      opportunity("o3", "w3", "expansion", "negotiation", 4000, null, "2027-01-10"),
      opportunity("o4", "w3", "renewal", "proposal", 9999, null, "2026-12-01"),
      opportunity("o5", "w1", "upsell", "closed_won", 7777, 1, "2026-10-01", "won"),
      opportunity("o6", "w2", "expansion", "discovery", 500, null, null),
      opportunity("o7", "w5", "upsell", "qualified", 3333, null, "2026-12-01"),
    ]);
  });

  it("gives one account's whitespace and stakeholder coverage exactly", async () => {
    const out = await callOk<{ account: Record<string, unknown> }>(viewer, "identify_expansion_opportunities", {
      action: "account",
      account_id: "w3",
    });
    // Seats per employee: SMB medians of 0.1, 0.2, 0.05 = 0.1 → potential 20, gap 10 × 500 = 5000.
    // AI: owner share 5/10 → 5 seats × 240 = 1200; API: 2/10 → 2 × 100 = 200; SUP: no owner → 10 × 50 = 500.
    expect(out.account).toEqual({
      account_id: "w3",
      name: "Account w3",
      segment: "SMB",
      owner_user_id: null,
      health_band: null,
      arr: 0,
      products_owned: [{ product_id: "P", name: "Pro", kind: "plan", seats: 10 }],
      products_unowned: [
        { product_id: "AI", name: "AI Insights", kind: "add_on", price: 240, seats_basis: 5, arr: 1200 },
        { product_id: "API", name: "API Access", kind: "add_on", price: 100, seats_basis: 2, arr: 200 },
        { product_id: "SUP", name: "Premium Support", kind: "service", price: 50, seats_basis: 10, arr: 500 },
      ],
      catalog_coverage: 0,
      seats: 10,
      employees: 200,
      seats_per_employee: 0.1,
      seat_potential: 20,
      seat_gap: 10,
      seat_gap_arr: 5000,
      whitespace_arr: 6900,
      stakeholders: {
        champion: false,
        decision_maker: true,
        economic_buyer: true,
        coverage: 0.6667,
        missing: ["champion"],
      },
      open_pipeline: { opportunities: 1, amount: 4000, weighted: 3000 },
    });
    expect(
      await callError(viewer, "identify_expansion_opportunities", { action: "account", account_id: "w5" }),
    ).toContain('No active account with id "w5"');
    expect(await callError(viewer, "identify_expansion_opportunities", { action: "account" })).toContain(
      "action account needs account_id",
    );
  });

  it("ranks accounts by whitespace ARR with filters and pages", async () => {
    const out = await callOk<{
      accounts_counted: number;
      total_whitespace_arr: number;
      accounts: { account_id: string; whitespace_arr: number; stakeholders: { coverage: number } }[];
    }>(viewer, "identify_expansion_opportunities", { action: "list", segment: "SMB" });
    // w1: API 2 × 100 + SUP 10 × 50 = 700; w2: AI 5 × 240 + SUP 500 = 1700.
    expect(out.accounts.map((a) => [a.account_id, a.whitespace_arr, a.stakeholders.coverage])).toEqual([
      ["w3", 6900, 0.6667],
      ["w2", 1700, 0],
      ["w1", 700, 0.3333],
    ]);
    expect(out.accounts_counted).toBe(3);
    expect(out.total_whitespace_arr).toBe(9300);
    const text = await viewer.callTool({
      name: "identify_expansion_opportunities",
      arguments: { action: "list", segment: "SMB" },
    });
    expect((text.content as { text: string }[])[0]?.text).toContain("| Account w3 | 6900 | 3 | 10 | 2/3 | 4000 |");
    const first = await callOk<{ accounts: { account_id: string; whitespace_arr: number }[]; next_cursor: string }>(
      viewer,
      "identify_expansion_opportunities",
      { action: "list", limit: 1 },
    );
    // w4: no employees, no segment ratio → no seat gap; AI 50 × 240 + API 20 × 100 + SUP 100 × 50 = 19000.
    expect(first.accounts.map((a) => [a.account_id, a.whitespace_arr])).toEqual([["w4", 19000]]);
    const second = await callOk<{ accounts: { account_id: string }[] }>(viewer, "identify_expansion_opportunities", {
      action: "list",
      limit: 1,
      cursor: first.next_cursor,
    });
    expect(second.accounts.map((a) => a.account_id)).toEqual(["w3"]);
    const owned = await callOk<{ accounts: { account_id: string }[] }>(viewer, "identify_expansion_opportunities", {
      action: "list",
      owner: "usr_owner",
    });
    expect(owned.accounts.map((a) => a.account_id)).toEqual(["w1"]);
  });

  it("weights the open expansion pipeline by stage and close month", async () => {
    const out = await callOk<{
      accounts_counted: number;
      pipeline: { total: unknown; by_stage: unknown[]; by_close_month: unknown[] };
      opportunities: { opportunity_id: string; probability: number; probability_basis: string; weighted: number }[];
    }>(viewer, "identify_expansion_opportunities", { action: "pipeline" });
    // Renewals, won deals and churned accounts' deals are left out.
    expect(out.accounts_counted).toBe(3);
    expect(out.pipeline.total).toEqual({ key: "all", opportunities: 4, amount: 7500, weighted: 4250 });
    expect(out.pipeline.by_stage).toEqual([
      { key: "identified", opportunities: 1, amount: 2000, weighted: 1000 },
      { key: "qualified", opportunities: 1, amount: 1000, weighted: 250 },
      { key: "negotiation", opportunities: 1, amount: 4000, weighted: 3000 },
      { key: "discovery", opportunities: 1, amount: 500, weighted: 0 },
    ]);
    expect(out.pipeline.by_close_month).toEqual([
      { key: "2026-12", opportunities: 2, amount: 3000, weighted: 1250 },
      { key: "2027-01", opportunities: 1, amount: 4000, weighted: 3000 },
      { key: "none", opportunities: 1, amount: 500, weighted: 0 },
    ]);
    expect(out.opportunities.map((o) => [o.opportunity_id, o.probability, o.probability_basis, o.weighted])).toEqual([
      ["o3", 0.75, "stage_default", 3000],
      ["o2", 0.5, "stored", 1000],
      ["o1", 0.25, "stage_default", 250],
      ["o6", 0, "unknown_stage", 0],
    ]);
    const custom = await callOk<{ pipeline: { total: { weighted: number } } }>(
      viewer,
      "identify_expansion_opportunities",
      { action: "pipeline", stage_probabilities: { qualified: 0.5, discovery: 0.2 } },
    );
    // 1000 × 0.5 + 1000 + 3000 + 500 × 0.2.
    expect(custom.pipeline.total.weighted).toBe(4600);
  });
});
