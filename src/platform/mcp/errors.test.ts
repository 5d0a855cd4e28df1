import { describe, expect, it } from "vitest";
import { z } from "zod";
import "./errors";

describe("input validation messages", () => {
  it("says a missing field is required, and a number JSON cannot hold is not finite, without JavaScript words", () => {
    const shape = z.strictObject({ query: z.string(), limit: z.number().int().optional() });
    const missing = shape.safeParse({});
    expect(missing.error?.issues.map((issue) => issue.message)).toEqual(["Required (expected string)"]);
    // The server's JSON.parse reads 1e400 as Infinity.
    const huge = shape.safeParse({ query: "acme", limit: Number.POSITIVE_INFINITY });
    expect(huge.error?.issues.map((issue) => issue.message)).toEqual(["Expected a finite number"]);
    expect(shape.safeParse({ query: 7 }).error?.issues[0]?.message).toBe(
      "Invalid input: expected string, received number",
    );
  });
});
