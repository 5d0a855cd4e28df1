/** One webhook delivery as a verifier sees it: raw bytes and the exact request line. */
export interface SignedDelivery {
  method: string;
  /** The public URL the sender called (HubSpot signs it). */
  url: string;
  headers: Headers;
  /** The raw body, exactly as received: every signature is checked over these bytes. */
  body: Uint8Array;
  now: Date;
}

/** A verifier's answer; `reason` is safe to send back (it never contains a secret). */
export type Verdict = { ok: true } | { ok: false; reason: string };

/** One provider event to record as a receipt. */
export interface WebhookEvent {
  /** The provider's id for the event: the deduplication key within one integration. */
  eventId: string;
  eventType: string | null;
  /** The event's JSON text (the raw body, or one element of an array body). */
  payload: string;
}

/** What a verified body holds. */
export type Extraction =
  | { kind: "events"; events: WebhookEvent[] }
  /** A liveness check from the provider: answered 200, nothing stored. */
  | { kind: "ping" }
  | { kind: "invalid"; reason: string };

/** Everything the receiver needs to know about one provider. */
export interface ProviderReceiver {
  /** Checks the delivery's signature (and timestamp, where the scheme signs one) against one secret. */
  verify(delivery: SignedDelivery, secret: string): Promise<Verdict>;
  /** Splits a verified, parsed body into events. `text` is the raw body as UTF-8 text. */
  events(body: unknown, text: string, headers: Headers): Extraction;
}

/** The verdict of a delivery that passed every check. */
export const VERIFIED: Verdict = { ok: true };

/** The verdict of a refused delivery, with the reason sent back to the sender. */
export function refused(reason: string): Verdict {
  return { ok: false, reason };
}

/** Longest event id we store; provider ids are far shorter. */
const MAX_EVENT_ID_LENGTH = 255;

/** A provider id (string or number) as text, or null when it is missing or unusable. */
export function eventIdOf(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value.length > 0 && value.length <= MAX_EVENT_ID_LENGTH) return value;
  return null;
}

/** A string field, or null. */
export function textOf(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value.slice(0, 200) : null;
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The events of a JSON array body: each element becomes one event with its own JSON text.
 * Any element without an id makes the whole body invalid, so nothing is half-recorded.
 */
export function arrayEvents(
  body: unknown,
  describe: (item: Record<string, unknown>) => { eventId: string | null; eventType: string | null },
  idField: string,
): Extraction {
  if (!Array.isArray(body)) return { kind: "invalid", reason: "expected a JSON array of events" };
  const events: WebhookEvent[] = [];
  for (const [index, item] of body.entries()) {
    if (!isRecord(item)) return { kind: "invalid", reason: `element ${index} is not a JSON object` };
    const { eventId, eventType } = describe(item);
    if (eventId === null) return { kind: "invalid", reason: `element ${index} has no usable ${idField}` };
    events.push({ eventId, eventType, payload: JSON.stringify(item) });
  }
  return { kind: "events", events };
}
