import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { addMonths } from "../../../src/tools/expansion/domain/movements";
import {
  discountCap,
  offerArr,
  priceChangeRule,
  renewalOutcome,
  termNpv,
  termOptions,
  usageWindows,
  valueTrend,
} from "../../../src/tools/expansion/domain/negotiate";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_negot";
const TIERS = { "Tier 1": 20, "Tier 2": 15, "Tier 3": 10 };

describe("renewal negotiation rules (pure)", () => {
  it("picks the price-change rule from band and usage growth", () => {
    expect(priceChangeRule("green", 0.2).name).toBe("growing");
    expect(priceChangeRule("green", 0.19).name).toBe("steady");
    expect(priceChangeRule("yellow", 0.5).name).toBe("steady");
    expect(priceChangeRule("red", 0.5).name).toBe("at_risk");
    expect(priceChangeRule("green", -0.1).name).toBe("at_risk");
    expect(priceChangeRule(null, null)).toMatchObject({ name: "steady", min_pct: 0, max_pct: 3 });
    expect(priceChangeRule("green", 0.3)).toMatchObject({ min_pct: 3, max_pct: 8 });
    expect(priceChangeRule("red", null)).toMatchObject({ min_pct: -5, max_pct: 0 });
  });

  it("caps the discount by tier, a tier not named getting the smallest cap", () => {
    expect(discountCap("Tier 2", TIERS)).toEqual({ max_discount_pct: 15, basis: "tier" });
    expect(discountCap("Tier 9", TIERS)).toEqual({ max_discount_pct: 10, basis: "smallest_configured" });
    expect(discountCap(null, {})).toEqual({ max_discount_pct: 0, basis: "smallest_configured" });
  });

  it("computes offer ARR and NPV exactly, yearly payments in advance", () => {
    expect(offerArr(10000, 5, 5)).toBe(9975);
    expect(termNpv(10000, 1, 0.1)).toBe(10000);
    // 10,000 + 10,000 / 1.1 = 19,090.909…
    expect(termNpv(10000, 2, 0.1)).toBe(19090.91);
    // + 10,000 / 1.21 = 8,264.462…
    expect(termNpv(10000, 3, 0.1)).toBe(27355.37);
    expect(renewalOutcome(100, 101)).toBe("expanded");
    expect(renewalOutcome(100, 99)).toBe("contracted");
    expect(renewalOutcome(100, 100)).toBe("renewed");
  });

  it("builds the 1/2/3-year options at both ends of the range", () => {
    expect(termOptions(10000, { min_pct: 3, max_pct: 8 }, 5, 0.1)).toEqual([
      {
        term_years: 1,
        discount_pct: 0,
        within_guardrail: true,
        price_change_pct: { min: 3, max: 8 },
        arr: { min: 10300, max: 10800 },
        npv: { min: 10300, max: 10800 },
      },
      {
        term_years: 2,
        discount_pct: 5,
        within_guardrail: true,
        price_change_pct: { min: 3, max: 8 },
        // 10,000 × 1.03 × 0.95 and × 1.08 × 0.95; NPV = ARR + ARR / 1.1.
        arr: { min: 9785, max: 10260 },
        npv: { min: 18680.45, max: 19587.27 },
      },
      {
        term_years: 3,
        discount_pct: 8,
        within_guardrail: false,
        price_change_pct: { min: 3, max: 8 },
        // 10,000 × 1.03 × 0.92 and × 1.08 × 0.92; NPV = ARR × (1 + 1/1.1 + 1/1.21).
        arr: { min: 9476, max: 9936 },
        npv: { min: 25921.95, max: 27180.3 },
      },
    ]);
  });

  it("compares usage with the year-earlier window, else the term's opening", () => {
    expect(usageWindows("2026-11-27", "2025-11-27")).toEqual({
      recent: { from: "2026-08-29", to: "2026-11-26" },
      yearEarlier: { from: "2025-08-29", to: "2025-11-26" },
      termOpening: { from: "2025-11-27", to: "2026-02-24" },
    });
    expect(usageWindows("2026-11-27", "2026-07-01").termOpening).toBeNull();
    const recent = { events: 1200, active_user_days: 900 };
    expect(valueTrend(recent, { events: 1000, active_user_days: 600 }, null)).toEqual({
      basis: "year_earlier",
      recent_events: 1200,
      base_events: 1000,
      usage_growth: 0.2,
      recent_mean_active_users: 10,
      base_mean_active_users: 6.67,
      active_users_change: 0.5,
    });
    const none = { events: 0, active_user_days: 0 };
    expect(valueTrend(recent, none, { events: 800, active_user_days: 450 })).toMatchObject({
      basis: "term_opening",
      usage_growth: 0.5,
      active_users_change: 1,
    });
    expect(valueTrend(recent, none, null)).toMatchObject({ basis: null, usage_growth: null });
  });
});

