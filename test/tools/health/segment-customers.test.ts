import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { firstMatch, type Rule, ruleMatches } from "../../../src/tools/health/domain/segments";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";
import { account, insertSegmentBook } from "./segment-fixture";

const WS = "ws_healthseg";
const RULES_WS = "ws_healthseg-rules";
const OTHER_WS = "ws_healthseg-other";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);

const facts = (over: Partial<Record<string, string | number | null>>) => ({
  arr: 0,
  employees: null,
  industry: null,
  region: null,
  plan: null,
  health_score: null,
  usage_events_30d: 0,
  arr_growth: null,
  ...over,
});

describe("segment rules (pure)", () => {
  it("applies every operator, a missing fact matching only neq", () => {
    const r = (field: Rule["field"], op: Rule["op"], value: Rule["value"]) => ({ field, op, value }) as Rule;
    const f = facts({ arr: 100, industry: "Finance", region: "APAC" });
    expect(ruleMatches(r("industry", "eq", "finance"), f)).toBe(true);
    expect(ruleMatches(r("industry", "neq", "finance"), f)).toBe(false);
    expect(ruleMatches(r("arr", "gt", 100), f)).toBe(false);
    expect(ruleMatches(r("arr", "gte", 100), f)).toBe(true);
    expect(ruleMatches(r("arr", "lt", 100), f)).toBe(false);
    expect(ruleMatches(r("arr", "lte", 100), f)).toBe(true);
    expect(ruleMatches(r("region", "in", ["emea", "apac"]), f)).toBe(true);
    expect(ruleMatches(r("arr", "between", [100, 200]), f)).toBe(true);
    expect(ruleMatches(r("arr", "between", [101, 200]), f)).toBe(false);
    expect(ruleMatches(r("employees", "gte", 0), f)).toBe(false);
    expect(ruleMatches(r("employees", "neq", 5), f)).toBe(true);
  });

  it("takes the first matching definition, an empty rule list being a catch-all", () => {
    const defs = [
      { name: "A", rules: [{ field: "arr", op: "gte", value: 50 } as Rule] },
      { name: "B", rules: [{ field: "arr", op: "gte", value: 10 } as Rule] },
      { name: "C", rules: [] },
    ];
    expect(firstMatch(defs, facts({ arr: 60 }))).toEqual({ name: "A", rule_index: 0, rule: "arr gte 50" });
    expect(firstMatch(defs, facts({ arr: 20 })).name).toBe("B");
    expect(firstMatch(defs, facts({ arr: 1 }))).toEqual({ name: "C", rule_index: null, rule: "catch-all" });
  });
});

interface SegmentList {
  accounts_counted: number;
  differing: number;
  unmatched: number;
  segments: {
    name: string;
    coverage: string;
    accounts: number;
    arr: number;
    health_bands: Record<string, number>;
    per_owner: { owner_user_id: string | null; accounts: number; arr: number }[];
  }[];
}

interface Evaluate {
  accounts_counted: number;
  differing: number;
  accounts: { account_id: string; stored: string | null; computed: string | null; matched_rule: string | null }[];
  next_cursor: string | null;
}

