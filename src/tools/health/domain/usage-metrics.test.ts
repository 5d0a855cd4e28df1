import { describe, expect, it } from "vitest";
import { mean, median } from "../../../platform/lib/stats";
import { featureAdoption, featureGaps } from "./adoption";
import { answeredTouches, bestChannel, channelRates, isQuiet, meanGapDays, weekdayShares } from "./engagement";
import { changePct, licenseUtilization, summarizeUsage, usageWindows } from "./usage-metrics";

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

describe("feature adoption", () => {
  const active = { accounts: 4, scored: 3, score_sum: 180, churned: 1 };
  const row = (
    id: string,
    events: number,
    days: number,
    first: string,
    start: string | null,
    score: number | null,
    status = "active",
  ) => ({
    account_id: id,
    events,
    active_days: days,
    first_day: first,
    start_day: start,
    health_score: score,
    status,
  });

  it("splits active accounts into adopters and non-adopters", () => {
    const result = featureAdoption(
      [
        row("a1", 8, 2, "2026-01-11", "2026-01-01", 80), // depth 4, 10 days
        row("a2", 3, 1, "2026-02-25", "2026-02-01", 60), // depth 3, 24 days
        row("a3", 5, 1, "2026-03-01", "2026-03-05", null, "churned"), // depth 5, used before start → 0 days
      ],
      active,
    );
    expect(result).toMatchObject({
      adopters: 3,
      adoption_rate: 0.75, // 3 / 4
      depth: 4, // (4 + 3 + 5) / 3
      time_to_adopt_median_days: 10, // median of 10, 24, 0
      time_to_adopt_counted: 3,
      adopter_stats: { accounts: 3, scored_accounts: 2, mean_health_score: 70, churned: 1 },
      // The rest: 1 account, score 180 − 140 = 40, no churn.
      non_adopter_stats: { accounts: 1, scored_accounts: 1, mean_health_score: 40, churned: 0, churned_share: 0 },
    });
  });

  it("skips adopters without a start day for time to adopt", () => {
    const result = featureAdoption([row("a1", 2, 1, "2026-01-11", null, null)], active);
    expect(result.time_to_adopt_median_days).toBeNull();
    expect(result.time_to_adopt_counted).toBe(0);
  });

  it("keeps features used by at least the threshold share of peers", () => {
    const gaps = featureGaps(
      [
        { feature: "sso", peers_using: 1 },
        { feature: "alerts", peers_using: 2 },
        { feature: "api", peers_using: 0 },
      ],
      2,
      50,
    );
    expect(gaps).toEqual([
      { feature: "alerts", peers_using: 2, peer_share: 1 },
      { feature: "sso", peers_using: 1, peer_share: 0.5 },
    ]);
    expect(featureGaps([{ feature: "sso", peers_using: 1 }], 0, 50)).toEqual([]);
  });
});

describe("engagement patterns", () => {
  it("measures cadence as the mean gap between touches", () => {
    // 3 touches over 12 days → 2 gaps → 6 days.
    expect(meanGapDays(3, "2026-02-23T10:00:00Z", "2026-03-07T10:00:00Z")).toBe(6);
    expect(meanGapDays(1, "2026-02-23T10:00:00Z", "2026-02-23T10:00:00Z")).toBeNull();
  });

  it("shares events per weekday, Monday first", () => {
    const shares = weekdayShares([
      { weekday: 1, events: 30, days: 2 },
      { weekday: 0, events: 10, days: 1 },
    ]);
    expect(shares[0]).toEqual({ weekday: "Mon", events: 30, days_with_data: 2, share: 0.75 }); // 30 / 40
    expect(shares[6]).toEqual({ weekday: "Sun", events: 10, days_with_data: 1, share: 0.25 });
    expect(weekdayShares([])[0]?.share).toBeNull();
  });

  it("picks the channel with the highest response rate", () => {
    const channels = [
      { channel: "email", outbound: 6, inbound: 3, responses: 2 },
      { channel: "call", outbound: 2, inbound: 1, responses: 1 },
      { channel: "sms", outbound: 0, inbound: 2, responses: 0 },
    ];
    expect(bestChannel(channels)).toEqual({
      channel: "call",
      outbound: 2,
      inbound: 1,
      responses: 1,
      response_rate: 0.5,
    });
    expect(channelRates(channels)[2]?.response_rate).toBeNull();
    expect(bestChannel([{ channel: "email", outbound: 4, inbound: 0, responses: 0 }])).toBeNull();
  });

  it("counts an outbound touch answered when an inbound one follows within 7 days, each answering one, never above 100%", () => {
    const touch = (channel: string, direction: "outbound" | "inbound", at: string) => ({ channel, direction, at });
    const stats = answeredTouches(
      [
        // Two replies to one email: one answer (the "2 replies (200%)").
        touch("email", "outbound", "2026-03-01T09:00:00Z"),
        touch("email", "inbound", "2026-03-01T12:00:00Z"),
        touch("email", "inbound", "2026-03-02T12:00:00Z"),
        // Two emails, then one reply: it answers the later one only.
        touch("email", "outbound", "2026-03-10T09:00:00Z"),
        touch("email", "outbound", "2026-03-11T09:00:00Z"),
        touch("email", "inbound", "2026-03-11T10:00:00Z"),
        // A call answered after 8 days is not answered; one the customer starts answers nothing.
        touch("call", "outbound", "2026-03-01T09:00:00Z"),
        touch("call", "inbound", "2026-03-09T09:00:01Z"),
        touch("call", "inbound", "2026-03-20T09:00:00Z"),
        // A reply at the very instant of the email counts (the team's touch comes first).
        touch("call", "inbound", "2026-03-25T09:00:00Z"),
        touch("call", "outbound", "2026-03-25T09:00:00Z"),
      ],
      ["email", "call", "sms"],
    );
    expect(stats).toEqual([
      { channel: "email", outbound: 3, inbound: 3, responses: 2 },
      { channel: "call", outbound: 2, inbound: 3, responses: 1 },
      { channel: "sms", outbound: 0, inbound: 0, responses: 0 },
    ]);
    expect(channelRates(stats).every((c) => c.response_rate === null || c.response_rate <= 1)).toBe(true);
  });

  it("calls a contact quiet when neither activity nor visit is recent", () => {
    expect(isQuiet(null, null, "2026-03-01")).toBe(true);
    expect(isQuiet("2026-02-28T23:00:00Z", "2026-01-01T00:00:00Z", "2026-03-01")).toBe(true);
    expect(isQuiet("2026-03-01T00:00:00Z", null, "2026-03-01")).toBe(false);
    expect(isQuiet(null, "2026-03-02T00:00:00Z", "2026-03-01")).toBe(false);
  });
});
