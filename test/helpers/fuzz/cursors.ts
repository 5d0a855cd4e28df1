import fc from "fast-check";
import { base64url, fromBase64url } from "../../../src/platform/lib/ids";
import { hostileString } from "./strings";

/** A real `next_cursor` one sample call answered, with the arguments that produced it. */
export interface RealCursor {
  tool: string;
  args: Record<string, unknown>;
  cursor: string;
}

function encode(value: unknown): string {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

function decode(cursor: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const positionPart = fc.oneof(
  fc.constantFrom(null, "", 0, -1, 1e308, -1e308, 2 ** 53 + 2, 0.5, true, [], {}, "9999-12-31", "zzzz", "acc_"),
  hostileString([]),
  fc.integer(),
  fc.string({ maxLength: 20 }),
);

/** A real cursor's position changed: its sort keys, their count, or the id, keeping its fingerprint. */
function tampered(real: RealCursor): fc.Arbitrary<string> {
  const position = decode(real.cursor) ?? {};
  const keys = Array.isArray(position.k) ? position.k : [];
  return fc
    .oneof(
      fc.array(positionPart, { minLength: keys.length, maxLength: keys.length }).map((k) => ({ ...position, k })),
      fc.array(positionPart, { maxLength: 4 }).map((k) => ({ ...position, k })),
      positionPart.map((id) => ({ ...position, id })),
      fc.constantFrom(
        { ...position, k: undefined },
        { ...position, id: undefined },
        { ...position, k: "not-a-list" },
        { ...position, extra: 1 },
      ),
    )
    .map(encode);
}

/** A real cursor broken as text: cut, padded, a character changed, spaces around it. */
function mangled(cursor: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, cursor.length - 1) }).map((n) => cursor.slice(0, n)),
    fc.constantFrom(
      `${cursor}=`,
      `${cursor}==`,
      ` ${cursor} `,
      `${cursor}\n`,
      cursor.replace(/-/g, "+"),
      `${cursor}${cursor}`,
    ),
    fc
      .tuple(fc.integer({ min: 0, max: Math.max(0, cursor.length - 1) }), fc.constantFrom("A", "_", "-", "!", "é"))
      .map(([i, c]) => cursor.slice(0, i) + c + cursor.slice(i + 1)),
  );
}

/**
 * Forged `cursor` values: random base64, base64 of JSON with wrong fields, a real cursor of
 * another listing, a real cursor of this tool tampered with or cut, and over-long ones.
 */
export function forgedCursor(own: readonly RealCursor[], all: readonly RealCursor[]): fc.Arbitrary<string> {
  const options: fc.WeightedArbitrary<string>[] = [
    { weight: 2, arbitrary: fc.base64String({ maxLength: 120 }) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 90 }).map(base64url) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }).map(encode) },
    {
      weight: 3,
      arbitrary: fc
        .record({
          k: fc.oneof(fc.array(positionPart, { maxLength: 3 }), positionPart),
          id: positionPart,
          q: positionPart,
        })
        .map(encode),
    },
    { weight: 1, arbitrary: fc.constantFrom("", "=", "e30", "W10", "bnVsbA", "x".repeat(501), "A".repeat(2_000)) },
  ];
  if (all.length > 0) options.push({ weight: 2, arbitrary: fc.constantFrom(...all).map((real) => real.cursor) });
  for (const real of own.slice(0, 3)) {
    options.push({ weight: 2, arbitrary: tampered(real) }, { weight: 1, arbitrary: mangled(real.cursor) });
  }
  return fc.oneof(...options);
}

/** A real cursor of this tool, given back with the arguments it came from, tampered with or not. */
export function replayedCursor(own: readonly RealCursor[]): fc.Arbitrary<Record<string, unknown>> | null {
  if (own.length === 0) return null;
  return fc
    .constantFrom(...own)
    .chain((real) =>
      fc
        .oneof(fc.constant(real.cursor), tampered(real), mangled(real.cursor))
        .map((cursor) => ({ ...real.args, cursor })),
    );
}