interface Offer {
  id: string;
  contract_id: string;
  term_years: number;
  price_change_pct: number;
  discount_pct: number;
  arr: number;
  npv: number;
  status: string;
  notes: string | null;
  next_contract_id: string | null;
}

describe("negotiate_renewals", () => {
  let csm: Client;
  let viewer: Client;
  const today = isoDay(clock.now());
  const day = (offset: number) => addDays(today, offset);

  beforeAll(async () => {
    const c = await createWorkspace("negot", "csm");
    const v = await createWorkspace("negot", "viewer");
    csm = await connectClient(c.key, "?toolsets=expansion");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const usage = (onDay: string, events: number, activeUsers: number) =>
      insert("usage_daily", {
        workspace_id: WS,
        account_id: "na",
        day: onDay,
        events,
        active_users: activeUsers,
        sessions: 1,
      });
    const ticket = (id: string, created: string, status: string) =>
      insert("tickets", {
        id,
        workspace_id: WS,
        account_id: "na",
        subject: "Help",
        status,
        created_at: `${created}T09:00:00.000Z`,
        updated_at: `${created}T09:00:00.000Z`,
      });
    const nps = (id: string, onDay: string, score: number) =>
      insert("survey_responses", {
        id,
        workspace_id: WS,
        account_id: "na",
        kind: "nps",
        score,
        responded_at: `${onDay}T12:00:00.000Z`,
      });
    await env.DB.batch([
      insert("accounts", {
        id: "na",
        workspace_id: WS,
        name: "Northwind",
        tier: "Tier 2",
        segment: "smb",
        health_score: 82,
        health_band: "green",
        arr: 10000,
        renewal_date: day(65),
      }),
      insert("contracts", {
        id: "nc1",
        workspace_id: WS,
        account_id: "na",
        start_date: day(-300),
        end_date: day(65),
        status: "active",
        auto_renew: 1,
        arr: 10000,
      }),
      insert("products", { id: "np1", workspace_id: WS, name: "Pro plan", kind: "plan", price: 800 }),
      insert("products", { id: "np2", workspace_id: WS, name: "SSO", kind: "add_on", price: 2000 }),
      insert("contract_items", {
        id: "nci1",
        workspace_id: WS,
        contract_id: "nc1",
        product_id: "np1",
        seats: 10,
        arr: 8000,
      }),
      insert("contract_items", {
        id: "nci2",
        workspace_id: WS,
        contract_id: "nc1",
        product_id: "np2",
        seats: 0,
        arr: 2000,
      }),
      // Recent 90 days: 1,200 events, 900 active-user days; the same days a year earlier: 1,000 and 600.
      usage(day(-10), 1200, 900),
      usage(day(-375), 1000, 600),
      // Outside every window.
      usage(day(-200), 5000, 5000),
      ticket("nt1", day(-100), "solved"),
      ticket("nt2", day(-20), "open"),
      ticket("nt3", day(-320), "solved"),
      nps("nn1", day(-30), 9),
      nps("nn2", day(-100), 5),
      nps("nn3", day(-400), 10),
    ]);
  });

  it("prepares value, price range, guardrail and multi-year options from the account's data", async () => {
    const answer = await callOk<{
      contract: { id: string; days_to_renewal: number };
      value: {
        usage: Record<string, unknown>;
        tickets: Record<string, number>;
        nps: Record<string, unknown>;
      };
      price_change: { rule: string; min_pct: number; max_pct: number };
      guardrail: Record<string, unknown>;
      options: { term_years: number; arr: { min: number; max: number }; npv: { min: number; max: number } }[];
      discount_rate: number;
    }>(viewer, "negotiate_renewals", { action: "prepare", account_id: "na" });
    expect(answer.contract).toMatchObject({ id: "nc1", days_to_renewal: 65 });
    expect(answer.value.usage).toMatchObject({
      basis: "year_earlier",
      recent_events: 1200,
      base_events: 1000,
      usage_growth: 0.2,
      recent_mean_active_users: 10,
      base_mean_active_users: 6.67,
      active_users_change: 0.5,
    });
    expect(answer.value.tickets).toEqual({ created_in_term: 2, solved: 1 });
    // Latest answer 9; over 365 days one promoter and one detractor of two: NPS 0.
    expect(answer.value.nps).toMatchObject({ latest_score: 9, nps_365d: 0, responses_365d: 2 });
    expect(answer.price_change).toMatchObject({ rule: "growing", min_pct: 3, max_pct: 8 });
    expect(answer.guardrail).toEqual({ tier: "Tier 2", max_discount_pct: 15, basis: "tier" });
    expect(answer.discount_rate).toBe(0.1);
    expect(answer.options.map((o) => [o.term_years, o.arr.min, o.arr.max, o.npv.min, o.npv.max])).toEqual([
      [1, 10300, 10800, 10300, 10800],
      [2, 9785, 10260, 18680.45, 19587.27],
      [3, 9476, 9936, 25921.95, 27180.3],
    ]);
  });

  it("refuses a discount above the tier guardrail, and offers from viewers", async () => {
    const refused = await callError(csm, "negotiate_renewals", {
      action: "offer",
      contract_id: "nc1",
      price_change_pct: 3,
      discount_pct: 18,
    });
    expect(refused).toContain("discount_pct 18 exceeds the Tier 2 guardrail of 15%");
    await expect(
      callOk(viewer, "negotiate_renewals", { action: "offer", contract_id: "nc1", price_change_pct: 3 }),
    ).rejects.toThrow(/negotiate_renewals needs the csm role/);
    expect(await callError(csm, "negotiate_renewals", { action: "accept", contract_id: "nc1" })).toContain(
      "contract_id does not apply to action accept",
    );
  });

  it("records offers, accepts one into the next term and updates the account", async () => {
    const a = await callOk<{ offer: Offer; outside_price_range: boolean }>(csm, "negotiate_renewals", {
      action: "offer",
      contract_id: "nc1",
      term_years: 2,
      price_change_pct: 5,
      discount_pct: 5,
      notes: "Two-year deal",
    });
    // 10,000 × 1.05 × 0.95 = 9,975; NPV = 9,975 + 9,975 / 1.1 = 19,043.18.
    expect(a.offer).toMatchObject({ term_years: 2, arr: 9975, npv: 19043.18, status: "proposed" });
    expect(a.outside_price_range).toBe(false);
    const b = await callOk<{ offer: Offer; outside_price_range: boolean }>(csm, "negotiate_renewals", {
      action: "offer",
      contract_id: "nc1",
      price_change_pct: 10,
    });
    expect(b.offer).toMatchObject({ term_years: 1, arr: 11000, npv: 11000 });
    expect(b.outside_price_range).toBe(true);

    const page1 = await callOk<{ offers: Offer[]; next_cursor: string | null }>(viewer, "negotiate_renewals", {
      action: "list",
      contract_id: "nc1",
      limit: 1,
    });
    expect(page1.offers.map((o) => o.id)).toEqual([b.offer.id]);
    const page2 = await callOk<{ offers: Offer[]; next_cursor: string | null }>(viewer, "negotiate_renewals", {
      action: "list",
      contract_id: "nc1",
      limit: 1,
      cursor: page1.next_cursor,
    });
    expect(page2.offers.map((o) => o.id)).toEqual([a.offer.id]);
    expect(page2.next_cursor).toBeNull();

    const accepted = await callOk<{
      offer: Offer;
      next_contract: Record<string, unknown>;
      previous_outcome: string;
      withdrawn_offers: number;
      account_arr: number;
    }>(csm, "negotiate_renewals", { action: "accept", offer_id: a.offer.id });
    const nextId = accepted.offer.next_contract_id!;
    expect(accepted.offer.status).toBe("accepted");
    expect(accepted.next_contract).toEqual({
      id: nextId,
      start_date: day(65),
      end_date: addMonths(day(65), 24),
      arr: 9975,
      previous_contract_id: "nc1",
      items_copied: 2,
    });
    expect(accepted.previous_outcome).toBe("contracted");
    expect(accepted.withdrawn_offers).toBe(1);
    expect(accepted.account_arr).toBe(9975);

    const terms = await env.DB.prepare(
      "SELECT id, start_date, end_date, status, arr, outcome, outcome_reason, outcome_date, previous_contract_id, auto_renew FROM contracts WHERE workspace_id = ?1 ORDER BY start_date",
    )
      .bind(WS)
      .all();
    expect(terms.results).toEqual([
      {
        id: "nc1",
        start_date: day(-300),
        end_date: day(65),
        status: "ended",
        arr: 10000,
        outcome: "contracted",
        outcome_reason: "negotiated_renewal",
        outcome_date: today,
        previous_contract_id: null,
        auto_renew: 1,
      },
      {
        id: nextId,
        start_date: day(65),
        end_date: addMonths(day(65), 24),
        status: "active",
        arr: 9975,
        outcome: null,
        outcome_reason: null,
        outcome_date: null,
        previous_contract_id: "nc1",
        auto_renew: 1,
      },
    ]);
    const items = await env.DB.prepare(
      "SELECT product_id, seats, arr FROM contract_items WHERE workspace_id = ?1 AND contract_id = ?2 ORDER BY product_id",
    )
      .bind(WS, nextId)
      .all();
    // Scaled by 9,975 / 10,000.
    expect(items.results).toEqual([
      { product_id: "np1", seats: 10, arr: 7980 },
      { product_id: "np2", seats: 0, arr: 1995 },
    ]);
    const account = await env.DB.prepare("SELECT arr, renewal_date FROM accounts WHERE workspace_id = ?1 AND id = 'na'")
      .bind(WS)
      .first();
    expect(account).toEqual({ arr: 9975, renewal_date: addMonths(day(65), 24) });
    const withdrawn = await callOk<{ offers: Offer[] }>(viewer, "negotiate_renewals", {
      action: "list",
      contract_id: "nc1",
      status: "withdrawn",
    });
    expect(withdrawn.offers.map((o) => o.id)).toEqual([b.offer.id]);
    const audit = await env.DB.prepare(
      "SELECT action, target_id FROM audit_log WHERE workspace_id = ?1 AND tool = 'negotiate_renewals' ORDER BY action, target_id",
    )
      .bind(WS)
      .all();
    expect(audit.results).toEqual([
      { action: "accept", target_id: a.offer.id },
      ...[a.offer.id, b.offer.id].sort().map((id) => ({ action: "offer", target_id: id })),
    ]);

    expect(await callError(csm, "negotiate_renewals", { action: "accept", offer_id: a.offer.id })).toContain(
      "already accepted",
    );
    expect(
      await callError(csm, "negotiate_renewals", { action: "offer", contract_id: "nc1", price_change_pct: 0 }),
    ).toContain("only an active term without an outcome");
  });

  it("rejects and withdraws proposed offers on the new term", async () => {
    const c = await callOk<{ offer: Offer }>(csm, "negotiate_renewals", {
      action: "offer",
      account_id: "na",
      price_change_pct: 2,
    });
    const rejected = await callOk<{ offer: Offer }>(csm, "negotiate_renewals", {
      action: "reject",
      offer_id: c.offer.id,
      notes: "Budget freeze",
    });
    expect(rejected.offer).toMatchObject({ status: "rejected", notes: "Budget freeze" });
    const d = await callOk<{ offer: Offer }>(csm, "negotiate_renewals", {
      action: "offer",
      account_id: "na",
      price_change_pct: 1,
    });
    expect(
      (await callOk<{ offer: Offer }>(csm, "negotiate_renewals", { action: "withdraw", offer_id: d.offer.id })).offer
        .status,
    ).toBe("withdrawn");
    expect(await callError(csm, "negotiate_renewals", { action: "reject", offer_id: d.offer.id })).toContain(
      "already withdrawn",
    );
    expect(await callError(csm, "negotiate_renewals", { action: "reject", offer_id: "rof_missing" })).toContain(
      'No renewal offer with id "rof_missing"',
    );
  });
});
