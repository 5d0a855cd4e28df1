import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { EventMessage } from "../../src/ingest/messages";
import { MAX_BODY_BYTES, receiveWebhook } from "../../src/ingest/receiver";
import type { IntegrationProvider } from "../../src/integrations/catalog";
import { createIntegration, d1Runner, rotateIntegration, setIntegrationStatus } from "../../src/integrations/service";
import { clock } from "../../src/platform/lib/clock";
import { createWorkspace, workerFetch } from "../helpers/mcp";
import {
  genericHeaders,
  hubspotHeaders,
  intercomHeaders,
  segmentHeaders,
  sendgridHeaders,
  sendgridKeyPair,
  stripeHeaders,
  unixSeconds,
  zendeskHeaders,
} from "../helpers/webhook-signing";

const settings = () => ({ encryptionKey: env.ENCRYPTION_KEY, publicUrl: env.PUBLIC_URL });
let workspaceId = "";

async function integration(provider: IntegrationProvider, secret?: string): Promise<{ id: string; secret: string }> {
  const reveal = await createIntegration(
    d1Runner(env.DB),
    settings(),
    { workspaceId, provider, name: `${provider} ${crypto.randomUUID()}`, secret },
    clock.now(),
  );
  return { id: reveal.integration.id, secret: reveal.secret ?? "" };
}

