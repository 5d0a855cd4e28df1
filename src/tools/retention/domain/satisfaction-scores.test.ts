import { describe, expect, it } from "vitest";
import { clock } from "../../../platform/lib/clock";
import { bandOf, inRange, responseRate, summarize, summarizeGroups } from "./satisfaction-scores";
import { dayWindow } from "./satisfaction-window";

/** Answers as a histogram, one count per answer. */
const answers = (...scores: number[]) => scores.map((score) => ({ score, count: 1 }));

describe("satisfaction scores (pure)", () => {
  it("NPS of ten answers: 5 promoters, 2 passives, 3 detractors → 50 − 30 = 20", () => {
    expect(summarize("nps", answers(10, 10, 9, 9, 9, 8, 7, 6, 3, 0))).toEqual({
      kind: "nps",
      n: 10,
      score: 20,
      positive: 5,
      neutral: 2,
      negative: 3,
      positive_pct: 50,
      negative_pct: 30,
    });
  });

  it("NPS reaches −100 and 100, and counts a histogram's counts", () => {
    expect(summarize("nps", [{ score: 0, count: 3 }]).score).toBe(-100);
    expect(
      summarize("nps", [
        { score: 9, count: 2 },
        { score: 10, count: 1 },
      ]).score,
    ).toBe(100);
    // 1 promoter, 2 detractors of 3 → (1 − 2) / 3 = −33.33
    expect(
      summarize("nps", [
        { score: 10, count: 1 },
        { score: 6, count: 2 },
      ]).score,
    ).toBe(-33.33);
  });

  it("CSAT: mean of 1–5 and % of 4–5", () => {
    // 24 / 7 = 3.428…; 4 of 7 are 4–5 = 57.14 %
    expect(summarize("csat", answers(5, 4, 4, 3, 2, 1, 5))).toEqual({
      kind: "csat",
      n: 7,
      score: 3.43,
      positive: 4,
      neutral: 1,
      negative: 2,
      positive_pct: 57.14,
      negative_pct: 28.57,
    });
  });

  it("CES: mean of 1–7 (higher = easier), 5–7 easy and 1–3 difficult", () => {
    expect(summarize("ces", answers(7, 6, 2, 4, 5))).toEqual({
      kind: "ces",
      n: 5,
      score: 4.8,
      positive: 3,
      neutral: 1,
      negative: 1,
      positive_pct: 60,
      negative_pct: 20,
    });
  });

  it("ignores scores off the scale and answers nothing without data", () => {
    expect(summarize("csat", answers(0, 6, 5)).n).toBe(1);
    expect(summarize("nps", [])).toMatchObject({ n: 0, score: null, positive_pct: null });
    expect([inRange("nps", 0), inRange("nps", 11), inRange("csat", 0), inRange("ces", 7), inRange("ces", 2.5)]).toEqual(
      [true, false, false, true, false],
    );
    expect([
      bandOf("nps", 6),
      bandOf("nps", 7),
      bandOf("csat", 2),
      bandOf("csat", 3),
      bandOf("ces", 3),
      bandOf("ces", 5),
    ]).toEqual(["negative", "neutral", "negative", "neutral", "negative", "positive"]);
  });

  it("groups by key in order (null last) and kind", () => {
    const groups = summarizeGroups([
      { key: "2026-10", kind: "nps", score: 10, count: 1 },
      { key: null, kind: "nps", score: 0, count: 1 },
      { key: "2026-09", kind: "csat", score: 4, count: 2 },
      { key: "2026-09", kind: "nps", score: 6, count: 1 },
    ]);
    expect(groups.map((g) => [g.key, g.summary.kind, g.summary.n, g.summary.score])).toEqual([
      ["2026-09", "nps", 1, -100],
      ["2026-09", "csat", 2, 4],
      ["2026-10", "nps", 1, 100],
      [null, "nps", 1, -100],
    ]);
  });

  it("response rate and day windows", () => {
    expect(responseRate(1, 3)).toBe(33.33);
    expect(responseRate(0, 0)).toBeNull();
    expect(dayWindow(new Date("2026-11-27T15:00:00Z"), 90, undefined, undefined)).toEqual({
      from: "2026-08-30",
      to: "2026-11-27",
      window_days: 90,
      end_exclusive: "2026-11-28T00:00:00.000Z",
    });
    expect(dayWindow(clock.now(), 90, "2026-09-01", "2026-10-31")).toMatchObject({ window_days: 61 });
    expect(dayWindow(clock.now(), 90, "2026-11-01", "2026-10-31")).toEqual({
      error: "from (2026-11-01) is after to (2026-10-31); give from on or before to.",
    });
  });
});
