/**
 * Filters on names people type (segments, tiers): matched in any case and spacing against the
 * values stored, and when none matches, an error that names the values that exist, instead of
 * an empty answer that reads like "no such accounts".
 */
import { ToolError } from "./errors";

/** The value without case, spaces or punctuation: "tier1", "Tier 1" and "TIER-1" are one. */
function folded(value: string): string {
  return value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

/**
 * The stored spelling of a filter value given in any case or spacing; a ToolError naming the
 * stored values when none matches.
 */
export function matchStoredValue(field: string, given: string, stored: readonly string[]): string {
  if (stored.includes(given)) return given;
  const key = folded(given);
  const match =
    stored.find((value) => value.toLowerCase() === given.trim().toLowerCase()) ??
    stored.find((value) => folded(value) === key);
  if (match !== undefined && key !== "") return match;
  const known = stored.length > 0 ? stored.map((value) => JSON.stringify(value)).join(", ") : "none is set";
  throw new ToolError(`No account has ${field} ${JSON.stringify(given)}. The ${field}s in this workspace: ${known}.`);
}