function post(provider: string, id: string, body: string, headers: Record<string, string>): Promise<Response> {
  return workerFetch(`/webhooks/${provider}/${id}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

interface ReceiptRow {
  id: string;
  workspace_id: string;
  provider: string;
  event_id: string;
  event_type: string | null;
  payload: string;
  status: string;
  error: string | null;
}

async function receipts(integrationId: string): Promise<ReceiptRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, workspace_id, provider, event_id, event_type, payload, status, error FROM webhook_receipts WHERE integration_id = ?1 ORDER BY event_id",
  )
    .bind(integrationId)
    .all<ReceiptRow>();
  return results;
}

async function counters(integrationId: string) {
  return env.DB.prepare(
    "SELECT accepted_count AS accepted, rejected_count AS rejected, failed_count AS failed, last_received_at FROM integrations WHERE id = ?1",
  )
    .bind(integrationId)
    .first<{ accepted: number; rejected: number; failed: number; last_received_at: string | null }>();
}

/** Messages handed to the events queue in this test (the queue itself is replaced, so no consumer runs). */
let sent: EventMessage[] = [];
let sendBatch: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  ({ workspaceId } = await createWorkspace("webhooks-http"));
});

beforeEach(() => {
  sent = [];
  sendBatch = vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockImplementation(async (messages) => {
    for (const message of messages) sent.push(message.body as EventMessage);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The receipt rows and queue messages of one accepted delivery, compared field by field. */
async function expectRecorded(
  integrationId: string,
  provider: string,
  expected: { event_id: string; event_type: string | null; payload: string }[],
): Promise<void> {
  const rows = await receipts(integrationId);
  expect(
    rows.map(({ event_id, event_type, payload, status, workspace_id, provider: p }) => ({
      event_id,
      event_type,
      payload,
      status,
      workspace_id,
      provider: p,
    })),
  ).toEqual(expected.map((e) => ({ ...e, status: "queued", workspace_id: workspaceId, provider })));
  // One delivery, one message referring to all its new receipts.
  expect(sent.map(({ receiptIds, ...reference }) => ({ ...reference, receipts: receiptIds.length }))).toEqual([
    { type: "webhook", workspaceId, integrationId, provider, receipts: rows.length },
  ]);
  expect(sent[0]?.receiptIds.toSorted()).toEqual(rows.map((row) => row.id).toSorted());
}

describe("signed deliveries per provider", () => {
  it("segment: X-Signature over the raw body, one receipt per messageId", async () => {
    const { id, secret } = await integration("segment");
    const body = JSON.stringify({
      type: "track",
      event: "Report Exported",
      userId: "u_17",
      messageId: "ajs-next-1f2e3d",
      timestamp: "2026-03-02T10:00:00.000Z",
      properties: { feature: "reports" },
      context: { groupId: "acc_ext_1" },
    });
    const response = await post("segment", id, body, await segmentHeaders(secret, body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    await expectRecorded(id, "segment", [{ event_id: "ajs-next-1f2e3d", event_type: "track", payload: body }]);
    expect(await counters(id)).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
  });

  it("segment batch: one message per hundred new receipts", async () => {
    const { id, secret } = await integration("segment");
    const events = Array.from({ length: 150 }, (_, i) => ({
      type: "track",
      event: "Report Exported",
      userId: "u_17",
      messageId: `ajs-batch-${i}`,
      timestamp: "2026-03-02T10:00:00.000Z",
      context: { groupId: "acc_ext_1" },
    }));
    const body = JSON.stringify(events);
    const response = await post("segment", id, body, await segmentHeaders(secret, body));
    expect(await response.json()).toEqual({ accepted: 150, duplicates: 0 });
    expect(sent.map((message) => message.receiptIds.length)).toEqual([100, 50]);
    const ids = sent.flatMap((message) => message.receiptIds);
    expect(new Set(ids).size).toBe(150);
    expect(ids.toSorted()).toEqual((await receipts(id)).map((row) => row.id).toSorted());
  });

  it("zendesk: timestamp + body HMAC-SHA256, keyed by the event id", async () => {
    const { id } = await integration("zendesk", "zendesk-signing-secret-1");
    const body = JSON.stringify({
      type: "zen:event-type:ticket.created",
      account_id: 22129848,
      id: "cbe4028c-7239-495d-b020-f22348516046",
      time: "2026-03-02T10:00:00Z",
      zendesk_event_version: "2022-11-06",
      subject: "zen:ticket:35436",
      detail: { id: "35436", subject: "Export fails", status: "NEW", requester_id: "1" },
      event: {},
    });
    const response = await post("zendesk", id, body, await zendeskHeaders("zendesk-signing-secret-1", body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    await expectRecorded(id, "zendesk", [
      { event_id: "cbe4028c-7239-495d-b020-f22348516046", event_type: "zen:event-type:ticket.created", payload: body },
    ]);
  });

  it("intercom: sha1= signature, keyed by notification id; ping is answered and not stored", async () => {
    const { id } = await integration("intercom", "intercom-client-secret");
    const body = JSON.stringify({
      type: "notification_event",
      app_id: "abc123",
      id: "notif_c6b5e4a0",
      topic: "conversation.user.created",
      created_at: 1772445600,
      data: { item: { type: "conversation", id: "147", source: { body: "<p>Hi</p>" } } },
    });
    const response = await post("intercom", id, body, await intercomHeaders("intercom-client-secret", body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    await expectRecorded(id, "intercom", [
      { event_id: "notif_c6b5e4a0", event_type: "conversation.user.created", payload: body },
    ]);
    sent = [];
    const ping = JSON.stringify({ type: "notification_event", app_id: "abc123", id: "notif_ping", topic: "ping" });
    const pong = await post("intercom", id, ping, await intercomHeaders("intercom-client-secret", ping));
    expect(pong.status).toBe(200);
    expect(await pong.json()).toEqual({ accepted: 0, duplicates: 0 });
    expect((await receipts(id)).map((r) => r.event_id)).toEqual(["notif_c6b5e4a0"]);
    expect(sent).toEqual([]);
  });

  it("hubspot: v3 signature over method + URL + body + timestamp, one receipt per eventId", async () => {
    const { id } = await integration("hubspot", "hubspot-client-secret");
    const events = [
      {
        eventId: 3817263211,
        subscriptionId: 2447,
        portalId: 62515,
        appId: 54321,
        occurredAt: 1772445600000,
        subscriptionType: "contact.creation",
        attemptNumber: 0,
        objectId: 123,
        changeFlag: "NEW",
        changeSource: "CRM",
      },
      {
        eventId: 3817263212,
        subscriptionId: 2448,
        portalId: 62515,
        appId: 54321,
        occurredAt: 1772445601000,
        subscriptionType: "company.propertyChange",
        attemptNumber: 0,
        objectId: 456,
        propertyName: "lifecyclestage",
        propertyValue: "customer",
        changeSource: "CRM",
      },
    ];
    const body = JSON.stringify(events);
    const uri = `http://localhost/webhooks/hubspot/${id}`;
    const response = await post("hubspot", id, body, await hubspotHeaders("hubspot-client-secret", body, uri));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2, duplicates: 0 });
    await expectRecorded(id, "hubspot", [
      { event_id: "3817263211", event_type: "contact.creation", payload: JSON.stringify(events[0]) },
      { event_id: "3817263212", event_type: "company.propertyChange", payload: JSON.stringify(events[1]) },
    ]);
    expect(await counters(id)).toMatchObject({ accepted: 2 });
  });

  it("hubspot: signs against PUBLIC_URL + path + query when a public URL is configured", async () => {
    const { id } = await integration("hubspot", "hubspot-client-secret");
    const body = JSON.stringify([{ eventId: 9, subscriptionType: "deal.creation" }]);
    const publicUri = `https://cs.example.com/webhooks/hubspot/${id}?source=hs:app`;
    const request = new Request(`http://10.0.0.7:8787/webhooks/hubspot/${id}?source=hs%3Aapp`, {
      method: "POST",
      body,
      headers: await hubspotHeaders("hubspot-client-secret", body, publicUri),
    });
    const response = await receiveWebhook({ ...env, PUBLIC_URL: "https://cs.example.com/" }, "hubspot", id, request);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
  });

  it("stripe: t=,v1= header, keyed by the event id", async () => {
    const { id } = await integration("stripe", "whsec_4eC39HqLyjWDarjtT1zdp7dc");
    const body = JSON.stringify({
      id: "evt_1QxYz2LkdIwHu7ix",
      object: "event",
      type: "invoice.payment_failed",
      created: 1772445600,
      data: { object: { id: "in_1", object: "invoice", customer: "cus_9", amount_due: 12000, attempt_count: 1 } },
    });
    const response = await post("stripe", id, body, await stripeHeaders("whsec_4eC39HqLyjWDarjtT1zdp7dc", body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    await expectRecorded(id, "stripe", [
      { event_id: "evt_1QxYz2LkdIwHu7ix", event_type: "invoice.payment_failed", payload: body },
    ]);
  });

  it("stripe: accepts a delivery signed by the stripe package's own test-header helper", async () => {
    const secret = "whsec_fromStripePackage0123";
    const { id } = await integration("stripe", secret);
    const body = JSON.stringify({
      id: "evt_pkg_1",
      object: "event",
      type: "customer.subscription.deleted",
      created: 1,
    });
    const header = await new Stripe("sk_test_unused").webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret,
      cryptoProvider: Stripe.createSubtleCryptoProvider(),
      timestamp: unixSeconds(0),
    });
    const response = await post("stripe", id, body, { "Stripe-Signature": header });
    expect(response.status).toBe(200);
    await expectRecorded(id, "stripe", [
      { event_id: "evt_pkg_1", event_type: "customer.subscription.deleted", payload: body },
    ]);
  });

  it("sendgrid: ECDSA over timestamp + body with the account's public key, one receipt per sg_event_id", async () => {
    const { privateKey, publicKeyBase64 } = await sendgridKeyPair();
    const { id } = await integration("sendgrid", publicKeyBase64);
    const events = [
      {
        email: "ana@acme.test",
        timestamp: 1772445600,
        event: "delivered",
        sg_event_id: "ZGVsaXZlcmVkLTAtMjM",
        sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        outbox_id: "out_1",
      },
      {
        email: "ana@acme.test",
        timestamp: 1772445660,
        event: "bounce",
        sg_event_id: "Ym91bmNlLTAtMjM",
        sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        reason: "550 5.1.1 unknown user",
        type: "bounce",
      },
    ];
    const body = JSON.stringify(events);
    const response = await post("sendgrid", id, body, await sendgridHeaders(privateKey, body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2, duplicates: 0 });
    await expectRecorded(id, "sendgrid", [
      { event_id: "Ym91bmNlLTAtMjM", event_type: "bounce", payload: JSON.stringify(events[1]) },
      { event_id: "ZGVsaXZlcmVkLTAtMjM", event_type: "delivered", payload: JSON.stringify(events[0]) },
    ]);
  });

  it("generic: sha256= over timestamp.body, keyed by id, typed by type", async () => {
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "crm-991", type: "account", data: { external_id: "acme", name: "Acme" } });
    const response = await post("generic", id, body, await genericHeaders(secret, body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    await expectRecorded(id, "generic", [{ event_id: "crm-991", event_type: "account", payload: body }]);
  });

  it("takes the tenant from the integration, never from the payload", async () => {
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "t-1", type: "account", workspace_id: "ws_someone_else", workspaceId: "ws_x" });
    expect((await post("generic", id, body, await genericHeaders(secret, body))).status).toBe(200);
    expect((await receipts(id)).map((r) => r.workspace_id)).toEqual([workspaceId]);
    expect(sent.map((m) => m.workspaceId)).toEqual([workspaceId]);
  });

  it("hands the references to the real events queue", async () => {
    sendBatch.mockRestore();
    const passthrough = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "real-queue-1", type: "account" });
    const response = await post("generic", id, body, await genericHeaders(secret, body));
    expect(response.status).toBe(200);
    const [receipt] = await receipts(id);
    expect(passthrough).toHaveBeenCalledTimes(1);
    expect(passthrough.mock.calls[0]?.[0]).toEqual([
      { body: { type: "webhook", workspaceId, integrationId: id, provider: "generic", receiptIds: [receipt?.id] } },
    ]);
  });
});

