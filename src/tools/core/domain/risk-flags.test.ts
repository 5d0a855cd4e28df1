import { describe, expect, it } from "vitest";
import { FACTOR_LIBRARY } from "../../retention/domain/risk-library";
import { evaluateRiskFlags, percentChange, RISK_CODES, RISK_RULES, type RiskSignals } from "./risk-flags";

const AS_OF = "2026-06-30";

/** An account that trips no rule. */
function healthy(): RiskSignals {
  return {
    asOf: AS_OF,
    usage: { windowDays: 30, currentEvents: 1000, priorEvents: 1000 },
    seats: { avgActiveUsers: 15, licensedSeats: 20 },
    openTickets: { urgent: 0, high: 1 },
    latestNps: { responseId: "srv_1", score: 9, respondedAt: "2026-06-01T10:00:00Z" },
    championsLeft: [],
    renewalDate: "2026-09-01",
    health: { band: "green", score: 80 },
    lastActivityAt: "2026-06-20T10:00:00Z",
  };
}

const codes = (signals: RiskSignals) => evaluateRiskFlags(signals).map((f) => f.code);

describe("risk flag rules", () => {
  it("raises nothing for a healthy account", () => {
    expect(evaluateRiskFlags(healthy())).toEqual([]);
  });

  it("usage_decline: events down 30% or more, only with prior usage", () => {
    const at = (currentEvents: number, priorEvents: number) =>
      evaluateRiskFlags({ ...healthy(), usage: { windowDays: 30, currentEvents, priorEvents } });
    expect(at(700, 1000)).toEqual([
      {
        code: "usage_decline",
        rule: RISK_RULES.usage_decline,
        evidence: { window_days: 30, current_events: 700, prior_events: 1000, change_pct: -30 },
      },
    ]);
    expect(at(701, 1000)).toEqual([]);
    // Down 29.96%: shown as −30% once rounded, but not a decline (the threshold applies to the exact change).
    expect(at(7004, 10_000)).toEqual([]);
    expect(at(0, 0)).toEqual([]);
    expect(at(0, 10).map((f) => f.evidence.change_pct)).toEqual([-100]);
  });

  it("low_license_utilization: average daily active users below half the seats", () => {
    const at = (avgActiveUsers: number | null, licensedSeats: number) =>
      evaluateRiskFlags({ ...healthy(), seats: { avgActiveUsers, licensedSeats } });
    expect(at(9, 20)).toEqual([
      {
        code: "low_license_utilization",
        rule: RISK_RULES.low_license_utilization,
        evidence: { avg_active_users: 9, licensed_seats: 20, utilization: 0.45 },
      },
    ]);
    expect(at(10, 20)).toEqual([]);
    expect(at(1, 0)).toEqual([]);
    expect(at(null, 20)).toEqual([]);
  });

  it("high_priority_tickets: two or more open urgent or high tickets", () => {
    const at = (urgent: number, high: number) => codes({ ...healthy(), openTickets: { urgent, high } });
    expect(at(1, 1)).toEqual(["high_priority_tickets"]);
    expect(at(0, 2)).toEqual(["high_priority_tickets"]);
    expect(at(1, 0)).toEqual([]);
    expect(evaluateRiskFlags({ ...healthy(), openTickets: { urgent: 2, high: 3 } })[0]!.evidence).toEqual({
      open_urgent: 2,
      open_high: 3,
    });
  });

  it("detractor_nps: latest NPS response of 6 or lower", () => {
    const at = (score: number) =>
      evaluateRiskFlags({ ...healthy(), latestNps: { responseId: "srv_9", score, respondedAt: "2026-06-10" } });
    expect(at(6)).toEqual([
      {
        code: "detractor_nps",
        rule: RISK_RULES.detractor_nps,
        evidence: { score: 6, responded_at: "2026-06-10", response_id: "srv_9" },
      },
    ]);
    expect(at(7)).toEqual([]);
    expect(codes({ ...healthy(), latestNps: null })).toEqual([]);
  });

  it("champion_left: a champion left within the last 90 days", () => {
    const at = (leftAt: string[]) =>
      evaluateRiskFlags({ ...healthy(), championsLeft: leftAt.map((d, i) => ({ contactId: `con_${i}`, leftAt: d })) });
    // 2026-04-01 is exactly 90 days before 2026-06-30; 2026-03-31 is 91.
    expect(at(["2026-04-01"]).map((f) => f.evidence)).toEqual([
      { champions_left: 1, latest_contact_id: "con_0", latest_left_at: "2026-04-01" },
    ]);
    expect(at(["2026-03-31"])).toEqual([]);
    expect(at(["2026-05-01T09:00:00Z", "2026-06-15", "2025-01-01"]).map((f) => f.evidence)).toEqual([
      { champions_left: 2, latest_contact_id: "con_1", latest_left_at: "2026-06-15" },
    ]);
  });

  it("renewal_at_risk: renewal within 90 days with a red or yellow band", () => {
    const at = (renewalDate: string | null, band: "red" | "yellow" | "green" | null) =>
      evaluateRiskFlags({ ...healthy(), renewalDate, health: { band, score: band ? 50 : null } });
    expect(at("2026-09-28", "yellow")).toEqual([
      {
        code: "renewal_at_risk",
        rule: RISK_RULES.renewal_at_risk,
        evidence: { renewal_date: "2026-09-28", days_to_renewal: 90, health_band: "yellow", health_score: 50 },
      },
    ]);
    expect(at("2026-06-30", "red").map((f) => f.evidence.days_to_renewal)).toEqual([0]);
    expect(at("2026-09-29", "red")).toEqual([]);
    expect(at("2026-07-15", "green")).toEqual([]);
    expect(at("2026-07-15", null)).toEqual([]);
    expect(at("2026-06-29", "red")).toEqual([]);
    expect(at(null, "red")).toEqual([]);
  });

  it("no_recent_activity: nothing logged in the last 30 days, or ever", () => {
    const at = (lastActivityAt: string | null) => evaluateRiskFlags({ ...healthy(), lastActivityAt });
    expect(at("2026-05-31T23:00:00Z")).toEqual([]);
    expect(at("2026-05-30T10:00:00Z")).toEqual([
      {
        code: "no_recent_activity",
        rule: RISK_RULES.no_recent_activity,
        evidence: { last_activity_at: "2026-05-30T10:00:00Z", days_since: 31 },
      },
    ]);
    expect(at(null).map((f) => f.evidence)).toEqual([{ last_activity_at: null, days_since: null }]);
  });

  it("reports raised flags in rule order", () => {
    const everything: RiskSignals = {
      asOf: AS_OF,
      usage: { windowDays: 30, currentEvents: 10, priorEvents: 100 },
      seats: { avgActiveUsers: 1, licensedSeats: 10 },
      openTickets: { urgent: 2, high: 0 },
      latestNps: { responseId: "srv_1", score: 0, respondedAt: "2026-06-01" },
      championsLeft: [{ contactId: "con_1", leftAt: "2026-06-01" }],
      renewalDate: "2026-07-01",
      health: { band: "red", score: 20 },
      lastActivityAt: null,
    };
    expect(codes(everything)).toEqual([...RISK_CODES]);
  });

  it("percentChange is one decimal and null without a base", () => {
    expect(percentChange(2, 3)).toBe(-33.3);
    expect(percentChange(150, 100)).toBe(50);
    expect(percentChange(5, 0)).toBeNull();
  });
});

