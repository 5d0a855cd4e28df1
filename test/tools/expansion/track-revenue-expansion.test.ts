import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import {
  addMonths,
  againstTarget,
  emptyTotals,
  movementRates,
  reportingPeriods,
} from "../../../src/tools/expansion/domain/movements";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_revexp";
const OTHER_WS = "ws_revexp-other";
const CANCEL_WS = "ws_revexp-cancel";

describe("revenue movements (pure)", () => {
  it("adds calendar months, clamping to the month's last day", () => {
    expect(addMonths("2024-01-31", 1)).toBe("2024-02-29");
    expect(addMonths("2024-02-29", 12)).toBe("2025-02-28");
    expect(addMonths("2026-01-15", -3)).toBe("2025-10-15");
    expect(addMonths("2026-11-01", 2)).toBe("2027-01-01");
  });

  it("lists complete periods oldest first, or ends with the running one up to today", () => {
    expect(reportingPeriods("2026-11-27", "quarter", 4, false)).toEqual([
      { label: "2025-Q4", start: "2025-10-01", end: "2026-01-01", complete: true },
      { label: "2026-Q1", start: "2026-01-01", end: "2026-04-01", complete: true },
      { label: "2026-Q2", start: "2026-04-01", end: "2026-07-01", complete: true },
      { label: "2026-Q3", start: "2026-07-01", end: "2026-10-01", complete: true },
    ]);
    expect(reportingPeriods("2026-11-27", "month", 2, true)).toEqual([
      { label: "2026-10", start: "2026-10-01", end: "2026-11-01", complete: true },
      { label: "2026-11", start: "2026-11-01", end: "2026-11-27", complete: false },
    ]);
  });

  it("computes GRR, NRR and expansion share by hand", () => {
    const t = {
      ...emptyTotals(),
      starting_arr: 1000,
      expansion_arr: 300,
      contraction_arr: 50,
      churned_arr: 150,
      new_arr: 100,
    };
    // GRR = (1000 − 50 − 150) / 1000 = 0.8; NRR = (1000 + 300 − 200) / 1000 = 1.1; share = 300 / 400 = 0.75.
    expect(movementRates(t)).toEqual({ grr: 0.8, nrr: 1.1, expansion_share: 0.75, cohort_ending_arr: 1100 });
    expect(movementRates(emptyTotals())).toEqual({ grr: null, nrr: null, expansion_share: null, cohort_ending_arr: 0 });
    expect(againstTarget(0.8, 0.9)).toEqual({ actual: 0.8, target: 0.9, gap: -0.1, status: "below" });
    expect(againstTarget(null, 0.9)).toEqual({ actual: null, target: 0.9, gap: null, status: "no_data" });
  });
});

interface Span {
  label: string;
  start: string;
  end: string;
  starting_arr: number;
  accounts_at_start: number;
  expansion_arr: number;
  accounts_expanded: number;
  contraction_arr: number;
  accounts_contracted: number;
  churned_arr: number;
  accounts_churned: number;
  new_arr: number;
  new_accounts: number;
  grr: number | null;
  nrr: number | null;
  expansion_share: number | null;
  by_segment: (Omit<Span, "label" | "start" | "end" | "by_segment"> & { segment: string | null })[];
}

interface Report {
  periods: Span[];
  window: Span;
  targets: Record<string, { actual: number | null; target: number; gap: number | null; status: string }>;
}

