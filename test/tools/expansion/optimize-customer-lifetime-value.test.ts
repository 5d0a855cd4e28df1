import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import {
  expectedLifetime,
  historyRates,
  lifetimeValue,
  segmentRates,
  sensitivity,
} from "../../../src/tools/expansion/domain/clv";
import { emptyTotals } from "../../../src/tools/expansion/domain/movements";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_clv";

const base = { arr: 1000, gross_margin: 0.8, expansion_rate: 0, discount_rate: 0, max_lifetime_years: 10 };

describe("lifetime value (pure)", () => {
  it("caps the lifetime and counts a partial last year pro rata", () => {
    expect(expectedLifetime(0.25, 10)).toBe(4);
    expect(expectedLifetime(0, 10)).toBe(10);
    expect(expectedLifetime(0.05, 10)).toBe(10);
    expect(expectedLifetime(2 / 12, 10)).toBe(6);
    expect(lifetimeValue({ ...base, churn_rate: 0.4 })).toEqual({
      lifetime_years: 2.5,
      clv: 2000,
      discounted_clv: 2000,
    });
  });

  it("discounts yearly revenue in advance", () => {
    const value = lifetimeValue({ ...base, churn_rate: 0.25, discount_rate: 0.1 });
    expect(value.clv).toBe(3200);
    // 800 × (1 + 1/1.1 + 1/1.21 + 1/1.331) = 2,789.48…
    expect(Math.round(value.discounted_clv * 100) / 100).toBe(2789.48);
    // Growth equal to the discount rate cancels it: 800 × 4.
    expect(lifetimeValue({ ...base, churn_rate: 0.25, discount_rate: 0.1, expansion_rate: 0.1 }).discounted_clv).toBe(
      3200,
    );
  });

  it("ranks levers by total gain over a segment's accounts", () => {
    // Churn 20% (lifetime 5), g = r = 10%: each year counts 1, so CLV = ARR × 0.8 × 5.
    const accounts = [1000, 1800].map((arr) => ({
      ...base,
      arr,
      churn_rate: 0.2,
      expansion_rate: 0.1,
      discount_rate: 0.1,
    }));
    const result = sensitivity(accounts, 0.05);
    expect(result.discounted_clv).toBe(11200);
    expect(result.levers.map((l) => [l.lever, l.gain])).toEqual([
      // 2,240 × (Σ_{t=0}^{4} (1.15/1.1)^t − 5) = 2,240 × 0.4756804…
      ["expansion_plus_x", 1065.52],
      // 2,240 × (1/0.19 − 5) = 2,240 × 0.263158
      ["retention_plus_1pt", 589.47],
      // 2,800 × 0.01 × 5
      ["gross_margin_plus_1pt", 140],
    ]);
  });

  it("takes a segment's own rates only with enough history", () => {
    const segment = historyRates({
      ...emptyTotals(),
      starting_arr: 10000,
      accounts_at_start: 10,
      churned_arr: 2000,
      accounts_churned: 2,
      expansion_arr: 1000,
      contraction_arr: 200,
    });
    expect(segment).toEqual({ churn_rate: 0.2, expansion_rate: 0.1, accounts_at_start: 10, accounts_churned: 2 });
    const small = { ...segment, accounts_at_start: 9 };
    expect(segmentRates(segment, small).basis).toBe("segment");
    expect(segmentRates(small, segment)).toMatchObject({ basis: "workspace", accounts_at_start: 10 });
    const none = historyRates(emptyTotals());
    expect(segmentRates(undefined, none)).toMatchObject({ basis: "none", churn_rate: null });
  });
});

interface Lever {
  lever: string;
  gain: number;
  gain_share: number | null;
  segment?: string | null;
}

interface Answer {
  workspace_history: Record<string, number | null>;
  assumptions: { churn_model: Record<string, unknown> };
  segments: {
    segment: string | null;
    accounts_counted: number;
    accounts_on_model: number;
    arr: number;
    history: Record<string, number | null>;
    basis: string;
    churn_rate: number | null;
    expansion_rate: number;
    lifetime_years: number | null;
    clv: number;
    discounted_clv: number;
    levers: Lever[];
  }[];
  ranked_levers: Lever[];
  accounts_counted: number;
  accounts: { account_id: string; churn_basis: string; churn_rate: number; clv: number; discounted_clv: number }[];
  next_cursor: string | null;
}