describe("one risk vocabulary", () => {
  it("gives the same usage-decline, utilization and detractor verdicts as the churn model's factor flags", () => {
    const usage = (currentEvents: number, priorEvents: number) =>
      codes({ ...healthy(), usage: { windowDays: 30, currentEvents, priorEvents } }).includes("usage_decline");
    for (const [current, prior] of [
      [700, 1000],
      [701, 1000],
      [7004, 10_000],
      [6999, 10_000],
      [0, 10],
    ] as const) {
      expect(usage(current, prior), `${current}/${prior}`).toBe(
        FACTOR_LIBRARY.usage_trend_30d.flag(current / prior - 1),
      );
    }
    for (const active of [9, 10, 11]) {
      const low = codes({ ...healthy(), seats: { avgActiveUsers: active, licensedSeats: 20 } }).includes(
        "low_license_utilization",
      );
      expect(low, `${active}/20`).toBe(FACTOR_LIBRARY.license_utilization.flag(active / 20));
    }
    for (const score of [6, 7]) {
      const nps = { responseId: "srv_2", score, respondedAt: "2026-06-01T10:00:00Z" };
      expect(codes({ ...healthy(), latestNps: nps }).includes("detractor_nps")).toBe(
        FACTOR_LIBRARY.latest_nps.flag(score),
      );
    }
  });
});
