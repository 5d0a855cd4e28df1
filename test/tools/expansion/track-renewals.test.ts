import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { handleRenewalReminders, renewalReminders } from "../../../src/tools/expansion/jobs";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_renewals";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);
const settingsJson = {
  email_sender: { name: "Vendor CS", email: "cs@vendor.test" },
  renewal_reminders: { by_tier: { "Tier 1": [150, 60, 14] } },
};

const contract = (id: string, accountId: string, endOffset: number, arr: number, extra = {}) =>
  insert("contracts", {
    id,
    workspace_id: WS,
    account_id: accountId,
    start_date: day(endOffset - 365),
    end_date: day(endOffset),
    arr,
    ...extra,
  });

interface Reminder {
  reminder_id: string;
  offset_days: number;
  due_day: string;
  status: string;
  sent_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  note: string | null;
}
interface Renewal {
  contract_id: string;
  account_name: string;
  renewal_date: string;
  days_left: number;
  arr: number;
  auto_renew: boolean;
  owner_user_id: string | null;
  owner_name: string | null;
  tier: string | null;
  health_score: number | null;
  health_band: string | null;
  churn_probability: number | null;
  renewal_opportunity: { opportunity_id: string; stage: string; amount: number; close_date: string | null } | null;
  reminder_offsets_days: number[];
  reminders: Reminder[];
  next_reminder: { offset_days: number; due_day: string; pending: boolean } | null;
}
interface ListAnswer {
  window: { from: string; to: string; window_days: number };
  contracts_counted: number;
  arr_renewing: number;
  renewals: Renewal[];
  next_cursor: string | null;
}

let viewer: Client;
let csm: Client;
let csmUser: string;

