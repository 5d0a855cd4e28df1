import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { collectWorkspace, type GenerateOptions } from "../../scripts/seed/generate";
import type { ContractRow } from "../../scripts/seed/rows";
import { clock } from "../../src/platform/lib/clock";
import { addDays, isoDay } from "../../src/platform/lib/time";
import { callOk, connectClient, createWorkspace } from "../helpers/mcp";

// The demo generator's contract chains, anchored today, checked against a plain recount.
const today = isoDay(clock.now());
const OPTIONS: GenerateOptions = {
  seed: 11,
  accounts: 80,
  anchorDay: today,
  workspaceId: "ws_revseed",
  slug: "revseed",
};
const data = collectWorkspace(OPTIONS);
const segmentOf = new Map(data.accounts.map((a) => [a.id, a.segment]));

/** ARR per account on a day: terms with start ≤ day < end, recounted row by row. */
function arrOn(contracts: readonly ContractRow[], day: string): Map<string, number> {
  const arr = new Map<string, number>();
  for (const c of contracts) {
    if (c.start_date <= day && day < c.end_date) arr.set(c.account_id, (arr.get(c.account_id) ?? 0) + c.arr);
  }
  return arr;
}

interface Totals {
  starting_arr: number;
  accounts_at_start: number;
  expansion_arr: number;
  contraction_arr: number;
  churned_arr: number;
  accounts_churned: number;
  new_arr: number;
  new_accounts: number;
}

/** The movements between two days, per segment, recounted account by account. */
function recount(start: string, end: string): Map<string, Totals> {
  const before = arrOn(data.contracts, start);
  const after = arrOn(data.contracts, end);
  const out = new Map<string, Totals>();
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const s = before.get(id) ?? 0;
    const e = after.get(id) ?? 0;
    const segment = segmentOf.get(id)!;
    const t = out.get(segment) ?? {
      starting_arr: 0,
      accounts_at_start: 0,
      expansion_arr: 0,
      contraction_arr: 0,
      churned_arr: 0,
      accounts_churned: 0,
      new_arr: 0,
      new_accounts: 0,
    };
    out.set(segment, t);
    if (s > 0) {
      t.starting_arr += s;
      t.accounts_at_start += 1;
      if (e > s) t.expansion_arr += e - s;
      else if (e === 0) {
        t.churned_arr += s;
        t.accounts_churned += 1;
      } else if (e < s) t.contraction_arr += s - e;
    } else if (e > 0) {
      t.new_arr += e;
      t.new_accounts += 1;
    }
  }
  return out;
}

interface Span extends Totals {
  start: string;
  end: string;
  by_segment: (Totals & { segment: string })[];
}

describe("track_revenue_expansion and optimize_customer_lifetime_value on demo contract chains", () => {
  let viewer: Client;

  beforeAll(async () => {
    const v = await createWorkspace("revseed", "viewer");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const insertAll = (table: string, rows: readonly object[]) => {
      const columns = Object.keys(rows[0]!);
      return env.DB.prepare(
        `INSERT INTO ${table} (${columns.join(", ")})
         SELECT ${columns.map((c) => `value ->> '$.${c}'`).join(", ")} FROM json_each(?1)`,
      ).bind(JSON.stringify(rows));
    };
    await env.DB.batch([insertAll("accounts", data.accounts), insertAll("contracts", data.contracts)]);
  });

  it("matches a recount of every period and segment, across renewals that start on the day the term ends", async () => {
    // Contiguous chains: each renewal starts on its predecessor's end date.
    const starts = new Set(data.contracts.map((c) => `${c.account_id}:${c.start_date}`));
    const renewed = data.contracts.filter((c) => c.outcome !== null && c.outcome !== "churned");
    expect(renewed.length).toBeGreaterThan(0);
    expect(renewed.every((c) => starts.has(`${c.account_id}:${c.end_date}`))).toBe(true);

    const report = await callOk<{ periods: Span[]; window: Span }>(viewer, "track_revenue_expansion", {
      granularity: "month",
      periods: 12,
      include_current: true,
    });
    let moved = { expansion: 0, contraction: 0, churn: 0, fresh: 0 };
    for (const span of [...report.periods, report.window]) {
      const expected = recount(span.start, span.end);
      const bySegment = Object.fromEntries(
        span.by_segment.map(({ segment, ...t }) => [
          segment,
          {
            starting_arr: t.starting_arr,
            accounts_at_start: t.accounts_at_start,
            expansion_arr: t.expansion_arr,
            contraction_arr: t.contraction_arr,
            churned_arr: t.churned_arr,
            accounts_churned: t.accounts_churned,
            new_arr: t.new_arr,
            new_accounts: t.new_accounts,
          },
        ]),
      );
      expect(bySegment, `${span.start}..${span.end}`).toEqual(Object.fromEntries(expected));
      if (span !== report.window) {
        moved = {
          expansion: moved.expansion + span.expansion_arr,
          contraction: moved.contraction + span.contraction_arr,
          churn: moved.churn + span.churned_arr,
          fresh: moved.fresh + span.new_arr,
        };
      }
    }
    // The year has every kind of movement, so the comparison above covers each branch.
    expect(Object.values(moved).every((v) => v > 0)).toBe(true);
  });

  it("takes CLV churn and expansion from the same 12-month movements", async () => {
    const answer = await callOk<{
      workspace_history: { churn_rate: number; accounts_at_start: number; accounts_churned: number };
    }>(viewer, "optimize_customer_lifetime_value", { limit: 1 });
    const expected = [...recount(addDays(today, -365), today).values()].reduce(
      (sum, t) => ({ n: sum.n + t.accounts_at_start, churned: sum.churned + t.accounts_churned }),
      { n: 0, churned: 0 },
    );
    expect(answer.workspace_history).toMatchObject({
      accounts_at_start: expected.n,
      accounts_churned: expected.churned,
      churn_rate: Math.round((expected.churned / expected.n) * 10_000) / 10_000,
    });
  });
});
