import { describe, expect, it } from "vitest";
import { matchStoredValue } from "./filters";

describe("matchStoredValue", () => {
  const segments = ["Enterprise", "Mid-Market", "SMB"];

  it("takes the stored spelling of a value given in any case or spacing", () => {
    expect(matchStoredValue("segment", "Enterprise", segments)).toBe("Enterprise");
    expect(matchStoredValue("segment", "enterprise", segments)).toBe("Enterprise");
    expect(matchStoredValue("segment", " mid market ", segments)).toBe("Mid-Market");
    expect(matchStoredValue("tier", "tier1", ["Tier 1", "Tier 2"])).toBe("Tier 1");
  });

  it("names the values that exist when none matches", () => {
    expect(() => matchStoredValue("segment", "Enterprize", segments)).toThrow(
      'No account has segment "Enterprize". The segments in this workspace: "Enterprise", "Mid-Market", "SMB".',
    );
    expect(() => matchStoredValue("tier", "gold", [])).toThrow(
      'No account has tier "gold". The tiers in this workspace: none is set.',
    );
    expect(() => matchStoredValue("segment", "--", segments)).toThrow(/^No account has segment "--"/);
  });
});
