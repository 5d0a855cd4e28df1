/**
 * Careful readers for untyped provider JSON: each returns undefined for a missing or mistyped
 * value instead of throwing, so a normalizer decides what is required. Text is returned as sent
 * (customer-written text must stay verbatim); only identifiers are trimmed.
 */
import { parseInstant } from "../tools/core/domain/import-values";
import { type ColumnChange, type Merge, PayloadError, type SqlValue } from "./records";

/** A JSON object, or undefined. */
export function objectAt(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The object at a path of keys, or undefined. */
export function pathAt(value: unknown, ...keys: string[]): unknown {
  let current: unknown = value;
  for (const key of keys) {
    const object = objectAt(current);
    if (!object) return undefined;
    current = object[key];
  }
  return current;
}

/** Text as sent (numbers become their decimal text); undefined for anything else. */
export function textAt(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** An identifier: trimmed, non-empty text (ids sent as numbers are read as text). */
export function idAt(value: unknown): string | undefined {
  const text = textAt(value)?.trim();
  return text ? text : undefined;
}

/** Non-blank text kept verbatim, or undefined. */
export function verbatimAt(value: unknown): string | undefined {
  const text = textAt(value);
  return text !== undefined && text.trim() !== "" ? text : undefined;
}

/** A finite number, also from its text; undefined otherwise. */
export function numberAt(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value.trim());
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** An email address, trimmed and lower-cased, or undefined when it does not look like one. */
export function emailAt(value: unknown): string | undefined {
  const text = idAt(value)?.toLowerCase();
  return text && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text) ? text : undefined;
}

/** The domain of an email address. */
export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1);
}

/** A bare domain from a website or domain text (`https://www.acme.com/x` → `acme.com`). */
export function domainAt(value: unknown): string | undefined {
  const text = idAt(value)?.toLowerCase();
  if (!text) return undefined;
  const host = text
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
    .split(/[/?#:]/)[0]
    ?.replace(/^www\./, "");
  return host && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : undefined;
}

/** An ISO instant from an ISO 8601 text with a zone, or undefined. */
export function instantAt(value: unknown): string | undefined {
  const text = textAt(value);
  return text === undefined ? undefined : (parseInstant(text) ?? undefined);
}

/** An ISO instant from Unix seconds (Stripe, Intercom, SendGrid), or undefined. */
export function unixSecondsAt(value: unknown): string | undefined {
  const seconds = numberAt(value);
  return seconds === undefined || seconds <= 0 ? undefined : new Date(seconds * 1000).toISOString();
}

/** An ISO instant from Unix milliseconds (HubSpot), or undefined. */
export function unixMillisAt(value: unknown): string | undefined {
  const millis = numberAt(value);
  return millis === undefined || millis <= 0 ? undefined : new Date(millis).toISOString();
}

/** Parses a receipt payload; a body that is not JSON is a payload error. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PayloadError("the stored payload is not valid JSON");
  }
}

/** Shorthand for a column change. */
export function column(value: SqlValue, merge: Merge = "latest"): ColumnChange {
  return { value, merge };
}

/** The columns whose value is defined, each with the given merge. */
export function columnsOf(values: Record<string, SqlValue | undefined>, merge: Merge = "latest") {
  const columns: Record<string, ColumnChange> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) columns[name] = { value, merge };
  }
  return columns;
}
