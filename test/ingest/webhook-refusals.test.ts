import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { WebhookProvider } from "../../src/ingest/messages";
import { MAX_BODY_BYTES, receiveWebhook } from "../../src/ingest/receiver";
import { createIntegration, d1Runner } from "../../src/integrations/service";
import { clock } from "../../src/platform/lib/clock";
import { createWorkspace, workerFetch } from "../helpers/mcp";
import {
  genericHeaders,
  hubspotHeaders,
  intercomHeaders,
  type RawBody,
  segmentHeaders,
  sendgridHeaders,
  sendgridKeyPair,
  stripeHeaders,
  zendeskHeaders,
} from "../helpers/webhook-signing";

/**
 * Every provider, every way a delivery is refused: a forged signature, a body changed after
 * signing, another secret, no signature, a stale or future signed time, a malformed body, an
 * oversized body, and a replay. Each refusal stores nothing: no receipt, no queue message, no
 * record, no dead letter; it only counts as rejected. A replay stores nothing new.
 */

/** Signs a delivery as the provider would at `at`; `url` is the URL it posts to (HubSpot signs it). */
type Sign = (body: RawBody, at: Date, url: string) => Promise<Record<string, string>>;

interface Keys {
  /** The integration's secret (SendGrid: the account's verification public key). */
  secret: string;
  sign: Sign;
  /** Signs with another secret (SendGrid: another key pair). */
  signWithOther: Sign;
}

/** A body the receiver verifies and then refuses as unusable. */
interface Malformed {
  name: string;
  body: RawBody;
  error: string;
  /** Headers the sender left out (they are not signed). */
  without?: string[];
}

interface Fixture {
  provider: WebhookProvider;
  keys(): Promise<Keys>;
  signatureHeader: string;
  /** The signature header with one signature byte changed, still well-formed. */
  forge(value: string): string;
  /** The refusal of a signature that does not verify. */
  mismatch: string;
  /** The refusal of a signed time outside the window; null for schemes that sign no time. */
  stale: string | null;
  /** A valid delivery and how many events it holds. */
  body(tag: string): { text: string; events: number };
  /** The same delivery with a `pad` field to grow it. */
  padded(pad: string): string;
  malformed: Malformed[];
}

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);
const zendeskTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, "Z");

/** Flips the last hex digit. */
const forgeHex = (value: string) => value.replace(/[0-9a-f]$/, (c) => (c === "0" ? "1" : "0"));

/** Flips the lowest bit of the last byte of a base64 value. */
function forgeBase64(value: string): string {
  const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  bytes[bytes.length - 1]! ^= 1;
  return btoa(String.fromCharCode(...bytes));
}

function hmacKeys(secret: string, sign: (secret: string) => Sign): () => Promise<Keys> {
  return async () => ({ secret, sign: sign(secret), signWithOther: sign(`${secret}-other`) });
}

/** Bodies every provider refuses after verifying them. */
const NOT_JSON: Malformed[] = [
  { name: "not JSON", body: "event=1&type=track", error: "the body is not UTF-8 JSON" },
  { name: "empty", body: "", error: "the body is not UTF-8 JSON" },
  { name: "not UTF-8", body: Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d), error: "the body is not UTF-8 JSON" },
  { name: "truncated JSON", body: '{"id":"evt_1","type":', error: "the body is not UTF-8 JSON" },
];

const LONG_ID = "e".repeat(256);

