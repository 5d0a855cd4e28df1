import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { hubspotSignedUri } from "../../src/integrations/hubspot/receive";
import type { SignedDelivery } from "../../src/integrations/receive";
import { RECEIVERS } from "../../src/integrations/receivers";
import { derToP1363, normalizeSendGridPublicKey } from "../../src/integrations/sendgrid/receive";
import { equalBytes, fromBase64, fromHex } from "../../src/integrations/signing";
import { clock } from "../../src/platform/lib/clock";
import {
  genericHeaders,
  hubspotHeaders,
  intercomHeaders,
  p1363ToDer,
  segmentHeaders,
  sendgridHeaders,
  sendgridKeyPair,
  stripeHeaders,
  unixSeconds,
  zendeskHeaders,
} from "../helpers/webhook-signing";

const encoder = new TextEncoder();
const BODY = '{"id":"evt_1","type":"invoice.paid"}';
/** 2026-01-01T00:00:00Z, the instant the fixed vectors below were signed at. */
const VECTOR_TIME = new Date("2026-01-01T00:00:00Z");

function delivery(
  headers: Record<string, string>,
  body = BODY,
  now = clock.now(),
  url = "https://cs.example.com/x",
): SignedDelivery {
  return { method: "POST", url, headers: new Headers(headers), body: encoder.encode(body), now };
}

describe("byte helpers", () => {
  it("compares bytes exactly and decodes only well-formed hex and base64", () => {
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(fromHex("0aFf")).toEqual(Uint8Array.of(10, 255));
    expect(fromHex("0g")).toBeNull();
    expect(fromHex("abc")).toBeNull();
    expect(fromBase64("AQID")).toEqual(Uint8Array.of(1, 2, 3));
    expect(fromBase64("AQ-_")).toBeNull();
  });
});

describe("fixed vectors computed with openssl", () => {
  // printf '%s' "$T.$BODY" | openssl dgst -sha256 -hmac "$SECRET" (and the like), T=1767225600.
  it("accepts each provider's signature as an independent HMAC implementation computes it", async () => {
    const cases: [keyof typeof RECEIVERS, string, Record<string, string>, string?][] = [
      [
        "stripe",
        "whsec_test_secret_0123456789",
        { "Stripe-Signature": "t=1767225600,v1=86c8d4cf9e4d92c946a8c0744b30959a45e44abae1dd1387de84e1fd530572e9" },
      ],
      [
        "generic",
        "generic-secret-0123456789",
        {
          "X-Webhook-Timestamp": "1767225600",
          "X-Webhook-Signature": "sha256=7a795e160fda6d2ee8ae5aa7687b7537d2a450666587e9b0284f8e00ca73235e",
        },
      ],
      ["segment", "segment-secret-0123456789", { "X-Signature": "af8ec8cd80490f7e4e50e3781809d1144f48dda8" }],
      ["intercom", "intercom-client-secret", { "X-Hub-Signature": "sha1=55234a93fa5695e60c1a47b84195496fe6439c2b" }],
      [
        "zendesk",
        "zendesk-signing-secret",
        {
          "X-Zendesk-Webhook-Signature": "JcKGbKMLCezkqF422QhE3bzenNCjcoTBPnOrRGpdJCA=",
          "X-Zendesk-Webhook-Signature-Timestamp": "2026-01-01T00:00:00Z",
        },
      ],
      [
        "hubspot",
        "hubspot-client-secret",
        {
          "X-HubSpot-Signature-v3": "XWn0yh7B+4gBLdTfQVdoLPtjkXrEtJe5BB1ta1/RRJI=",
          "X-HubSpot-Request-Timestamp": "1767225600000",
        },
        '[{"eventId":1,"subscriptionType":"contact.creation"}]',
      ],
    ];
    for (const [provider, secret, headers, body] of cases) {
      const request = delivery(headers, body, VECTOR_TIME, "https://cs.example.com/webhooks/hubspot/int_abc?x=1");
      expect(await RECEIVERS[provider].verify(request, secret), provider).toEqual({ ok: true });
      expect((await RECEIVERS[provider].verify(request, `${secret}x`)).ok, `${provider} wrong secret`).toBe(false);
    }
  });
});