describe("track_revenue_expansion", () => {
  let viewer: Client;
  const today = isoDay(clock.now());
  // The last complete quarter [S, E): every movement of the fixture happens in it.
  const last = reportingPeriods(today, "quarter", 1, false)[0]!;
  const S = last.start;
  const E = last.end;
  const at = (offset: number) => addDays(S, offset);

  beforeAll(async () => {
    const v = await createWorkspace("revexp", "viewer");
    await createWorkspace("revexp-other");
    viewer = await connectClient(v.key, "?toolsets=expansion");
    const account = (id: string, segment: string) =>
      insert("accounts", { id, workspace_id: WS, name: `Account ${id}`, segment });
    const contract = (
      id: string,
      accountId: string,
      start: string,
      end: string,
      arr: number,
      extra: Record<string, string | null> = {},
    ) =>
      insert("contracts", {
        id,
        workspace_id: WS,
        account_id: accountId,
        start_date: start,
        end_date: end,
        arr,
        status: end <= today ? "ended" : "active",
        ...extra,
      });
    await env.DB.batch([
      account("ra", "smb"),
      account("rb", "smb"),
      account("rf", "smb"),
      account("rn", "smb"),
      account("rc", "enterprise"),
      account("rd", "enterprise"),
      account("re", "enterprise"),
      account("rx", "enterprise"),
      // ra expands 10,000 → 12,000 at a renewal inside the quarter.
      contract("ra1", "ra", at(-400), at(30), 10000, { outcome: "expanded", outcome_date: at(20) }),
      contract("ra2", "ra", at(30), at(395), 12000, { previous_contract_id: "ra1" }),
      // rb churns 5,000 at its end date inside the quarter.
      contract("rb1", "rb", at(-400), at(20), 5000, { outcome: "churned", outcome_date: at(20) }),
      // rc contracts 20,000 → 15,000.
      contract("rc1", "rc", at(-400), at(65), 20000, { outcome: "contracted", outcome_date: at(60) }),
      contract("rc2", "rc", at(65), at(430), 15000, { previous_contract_id: "rc1" }),
      // rd stays at 8,000.
      contract("rd1", "rd", at(-400), at(355), 8000),
      // re renews early, 4,000 → 6,000: the successor replaces the term from its start (not 10,000 on top).
      contract("re1", "re", at(-400), at(265), 4000, { outcome: "expanded", outcome_date: at(50) }),
      contract("re2", "re", at(50), at(415), 6000, { previous_contract_id: "re1" }),
      // rf's term ends on E and the renewal starts on E: in force = start ≤ day < end, so no churn.
      contract("rf1", "rf", at(-400), E, 7000, { outcome: "renewed", outcome_date: addDays(E, -10) }),
      contract("rf2", "rf", E, addDays(E, 365), 7000, { previous_contract_id: "rf1" }),
      // rn is a new logo inside the quarter: new ARR, outside the cohort.
      contract("rn1", "rn", at(40), at(405), 3000),
      // A cancelled term without an outcome date never counts.
      contract("rx1", "rx", at(-50), at(315), 99999, { status: "cancelled" }),
      insert("accounts", { id: "ro", workspace_id: OTHER_WS, name: "Other", segment: "smb" }),
      insert("contracts", {
        id: "ro1",
        workspace_id: OTHER_WS,
        account_id: "ro",
        start_date: at(-400),
        end_date: at(10),
        arr: 50000,
        status: "ended",
      }),
    ]);
  });

  it("measures expansion, contraction, churn and new ARR with exact GRR and NRR", async () => {
    const report = await callOk<Report>(viewer, "track_revenue_expansion", {});
    expect(report.periods.map((p) => p.label)).toHaveLength(4);
    const quarter = report.periods[3]!;
    expect(quarter).toMatchObject({
      start: S,
      end: E,
      // Cohort: ra 10,000 + rb 5,000 + rc 20,000 + rd 8,000 + re 4,000 + rf 7,000.
      starting_arr: 54000,
      accounts_at_start: 6,
      expansion_arr: 4000,
      accounts_expanded: 2,
      contraction_arr: 5000,
      accounts_contracted: 1,
      churned_arr: 5000,
      accounts_churned: 1,
      new_arr: 3000,
      new_accounts: 1,
      // (54,000 − 5,000 − 5,000) / 54,000 = 0.81481…; (54,000 + 4,000 − 10,000) / 54,000 = 0.88888…; 4,000 / 7,000.
      grr: 0.8148,
      nrr: 0.8889,
      expansion_share: 0.5714,
    });
    expect(quarter.by_segment.map((s) => [s.segment, s.starting_arr, s.grr, s.nrr, s.expansion_share])).toEqual([
      // enterprise: 32,000; GRR 27,000 / 32,000; NRR 29,000 / 32,000; no new ARR.
      ["enterprise", 32000, 0.8438, 0.9063, 1],
      // smb: 22,000; GRR 17,000 / 22,000; NRR 19,000 / 22,000; share 2,000 / 5,000.
      ["smb", 22000, 0.7727, 0.8636, 0.4],
    ]);
    // The three earlier quarters: the same cohort, nothing moved.
    for (const p of report.periods.slice(0, 3)) {
      expect([p.starting_arr, p.grr, p.nrr, p.expansion_share]).toEqual([54000, 1, 1, null]);
    }
    expect(report.window).toMatchObject({ start: report.periods[0]!.start, end: E, grr: 0.8148, nrr: 0.8889 });
    expect(report.targets).toEqual({
      grr: { actual: 0.8148, target: 0.9, gap: -0.0852, status: "below" },
      nrr: { actual: 0.8889, target: 1.1, gap: -0.2111, status: "below" },
      expansion_share: { actual: 0.5714, target: 0.3, gap: 0.2714, status: "met" },
    });
  });

  it("filters one segment", async () => {
    const report = await callOk<Report>(viewer, "track_revenue_expansion", { segment: "smb", periods: 1 });
    expect(report.periods[0]).toMatchObject({
      starting_arr: 22000,
      expansion_arr: 2000,
      contraction_arr: 0,
      churned_arr: 5000,
      new_arr: 3000,
      grr: 0.7727,
      nrr: 0.8636,
    });
    expect(report.periods[0]!.by_segment.map((s) => s.segment)).toEqual(["smb"]);
  });

  it("matches the segment in any case and names the segments when none matches", async () => {
    const exact = await callOk<Report>(viewer, "track_revenue_expansion", { segment: "smb", periods: 1 });
    const upper = await callOk<Report & { segment_filter: string }>(viewer, "track_revenue_expansion", {
      segment: "SMB",
      periods: 1,
    });
    expect(upper.periods).toEqual(exact.periods);
    expect(upper.segment_filter).toBe("smb");
    expect(await callError(viewer, "track_revenue_expansion", { segment: "Enterprize" })).toMatch(
      /^No account has segment "Enterprize"\. The segments in this workspace: "/,
    );
  });

  it("refuses bad input with an actionable error", async () => {
    expect(await callError(viewer, "track_revenue_expansion", { periods: 30 })).toMatch(/periods/);
  });
});