const FIXTURES: Fixture[] = [
  {
    provider: "segment",
    keys: hmacKeys("segment-shared-secret-0123456789", (secret) => (body) => segmentHeaders(secret, body)),
    signatureHeader: "X-Signature",
    forge: forgeHex,
    mismatch: "signature does not match",
    stale: null,
    body: (tag) => ({
      text: JSON.stringify({ type: "track", event: "Report Exported", userId: "u_1", messageId: `ajs-${tag}` }),
      events: 1,
    }),
    padded: (pad) => JSON.stringify({ type: "track", event: "Report Exported", messageId: "ajs-big", pad }),
    malformed: [
      ...NOT_JSON,
      { name: "a number", body: "42", error: "expected a JSON object" },
      {
        name: "no messageId",
        body: JSON.stringify({ type: "track", event: "x" }),
        error: "the event has no messageId",
      },
      {
        name: "a messageId too long",
        body: JSON.stringify({ type: "track", messageId: LONG_ID }),
        error: "the event has no messageId",
      },
      {
        name: "a batch with one event without messageId",
        body: JSON.stringify([{ type: "track", messageId: "ok-1" }, { type: "track" }]),
        error: "element 1 has no usable messageId",
      },
      {
        name: "a batch with an element that is not an object",
        body: JSON.stringify([{ type: "track", messageId: "ok-1" }, "x"]),
        error: "element 1 is not a JSON object",
      },
    ],
  },
  {
    provider: "zendesk",
    keys: hmacKeys(
      "zendesk-signing-secret-0123456789",
      (secret) => (body, at) => zendeskHeaders(secret, body, zendeskTime(at)),
    ),
    signatureHeader: "X-Zendesk-Webhook-Signature",
    forge: forgeBase64,
    mismatch: "signature does not match",
    stale: "timestamp outside the 5-minute window",
    body: (tag) => ({
      text: JSON.stringify({
        type: "zen:event-type:ticket.created",
        id: `zd-${tag}`,
        time: "2026-03-02T10:00:00Z",
        detail: { id: "35436", subject: "Export fails", status: "NEW" },
      }),
      events: 1,
    }),
    padded: (pad) => JSON.stringify({ type: "zen:event-type:ticket.created", id: "zd-big", pad }),
    malformed: [
      ...NOT_JSON,
      { name: "an array", body: "[]", error: "expected a JSON object" },
      {
        name: "no id and no webhook id header",
        body: JSON.stringify({ ticket: { id: "5" } }),
        error: "the event has no id and no X-Zendesk-Webhook-Id header",
        without: ["X-Zendesk-Webhook-Id"],
      },
    ],
  },
  {
    provider: "intercom",
    keys: hmacKeys("intercom-client-secret-0123456789", (secret) => (body) => intercomHeaders(secret, body)),
    signatureHeader: "X-Hub-Signature",
    forge: forgeHex,
    mismatch: "signature does not match",
    stale: null,
    body: (tag) => ({
      text: JSON.stringify({
        type: "notification_event",
        id: `notif_${tag}`,
        topic: "conversation.user.created",
        data: { item: { type: "conversation", id: "147" } },
      }),
      events: 1,
    }),
    padded: (pad) => JSON.stringify({ type: "notification_event", id: "notif_big", topic: "contact.created", pad }),
    malformed: [
      ...NOT_JSON,
      { name: "null", body: "null", error: "expected a JSON object" },
      {
        name: "no id",
        body: JSON.stringify({ type: "notification_event", topic: "contact.created" }),
        error: "the notification has no id",
      },
      {
        name: "an id that is an object",
        body: JSON.stringify({ id: { x: 1 }, topic: "contact.created" }),
        error: "the notification has no id",
      },
    ],
  },
  {
    provider: "hubspot",
    keys: hmacKeys(
      "hubspot-client-secret-0123456789",
      (secret) => (body, at, url) => hubspotHeaders(secret, body, url, at.getTime()),
    ),
    signatureHeader: "X-HubSpot-Signature-v3",
    forge: forgeBase64,
    mismatch: "signature does not match",
    stale: "timestamp outside the 5-minute window",
    body: (tag) => ({
      text: JSON.stringify([
        { eventId: `${tag}1`, subscriptionType: "contact.creation", objectId: 123, occurredAt: 1772445600000 },
        { eventId: `${tag}2`, subscriptionType: "company.creation", objectId: 456, occurredAt: 1772445600000 },
      ]),
      events: 2,
    }),
    padded: (pad) => JSON.stringify([{ eventId: 1, subscriptionType: "contact.creation", pad }]),
    malformed: [
      ...NOT_JSON,
      {
        name: "one event not in an array",
        body: JSON.stringify({ eventId: 1, subscriptionType: "contact.creation" }),
        error: "expected a JSON array of events",
      },
      {
        name: "an array with one event without eventId",
        body: JSON.stringify([{ eventId: 1, subscriptionType: "contact.creation" }, { subscriptionType: "x" }]),
        error: "element 1 has no usable eventId",
      },
      {
        name: "an eventId that is not a finite number",
        body: '[{"eventId":1e999,"subscriptionType":"contact.creation"}]',
        error: "element 0 has no usable eventId",
      },
    ],
  },
  {
    provider: "stripe",
    keys: hmacKeys(
      "whsec_stripeEndpointSecret0123",
      (secret) => (body, at) => stripeHeaders(secret, body, seconds(at)),
    ),
    signatureHeader: "Stripe-Signature",
    forge: forgeHex,
    mismatch: "no v1 signature matches",
    stale: "timestamp outside the 300-second tolerance",
    body: (tag) => ({
      text: JSON.stringify({ id: `evt_${tag}`, object: "event", type: "invoice.paid", data: { object: {} } }),
      events: 1,
    }),
    padded: (pad) => JSON.stringify({ id: "evt_big", object: "event", type: "invoice.paid", pad }),
    malformed: [
      ...NOT_JSON,
      { name: "an array", body: JSON.stringify([{ id: "evt_1" }]), error: "expected a JSON object" },
      { name: "no id", body: JSON.stringify({ object: "event", type: "invoice.paid" }), error: "the event has no id" },
      { name: "an empty id", body: JSON.stringify({ id: "", type: "invoice.paid" }), error: "the event has no id" },
    ],
  },
  {
    provider: "sendgrid",
    keys: async () => {
      const own = await sendgridKeyPair();
      const other = await sendgridKeyPair();
      return {
        secret: own.publicKeyBase64,
        sign: (body, at) => sendgridHeaders(own.privateKey, body, seconds(at)),
        signWithOther: (body, at) => sendgridHeaders(other.privateKey, body, seconds(at)),
      };
    },
    signatureHeader: "X-Twilio-Email-Event-Webhook-Signature",
    forge: forgeBase64,
    mismatch: "signature does not match",
    stale: "timestamp outside the 5-minute window",
    body: (tag) => ({
      text: JSON.stringify([
        { email: "ana@acme.test", event: "delivered", sg_event_id: `${tag}-d`, timestamp: 1772445600 },
        { email: "ana@acme.test", event: "open", sg_event_id: `${tag}-o`, timestamp: 1772445660 },
      ]),
      events: 2,
    }),
    padded: (pad) => JSON.stringify([{ email: "a@b.test", event: "open", sg_event_id: "sg-big", pad }]),
    malformed: [
      ...NOT_JSON,
      {
        name: "one event not in an array",
        body: JSON.stringify({ event: "open", sg_event_id: "sg-1" }),
        error: "expected a JSON array of events",
      },
      {
        name: "an array with one event without sg_event_id",
        body: JSON.stringify([{ event: "open", sg_event_id: "sg-1" }, { event: "open" }]),
        error: "element 1 has no usable sg_event_id",
      },
    ],
  },
  {
    provider: "generic",
    keys: hmacKeys(
      "generic-signing-secret-0123456789",
      (secret) => (body, at) => genericHeaders(secret, body, seconds(at)),
    ),
    signatureHeader: "X-Webhook-Signature",
    forge: forgeHex,
    mismatch: "signature does not match",
    stale: "timestamp outside the 5-minute window",
    body: (tag) => ({
      text: JSON.stringify({ id: `gen-${tag}`, type: "account", data: { external_id: "acme", name: "Acme" } }),
      events: 1,
    }),
    padded: (pad) => JSON.stringify({ id: "gen-big", type: "account", pad }),
    malformed: [
      ...NOT_JSON,
      { name: "an array", body: "[]", error: "expected a JSON object" },
      {
        name: "a numeric id",
        body: JSON.stringify({ id: 5, type: "account" }),
        error: 'the event has no "id" (a string of 1–255 characters)',
      },
      {
        name: "an id too long",
        body: JSON.stringify({ id: LONG_ID, type: "account" }),
        error: 'the event has no "id" (a string of 1–255 characters)',
      },
      {
        name: "no type",
        body: JSON.stringify({ id: "gen-1" }),
        error: 'the event has no "type" (a non-empty string)',
      },
    ],
  },
];