describe("stripe against the official package", () => {
  const secret = "whsec_test_secret_0123456789";
  const cryptoProvider = Stripe.createSubtleCryptoProvider();
  const stripe = new Stripe("sk_test_unused");

  it("accepts a header made by stripe.webhooks.generateTestHeaderStringAsync", async () => {
    // The package's default timestamp reads the system clock; the suite's clock is pinned.
    const header = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: BODY,
      secret,
      cryptoProvider,
      timestamp: unixSeconds(0),
    });
    expect(await RECEIVERS.stripe.verify(delivery({ "Stripe-Signature": header }), secret)).toEqual({ ok: true });
    expect(
      await RECEIVERS.stripe.verify(delivery({ "Stripe-Signature": header }), "whsec_other_secret_012345"),
    ).toEqual({
      ok: false,
      reason: "no v1 signature matches",
    });
  });

  it("refuses a header the package made for a time outside the tolerance", async () => {
    const header = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: BODY,
      secret,
      cryptoProvider,
      timestamp: unixSeconds(-301),
    });
    expect(await RECEIVERS.stripe.verify(delivery({ "Stripe-Signature": header }), secret)).toEqual({
      ok: false,
      reason: "timestamp outside the 300-second tolerance",
    });
  });

  it("signs the way the package verifies (our test signer agrees with constructEventAsync)", async () => {
    const headers = await stripeHeaders(secret, BODY);
    const event = await stripe.webhooks.constructEventAsync(
      BODY,
      headers["Stripe-Signature"]!,
      secret,
      300,
      cryptoProvider,
      clock.now().getTime(),
    );
    expect(event.id).toBe("evt_1");
  });

  it("accepts any matching v1 among several and ignores v0", async () => {
    const good = (await stripeHeaders(secret, BODY))["Stripe-Signature"]!;
    const [t, v1] = good.split(",");
    const header = `${t},v0=${"0".repeat(64)},v1=${"ab".repeat(32)},${v1}`;
    expect(await RECEIVERS.stripe.verify(delivery({ "Stripe-Signature": header }), secret)).toEqual({ ok: true });
  });
});

describe("timestamp windows and forged signatures", () => {
  it("refuses stale and future timestamps for every scheme that signs one", async () => {
    const stale = unixSeconds(-301);
    const future = unixSeconds(301);
    const refusedStale = [
      ["generic", "generic-secret-0123456789", await genericHeaders("generic-secret-0123456789", BODY, stale)],
      ["generic", "generic-secret-0123456789", await genericHeaders("generic-secret-0123456789", BODY, future)],
      ["stripe", "whsec_abcdefgh12345", await stripeHeaders("whsec_abcdefgh12345", BODY, stale)],
      [
        "zendesk",
        "zendesk-signing-secret",
        await zendeskHeaders("zendesk-signing-secret", BODY, new Date(stale * 1000).toISOString()),
      ],
      [
        "hubspot",
        "hubspot-client-secret",
        await hubspotHeaders("hubspot-client-secret", BODY, "https://cs.example.com/x", stale * 1000),
      ],
    ] as const;
    for (const [provider, secret, headers] of refusedStale) {
      const verdict = await RECEIVERS[provider].verify(delivery(headers), secret);
      expect(verdict.ok, provider).toBe(false);
      expect(verdict.ok ? "" : verdict.reason, provider).toMatch(/timestamp outside/);
    }
  });

  it("accepts a timestamp just inside the window", async () => {
    const headers = await genericHeaders("generic-secret-0123456789", BODY, unixSeconds(-290));
    expect(await RECEIVERS.generic.verify(delivery(headers), "generic-secret-0123456789")).toEqual({ ok: true });
  });

  it("refuses a body changed after signing, and missing or malformed headers", async () => {
    const secret = "segment-secret-0123456789";
    const headers = await segmentHeaders(secret, BODY);
    expect(await RECEIVERS.segment.verify(delivery(headers, `${BODY} `), secret)).toEqual({
      ok: false,
      reason: "signature does not match",
    });
    expect(await RECEIVERS.segment.verify(delivery({}), secret)).toEqual({
      ok: false,
      reason: "missing or malformed X-Signature header",
    });
    expect(await RECEIVERS.intercom.verify(delivery(await segmentHeaders(secret, BODY)), secret)).toEqual({
      ok: false,
      reason: "missing or malformed X-Hub-Signature header (sha1=<hex>)",
    });
    const intercom = await intercomHeaders(secret, BODY);
    const forged = { "X-Hub-Signature": intercom["X-Hub-Signature"]!.replace(/.$/, (c) => (c === "0" ? "1" : "0")) };
    expect((await RECEIVERS.intercom.verify(delivery(forged), secret)).ok).toBe(false);
    expect(await RECEIVERS.generic.verify(delivery({ "X-Webhook-Signature": "sha256=00" }), secret)).toEqual({
      ok: false,
      reason: "missing or malformed X-Webhook-Timestamp header (unix seconds)",
    });
  });
});

describe("hubspot request URI", () => {
  it("decodes exactly the percent-encodings HubSpot lists and leaves the others", () => {
    expect(hubspotSignedUri("https://h.example/w/x?next=a%3Ab%2fc%20d%26e%2A%2c")).toBe(
      "https://h.example/w/x?next=a:b/c%20d%26e*,",
    );
  });

  it("verifies against the decoded URI", async () => {
    const secret = "hubspot-client-secret";
    const body = '[{"eventId":7}]';
    const headers = await hubspotHeaders(secret, body, "https://h.example/w/x?next=a:b");
    const request = delivery(headers, body, clock.now(), "https://h.example/w/x?next=a%3Ab");
    expect(await RECEIVERS.hubspot.verify(request, secret)).toEqual({ ok: true });
    const otherUrl = delivery(headers, body, clock.now(), "https://h.example/w/y?next=a%3Ab");
    expect((await RECEIVERS.hubspot.verify(otherUrl, secret)).ok).toBe(false);
  });
});

