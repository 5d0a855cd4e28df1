/**
 * Field schemas for imported rows. Every field accepts what a JSON row or a CSV cell would
 * carry (CSV cells are always text, so numbers, booleans and dates are also read from text) and
 * yields the value as stored. A blank value (null, or text of only spaces) means "empty": it is
 * an error for a required field and clears an optional one. Error messages never repeat the
 * value, since it may be customer-written text.
 */
import { z } from "zod";

type Normalize = (value: unknown) => unknown;

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === "string" && value.trim() === "");
}

/** Error text for a field of the given kind: "required" when nothing was given. */
function expecting(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined || issue.input === null ? "required" : what);
}

function requiredField<T extends z.ZodType>(normalize: Normalize, schema: T) {
  return z.preprocess((value) => (isBlank(value) ? undefined : normalize(value)), schema);
}

function optionalField<T extends z.ZodType>(normalize: Normalize, schema: T) {
  return z.preprocess(
    (value) => (value === undefined ? undefined : isBlank(value) ? null : normalize(value)),
    schema.nullable().optional(),
  );
}

const asTrimmedText: Normalize = (value) =>
  typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : value;

const asVerbatimText: Normalize = (value) => (typeof value === "number" ? String(value) : value);

const INTEGER_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const asNumber: Normalize = (value) => {
  if (typeof value !== "string") return value;
  const text = value.trim().replace(/_/g, "");
  return DECIMAL_TEXT.test(text) ? Number(text) : value;
};

const asInteger: Normalize = (value) => {
  if (typeof value !== "string") return value;
  const text = value.trim();
  return INTEGER_TEXT.test(text) ? Number(text) : value;
};

const TRUE_WORDS = new Set(["true", "yes", "y", "1"]);
const FALSE_WORDS = new Set(["false", "no", "n", "0"]);

const asBoolean: Normalize = (value) => {
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== "string") return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
};

const asLowerWord: Normalize = (value) => (typeof value === "string" ? value.trim().toLowerCase() : value);

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** True for a real calendar day written `YYYY-MM-DD`. */
function isCalendarDay(text: string): boolean {
  if (!DAY_PATTERN.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/**
 * Reads a date or an instant: `YYYY-MM-DD` is midnight UTC; an ISO 8601 date-time must carry a
 * zone (`Z` or `±hh:mm`). Returns the instant as `YYYY-MM-DDTHH:MM:SS.sssZ`, or null when invalid.
 */
export function parseInstant(text: string): string | null {
  const trimmed = text.trim();
  if (isCalendarDay(trimmed)) return `${trimmed}T00:00:00.000Z`;
  if (!INSTANT_PATTERN.test(trimmed) || !isCalendarDay(trimmed.slice(0, 10))) return null;
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Reads a day: `YYYY-MM-DD`, or an instant (its UTC date). Returns null when invalid. */
export function parseDay(text: string): string | null {
  return parseInstant(text)?.slice(0, 10) ?? null;
}

const DAY_MESSAGE = "must be a date written YYYY-MM-DD";
const INSTANT_MESSAGE = "must be a date YYYY-MM-DD or an ISO 8601 date-time with a zone, e.g. 2026-03-01T09:30:00Z";

const asDay: Normalize = (value) => (typeof value === "string" ? (parseDay(value) ?? value) : value);
const asInstant: Normalize = (value) => (typeof value === "string" ? (parseInstant(value) ?? value) : value);

const asJsonObject: Normalize = (value) => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

function textSchema(max: number) {
  return z.string({ error: expecting("must be text") }).max(max, `must be at most ${max} characters`);
}

function daySchema() {
  return z.string({ error: expecting(DAY_MESSAGE) }).refine(isCalendarDay, DAY_MESSAGE);
}

function instantSchema() {
  return z.string({ error: expecting(INSTANT_MESSAGE) }).refine((text) => parseInstant(text) === text, INSTANT_MESSAGE);
}

function integerSchema(min: number, max: number) {
  return z
    .number({ error: expecting("must be a whole number") })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
}

function numberSchema(min: number) {
  return z
    .number({ error: expecting("must be a number") })
    .min(min, `must be at least ${min}`)
    .refine(Number.isFinite, "must be a finite number");
}

function enumSchema<const T extends readonly [string, ...string[]]>(values: T) {
  const message = `must be one of: ${values.join(", ")}`;
  return z.enum(values, { error: expecting(message) });
}

/** Identifiers and short labels: trimmed; required. */
export const requiredText = (max: number) => requiredField(asTrimmedText, textSchema(max).min(1, "required"));
/** Identifiers and short labels: trimmed; blank clears. */
export const optionalText = (max: number) => optionalField(asTrimmedText, textSchema(max));
/** Customer-written text: stored exactly as given (not trimmed); required, and not only spaces. */
export const requiredVerbatim = (max: number) => requiredField(asVerbatimText, textSchema(max));
/** Customer-written text: stored exactly as given; blank clears. */
export const optionalVerbatim = (max: number) => optionalField(asVerbatimText, textSchema(max));
/** Whole number in a range, from a number or its text. */
export const requiredInteger = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  requiredField(asInteger, integerSchema(min, max));
/** Whole number in a range, from a number or its text; blank clears. */
export const optionalInteger = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  optionalField(asInteger, integerSchema(min, max));
/** Number at or above `min`, from a number or its text. */
export const requiredNumber = (min: number) => requiredField(asNumber, numberSchema(min));
/** Number at or above `min`, from a number or its text; blank clears. */
export const optionalNumber = (min: number) => optionalField(asNumber, numberSchema(min));
/** true/false, also from yes/no, y/n, 1/0 (any case); blank clears. */
export const optionalBoolean = () =>
  optionalField(asBoolean, z.boolean({ error: expecting("must be true or false (or yes/no, 1/0)") }));
/** One of fixed lower-case words (input is trimmed and lower-cased). */
export const requiredEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  requiredField(asLowerWord, enumSchema(values));
/** One of fixed lower-case words; blank clears. */
export const optionalEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  optionalField(asLowerWord, enumSchema(values));
/** A day stored as `YYYY-MM-DD` (an instant is reduced to its UTC date). */
export const requiredDay = () => requiredField(asDay, daySchema());
/** A day stored as `YYYY-MM-DD`; blank clears. */
export const optionalDay = () => optionalField(asDay, daySchema());
/** An instant stored as full ISO UTC (`YYYY-MM-DD` means midnight UTC). */
export const requiredInstant = () => requiredField(asInstant, instantSchema());
/** An instant stored as full ISO UTC; blank clears. */
export const optionalInstant = () => optionalField(asInstant, instantSchema());
/** An email address, trimmed and lower-cased; blank clears. */
export const optionalEmail = () =>
  optionalField(asLowerWord, z.email({ error: expecting("must be an email address") }).max(254));
/** A flat JSON object of text, number, boolean or null values (CSV: the object's JSON text); blank clears. */
export const optionalFlatObject = () =>
  optionalField(
    asJsonObject,
    z
      .record(z.string().max(100), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]), {
        error: expecting('must be a JSON object of plain values, e.g. {"crm_stage":"won"}'),
      })
      .refine((object) => Object.keys(object).length <= 50, "must have at most 50 keys"),
  );
