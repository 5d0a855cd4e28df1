import fc from "fast-check";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { hostileString } from "./strings";

/** The part of JSON Schema that `z.toJSONSchema` emits for the tools' inputs. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** Values the workspace holds (ids, segments, emails), so valid calls often name real records. */
export interface Known {
  /** Any of them, for any text field. */
  strings: readonly string[];
  /** The ones that fit a field, by its name (`account_id`: account ids), tried most often there. */
  byField: Readonly<Record<string, readonly string[]>>;
}

/**
 * A number JSON cannot carry as a value: `rawToken("1e400")` is sent as the bare token 1e400
 * (which the server's JSON.parse reads as Infinity) or NaN (which makes the body invalid JSON).
 */
export function rawToken(token: string): string {
  return `\u0000raw:${token}\u0000`;
}

/** Puts the bare tokens of {@link rawToken} into a serialized request. */
export function spliceRawTokens(json: string): string {
  return json.replace(/"\\u0000raw:([^"\\]*)\\u0000"/g, "$1");
}

/** Numbers JSON cannot carry, sent raw; NaN and Infinity also as values (JSON.stringify makes them null). */
export const RAW_NUMBERS: fc.Arbitrary<unknown> = fc.constantFrom(
  rawToken("NaN"),
  rawToken("Infinity"),
  rawToken("-Infinity"),
  rawToken("1e400"),
  rawToken("-1e400"),
  rawToken("1e-400"),
  rawToken("-0"),
  rawToken("1E2"),
  rawToken("0.1e1"),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
);

const MAX_INT32 = 2 ** 31 - 1;

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type[0] : schema.type;
}

function lowerBound(schema: JsonSchema): number | undefined {
  return schema.minimum ?? schema.exclusiveMinimum;
}

function upperBound(schema: JsonSchema): number | undefined {
  return schema.maximum ?? schema.exclusiveMaximum;
}

/** Days around the pinned clock's today, as YYYY-MM-DD. */
function validDay(): fc.Arbitrary<string> {
  const today = isoDay(clock.now());
  return fc.integer({ min: -1500, max: 1500 }).map((offset) => addDays(today, offset));
}

function validString(schema: JsonSchema, known: Known, field?: string): fc.Arbitrary<string> {
  if (schema.format === "date") return validDay();
  if (schema.format === "date-time") {
    return fc
      .tuple(validDay(), fc.integer({ min: 0, max: 86_399 }))
      .map(([day, s]) => `${day}T${new Date(s * 1000).toISOString().slice(11, 19)}Z`);
  }
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 200;
  if (schema.format === "email") {
    // fc.emailAddress covers RFC 5322, most of which zod's stricter email check refuses.
    const word = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/);
    const simple = fc.tuple(word, word).map(([user, host]) => `${user}@${host}.example`);
    return fc
      .oneof({ weight: 3, arbitrary: simple }, { weight: 1, arbitrary: fc.emailAddress() })
      .filter((e) => e.length >= min && e.length <= max);
  }
  const fitting = (values: readonly string[]) => values.filter((s) => s.length >= min && s.length <= max);
  const options: fc.WeightedArbitrary<string>[] = [
    {
      weight: 2,
      arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, Math.max(min, 40)), unit: "grapheme" }),
    },
  ];
  const any = fitting(known.strings);
  if (any.length > 0) options.push({ weight: 1, arbitrary: fc.constantFrom(...any) });
  const own = fitting((field && known.byField[field]) || []);
  if (own.length > 0) options.push({ weight: 6, arbitrary: fc.constantFrom(...own) });
  return fc.oneof(...options);
}

function validNumber(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = lowerBound(schema) ?? -1e6;
  const max = upperBound(schema) ?? 1e9;
  const exact = fc.constantFrom(...[min, max].filter((n) => !integer || Number.isSafeInteger(n)));
  if (integer) {
    const lo = Math.max(Math.ceil(min), -MAX_INT32);
    const hi = Math.min(Math.floor(max), MAX_INT32);
    return fc.oneof({ weight: 5, arbitrary: fc.integer({ min: lo, max: hi }) }, { weight: 1, arbitrary: exact });
  }
  const double = fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const round = fc.integer({ min: Math.ceil(min), max: Math.floor(Math.min(max, MAX_INT32)) });
  return fc
    .oneof({ weight: 3, arbitrary: double }, { weight: 2, arbitrary: round }, { weight: 1, arbitrary: exact })
    .filter((n) => (schema.exclusiveMinimum === undefined || n > schema.exclusiveMinimum) && !Object.is(n, -0));
}

/**
 * Values that satisfy the schema (as far as JSON Schema says: refinements are not visible);
 * `field` names the property, so its known values come first.
 */
