import { z } from "zod";
import { base64url, fromBase64url } from "../lib/ids";
import { ToolError } from "./errors";

/** Shared `limit` argument: default 25, at most 200. */
export const limitArg = z.number().int().min(1).max(200).default(25).describe("Page size, 1–200 (default 25).");

/** Shared `cursor` argument. */
export const cursorArg = z
  .string()
  .max(500)
  .optional()
  .describe("Opaque cursor from a previous page's `next_cursor`; omit for the first page.");

/** Output field for the next page's cursor. */
export const nextCursorField = z
  .string()
  .nullable()
  .describe("Pass as `cursor` to get the next page; null on the last page.");

/** A keyset position: the sort value(s) and id of the last row of a page. */
export type CursorPosition = { k: (string | number | null)[]; id: string; q: string };

/**
 * Encodes a page position. `query` fingerprints the filters and sort so a cursor is never
 * applied to a different listing.
 */
export function encodeCursor(position: CursorPosition): string {
  return base64url(new TextEncoder().encode(JSON.stringify(position)));
}

const positionSchema = z.object({
  k: z.array(z.union([z.string(), z.number(), z.null()])),
  id: z.string(),
  q: z.string(),
});

/** Decodes a cursor made by {@link encodeCursor} for the same query, or explains what is wrong. */
export function decodeCursor(cursor: string, query: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
  } catch {
    throw malformed();
  }
  const result = positionSchema.safeParse(parsed);
  if (!result.success) throw malformed();
  if (result.data.q !== query) {
    throw new ToolError(
      "This cursor belongs to a listing with other filters or sort; repeat the first call without `cursor`.",
    );
  }
  return result.data;
}

function malformed(): ToolError {
  return new ToolError(
    "Malformed `cursor`: pass the `next_cursor` value from the previous page unchanged, or omit it.",
  );
}

/** Short stable fingerprint of a listing's filters and sort, for {@link encodeCursor}. */
export function queryFingerprint(parts: unknown): string {
  const text = JSON.stringify(parts);
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0).toString(36);
}
