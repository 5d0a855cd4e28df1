import { describe, expect, it } from "vitest";
import { mean, median, round } from "./stats";

describe("stats", () => {
  it("takes the median of odd and even counts, null for none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it("takes the mean, null for none", () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNull();
  });

  it("rounds to the given decimals", () => {
    expect(round(2.345, 1)).toBe(2.3);
    expect(round(1 / 3)).toBe(0.33);
    expect(round(12.5, 0)).toBe(13);
  });
});
