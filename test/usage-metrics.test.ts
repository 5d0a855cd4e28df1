import { describe, expect, it } from "vitest";
import { changePct, licenseUtilization, mean, median, summarizeUsage, usageWindows } from "../src/domain/usage/metrics";

describe("usage metrics", () => {
  it("summarizes daily rollups into DAU, WAU, MAU and stickiness", () => {
    // Week of Mon 2026-02-23: users 4, 6; week of Mon 2026-03-02: users 10, 8.
    const summary = summarizeUsage([
      { day: "2026-02-23", active_users: 4, events: 40, sessions: 8 },
      { day: "2026-03-01", active_users: 6, events: 60, sessions: 10 }, // Sunday: still the first week
      { day: "2026-03-02", active_users: 10, events: 100, sessions: 20 },
      { day: "2026-03-05", active_users: 8, events: 80, sessions: 12 },
    ]);
    // DAU (4+6+10+8)/4 = 7; WAU (6 + 10)/2 = 8; MAU 10; stickiness 7/10.
    expect(summary).toEqual({
      days_with_data: 4,
      events: 280,
      sessions: 50,
      dau: 7,
      wau: 8,
      mau: 10,
      stickiness: 0.7,
    });
  });

  it("reports no figures for an empty series", () => {
    expect(summarizeUsage([])).toMatchObject({ days_with_data: 0, dau: null, mau: null, stickiness: null });
  });

  it("computes change, utilization, median and mean", () => {
    expect(changePct(7, 5)).toBeCloseTo(40, 10);
    expect(changePct(3, 0)).toBeNull();
    expect(changePct(null, 5)).toBeNull();
    expect(licenseUtilization(7, 14)).toBe(0.5);
    expect(licenseUtilization(7, 0)).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 10])).toBe(3.5); // (3 + 4)/2
    expect(median([])).toBeNull();
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNull();
  });

  it("builds the window ending yesterday and the one before", () => {
    expect(usageWindows("2026-03-09", 14)).toEqual({
      current: { from: "2026-02-23", to: "2026-03-08", days: 14 },
      prior: { from: "2026-02-09", to: "2026-02-22", days: 14 },
    });
    expect(usageWindows("2026-03-09", 1, "2026-01-01").prior).toEqual({
      from: "2025-12-31",
      to: "2025-12-31",
      days: 1,
    });
  });
});