describe("sendgrid ECDSA", () => {
  it("converts DER signatures to r||s, padding short integers and dropping sign bytes", () => {
    const r = new Uint8Array(32).fill(0x81);
    const s = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0 : i));
    const raw = Uint8Array.from([...r, ...s]);
    const der = p1363ToDer(raw);
    expect(der[3]).toBe(33); // r gained a 0x00 sign byte
    expect(derToP1363(der)).toEqual(raw);
    expect(derToP1363(der.subarray(0, der.length - 1))).toBeNull();
    expect(derToP1363(Uint8Array.of(0x31, 6, 2, 1, 1, 2, 1, 1))).toBeNull();
  });

  it("verifies a signature over timestamp + body with the account's public key", async () => {
    const { privateKey, publicKeyBase64 } = await sendgridKeyPair();
    const other = await sendgridKeyPair();
    const body = '[{"email":"a@b.test","event":"delivered","sg_event_id":"sg1"}]';
    const headers = await sendgridHeaders(privateKey, body);
    expect(await RECEIVERS.sendgrid.verify(delivery(headers, body), publicKeyBase64)).toEqual({ ok: true });
    expect(await RECEIVERS.sendgrid.verify(delivery(headers, body), other.publicKeyBase64)).toEqual({
      ok: false,
      reason: "signature does not match",
    });
    const stale = await sendgridHeaders(privateKey, body, unixSeconds(-600));
    expect(await RECEIVERS.sendgrid.verify(delivery(stale, body), publicKeyBase64)).toEqual({
      ok: false,
      reason: "timestamp outside the 5-minute window",
    });
  });

  it("accepts the verification key with PEM armour and refuses anything that is not a P-256 key", async () => {
    const { publicKeyBase64 } = await sendgridKeyPair();
    const pem = `-----BEGIN PUBLIC KEY-----\n${publicKeyBase64.slice(0, 40)}\n${publicKeyBase64.slice(40)}\n-----END PUBLIC KEY-----\n`;
    expect(await normalizeSendGridPublicKey(pem)).toBe(publicKeyBase64);
    expect(await normalizeSendGridPublicKey("bm90IGEga2V5")).toBeNull();
    expect(fromBase64(publicKeyBase64)?.length).toBe(91);
  });
});

describe("event extraction", () => {
  const headers = new Headers();
  it("splits array bodies into one event per id and refuses an element without one", () => {
    const body = [
      { eventId: 1, subscriptionType: "contact.creation" },
      { eventId: 2, subscriptionType: "deal.propertyChange", propertyName: "amount" },
    ];
    expect(RECEIVERS.hubspot.events(body, JSON.stringify(body), headers)).toEqual({
      kind: "events",
      events: [
        { eventId: "1", eventType: "contact.creation", payload: '{"eventId":1,"subscriptionType":"contact.creation"}' },
        {
          eventId: "2",
          eventType: "deal.propertyChange",
          payload: '{"eventId":2,"subscriptionType":"deal.propertyChange","propertyName":"amount"}',
        },
      ],
    });
    expect(RECEIVERS.sendgrid.events([{ event: "open" }], "", headers)).toEqual({
      kind: "invalid",
      reason: "element 0 has no usable sg_event_id",
    });
  });

  it("answers Intercom's ping, and keys Zendesk trigger bodies by webhook and invocation", () => {
    expect(RECEIVERS.intercom.events({ type: "notification_event", topic: "ping" }, "", headers)).toEqual({
      kind: "ping",
    });
    const zendesk = new Headers({ "X-Zendesk-Webhook-Id": "wh1", "X-Zendesk-Webhook-Invocation-Id": "77" });
    expect(RECEIVERS.zendesk.events({ ticket: { id: 5 } }, '{"ticket":{"id":5}}', zendesk)).toEqual({
      kind: "events",
      events: [{ eventId: "wh1:77", eventType: null, payload: '{"ticket":{"id":5}}' }],
    });
  });

  it("needs a string id and a type on generic events", () => {
    expect(RECEIVERS.generic.events({ id: 5, type: "account" }, "", headers)).toEqual({
      kind: "invalid",
      reason: 'the event has no "id" (a string of 1–255 characters)',
    });
    expect(RECEIVERS.generic.events({ id: "e1" }, "", headers)).toEqual({
      kind: "invalid",
      reason: 'the event has no "type" (a non-empty string)',
    });
  });
});