describe("refused deliveries store and enqueue nothing", () => {
  async function expectNothing(id: string, rejected: number): Promise<void> {
    expect(await receipts(id)).toEqual([]);
    expect(sent).toEqual([]);
    expect(await counters(id)).toMatchObject({ accepted: 0, rejected, failed: 0 });
  }

  it("401 for a forged signature, a wrong secret and a stale timestamp", async () => {
    const { id, secret } = await integration("stripe", "whsec_realSecret0123456789");
    const body = JSON.stringify({ id: "evt_forged", type: "invoice.paid" });
    const good = (await stripeHeaders(secret, body))["Stripe-Signature"]!;
    const forged = good.replace(/v1=(.)/, (_, c: string) => `v1=${c === "a" ? "b" : "a"}`);
    const attempts: [Record<string, string>, string][] = [
      [{ "Stripe-Signature": forged }, "no v1 signature matches"],
      [await stripeHeaders("whsec_wrongSecret0123456789", body), "no v1 signature matches"],
      [await stripeHeaders(secret, body, unixSeconds(-6 * 60)), "timestamp outside the 300-second tolerance"],
      [{}, "missing or malformed Stripe-Signature header (t=…,v1=…)"],
    ];
    for (const [headers, error] of attempts) {
      const response = await post("stripe", id, body, headers);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error });
    }
    await expectNothing(id, 4);
  });

  it("401 for a stale or future timestamp on the timestamped HMAC schemes", async () => {
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "late", type: "account" });
    for (const offset of [-301, 301]) {
      const response = await post("generic", id, body, await genericHeaders(secret, body, unixSeconds(offset)));
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: "timestamp outside the 5-minute window" });
    }
    const zendesk = await integration("zendesk", "zendesk-signing-secret-2");
    const stale = new Date(clock.now().getTime() - 10 * 60_000).toISOString();
    const response = await post(
      "zendesk",
      zendesk.id,
      body,
      await zendeskHeaders("zendesk-signing-secret-2", body, stale),
    );
    expect(response.status).toBe(401);
    await expectNothing(id, 2);
    await expectNothing(zendesk.id, 1);
  });

  it("404 for an unknown integration, another provider's id and a disabled integration", async () => {
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "e-404", type: "account" });
    const headers = await genericHeaders(secret, body);
    const unknown = await post("generic", "int_doesnotexist", body, headers);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "unknown integration" });
    expect((await post("stripe", id, body, headers)).status).toBe(404);
    expect((await post("slack", id, body, headers)).status).toBe(404);
    await setIntegrationStatus(
      d1Runner(env.DB),
      settings(),
      { workspaceId, integrationId: id, status: "disabled" },
      clock.now(),
    );
    expect((await post("generic", id, body, headers)).status).toBe(404);
    await expectNothing(id, 2);
    const orphans = await env.DB.prepare("SELECT count(*) AS n FROM webhook_receipts WHERE event_id = 'e-404'").first<{
      n: number;
    }>();
    expect(orphans?.n).toBe(0);
  });

  it("413 for a body over 1 MiB, by Content-Length and by the bytes actually read", async () => {
    const { id, secret } = await integration("generic");
    const big = JSON.stringify({ id: "big", type: "account", pad: "x".repeat(MAX_BODY_BYTES) });
    const declared = await post("generic", id, big, await genericHeaders(secret, big));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: "body larger than 1048576 bytes" });
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 65536) controller.enqueue(bytes.subarray(i, i + 65536));
        controller.close();
      },
    });
    const request = new Request(`http://localhost/webhooks/generic/${id}`, {
      method: "POST",
      body: stream,
      headers: await genericHeaders(secret, big),
    });
    expect(request.headers.get("content-length")).toBeNull();
    const streamed = await receiveWebhook(env, "generic", id, request);
    expect(streamed.status).toBe(413);
    await expectNothing(id, 2);
  });

  it("accepts a body of exactly 1 MiB", async () => {
    const { id, secret } = await integration("generic");
    const skeleton = JSON.stringify({ id: "edge", type: "account", pad: "" });
    const body = JSON.stringify({ id: "edge", type: "account", pad: "x".repeat(MAX_BODY_BYTES - skeleton.length) });
    expect(body.length).toBe(MAX_BODY_BYTES);
    const response = await post("generic", id, body, await genericHeaders(secret, body));
    expect(response.status).toBe(200);
    expect((await receipts(id)).map((r) => r.payload.length)).toEqual([MAX_BODY_BYTES]);
  });

  it("401 while an integration awaits the provider's secret", async () => {
    const { id } = await integration("stripe");
    const body = JSON.stringify({ id: "evt_early", type: "invoice.paid" });
    const response = await post("stripe", id, body, await stripeHeaders("whsec_anyGuess0123456789", body));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "the integration has no signing secret yet" });
    await expectNothing(id, 1);
  });

  it("400 for a verified body that is not JSON or has no event id", async () => {
    const { id, secret } = await integration("generic");
    for (const [body, error] of [
      ["not json", "the body is not UTF-8 JSON"],
      [JSON.stringify({ type: "account" }), 'the event has no "id" (a string of 1–255 characters)'],
    ]) {
      const response = await post("generic", id, body!, await genericHeaders(secret, body!));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error });
    }
    await expectNothing(id, 2);
  });
});

