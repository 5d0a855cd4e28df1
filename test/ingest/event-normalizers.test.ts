import { describe, expect, it } from "vitest";
import { domainAt, instantAt } from "../../src/ingest/read";
import { PayloadError } from "../../src/ingest/records";
import { normalizeGeneric } from "../../src/integrations/generic/normalize";
import { normalizeHubspot } from "../../src/integrations/hubspot/normalize";
import { normalizeIntercom, textOfHtml } from "../../src/integrations/intercom/normalize";
import { normalizeSegment } from "../../src/integrations/segment/normalize";
import { normalizeSendgrid } from "../../src/integrations/sendgrid/normalize";
import { majorUnits, normalizeStripe } from "../../src/integrations/stripe/normalize";
import { normalizeZendesk } from "../../src/integrations/zendesk/normalize";

const context = { receivedAt: "2026-05-01T12:00:00.000Z", eventType: null };

describe("Segment normalizer", () => {
  it("maps a page without a name to its category and an anonymous user", () => {
    expect(
      normalizeSegment(
        {
          type: "page",
          anonymousId: "anon-1",
          category: "Docs",
          properties: { groupId: "org-1" },
          originalTimestamp: "2026-05-01T08:00:00+02:00",
        },
        context,
      ),
    ).toEqual([
      {
        kind: "usage_event",
        occurredAt: "2026-05-01T06:00:00.000Z",
        feature: "Docs",
        userRef: "anon-1",
        account: [{ by: "external_id", value: "org-1" }],
      },
    ]);
  });

  it("names a group by its id only when it is created, and ignores aliases and anonymous identifies", () => {
    expect(normalizeSegment({ type: "group", groupId: "org-2", traits: { employees: 12.5 } }, context)).toEqual([
      {
        kind: "row",
        table: "accounts",
        externalId: "org-2",
        columns: { name: { value: "org-2", merge: "insert" } },
        sourceUpdatedAt: context.receivedAt,
        label: "Segment group org-2",
      },
    ]);
    expect(normalizeSegment({ type: "alias", userId: "a", previousId: "b" }, context)).toEqual([]);
    expect(normalizeSegment({ type: "identify", anonymousId: "x", traits: { email: "a@b.example" } }, context)).toEqual(
      [],
    );
  });

  it("refuses messages it cannot read", () => {
    expect(() => normalizeSegment([], context)).toThrow(PayloadError);
    expect(() => normalizeSegment({ type: "track", userId: "u" }, context)).toThrow("needs an event name");
    expect(() => normalizeSegment({ type: "teleport" }, context)).toThrow('unknown Segment message type "teleport"');
  });
});

describe("Zendesk normalizer", () => {
  it("ignores non-ticket events and maps hold to pending without touching solved_at", () => {
    expect(normalizeZendesk({ type: "zen:event-type:user.created", detail: { id: "1" } }, context)).toEqual([]);
    const [change] = normalizeZendesk(
      {
        type: "zen:event-type:ticket.status_changed",
        time: "2026-05-02T10:00:00Z",
        detail: { id: "7", status: "HOLD" },
      },
      context,
    );
    expect(change).toMatchObject({
      externalId: "zendesk-7",
      columns: { status: { value: "pending", merge: "latest" } },
      sourceUpdatedAt: "2026-05-02T10:00:00.000Z",
    });
    expect(change && "columns" in change ? change.columns.solved_at : "missing").toBeUndefined();
  });

  it("reads numeric CSAT and skips offered ratings", () => {
    const rated = normalizeZendesk({ ticket: { id: "9", satisfaction: { rating: "4" } } }, context);
    expect(
      rated.map((c) => (c.kind === "row" ? [c.table, c.columns.score?.value ?? c.columns.csat_score?.value] : null)),
    ).toEqual([
      ["tickets", 4],
      ["survey_responses", 4],
    ]);
    expect(normalizeZendesk({ ticket: { id: "9", satisfaction: { rating: "Offered" } } }, context)).toHaveLength(1);
    expect(() => normalizeZendesk({ hello: 1 }, context)).toThrow(PayloadError);
  });
});

describe("Intercom normalizer", () => {
  it("derives a subject from the first part's HTML and ignores pings", () => {
    expect(textOfHtml("<p>Line&nbsp;one</p><p>&lt;two&gt; &amp; three</p>")).toBe("Line one <two> & three");
    expect(normalizeIntercom({ type: "notification_event", topic: "ping", data: { item: {} } }, context)).toEqual([]);
  });
});

