import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk } from "../../helpers/mcp";
import { CSM, day, seedReadWorkspace } from "./read-fixture";

let client: Client;

beforeAll(async () => {
  client = await seedReadWorkspace();
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

  it("forgives case and spacing in segment and tier, across pages, and names the values when none matches", async () => {
    expect(await list({ segment: "Enterprise" })).toEqual(["acc_cr_3", "acc_cr_7", "acc_cr_1"]);
    expect(await list({ segment: "MID MARKET", tier: "Tier 2" })).toEqual(["acc_cr_5", "acc_cr_2"]);
    expect((await allPages({ segment: "ENTERPRISE", limit: 2 })).flat()).toEqual(["acc_cr_3", "acc_cr_7", "acc_cr_1"]);
    // A stored value with other filters that exclude every account is still an empty answer.
    expect(await list({ segment: "smb", health_band: "red" })).toEqual([]);
    expect(await callError(client, "list_accounts", { segment: "enterprize" })).toBe(
      'No account has segment "enterprize". The segments in this workspace: "enterprise", "mid_market", "smb".',
    );
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