beforeAll(async () => {
  const v = await createWorkspace("renewals", "viewer");
  const c = await createWorkspace("renewals", "csm");
  csmUser = c.userId;
  viewer = await connectClient(v.key, "?toolsets=expansion");
  csm = await connectClient(c.key, "?toolsets=expansion");
  await env.DB.batch([
    env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1").bind(WS, JSON.stringify(settingsJson)),
    insert("users", {
      id: "usr_rn_casey",
      workspace_id: WS,
      email: "casey@vendor.test",
      name: "Casey Morgan",
      role: "csm",
    }),
    insert("accounts", {
      id: "ra1",
      workspace_id: WS,
      name: "Alpha",
      segment: "SMB",
      owner_user_id: "usr_rn_casey",
      health_score: 55,
      health_band: "yellow",
      churn_probability: 0.25,
    }),
    insert("accounts", {
      id: "ra2",
      workspace_id: WS,
      name: "Beta",
      tier: "Tier 1",
      segment: "Enterprise",
      owner_user_id: c.userId,
      health_score: 82,
      health_band: "green",
      churn_probability: 0.05,
    }),
    insert("accounts", { id: "ra3", workspace_id: WS, name: "Gamma", status: "churned" }),
    contract("rc1", "ra1", 20, 12_000),
    contract("rc2", "ra2", 100, 50_000, { auto_renew: 1 }),
    contract("rc3", "ra1", 130, 3_000),
    // Not open renewals: a churned account, an outcome recorded early.
    contract("rc4", "ra3", 30, 8_000),
    contract("rc5", "ra1", 50, 4_000, { outcome: "renewed", outcome_date: today }),
    insert("opportunities", {
      id: "ro1",
      workspace_id: WS,
      account_id: "ra2",
      name: "Beta renewal",
      kind: "renewal",
      stage: "negotiation",
      amount: 52_000,
      close_date: day(90),
    }),
    insert("opportunities", {
      id: "ro2",
      workspace_id: WS,
      account_id: "ra2",
      name: "Beta upsell",
      kind: "upsell",
      stage: "identified",
      amount: 9_000,
    }),
  ]);
  // Today's reminders: the cron queues the chunk, the consumer sends it.
  const chunks: { workspaceId: string; day: string; reminderIds: string[] }[] = [];
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockResolvedValue(undefined as never);
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "sendBatch").mockImplementation(async (messages) => {
    for (const m of messages) chunks.push(m.body as { workspaceId: string; day: string; reminderIds: string[] });
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
  await renewalReminders.run(env, clock.now());
  const failures = await handleRenewalReminders(
    env,
    chunks.filter((c) => c.workspaceId === WS).map((c, i) => ({ messageId: `m${i}`, ...c })),
  );
  expect(failures.size).toBe(0);
  vi.restoreAllMocks();
});

afterEach(() => vi.restoreAllMocks());

describe("track_renewals", () => {
  it("lists open renewals in the window with days left, health, churn, opportunity and reminder status", async () => {
    const answer = await callOk<ListAnswer>(viewer, "track_renewals", {});
    expect(answer.window).toEqual({ from: today, to: day(120), window_days: 120 });
    expect(answer.contracts_counted).toBe(2);
    expect(answer.arr_renewing).toBe(62_000);
    const [alpha, beta] = answer.renewals as [Renewal, Renewal];
    expect(alpha).toMatchObject({
      contract_id: "rc1",
      account_name: "Alpha",
      renewal_date: day(20),
      days_left: 20,
      arr: 12_000,
      auto_renew: false,
      owner_user_id: "usr_rn_casey",
      owner_name: "Casey Morgan",
      tier: null,
      health_score: 55,
      health_band: "yellow",
      churn_probability: 0.25,
      renewal_opportunity: null,
      reminder_offsets_days: [120, 90, 60, 30, 7],
      next_reminder: { offset_days: 7, due_day: day(13), pending: false },
    });
    expect(alpha.reminders.map((r) => [r.offset_days, r.due_day, r.status])).toEqual([
      [120, day(-100), "skipped"],
      [90, day(-70), "skipped"],
      [60, day(-40), "skipped"],
      [30, day(-10), "sent"],
    ]);
    expect(beta).toMatchObject({
      contract_id: "rc2",
      days_left: 100,
      auto_renew: true,
      tier: "Tier 1",
      renewal_opportunity: { opportunity_id: "ro1", stage: "negotiation", amount: 52_000, close_date: day(90) },
      reminder_offsets_days: [150, 60, 14],
      next_reminder: { offset_days: 60, due_day: day(40), pending: false },
    });
    expect(beta.reminders.map((r) => [r.offset_days, r.status])).toEqual([[150, "sent"]]);
    expect(answer.next_cursor).toBeNull();
  });

  it("widens the window, filters and pages by renewal date", async () => {
    const wide = await callOk<ListAnswer>(viewer, "track_renewals", { window_days: 200, health_band: "yellow" });
    expect(wide.renewals.map((r) => [r.contract_id, r.days_left, r.next_reminder])).toEqual([
      ["rc1", 20, { offset_days: 7, due_day: day(13), pending: false }],
      ["rc3", 130, { offset_days: 120, due_day: day(10), pending: false }],
    ]);
    expect(wide.arr_renewing).toBe(15_000);
    const tier = await callOk<ListAnswer>(viewer, "track_renewals", { window_days: 200, tier: "Tier 1" });
    expect(tier.renewals.map((r) => r.contract_id)).toEqual(["rc2"]);
    const owner = await callOk<ListAnswer>(viewer, "track_renewals", { owner: csmUser, segment: "Enterprise" });
    expect(owner.renewals.map((r) => r.contract_id)).toEqual(["rc2"]);

    const first = await callOk<ListAnswer>(viewer, "track_renewals", { window_days: 200, limit: 2 });
    expect(first.contracts_counted).toBe(3);
    expect(first.renewals.map((r) => r.contract_id)).toEqual(["rc1", "rc2"]);
    const second = await callOk<ListAnswer>(viewer, "track_renewals", {
      window_days: 200,
      limit: 2,
      cursor: first.next_cursor,
    });
    expect(second.renewals.map((r) => r.contract_id)).toEqual(["rc3"]);
    expect(second.next_cursor).toBeNull();
    expect(
      await callError(viewer, "track_renewals", { window_days: 100, limit: 2, cursor: first.next_cursor }),
    ).toContain("This cursor belongs to a listing with other filters or sort");
  });

  it("says in its text the window, totals and each renewal's days left and reminders", async () => {
    const result = await viewer.callTool({ name: "track_renewals", arguments: {} });
    const text = (result.content as { text: string }[])[0]?.text ?? "";
    expect(text.split("\n")[0]).toBe(
      `2 open renewals from ${today} to ${day(120)} (120 days), ARR 62000 renewing; 2 shown.`,
    );
    expect(text).toContain(
      `| ${day(20)} | 20 | Alpha | 12000 | Casey Morgan | 55 yellow | 25% | 120:skipped 90:skipped 60:skipped 30:sent | 7d on ${day(13)} |`,
    );
  });

  it("shows the effective schedule per tier and the channels", async () => {
    const answer = await callOk(viewer, "track_renewals", { action: "schedule" });
    expect(answer).toEqual({
      action: "schedule",
      schedules: [
        { tier: null, offsets_days: [120, 90, 60, 30, 7], accounts: 1 },
        { tier: "Tier 1", offsets_days: [150, 60, 14], accounts: 1 },
      ],
      channels: { email_owner: true, create_task: true, slack: true, slack_destination_configured: false },
    });
  });

  it("acknowledges a sent reminder once, for csm only, and refuses skipped or unknown ones", async () => {
    const list = await callOk<ListAnswer>(viewer, "track_renewals", {});
    const alpha = list.renewals[0] as Renewal;
    const sent = alpha.reminders.find((r) => r.status === "sent") as Reminder;
    const skipped = alpha.reminders.find((r) => r.status === "skipped") as Reminder;

    await expect(
      viewer.callTool({ name: "track_renewals", arguments: { action: "acknowledge", reminder_id: sent.reminder_id } }),
    ).rejects.toMatchObject({ code: 403, message: expect.stringContaining("track_renewals needs the csm role") });
    const first = await callOk<{ already_acknowledged: boolean; reminder: Reminder; contract_id: string }>(
      csm,
      "track_renewals",
      { action: "acknowledge", reminder_id: sent.reminder_id },
    );
    expect(first.already_acknowledged).toBe(false);
    expect(first.contract_id).toBe("rc1");
    expect(first.reminder).toMatchObject({ offset_days: 30, status: "acknowledged", acknowledged_by: csmUser });
    const again = await callOk<{ already_acknowledged: boolean; reminder: Reminder }>(csm, "track_renewals", {
      action: "acknowledge",
      reminder_id: sent.reminder_id,
    });
    expect(again.already_acknowledged).toBe(true);
    expect(again.reminder.acknowledged_at).toBe(first.reminder.acknowledged_at);

    const row = await env.DB.prepare(
      "SELECT status, acknowledged_by FROM renewal_reminders WHERE workspace_id = ?1 AND id = ?2",
    )
      .bind(WS, sent.reminder_id)
      .first();
    expect(row).toEqual({ status: "acknowledged", acknowledged_by: csmUser });
    const audits = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE workspace_id = ?1 AND action = 'acknowledge_renewal_reminder' AND target_id = ?2",
    )
      .bind(WS, sent.reminder_id)
      .first<{ n: number }>();
    expect(audits?.n).toBe(2);

    expect(await callError(csm, "track_renewals", { action: "acknowledge", reminder_id: skipped.reminder_id })).toBe(
      `Reminder ${skipped.reminder_id} is skipped and was never sent; only a sent reminder can be acknowledged.`,
    );
    expect(await callError(csm, "track_renewals", { action: "acknowledge", reminder_id: "rrm_nope" })).toContain(
      'No renewal reminder with id "rrm_nope"',
    );
    expect(await callError(csm, "track_renewals", { action: "acknowledge" })).toContain("reminder_id");
    const after = await callOk<ListAnswer>(viewer, "track_renewals", {});
    expect((after.renewals[0] as Renewal).reminders.find((r) => r.offset_days === 30)).toMatchObject({
      status: "acknowledged",
      acknowledged_by: csmUser,
    });
  });
});