describe("HubSpot normalizer", () => {
  it("maps name parts, stages and dates; ignores removed associations and unknown properties", () => {
    const base = { occurredAt: Date.parse("2026-05-05T09:00:00Z"), objectId: 5 };
    expect(
      normalizeHubspot({
        ...base,
        subscriptionType: "contact.propertyChange",
        propertyName: "lastname",
        propertyValue: "Ng",
      }),
    ).toEqual([
      {
        kind: "row",
        table: "contacts",
        externalId: "hubspot-contact-5",
        columns: { name: { value: "Ng", merge: "last_name" } },
        sourceUpdatedAt: "2026-05-05T09:00:00.000Z",
        label: "HubSpot contact 5",
      },
    ]);
    const [stage] = normalizeHubspot({
      ...base,
      subscriptionType: "deal.propertyChange",
      propertyName: "dealstage",
      propertyValue: "closedlost",
    });
    expect(stage?.kind === "row" ? [stage.columns.stage?.value, stage.columns.status?.value] : null).toEqual([
      "closedlost",
      "lost",
    ]);
    const [close] = normalizeHubspot({
      ...base,
      subscriptionType: "deal.propertyChange",
      propertyName: "closedate",
      propertyValue: "2026-07-31T00:00:00Z",
    });
    expect(close?.kind === "row" ? close.columns.close_date?.value : null).toBe("2026-07-31");
    expect(
      normalizeHubspot({
        ...base,
        subscriptionType: "deal.associationChange",
        fromObjectId: 5,
        toObjectId: 6,
        associationType: "DEAL_TO_COMPANY",
        associationRemoved: true,
      }),
    ).toEqual([]);
    expect(
      normalizeHubspot({
        ...base,
        subscriptionType: "company.propertyChange",
        propertyName: "hs_lead_status",
        propertyValue: "x",
      }),
    ).toEqual([]);
    expect(() => normalizeHubspot({ subscriptionType: "company.creation", objectId: 1 })).toThrow("needs occurredAt");
  });
});

describe("Stripe normalizer", () => {
  it("converts minor units by currency and prices yearly plans", () => {
    expect(majorUnits(123456, "usd")).toBe(1234.56);
    expect(majorUnits(7000, "JPY")).toBe(7000);
    const [change] = normalizeStripe({
      id: "evt",
      type: "customer.subscription.updated",
      created: Date.parse("2026-05-07T00:00:00Z") / 1000,
      data: {
        object: {
          id: "sub_y",
          customer: "cus_y",
          status: "incomplete_expired",
          current_period_end: Date.parse("2027-05-07T00:00:00Z") / 1000,
          plan: { amount: 990000, interval: "year", interval_count: 1, currency: "usd" },
          quantity: 2,
        },
      },
    });
    expect(change?.kind === "row" ? change.columns : null).toEqual({
      end_date: { value: "2027-05-07", merge: "latest" },
      status: { value: "ended", merge: "latest" },
      arr: { value: 19800, merge: "latest" },
    });
    expect(normalizeStripe({ id: "evt", type: "charge.refunded", created: 1, data: { object: {} } })).toEqual([]);
  });
});

describe("SendGrid normalizer", () => {
  it("suppresses permanent bounces and drops by reason, not blocks", () => {
    const event = { email: "A@B.example", timestamp: 1777000000, sg_message_id: "abc.filter.1" };
    const one = (extra: object) => normalizeSendgrid({ ...event, ...extra }, context)[0];
    expect(one({ event: "bounce", type: "blocked" })).toMatchObject({
      status: "bounced",
      suppression: null,
      email: "a@b.example",
      providerMessageId: "abc",
    });
    expect(one({ event: "dropped", reason: "Bounced Address" })).toMatchObject({
      status: "bounced",
      suppression: "bounce",
    });
    expect(one({ event: "dropped", reason: "Spam Reporting Address" })).toMatchObject({
      status: null,
      suppression: "spam_report",
    });
    expect(normalizeSendgrid({ ...event, event: "dropped", reason: "Invalid SMTPAPI header" }, context)).toEqual([]);
    expect(normalizeSendgrid({ ...event, event: "deferred" }, context)).toEqual([]);
    expect(one({ event: "group_unsubscribe", custom_args: { outbox_id: "obx_1" } })).toMatchObject({
      outboxId: "obx_1",
      suppression: "unsubscribe",
    });
  });
});

describe("generic normalizer", () => {
  it("reports schema problems without echoing values, and refuses unknown types and bad times", () => {
    expect(() =>
      normalizeGeneric({ id: "1", type: "account", data: { external_id: "a", employees: "many" } }, context),
    ).toThrow("invalid account data: name required; employees must be a whole number");
    expect(() => normalizeGeneric({ id: "1", type: "invoice", data: {} }, context)).toThrow(
      'unknown generic event type "invoice"',
    );
    expect(() => normalizeGeneric({ id: "1", type: "account", occurred_at: "yesterday", data: {} }, context)).toThrow(
      "occurred_at",
    );
  });

  it("clears a reference given as null and keeps fields left out", () => {
    expect(
      normalizeGeneric(
        {
          id: "1",
          type: "contact",
          occurred_at: "2026-05-05T10:00:00Z",
          data: { external_id: "c", name: "C", account_external_id: null },
        },
        context,
      ),
    ).toEqual([
      {
        kind: "row",
        table: "contacts",
        externalId: "c",
        columns: { name: { value: "C", merge: "latest" }, account_id: { value: null, merge: "latest" } },
        sourceUpdatedAt: "2026-05-05T10:00:00.000Z",
        referencesRequired: true,
        label: "contact c",
      },
    ]);
  });
});

describe("readers", () => {
  it("reduce websites to bare domains and read zoned instants only", () => {
    expect(domainAt("https://www.Acme.example:8443/path?q=1")).toBe("acme.example");
    expect(domainAt("localhost")).toBeUndefined();
    expect(instantAt("2026-05-01T10:00:00")).toBeUndefined();
    expect(instantAt("2026-05-01")).toBe("2026-05-01T00:00:00.000Z");
  });
});
