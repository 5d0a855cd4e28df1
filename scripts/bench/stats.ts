/**
 * Pure arithmetic of the benchmark: percentiles, ratios against a floor, the targets of the
 * performance issue, rows returned by a tool result, and the Segment signature.
 */
import { createHmac } from "node:crypto";

/** `p`-th percentile (0–100) of samples by the nearest-rank method; null when there are none. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  if (p < 0 || p > 100) throw new Error(`percentile must be within 0–100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** `value / floor`, or null when either is missing or the floor is not positive. */
export function ratio(value: number | null, floor: number | null): number | null {
  if (value === null || floor === null || floor <= 0) return null;
  return value / floor;
}

/** Outcome of one target: met, missed, or not measurable in this run. */
export type Verdict = "pass" | "miss" | "n/a";

/** A ratio at or below `limit` passes. */
export function atMost(value: number | null, limit: number): Verdict {
  if (value === null) return "n/a";
  return value <= limit ? "pass" : "miss";
}

/** A ratio at or above `limit` passes. */
export function atLeast(value: number | null, limit: number): Verdict {
  if (value === null) return "n/a";
  return value >= limit ? "pass" : "miss";
}

/** Targets of the benchmark (ratios within one run). */
export const TARGETS = {
  latencyP50: 1.5,
  latencyP95: 2,
  rowsReadPerReturned: 3,
  rowsReadPerCall: 1000,
  ingestionShare: 0.5,
  recalcRatio: 3,
} as const;

/** Latency target: p50 ≤ 1.5× ping p50 and p95 ≤ 2× ping p95; both must hold. */
export function latencyVerdict(p50Ratio: number | null, p95Ratio: number | null): Verdict {
  const verdicts = [atMost(p50Ratio, TARGETS.latencyP50), atMost(p95Ratio, TARGETS.latencyP95)];
  if (verdicts.includes("n/a")) return "n/a";
  return verdicts.includes("miss") ? "miss" : "pass";
}

/**
 * Rows-read target for one call: rows read ≤ 3× rows returned, or ≤ 1,000 rows read whatever it
 * returns. Judged on the call's worst case (the benchmark passes the largest reading seen).
 */
export function rowsReadVerdict(rowsRead: number | null, rowsReturned: number | null): Verdict {
  if (rowsRead === null) return "n/a";
  if (rowsRead <= TARGETS.rowsReadPerCall) return "pass";
  if (rowsReturned !== null && rowsRead <= TARGETS.rowsReadPerReturned * rowsReturned) return "pass";
  return "miss";
}

/**
 * Rows a tool returned: the length of the largest array at the top level of its structured
 * content, else 1 (a single object), or 0 without structured content.
 */
export function rowsReturned(structured: unknown): number {
  if (structured === null || typeof structured !== "object" || Array.isArray(structured)) return 0;
  let largest: number | null = null;
  for (const value of Object.values(structured)) {
    if (Array.isArray(value) && (largest === null || value.length > largest)) largest = value.length;
  }
  return largest ?? 1;
}

/** Segment's `X-Signature`: hex HMAC-SHA1 of the raw body under the shared secret. */
export function segmentSignature(secret: string, body: string): string {
  return createHmac("sha1", secret).update(body).digest("hex");
}