export function validValue(schema: JsonSchema, known: Known, field?: string): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if ("const" in schema) return fc.constant(schema.const);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((member) => validValue(member, known, field)));
  switch (typeOf(schema)) {
    case "string":
      return validString(schema, known, field);
    case "integer":
      return validNumber(schema, true);
    case "number":
      return validNumber(schema, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 5, 5));
      // account_ids takes what account_id does.
      const item = field?.endsWith("s") ? field.slice(0, -1) : field;
      return fc.array(schema.items ? validValue(schema.items, known, item) : fc.jsonValue({ maxDepth: 1 }), {
        minLength,
        maxLength,
      });
    }
    case "object":
      return validObject(schema, known);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** An object with its required properties and any of its optional ones. */
export function validObject(schema: JsonSchema, known: Known): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  if (Object.keys(properties).length === 0 && typeof schema.additionalProperties === "object") {
    const key = schema.propertyNames ? validValue(schema.propertyNames, known) : fc.string({ maxLength: 20 });
    return fc.dictionary(key as fc.Arbitrary<string>, validValue(schema.additionalProperties, known), {
      maxKeys: 4,
      noNullPrototype: true,
    });
  }
  const model = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, validValue(s, known, name)]));
  return fc.record(model, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Record<string, unknown>>;
}

/** Edge values for the schema's bounds: min-1, min, max, max+1, 0, -1, huge, fractions, odd days. */
export function boundaryValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  if (type === "integer" || type === "number") {
    const min = lowerBound(schema);
    const max = upperBound(schema);
    const around = [min, max].flatMap((n) => (n === undefined ? [] : [n - 1, n, n + 1, n - 0.5, n + 0.5]));
    return fc.constantFrom(
      ...around,
      0,
      -1,
      1,
      0.5,
      1.5,
      -0.000001,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      2 ** 53 + 2,
      -(2 ** 53),
      1e21,
      -1e21,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.EPSILON,
    );
  }
  if (type === "string") {
    if (schema.format === "date") return fc.constantFrom(...ODD_DAYS);
    if (schema.format === "date-time") return fc.constantFrom(...ODD_INSTANTS);
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? 200;
    const lengths = [0, Math.max(0, min - 1), min, max, max + 1];
    return fc.oneof(
      fc.constantFrom(...lengths).map((n) => "x".repeat(n)),
      fc.constantFrom(...lengths.filter((n) => n > 0)).map((n) => "😀".repeat(Math.ceil(n / 2))),
      fc.constantFrom(" ", "\t", "\n", " x ", "0", "-1", "null", "true", "[]", "{}"),
      schema.enum
        ? fc.constantFrom(...schema.enum.flatMap((e) => [String(e).toUpperCase(), ` ${e}`, `${e} `]))
        : fc.constant(""),
    );
  }
  if (type === "array") {
    const items = schema.items;
    const over = (schema.maxItems ?? 10) + 1;
    return fc.oneof(
      fc.constant([]),
      fc.constant(Array.from({ length: Math.min(over, 2_000) }, () => (items?.enum ? items.enum[0] : "x"))),
      fc.constant([null]),
      fc.constant([[]]),
    );
  }
  if (type === "object")
    return fc.constantFrom({}, { "": 1 }, { a: null }, JSON.parse('{"__proto__":{"polluted":true}}'));
  return fc.constantFrom(null, "", 0);
}

/** Days that only look like days, and real ones at the edges of the calendar. */
const ODD_DAYS = [
  "2024-02-29",
  "2023-02-29",
  "2026-02-30",
  "2026-13-01",
  "2026-00-10",
  "2026-01-00",
  "2026-04-31",
  "1970-01-01",
  "0000-01-01",
  "0001-01-01",
  "9999-12-31",
  "2026-1-1",
  "26-01-01",
  "20260101",
  "2026-01-01T00:00:00Z",
  " 2026-01-01",
  "2026-01-01\n",
  "+002026-01-01",
  "2026/01/01",
];

const ODD_INSTANTS = [
  "2026-01-01T00:00:00Z",
  "2026-01-01T00:00:00.000+14:00",
  "2026-01-01T00:00:00-12:00",
  "9999-12-31T23:59:59Z",
  "0000-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "2026-01-01T24:00:00Z",
  "2026-01-01T23:59:60Z",
  "2026-01-01",
  "2026-01-01T00:00:00",
  "1969-12-31T23:59:59.999Z",
  "2026-01-01T00:00:00.123456789Z",
];

/** Values of the wrong JSON type (a matching one now and then does no harm). */
export const WRONG_TYPE: fc.Arbitrary<unknown> = fc.constantFrom(
  null,
  true,
  false,
  0,
  1,
  -1,
  "",
  "x",
  "12",
  [],
  [null],
  ["x"],
  {},
  { a: 1 },
  { $gt: "" },
);

/** Any value for a field: valid, at a boundary, of the wrong type, hostile text or a raw number. */
export function anyValue(schema: JsonSchema, known: Known, field?: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: validValue(schema, known, field) },
    { weight: 3, arbitrary: boundaryValue(schema) },
    { weight: 2, arbitrary: WRONG_TYPE },
    { weight: 2, arbitrary: hostileString(known.strings) },
    { weight: 1, arbitrary: RAW_NUMBERS },
  );
}
