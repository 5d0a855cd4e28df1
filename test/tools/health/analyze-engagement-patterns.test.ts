import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";
import { fixtureDates } from "../../helpers/time";
import { usageFixtures } from "../../helpers/usage-fixtures";

const WS = "ws_healthengage";
const OTHER_WS = "ws_healthengage-other";

let client: Client;
const { account } = usageFixtures(WS);

function usage(accountId: string, day: string, events: number) {
  return insert("usage_daily", { workspace_id: WS, account_id: accountId, day, active_users: 1, events, sessions: 1 });
}

function contact(id: string, name: string, extra: Record<string, string | number | null>) {
  return insert("contacts", { id, workspace_id: WS, account_id: "e1", name, email: `${id}@e1.test`, ...extra });
}

function email(id: string, createdAt: string, status: string, extra: Record<string, string | null> = {}) {
  return insert("outbox_messages", {
    id,
    workspace_id: WS,
    idempotency_key: id,
    account_id: "e1",
    to_email: "x@e1.test",
    subject: "Hi",
    body_text: "Hello",
    status,
    created_at: createdAt,
    ...extra,
  });
}

let n = 0;
function activity(kind: string, direction: string | null, occurredAt: string, contactId: string | null = null) {
  n += 1;
  return insert("activities", {
    id: `act_${n}`,
    workspace_id: WS,
    account_id: "e1",
    contact_id: contactId,
    kind,
    direction,
    subject: `${kind} ${n}`,
    occurred_at: occurredAt,
  });
}

// Fixture dates were written for a suite running on 2026-11-20; at() moves them by whole weeks.
const at = fixtureDates("2026-11-20");
const today = isoDay(clock.now());
const ago = (days: number) => `${addDays(today, -days)}T12:00:00.000Z`;

interface EngagementOut {
  account_id: string;
  contact_id: string | null;
  window: { from: string; to: string; days: number };
  email: Record<string, number | string | null>;
  meetings: Record<string, number | string | null>;
  channels: { channel: string; outbound: number; inbound: number; responses: number; response_rate: number | null }[];
  best_channel: { channel: string; outbound: number; inbound: number; responses: number; response_rate: number } | null;
  usage_weekdays: { weekday: string; events: number; days_with_data: number; share: number | null }[];
  usage_events: number;
  quiet: { quiet_days: number; since: string; checked: number; contacts: { contact_id: string; name: string }[] };
}

// Window: 14 days ending 2026-03-08 → 2026-02-23 .. 2026-03-08 (timestamps before 2026-03-09).
const TO = at("2026-03-08");

beforeAll(async () => {
  const { key } = await createWorkspace("healthengage", "viewer");
  await createWorkspace("healthengage-other");
  await env.DB.batch([
    account("e1", "smb"),
    account("ex", "smb", "active", {}, OTHER_WS),
    insert("contacts", { id: "cx", workspace_id: OTHER_WS, account_id: "ex", name: "Other" }),
    // Champions/decision makers: Ann (quiet: last activity 40 days ago), Bob (seen 5 days ago),
    // Cid (call 10 days ago), Fay (role decision_maker, seen 60 days ago: quiet); Dee left; Eve is a user.
    contact("c1", "Ann", { is_champion: 1 }),
    contact("c2", "Bob", { is_decision_maker: 1, last_seen_at: ago(5) }),
    contact("c3", "Cid", { is_champion: 1 }),
    contact("c4", "Dee", { is_champion: 1, left_at: ago(100) }),
    contact("c5", "Eve", { role: "user" }),
    contact("c6", "Fay", { role: "decision_maker", last_seen_at: ago(60) }),
    activity("note", null, ago(40), "c1"),
    activity("call", "outbound", ago(10), "c3"),
    // Outbox: sent = m1, m2, m3, m4, m8 (5); opened m1, m2, m3, m8 (a click counts) = 4; clicked m2, m8 = 2.
    email("m1", at("2026-02-24T08:00:00.000Z"), "delivered", {
      contact_id: "c1",
      opened_at: at("2026-02-24T09:15:00.000Z"),
    }),
    email("m2", at("2026-02-26T08:00:00.000Z"), "clicked", {
      opened_at: at("2026-02-26T09:40:00.000Z"),
      clicked_at: at("2026-02-26T09:41:00.000Z"),
    }),
    email("m3", at("2026-03-03T08:00:00.000Z"), "opened", { opened_at: at("2026-03-03T14:00:00.000Z") }),
    email("m4", at("2026-03-04T08:00:00.000Z"), "sent"),
    email("m5", at("2026-03-04T09:00:00.000Z"), "bounced"),
    email("m6", at("2026-03-05T09:00:00.000Z"), "queued"),
    email("m7", at("2026-03-09T00:00:00.000Z"), "delivered", { opened_at: at("2026-03-09T01:00:00.000Z") }),
    email("m8", at("2026-03-01T08:00:00.000Z"), "clicked", { clicked_at: at("2026-03-01T10:00:00.000Z") }),
    // Replies 2 (one from Ann), logged outbound email 1; meetings/calls 02-23, 02-27, 03-05, 03-07.
    activity("email", "inbound", at("2026-02-25T10:00:00.000Z"), "c1"),
    activity("email", "inbound", at("2026-03-04T10:00:00.000Z")),
    activity("email", "outbound", at("2026-02-24T10:00:00.000Z")),
    activity("meeting", null, at("2026-02-23T10:00:00.000Z")),
    activity("call", "outbound", at("2026-02-27T10:00:00.000Z")),
    activity("meeting", null, at("2026-03-05T10:00:00.000Z")),
    activity("call", "inbound", at("2026-03-07T10:00:00.000Z")),
    activity("note", null, at("2026-01-01T10:00:00.000Z")),
    // Usage: Mon 02-23 30 + Mon 03-02 10, Wed 02-25 40, Sun 03-08 20 = 100; Sun 02-22 is before the window.
    usage("e1", at("2026-02-23"), 30),
    usage("e1", at("2026-03-02"), 10),
    usage("e1", at("2026-02-25"), 40),
    usage("e1", at("2026-03-08"), 20),
    usage("e1", at("2026-02-22"), 999),
  ]);
  client = await connectClient(key, "?toolsets=health");
});