let workspaceId = "";
/** Every message handed to the events queue in this file (the queue is replaced: nothing is consumed). */
let sent: unknown[] = [];

beforeAll(async () => {
  ({ workspaceId } = await createWorkspace("webhook-refusals"));
});

beforeEach(() => {
  sent = [];
  vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockImplementation(async (messages) => {
    for (const message of messages) sent.push(message.body);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
  vi.spyOn(env.EVENTS_QUEUE, "send").mockImplementation(async (body) => {
    sent.push(body);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function integrationOf(fixture: Fixture): Promise<{ id: string; keys: Keys; url: string }> {
  const keys = await fixture.keys();
  const created = await createIntegration(
    d1Runner(env.DB),
    { encryptionKey: env.ENCRYPTION_KEY, publicUrl: env.PUBLIC_URL },
    { workspaceId, provider: fixture.provider, name: `refusals ${crypto.randomUUID()}`, secret: keys.secret },
    clock.now(),
  );
  const id = created.integration.id;
  return { id, keys, url: `http://localhost/webhooks/${fixture.provider}/${id}` };
}

/** POSTs through the Worker's route. */
function post(url: string, body: RawBody | ReadableStream<Uint8Array>, headers: Record<string, string>) {
  return workerFetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

/** Delivers to the receiver as if its clock read `at` (a replay that arrives later). */
function postAt(at: Date, fixture: Fixture, id: string, url: string, body: RawBody, headers: Record<string, string>) {
  return receiveWebhook(env, fixture.provider, id, new Request(url, { method: "POST", body, headers }), at);
}

async function receipts(integrationId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, event_id, status, payload FROM webhook_receipts WHERE integration_id = ?1 ORDER BY event_id",
  )
    .bind(integrationId)
    .all<{ id: string; event_id: string; status: string; payload: string }>();
  return results;
}

async function counters(integrationId: string) {
  return env.DB.prepare(
    "SELECT accepted_count AS accepted, rejected_count AS rejected, failed_count AS failed, last_received_at FROM integrations WHERE id = ?1",
  )
    .bind(integrationId)
    .first<{ accepted: number; rejected: number; failed: number; last_received_at: string | null }>();
}

/** Rows of this workspace in every table a webhook event can write, and its dead letters. */
async function records(): Promise<number> {
  const tables = [
    "accounts",
    "contacts",
    "tickets",
    "survey_responses",
    "feedback_items",
    "opportunities",
    "payments",
    "contracts",
    "email_suppressions",
    "usage_daily",
    "usage_feature_daily",
    "dead_letters",
  ];
  const counts = await env.DB.batch<{ n: number }>(
    tables.map((table) =>
      env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE workspace_id = ?1`).bind(workspaceId),
    ),
  );
  return counts.reduce((total, { results }) => total + (results[0]?.n ?? 0), 0);
}

/** Nothing of the integration's refused deliveries is kept: only the rejected count moves. */
async function expectNothingStored(integrationId: string, rejected: number): Promise<void> {
  expect(await receipts(integrationId)).toEqual([]);
  expect(sent).toEqual([]);
  expect(await records()).toBe(0);
  expect(await counters(integrationId)).toEqual({ accepted: 0, rejected, failed: 0, last_received_at: null });
}

async function expectRefusal(response: Response, status: number, error: string | RegExp): Promise<void> {
  expect(response.status).toBe(status);
  const answer = (await response.json()) as { error: string };
  if (typeof error === "string") expect(answer).toEqual({ error });
  else expect(answer.error).toMatch(error);
}

const MINUTES_6 = 6 * 60_000;

for (const fixture of FIXTURES) {
  describe(`${fixture.provider}: refused deliveries store nothing`, () => {
    it("401 for a forged signature, a body changed after signing, another secret and no signature", async () => {
      const { id, keys, url } = await integrationOf(fixture);
      const { text } = fixture.body("forged");
      const now = clock.now();
      const good = await keys.sign(text, now, url);
      const forged = { ...good, [fixture.signatureHeader]: fixture.forge(good[fixture.signatureHeader]!) };
      expect(forged[fixture.signatureHeader]).not.toBe(good[fixture.signatureHeader]);
      await expectRefusal(await post(url, text, forged), 401, fixture.mismatch);
      await expectRefusal(await post(url, `${text} `, good), 401, fixture.mismatch);
      await expectRefusal(await post(url, text, await keys.signWithOther(text, now, url)), 401, fixture.mismatch);
      const { [fixture.signatureHeader]: _, ...unsigned } = good;
      await expectRefusal(await post(url, text, unsigned), 401, /^missing or malformed /);
      await expectNothingStored(id, 4);
    });

    if (fixture.stale !== null) {
      const stale = fixture.stale;
      it("401 for a signed time more than five minutes old or ahead", async () => {
        const { id, keys, url } = await integrationOf(fixture);
        const { text } = fixture.body("stale");
        const now = clock.now();
        for (const offset of [-MINUTES_6, MINUTES_6]) {
          const headers = await keys.sign(text, new Date(now.getTime() + offset), url);
          await expectRefusal(await post(url, text, headers), 401, stale);
        }
        await expectNothingStored(id, 2);
      });
    }

    it("400 for a verified body that is malformed, recording none of its events", async () => {
      const { id, keys, url } = await integrationOf(fixture);
      for (const malformed of fixture.malformed) {
        const headers = await keys.sign(malformed.body, clock.now(), url);
        for (const name of malformed.without ?? []) delete headers[name];
        const response = await post(url, malformed.body, headers);
        expect(response.status, malformed.name).toBe(400);
        expect(await response.json(), malformed.name).toEqual({ error: malformed.error });
      }
      await expectNothingStored(id, fixture.malformed.length);
    });

    it("413 for a signed body one byte over 1 MiB, by Content-Length and streamed without one", async () => {
      const { id, keys, url } = await integrationOf(fixture);
      const skeleton = fixture.padded("");
      const big = fixture.padded("x".repeat(MAX_BODY_BYTES + 1 - skeleton.length));
      expect(big.length).toBe(MAX_BODY_BYTES + 1);
      const headers = await keys.sign(big, clock.now(), url);
      await expectRefusal(await post(url, big, headers), 413, "body larger than 1048576 bytes");
      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 65_536) controller.enqueue(bytes.subarray(i, i + 65_536));
          controller.close();
        },
      });
      const request = new Request(url, { method: "POST", body: stream, headers });
      expect(request.headers.get("content-length")).toBeNull();
      await expectRefusal(
        await receiveWebhook(env, fixture.provider, id, request),
        413,
        "body larger than 1048576 bytes",
      );
      await expectNothingStored(id, 2);
    });

    it("a replayed delivery stores nothing new: a duplicate, and past the window a stale signature", async () => {
      const { id, keys, url } = await integrationOf(fixture);
      const { text, events } = fixture.body("replayed");
      const headers = await keys.sign(text, clock.now(), url);
      const first = await post(url, text, headers);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ accepted: events, duplicates: 0 });
      const stored = await receipts(id);
      expect(stored.map((row) => row.status)).toEqual(Array(events).fill("queued"));
      const enqueued = [...sent];
      expect(enqueued).toHaveLength(1);
      const after = await counters(id);

      const again = await post(url, text, headers);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ accepted: 0, duplicates: events });
      const later = new Date(clock.now().getTime() + MINUTES_6);
      const replayedLater = await postAt(later, fixture, id, url, text, headers);
      if (fixture.stale === null) {
        // Nothing signed says when: the event id is what refuses a replay, whenever it comes.
        expect(replayedLater.status).toBe(200);
        expect(await replayedLater.json()).toEqual({ accepted: 0, duplicates: events });
      } else {
        await expectRefusal(replayedLater, 401, fixture.stale);
      }
      expect(await receipts(id)).toEqual(stored);
      expect(sent).toEqual(enqueued);
      expect(await counters(id)).toMatchObject({
        accepted: after?.accepted,
        rejected: fixture.stale === null ? 0 : 1,
        failed: 0,
      });
      expect(await records()).toBe(0);
    });
  });
}