describe("segment_customers", () => {
  let csm: Client;
  let viewer: Client;
  let rules: Client;
  const CSM = "usr_healthseg_csm";
  const VIEWER = "usr_healthseg_viewer";

  beforeAll(async () => {
    const c = await createWorkspace("healthseg", "csm");
    const v = await createWorkspace("healthseg", "viewer");
    const r = await createWorkspace("healthseg-rules", "csm");
    await createWorkspace("healthseg-other");
    csm = await connectClient(c.key, "?toolsets=health");
    viewer = await connectClient(v.key, "?toolsets=health");
    rules = await connectClient(r.key, "?toolsets=health");
    // Default settings: Enterprise (arr ≥ 100000 or employees ≥ 1000), Mid-Market (arr ≥ 20000 or employees ≥ 200), SMB.
    await insertSegmentBook(WS, OTHER_WS, { csm: CSM, viewer: VIEWER });

    const settings = {
      segments: [
        { name: "Fin", rules: [{ field: "industry", op: "eq", value: "finance" }], coverage: "high_touch" },
        { name: "Regional", rules: [{ field: "region", op: "in", value: ["APAC", "LATAM"] }], coverage: "high_touch" },
        { name: "Growing", rules: [{ field: "arr_growth", op: "gt", value: 0.5 }], coverage: "low_touch" },
        { name: "Busy", rules: [{ field: "usage_events_30d", op: "gte", value: 100 }], coverage: "low_touch" },
        { name: "Healthy", rules: [{ field: "health_score", op: "between", value: [80, 100] }], coverage: "low_touch" },
        { name: "Tiny", rules: [{ field: "employees", op: "lte", value: 10 }], coverage: "tech_touch" },
        { name: "Small", rules: [{ field: "employees", op: "lt", value: 50 }], coverage: "tech_touch" },
        { name: "NotPro", rules: [{ field: "plan", op: "neq", value: "pro" }], coverage: "tech_touch" },
      ],
    };
    const pro = { plan: "pro", employees: 100 };
    const usage = (id: string, d: string, events: number) =>
      insert("usage_daily", { workspace_id: RULES_WS, account_id: id, day: d, events, active_users: 1, sessions: 1 });
    const contract = (id: string, accountId: string, arr: number) =>
      insert("contracts", {
        id,
        workspace_id: RULES_WS,
        account_id: accountId,
        start_date: day(-400),
        end_date: day(-35),
        status: "ended",
        arr,
      });
    await env.DB.batch([
      env.DB.prepare("UPDATE workspaces SET settings = ?1 WHERE id = ?2").bind(JSON.stringify(settings), RULES_WS),
      account(RULES_WS, "b1", { ...pro, industry: "Finance", region: "APAC" }),
      account(RULES_WS, "b2", { ...pro, region: "LATAM" }),
      account(RULES_WS, "b3", { ...pro, arr: 30000 }),
      account(RULES_WS, "b4", { ...pro }),
      account(RULES_WS, "b5", { ...pro, health_score: 80 }),
      account(RULES_WS, "b6", { ...pro, employees: 10 }),
      account(RULES_WS, "b7", { ...pro, employees: 11 }),
      account(RULES_WS, "b8", { ...pro, employees: 50, plan: "basic" }),
      account(RULES_WS, "b9", { ...pro, employees: 50, health_score: 79.9 }),
      account(RULES_WS, "b10", { ...pro, arr: 15000 }),
      // b3: (30000 − 10000) / 10000 = 2 > 0.5; b10: (15000 − 10000) / 10000 = 0.5, not > 0.5.
      contract("k3", "b3", 10000),
      contract("k10", "b10", 10000),
      // b3 is also busy (200 events) but Growing comes first.
      usage("b3", day(-1), 200),
      // b4: 60 + 50 = 110 within today−30..today−1; 1000 on today−31 and 500 today are outside.
      usage("b4", day(-1), 60),
      usage("b4", day(-30), 50),
      usage("b4", day(-31), 1000),
      usage("b4", today, 500),
      // b5: 99 events, below 100.
      usage("b5", day(-2), 99),
    ]);
  });

  it("evaluates each operator exactly, first match wins, unmatched stays null", async () => {
    const out = await callOk<Evaluate>(rules, "segment_customers", { action: "evaluate", limit: 200 });
    const computed = Object.fromEntries(out.accounts.map((a) => [a.account_id, a.computed]));
    expect(computed).toEqual({
      b1: "Fin",
      b10: null,
      b2: "Regional",
      b3: "Growing",
      b4: "Busy",
      b5: "Healthy",
      b6: "Tiny",
      b7: "Small",
      b8: "NotPro",
      b9: null,
    });
    expect(out.accounts.find((a) => a.account_id === "b1")!.matched_rule).toBe("industry eq finance");
    expect(out.accounts_counted).toBe(10);
    // Stored segments are all null; 8 accounts now have a segment.
    expect(out.differing).toBe(8);
    const list = await callOk<SegmentList>(rules, "segment_customers", { action: "list" });
    expect(list.unmatched).toBe(2);
    // Only the 8 accounts whose computed segment differs from the stored null, paged by id.
    const first = await callOk<Evaluate>(rules, "segment_customers", {
      action: "evaluate",
      only_differing: true,
      limit: 5,
    });
    expect(first.accounts.map((a) => a.account_id)).toEqual(["b1", "b2", "b3", "b4", "b5"]);
    const rest = await callOk<Evaluate>(rules, "segment_customers", {
      action: "evaluate",
      only_differing: true,
      limit: 5,
      cursor: first.next_cursor,
    });
    expect(rest.accounts.map((a) => [a.account_id, a.computed])).toEqual([
      ["b6", "Tiny"],
      ["b7", "Small"],
      ["b8", "NotPro"],
    ]);
    expect(rest.next_cursor).toBeNull();
  });

  it("lists segment make-up: counts, ARR, band mix and per-owner load", async () => {
    const list = await callOk<SegmentList>(viewer, "segment_customers", { action: "list" });
    expect(list.accounts_counted).toBe(6);
    expect(list.differing).toBe(2); // a2 stored SMB → Enterprise; a3 stored null → Mid-Market
    expect(list.segments).toEqual([
      {
        name: "Enterprise",
        coverage: "high_touch",
        rules: ["arr gte 100000", "employees gte 1000"],
        // a1 150000 + a2 10000 + a6 200000
        accounts: 3,
        arr: 360000,
        health_bands: { green: 1, yellow: 0, red: 1, unscored: 1 },
        per_owner: [
          { owner_user_id: null, owner_name: null, accounts: 1, arr: 200000 },
          { owner_user_id: CSM, owner_name: "csm of healthseg", accounts: 2, arr: 160000 },
        ],
      },
      {
        name: "Mid-Market",
        coverage: "low_touch",
        rules: ["arr gte 20000", "employees gte 200"],
        accounts: 2,
        arr: 35000,
        health_bands: { green: 0, yellow: 1, red: 0, unscored: 1 },
        per_owner: [
          { owner_user_id: null, owner_name: null, accounts: 1, arr: 30000 },
          { owner_user_id: VIEWER, owner_name: "viewer of healthseg", accounts: 1, arr: 5000 },
        ],
      },
      {
        name: "SMB",
        coverage: "tech_touch",
        rules: ["catch-all"],
        accounts: 1,
        arr: 1000,
        health_bands: { green: 1, yellow: 0, red: 0, unscored: 0 },
        per_owner: [{ owner_user_id: null, owner_name: null, accounts: 1, arr: 1000 }],
      },
    ]);
  });

  it("pages evaluate by id", async () => {
    const first = await callOk<Evaluate>(viewer, "segment_customers", { action: "evaluate", limit: 4 });
    expect(first.accounts.map((a) => a.account_id)).toEqual(["a1", "a2", "a3", "a4"]);
    const second = await callOk<Evaluate>(viewer, "segment_customers", {
      action: "evaluate",
      limit: 4,
      cursor: first.next_cursor,
    });
    expect(second.accounts.map((a) => a.account_id)).toEqual(["a5", "a6"]);
    expect(second.next_cursor).toBeNull();
  });

  it("refuses assign to a viewer", async () => {
    // The action needs more than the tool: the endpoint refuses it with HTTP 403, like a tool above the role.
    for (const name of ["segment_customers"]) {
      await expect(viewer.callTool({ name, arguments: { action: "assign" } })).rejects.toMatchObject({
        code: 403,
        message: expect.stringContaining(`${name} needs the csm role`),
      });
    }
  });

  it("assigns exactly the differing rows, idempotently, within the workspace", async () => {
    const first = await callOk<{ updated: number; differing: number }>(csm, "segment_customers", { action: "assign" });
    expect(first).toMatchObject({ updated: 2, differing: 2 });
    const rows = await env.DB.prepare("SELECT id, segment FROM accounts WHERE workspace_id IN (?1, ?2) ORDER BY id")
      .bind(WS, OTHER_WS)
      .all<{ id: string; segment: string | null }>();
    expect(Object.fromEntries(rows.results.map((r) => [r.id, r.segment]))).toEqual({
      a1: "Enterprise",
      a2: "Enterprise",
      a3: "Mid-Market",
      a4: "Mid-Market",
      a5: "SMB",
      a6: "Enterprise",
      o1: "X",
    });
    const second = await callOk<{ updated: number; differing: number }>(csm, "segment_customers", { action: "assign" });
    expect(second).toMatchObject({ updated: 0, differing: 0 });
    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE workspace_id = ?1 AND action = 'assign_segments'",
    )
      .bind(WS)
      .first<{ n: number }>();
    expect(audit!.n).toBe(2);
  });

  it("takes segment and tier definitions from configure_workspace, refusing malformed rules", async () => {
    const admin = await createWorkspace("healthseg-admin", "admin");
    const client = await connectClient(admin.key, "?toolsets=core,health");
    await env.DB.batch([
      account(admin.workspaceId, "d1", { arr: 100, region: "EMEA" }),
      account(admin.workspaceId, "d2", { arr: 100, region: "NA" }),
    ]);
    const bad = await callError(client, "configure_workspace", {
      action: "update",
      settings: {
        segments: [{ name: "X", rules: [{ field: "region", op: "in", value: "EMEA" }], coverage: "low_touch" }],
      },
    });
    expect(bad).toContain("`in` needs a list");
    await callOk(client, "configure_workspace", {
      action: "update",
      settings: {
        segments: [
          { name: "Europe", rules: [{ field: "region", op: "in", value: ["EMEA"] }], coverage: "low_touch" },
          { name: "Rest", rules: [], coverage: "tech_touch" },
        ],
      },
    });
    const out = await callOk<Evaluate>(client, "segment_customers", { action: "evaluate" });
    expect(out.accounts.map((a) => [a.account_id, a.computed, a.matched_rule])).toEqual([
      ["d1", "Europe", "region in [EMEA]"],
      ["d2", "Rest", "catch-all"],
    ]);
  });
});