describe("analyze_engagement_patterns", () => {
  it("computes email rates, cadence, weekday shares, best channel and quiet champions", async () => {
    const out = await callOk<EngagementOut>(client, "analyze_engagement_patterns", {
      account_id: "e1",
      days: 14,
      to: TO,
    });
    expect(out.window).toEqual({ from: at("2026-02-23"), to: TO, days: 14 });
    expect(out.email).toEqual({
      messages: 7, // m1–m6, m8 (m7 after the window)
      sent: 5,
      opened: 4,
      clicked: 2,
      bounced: 1,
      open_rate: 0.8, // 4 / 5
      click_rate: 0.4, // 2 / 5
      inbound: 2,
      // The 02-25 reply answers the email logged 02-24 10:00, the 03-04 one m4 (03-04 08:00).
      replies: 2,
      logged_outbound: 1,
      reply_rate: 0.3333, // 2 / (5 + 1)
      opens_with_time: 3, // m1 Tue 09h, m2 Thu 09h, m3 Tue 14h
      top_open_weekday: "Tue",
      top_open_hour_utc: 9,
    });
    expect(out.meetings).toEqual({
      meetings: 2,
      calls: 2,
      first_at: at("2026-02-23T10:00:00.000Z"),
      last_at: at("2026-03-07T10:00:00.000Z"),
      mean_days_between: 4, // 02-23 → 03-07 = 12 days over 3 gaps
    });
    // The inbound call (03-07) comes 8 days after the outbound one (02-27): not an answer.
    expect(out.channels).toEqual([
      { channel: "email", outbound: 6, inbound: 2, responses: 2, response_rate: 0.3333 },
      { channel: "call", outbound: 1, inbound: 1, responses: 0, response_rate: 0 },
    ]);
    expect(out.best_channel).toEqual({
      channel: "email",
      outbound: 6,
      inbound: 2,
      responses: 2,
      response_rate: 0.3333,
    });
    expect(out.usage_events).toBe(100);
    expect(out.usage_weekdays.map((w) => [w.weekday, w.events, w.days_with_data, w.share])).toEqual([
      ["Mon", 40, 2, 0.4],
      ["Tue", 0, 0, 0],
      ["Wed", 40, 1, 0.4],
      ["Thu", 0, 0, 0],
      ["Fri", 0, 0, 0],
      ["Sat", 0, 0, 0],
      ["Sun", 20, 1, 0.2],
    ]);
    expect(out.quiet.checked).toBe(4); // Ann, Bob, Cid, Fay
    expect(out.quiet.since).toBe(addDays(today, -30));
    expect(out.quiet.contacts.map((c) => c.name)).toEqual(["Ann", "Fay"]);
  });

  it("takes the account's id in the source CRM as well as its own id", async () => {
    await env.DB.prepare("UPDATE accounts SET external_id = 'crm-e1' WHERE id = 'e1'").run();
    const args = { days: 14, to: TO };
    const byId = await callOk<EngagementOut>(client, "analyze_engagement_patterns", { ...args, account_id: "e1" });
    const byCrmId = await callOk<EngagementOut>(client, "analyze_engagement_patterns", {
      ...args,
      account_id: "crm-e1",
    });
    expect(byCrmId).toEqual(byId);
    const withContact = { ...args, account_id: "crm-e1", contact_id: "c1" };
    expect((await callOk<EngagementOut>(client, "analyze_engagement_patterns", withContact)).account_id).toBe("e1");
  });

  it("narrows emails, activities and quiet checks to one contact", async () => {
    const out = await callOk<EngagementOut>(client, "analyze_engagement_patterns", {
      contact_id: "c1",
      days: 14,
      to: TO,
    });
    expect(out.account_id).toBe("e1");
    expect(out.contact_id).toBe("c1");
    expect(out.email).toMatchObject({ sent: 1, opened: 1, open_rate: 1, replies: 1, reply_rate: 1 });
    expect(out.best_channel).toEqual({ channel: "email", outbound: 1, inbound: 1, responses: 1, response_rate: 1 });
    expect(out.quiet.checked).toBe(1);
    expect(out.quiet.contacts.map((c) => c.contact_id)).toEqual(["c1"]);
    // A longer quiet threshold: Ann's note 40 days ago counts, so she is not quiet.
    const relaxed = await callOk<EngagementOut>(client, "analyze_engagement_patterns", {
      contact_id: "c1",
      quiet_days: 45,
    });
    expect(relaxed.quiet.contacts).toEqual([]);
  });

  it("reads other workspaces' records as missing and refuses bad input", async () => {
    expect(await callError(client, "analyze_engagement_patterns", { account_id: "ex" })).toContain("No account");
    expect(await callError(client, "analyze_engagement_patterns", { contact_id: "cx" })).toContain("No contact");
    await callError(client, "analyze_engagement_patterns", {});
    await callError(client, "analyze_engagement_patterns", { account_id: "e1", days: 0 });
    await callError(client, "analyze_engagement_patterns", { account_id: "e1", quiet_days: 0 });
    await callError(client, "analyze_engagement_patterns", { account_id: "ex", contact_id: "c1" });
  });
});
