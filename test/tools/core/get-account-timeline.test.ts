import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk } from "../../helpers/mcp";
import { seedReadWorkspace } from "./read-fixture";

let client: Client;

beforeAll(async () => {
  client = await seedReadWorkspace();
});

describe("get_account_timeline", () => {
  interface Entry {
    at: string;
    kind: string;
    summary: string;
    ref_id: string;
    details: Record<string, unknown>;
    customer_text?: Record<string, string>;
  }
  interface TimelinePage {
    account_id: string;
    entries: Entry[];
    next_cursor: string | null;
  }

  const EXPECTED: [string, string, string][] = [
    ["2026-01-17T12:00:00Z", "milestone_completed", "ms_cr_71"],
    ["2026-01-16T10:00:00.000Z", "task_completed", "tsk_cr_71"],
    ["2026-01-15", "health_band_change", "2026-01-15"],
    ["2026-01-14T10:00:00Z", "email", "obx_cr_71"],
    ["2026-01-13T09:00:00Z", "activity", "act_cr_72"],
    ["2026-01-12T15:00:00Z", "activity", "act_cr_71"],
    ["2026-01-12", "usage_week", "2026-01-12"],
    ["2026-01-10T08:00:00Z", "survey_response", "srv_cr_71"],
    ["2026-01-09T16:00:00Z", "ticket_solved", "tkt_cr_71"],
    ["2026-01-08T10:00:00Z", "ticket_opened", "tkt_cr_71"],
    ["2026-01-07T11:00:00.000Z", "task_created", "tsk_cr_71"],
    ["2026-01-06T12:00:00Z", "feedback", "fb_cr_71"],
    ["2026-01-05T09:00:00Z", "stage_change", "sh_cr_71"],
    ["2026-01-05", "usage_week", "2026-01-05"],
    ["2026-01-05", "contract_started", "ctr_cr_71"],
    ["2026-01-04", "health_band_change", "2026-01-04"],
    ["2026-01-04", "contract_ended", "ctr_cr_70"],
    ["2025-01-05", "contract_started", "ctr_cr_70"],
  ];
  const key = (e: Entry) => [e.at, e.kind, e.ref_id];

  it("lists everything newest first with our summaries and customer text kept apart", async () => {
    const page = await callOk<TimelinePage>(client, "get_account_timeline", { account_id: "acc_cr_7", limit: 200 });
    expect(page.entries.map(key)).toEqual(EXPECTED);
    expect(page.next_cursor).toBeNull();
    const byKey = new Map(page.entries.map((e) => [`${e.kind}:${e.ref_id}`, e]));
    expect(byKey.get("usage_week:2026-01-05")!.summary).toBe(
      "Usage week of 2026-01-05 (2026-W02): 30 events, 8 sessions, avg 3 daily active users over 2 day(s) with data.",
    );
    expect(byKey.get("usage_week:2026-01-12")!.details).toEqual({
      events: 20,
      sessions: 3,
      active_user_days: 4,
      days: 2,
    });
    expect(byKey.get("ticket_solved:tkt_cr_71")).toMatchObject({
      summary: "Ticket solved after 30 h: priority high, CSAT 5.",
      customer_text: { subject: "Login loop" },
    });
    expect(byKey.get("survey_response:srv_cr_71")).toMatchObject({
      summary: "NPS response: score 3 (detractor).",
      customer_text: { comment: "Too slow" },
    });
    expect(byKey.get("activity:act_cr_72")).toMatchObject({
      summary: "email (inbound) logged; subject in customer_text.",
      customer_text: { subject: "Question about SSO" },
    });
    expect(byKey.get("activity:act_cr_71")!.summary).toBe('call (outbound) logged: "Kickoff call".');
    expect(byKey.get("health_band_change:2026-01-15")!.summary).toBe("Health band yellow → green (score 72).");
    expect(byKey.get("health_band_change:2026-01-04")!.summary).toBe("First health score: 55 (yellow).");
    expect(byKey.get("contract_ended:ctr_cr_70")!.summary).toBe(
      "Contract ctr_cr_70 ended: status ended, outcome renewed, ARR 140000.",
    );
    for (const entry of page.entries) {
      for (const text of Object.values(entry.customer_text ?? {})) expect(entry.summary).not.toContain(text);
    }
  });

  it("filters by kinds and by a since/until window", async () => {
    const kinds = await callOk<TimelinePage>(client, "get_account_timeline", {
      account_id: "acc_cr_7",
      kinds: ["health_band_change", "contract_ended"],
    });
    expect(kinds.entries.map(key)).toEqual([
      ["2026-01-15", "health_band_change", "2026-01-15"],
      ["2026-01-04", "health_band_change", "2026-01-04"],
      ["2026-01-04", "contract_ended", "ctr_cr_70"],
    ]);
    const window = await callOk<TimelinePage>(client, "get_account_timeline", {
      account_id: "acc_cr_7",
      since: "2026-01-10",
      until: "2026-01-14",
    });
    expect(window.entries.map(key)).toEqual(EXPECTED.slice(3, 8));
  });

  it("takes the account's id in the source CRM as well as its own id", async () => {
    const byId = await callOk<TimelinePage>(client, "get_account_timeline", { account_id: "acc_cr_1" });
    const byCrmId = await callOk<TimelinePage>(client, "get_account_timeline", { account_id: "crm-orbit" });
    expect(byCrmId).toEqual(byId);
    expect(byCrmId.account_id).toBe("acc_cr_1");
  });

  it("paginates with ties on the same instant split across pages", async () => {
    for (const limit of [1, 5, 13]) {
      const seen: [string, string, string][] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: TimelinePage = await callOk<TimelinePage>(client, "get_account_timeline", {
          account_id: "acc_cr_7",
          limit,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.entries.length).toBeLessThanOrEqual(limit);
        seen.push(...page.entries.map((e) => key(e) as [string, string, string]));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 30);
      expect(seen, `limit ${limit}`).toEqual(EXPECTED);
      expect(pages).toBe(Math.ceil(EXPECTED.length / limit));
    }
  });

  it("refuses another workspace's account and a cursor of another listing", async () => {
    expect(await callError(client, "get_account_timeline", { account_id: "acc_cro_1" })).toContain("No account");
    const first = await callOk<TimelinePage>(client, "get_account_timeline", { account_id: "acc_cr_7", limit: 2 });
    expect(
      await callError(client, "get_account_timeline", {
        account_id: "acc_cr_7",
        kinds: ["email"],
        cursor: first.next_cursor,
      }),
    ).toContain("other filters or sort");
  });
});