describe("track_revenue_expansion with cancelled terms", () => {
  it("counts a cancelled term until its outcome date, and one without an outcome date never", async () => {
    const v = await createWorkspace("revexp-cancel", "viewer");
    const client = await connectClient(v.key, "?toolsets=expansion");
    const quarter = reportingPeriods(isoDay(clock.now()), "quarter", 1, false)[0]!;
    const at = (offset: number) => addDays(quarter.start, offset);
    const term = (id: string, accountId: string, arr: number, extra: Record<string, string>) =>
      insert("contracts", {
        id,
        workspace_id: CANCEL_WS,
        account_id: accountId,
        start_date: at(-100),
        end_date: at(300),
        arr,
        ...extra,
      });
    await env.DB.batch([
      insert("accounts", { id: "cx", workspace_id: CANCEL_WS, name: "Cancelled", segment: "smb" }),
      insert("accounts", { id: "cy", workspace_id: CANCEL_WS, name: "Kept", segment: "smb" }),
      // Cancelled inside the quarter: in force at its start, gone at its end → churn of 2,000.
      term("cx1", "cx", 2000, { status: "cancelled", outcome: "churned", outcome_date: `${at(40)}T10:00:00Z` }),
      // A cancelled duplicate without an outcome date adds nothing to cy's 3,000.
      term("cy1", "cy", 3000, { status: "active" }),
      term("cy2", "cy", 9000, { status: "cancelled" }),
    ]);
    const report = await callOk<Report>(client, "track_revenue_expansion", { periods: 1 });
    // GRR = NRR = (5,000 − 2,000) / 5,000.
    expect(report.periods[0]).toMatchObject({
      starting_arr: 5000,
      accounts_at_start: 2,
      churned_arr: 2000,
      accounts_churned: 1,
      expansion_arr: 0,
      grr: 0.6,
      nrr: 0.6,
    });
  });
});
