import { describe, expect, it } from "vitest";
import {
  type EscalationFacts,
  escalationStats,
  meanOf,
  meanWithCount,
  mergeAccountWindows,
  slaDueAt,
  slaStatus,
} from "./escalation-sla";

const HOURS = { critical: 4, high: 24, medium: 72, low: 168 };

describe("escalation SLA (pure)", () => {
  it("due time = window start + the severity's hours", () => {
    expect(slaDueAt("2026-11-27T10:00:00.000Z", "critical", HOURS)).toBe("2026-11-27T14:00:00.000Z");
    expect(slaDueAt("2026-11-27T10:00:00.000Z", "high", HOURS)).toBe("2026-11-28T10:00:00.000Z");
    expect(slaDueAt("2026-11-27T10:00:00.000Z", "medium", HOURS)).toBe("2026-11-30T10:00:00.000Z");
    expect(slaDueAt("2026-11-27T10:00:00.000Z", "low", HOURS)).toBe("2026-12-04T10:00:00.000Z");
    expect(slaDueAt("2026-11-27T10:00:00.000Z", "critical", { ...HOURS, critical: 0.5 })).toBe(
      "2026-11-27T10:30:00.000Z",
    );
  });

  it("classifies a 4-hour window (10:00 → 14:00) at fixed times", () => {
    const at = (now: string, resolvedAt: string | null = null) =>
      slaStatus({
        windowStart: "2026-11-27T10:00:00.000Z",
        dueAt: "2026-11-27T14:00:00.000Z",
        now: `2026-11-27T${now}:00.000Z`,
        resolvedAt: resolvedAt ? `2026-11-27T${resolvedAt}:00.000Z` : null,
      });
    expect(at("12:00")).toEqual({ state: "on_track", hours_left: 2 });
    // exactly 25 % (1 h) left is not yet at risk; less is
    expect(at("13:00")).toEqual({ state: "on_track", hours_left: 1 });
    expect(at("13:01")).toEqual({ state: "at_risk", hours_left: 0.98 });
    expect(at("14:00")).toEqual({ state: "at_risk", hours_left: 0 });
    expect(at("14:30")).toEqual({ state: "breached", hours_left: -0.5 });
    // resolved: judged at the resolution, whatever the time now
    expect(at("20:00", "13:30")).toEqual({ state: "met", hours_left: 0.5 });
    expect(at("20:00", "14:00")).toEqual({ state: "met", hours_left: 0 });
    expect(at("20:00", "15:00")).toEqual({ state: "breached", hours_left: -1 });
  });

  it("time-to-resolve median and mean, SLA met rate and reopen rate", () => {
    const e = (
      severity: EscalationFacts["severity"],
      status: EscalationFacts["status"],
      resolvedAfterHours: number | null,
      slaHours: number,
      reopenCount = 0,
    ): EscalationFacts => {
      const opened = Date.parse("2026-10-01T00:00:00.000Z");
      return {
        severity,
        status,
        opened_at: new Date(opened).toISOString(),
        resolved_at:
          resolvedAfterHours === null ? null : new Date(opened + resolvedAfterHours * 3_600_000).toISOString(),
        sla_due_at: new Date(opened + slaHours * 3_600_000).toISOString(),
        reopen_count: reopenCount,
      };
    };
    const stats = escalationStats([
      e("critical", "resolved", 2, 4), // met
      e("critical", "resolved", 6, 4), // missed
      e("critical", "resolved", 10, 14, 1), // reopened, new due met
      e("high", "resolved", 30, 24), // missed
      e("medium", "open", null, 72),
      e("low", "in_progress", null, 200, 1), // reopened, not resolved again yet
    ]);
    expect(stats.by_severity.critical).toEqual({
      opened: 3,
      resolved: 3,
      median_hours_to_resolve: 6,
      mean_hours_to_resolve: 6,
      sla_met_pct: 66.67,
    });
    expect(stats.by_severity.high).toEqual({
      opened: 1,
      resolved: 1,
      median_hours_to_resolve: 30,
      mean_hours_to_resolve: 30,
      sla_met_pct: 0,
    });
    expect(stats.by_severity.medium).toEqual({
      opened: 1,
      resolved: 0,
      median_hours_to_resolve: null,
      mean_hours_to_resolve: null,
      sla_met_pct: null,
    });
    // [2, 6, 10, 30]: median (6 + 10) / 2 = 8, mean 48 / 4 = 12, met 2 of 4
    expect(stats.overall).toEqual({
      opened: 6,
      resolved: 4,
      median_hours_to_resolve: 8,
      mean_hours_to_resolve: 12,
      sla_met_pct: 50,
    });
    // resolved at least once: the 4 resolved + the reopened in-progress one; reopened: 2 → 40 %
    expect([stats.ever_resolved, stats.reopened, stats.reopen_rate_pct]).toEqual([5, 2, 40]);
  });

  it("mean with count", () => {
    expect(meanWithCount([4, 2, 5])).toEqual({ mean: 3.67, n: 3 });
    expect(meanWithCount([])).toEqual({ mean: null, n: 0 });
    expect(meanOf(11, 3)).toEqual({ mean: 3.67, n: 3 });
  });

  it("merges an account's overlapping or touching windows and keeps separate ones", () => {
    const w = (account_id: string, after: string, until: string) => ({ account_id, after, until });
    expect(
      mergeAccountWindows([
        w("b", "2026-03-01", "2026-03-31"),
        w("a", "2026-02-10", "2026-03-12"),
        w("a", "2026-01-01", "2026-01-31"),
        w("a", "2026-01-31", "2026-03-02"),
        w("a", "2026-04-01", "2026-05-01"),
      ]),
    ).toEqual([
      w("a", "2026-01-01", "2026-03-12"),
      w("a", "2026-04-01", "2026-05-01"),
      w("b", "2026-03-01", "2026-03-31"),
    ]);
  });
});