describe("optimize_customer_lifetime_value", () => {
  let viewer: Client;
  const today = isoDay(clock.now());
  const day = (offset: number) => addDays(today, offset);

  beforeAll(async () => {
    const v = await createWorkspace("clv", "viewer");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const rows: D1PreparedStatement[] = [];
    const contract = (id: string, accountId: string, start: string, end: string, arr: number, previous?: string) =>
      insert("contracts", {
        id,
        workspace_id: WS,
        account_id: accountId,
        start_date: start,
        end_date: end,
        arr,
        status: end <= today ? "ended" : "active",
        previous_contract_id: previous ?? null,
      });
    // smb: 10 accounts of 1,000 a year ago; cs09 and cs10 churned, cs08 expanded to 1,800.
    for (let i = 1; i <= 10; i++) {
      const id = `cs${String(i).padStart(2, "0")}`;
      const churned = i >= 9;
      const arr = churned ? 0 : i === 8 ? 1800 : 1000;
      rows.push(
        insert("accounts", {
          id,
          workspace_id: WS,
          name: `Small ${i}`,
          segment: "smb",
          arr,
          status: churned ? "churned" : "active",
        }),
      );
      if (churned) rows.push(contract(`${id}_1`, id, day(-400), day(-100), 1000));
      else if (i === 8) {
        rows.push(contract(`${id}_1`, id, day(-400), day(-50), 1000));
        rows.push(contract(`${id}_2`, id, day(-50), day(315), 1800, `${id}_1`));
      } else rows.push(contract(`${id}_1`, id, day(-400), day(300), 1000));
    }
    // enterprise: two accounts of 5,000, too few for its own rates; ce1 has a model churn probability.
    rows.push(
      insert("accounts", {
        id: "ce1",
        workspace_id: WS,
        name: "Big 1",
        segment: "enterprise",
        arr: 5000,
        churn_probability: 0.5,
      }),
      insert("accounts", { id: "ce2", workspace_id: WS, name: "Big 2", segment: "enterprise", arr: 5000 }),
      contract("ce1_1", "ce1", day(-400), day(300), 5000),
      contract("ce2_1", "ce2", day(-400), day(300), 5000),
      insert("risk_models", {
        id: "rm_clv_1",
        workspace_id: WS,
        version: 1,
        kind: "logistic",
        calibrated: 1,
        horizon_days: 90,
        features: "[]",
        coefficients: "[]",
        intercept: 0,
        metrics: "{}",
        trained_at: `${day(-1)}T00:00:00.000Z`,
      }),
    );
    await env.DB.batch(rows);
  });

  it("computes CLV per segment and account with its inputs, and ranks the levers exactly", async () => {
    const answer = await callOk<Answer>(viewer, "optimize_customer_lifetime_value", { limit: 3 });
    // 12 accounts a year ago, 2 churned; expansion 800 over the 18,000 retained.
    expect(answer.workspace_history).toEqual({
      churn_rate: 0.1667,
      expansion_rate: 0.0444,
      accounts_at_start: 12,
      accounts_churned: 2,
    });
    expect(answer.assumptions.churn_model).toEqual({ version: 1, calibrated: true, used: true });
    const [enterprise, smb] = answer.segments;
    expect(smb).toMatchObject({
      segment: "smb",
      accounts_counted: 8,
      accounts_on_model: 0,
      arr: 8800,
      history: { churn_rate: 0.2, expansion_rate: 0.1, accounts_at_start: 10, accounts_churned: 2 },
      basis: "segment",
      churn_rate: 0.2,
      expansion_rate: 0.1,
      lifetime_years: 5,
      // 8,800 × 0.8 × 5; with g = r = 10% every year counts 1.
      clv: 35200,
      discounted_clv: 35200,
    });
    expect(smb!.levers).toEqual([
      // 7,040 × (Σ_{t=0}^{4} (1.15/1.1)^t − 5)
      { lever: "expansion_plus_x", change: "expansion rate + x points", gain: 3348.79, gain_share: 0.0951 },
      // 7,040 × (5.263158 − 5)
      {
        lever: "retention_plus_1pt",
        change: "annual churn rate − 1 point (not below 0)",
        gain: 1852.63,
        gain_share: 0.0526,
      },
      // 8,800 × 0.01 × 5
      {
        lever: "gross_margin_plus_1pt",
        change: "gross margin + 1 point (not above 100%)",
        gain: 440,
        gain_share: 0.0125,
      },
    ]);
    expect(enterprise).toMatchObject({
      segment: "enterprise",
      accounts_counted: 2,
      accounts_on_model: 1,
      basis: "workspace",
      churn_rate: 0.1667,
      lifetime_years: 6,
      // ce1: 5,000 × 0.8 × 2 (model churn 0.5); ce2: 5,000 × 0.8 × 6.
      clv: 32000,
    });
    expect(answer.ranked_levers.map((l) => [l.segment, l.lever])).toEqual([
      ["smb", "expansion_plus_x"],
      ["enterprise", "expansion_plus_x"],
      ["smb", "retention_plus_1pt"],
      ["enterprise", "retention_plus_1pt"],
      ["smb", "gross_margin_plus_1pt"],
      ["enterprise", "gross_margin_plus_1pt"],
    ]);
    expect(answer.accounts_counted).toBe(10);
    // ce2 (6 years, g = 0.0444), ce1 (model: 2 years: 4,000 × (1 + 1.0444/1.1) = 7,797.98), cs08 (1,800 × 0.8 × 5).
    expect(answer.accounts.map((a) => [a.account_id, a.churn_basis, a.churn_rate, a.clv, a.discounted_clv])).toEqual([
      ["ce2", "workspace", 0.1667, 24000, 21166.18],
      ["ce1", "model", 0.5, 8000, 7797.98],
      ["cs08", "segment", 0.2, 7200, 7200],
    ]);
    const next = await callOk<Answer>(viewer, "optimize_customer_lifetime_value", {
      limit: 3,
      cursor: answer.next_cursor,
    });
    expect(next.accounts.map((a) => a.account_id)).toEqual(["cs01", "cs02", "cs03"]);
  });

  it("filters a segment and scales the expansion lever", async () => {
    const answer = await callOk<Answer>(viewer, "optimize_customer_lifetime_value", {
      segment: "smb",
      expansion_step_pct: 10,
    });
    expect(answer.segments.map((s) => s.segment)).toEqual(["smb"]);
    // Σ_{t=0}^{4} (1.2/1.1)^t = 5.99556…: 7,040 × 0.99556… = 7,008.75.
    expect(answer.segments[0]!.levers[0]).toMatchObject({ lever: "expansion_plus_x", gain: 7008.75 });
    const one = await callOk<Answer>(viewer, "optimize_customer_lifetime_value", { account_id: "cs08" });
    expect(one.accounts.map((a) => [a.account_id, a.clv])).toEqual([["cs08", 7200]]);
    expect(await callError(viewer, "optimize_customer_lifetime_value", { account_id: "cs09" })).toContain(
      'Account "cs09" is not an active account with ARR',
    );
  });
});