describe("at-least-once delivery", () => {
  it("answers a redelivery as a duplicate and records nothing new", async () => {
    const { id, secret } = await integration("segment");
    const body = JSON.stringify({ type: "identify", messageId: "dup-1", userId: "u1", traits: { email: "a@b.test" } });
    const first = await post("segment", id, body, await segmentHeaders(secret, body));
    expect(await first.json()).toEqual({ accepted: 1, duplicates: 0 });
    const again = await post("segment", id, body, await segmentHeaders(secret, body));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 1 });
    expect((await receipts(id)).length).toBe(1);
    expect(sent.length).toBe(1);
    expect(await counters(id)).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
  });

  it("counts a repeated id inside one array body once", async () => {
    const { privateKey, publicKeyBase64 } = await sendgridKeyPair();
    const { id } = await integration("sendgrid", publicKeyBase64);
    const event = { email: "a@b.test", event: "open", sg_event_id: "same-1", timestamp: 1772445600 };
    const body = JSON.stringify([event, event]);
    const response = await post("sendgrid", id, body, await sendgridHeaders(privateKey, body));
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 1 });
    expect((await receipts(id)).length).toBe(1);
    expect(sent.length).toBe(1);
  });

  it("records one receipt and enqueues one message for 10 concurrent deliveries of one event", async () => {
    const { id, secret } = await integration("stripe", "whsec_concurrency0123456789");
    const body = JSON.stringify({ id: "evt_concurrent", type: "customer.subscription.updated" });
    const headers = await stripeHeaders(secret, body);
    const responses = await Promise.all(Array.from({ length: 10 }, () => post("stripe", id, body, headers)));
    const answers = await Promise.all(
      responses.map((r) => r.json() as Promise<{ accepted: number; duplicates: number }>),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(answers.reduce((sum, a) => sum + a.accepted, 0)).toBe(1);
    expect(answers.reduce((sum, a) => sum + a.duplicates, 0)).toBe(9);
    const rows = await receipts(id);
    expect(rows.length).toBe(1);
    expect(sent).toEqual([
      { type: "webhook", workspaceId, integrationId: id, provider: "stripe", receiptIds: [rows[0]!.id] },
    ]);
    expect(await counters(id)).toMatchObject({ accepted: 1 });
  });

  it("answers 500 when enqueueing fails, keeps the receipt queued with the reason, and accepts the provider's retry", async () => {
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "retry-me", type: "account" });
    sendBatch.mockRejectedValueOnce(new Error("Queue send failed: internal error"));
    const failed = await post("generic", id, body, await genericHeaders(secret, body));
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: "the events could not be queued; deliver them again" });
    const [stuck] = await receipts(id);
    expect(stuck).toMatchObject({
      event_id: "retry-me",
      status: "queued",
      error: "not enqueued: Error: Queue send failed: internal error",
    });
    expect(await counters(id)).toMatchObject({ accepted: 0, failed: 1 });
    expect(sent).toEqual([]);

    const retried = await post("generic", id, body, await genericHeaders(secret, body));
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ accepted: 1, duplicates: 0 });
    const [recovered] = await receipts(id);
    expect(recovered).toMatchObject({ event_id: "retry-me", status: "queued", error: null, payload: body });
    expect(recovered!.id).toBe(stuck!.id);
    expect(sent).toEqual([
      { type: "webhook", workspaceId, integrationId: id, provider: "generic", receiptIds: [recovered!.id] },
    ]);
    expect(await counters(id)).toMatchObject({ accepted: 1, failed: 1 });

    const after = await post("generic", id, body, await genericHeaders(secret, body));
    expect(await after.json()).toEqual({ accepted: 0, duplicates: 1 });
    expect(sent.length).toBe(1);
  });
  it("leaves a receipt the consumer failed to its own retries: a redelivery is a duplicate", async () => {
    const { id, secret } = await integration("generic");
    const body = JSON.stringify({ id: "consumer-failed", type: "account" });
    expect((await post("generic", id, body, await genericHeaders(secret, body))).status).toBe(200);
    const [before] = await receipts(id);
    await env.DB.prepare("UPDATE webhook_receipts SET status = 'failed', error = 'account name missing' WHERE id = ?1")
      .bind(before!.id)
      .run();
    const again = await post("generic", id, body, await genericHeaders(secret, body));
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 1 });
    expect(await receipts(id)).toEqual([{ ...before, status: "failed", error: "account name missing" }]);
    expect(sent.length).toBe(1);
  });
});

describe("secret rotation", () => {
  it("keeps the previous secret valid for 24 hours, then only the new one verifies", async () => {
    const { id, secret: oldSecret } = await integration("generic");
    const rotated = await rotateIntegration(
      d1Runner(env.DB),
      settings(),
      { workspaceId, integrationId: id },
      clock.now(),
    );
    const newSecret = rotated!.secret!;
    const send = async (secret: string, eventId: string) => {
      const body = JSON.stringify({ id: eventId, type: "account" });
      return (await post("generic", id, body, await genericHeaders(secret, body))).status;
    };
    expect(await send(oldSecret, "grace-old")).toBe(200);
    expect(await send(newSecret, "grace-new")).toBe(200);
    await env.DB.prepare("UPDATE integrations SET rotated_at = ?2 WHERE id = ?1")
      .bind(id, new Date(clock.now().getTime() - 24 * 3600_000 - 1000).toISOString())
      .run();
    expect(await send(oldSecret, "late-old")).toBe(401);
    expect(await send(newSecret, "late-new")).toBe(200);
  });
});
