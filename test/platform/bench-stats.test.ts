import { describe, expect, it } from "vitest";
import {
  atLeast,
  latencyVerdict,
  percentile,
  ratio,
  rowsReadVerdict,
  rowsReturned,
  segmentSignature,
} from "../../scripts/bench/stats";
import { segmentHeaders } from "../helpers/webhook-signing";

describe("benchmark arithmetic", () => {
  it("takes nearest-rank percentiles", () => {
    const samples = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile(samples, 90)).toBe(9);
    expect(percentile([4], 95)).toBe(4);
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile(samples, 101)).toThrow("0–100");
  });

  it("divides by the floor only when both figures exist", () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
  });

  it("judges latency on both percentiles", () => {
    expect(latencyVerdict(1.5, 2)).toBe("pass");
    expect(latencyVerdict(1.51, 1)).toBe("miss");
    expect(latencyVerdict(1, 2.01)).toBe("miss");
    expect(latencyVerdict(null, 1)).toBe("n/a");
  });

  it("passes rows read under 1,000 or under 3× the rows returned", () => {
    expect(rowsReadVerdict(1000, 0)).toBe("pass");
    expect(rowsReadVerdict(1001, 334)).toBe("pass");
    expect(rowsReadVerdict(1003, 334)).toBe("miss");
    expect(rowsReadVerdict(null, 5)).toBe("n/a");
  });

  it("passes ingestion at half the raw insert rate", () => {
    expect(atLeast(0.5, 0.5)).toBe("pass");
    expect(atLeast(0.49, 0.5)).toBe("miss");
  });

  it("counts the largest top-level list as the rows returned", () => {
    expect(rowsReturned({ accounts: [1, 2, 3], notes: [1], next_cursor: null })).toBe(3);
    expect(rowsReturned({ account: { id: "a" }, score: 70 })).toBe(1);
    expect(rowsReturned({ results: [] })).toBe(0);
    expect(rowsReturned(undefined)).toBe(0);
  });

  it("signs Segment bodies as the provider does", async () => {
    const body = '[{"type":"track","messageId":"m1"}]';
    const secret = "bench-secret-0123456789";
    expect({ "X-Signature": segmentSignature(secret, body) }).toEqual(await segmentHeaders(secret, body));
  });
});
