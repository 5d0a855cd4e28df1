import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { adoptionMilestoneSchema } from "../../../src/records/settings";
import { milestoneProgress } from "../../../src/tools/health/domain/milestones";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";
import { lifecycleBook } from "./lifecycle-fixture";

const WS = "ws_healthmile";
const OTHER_WS = "ws_healthmile-other";
// Every date is relative to the day the test runs, as the tools count to the current UTC day.
const T = isoDay(clock.now());
const d = (days: number) => addDays(T, days);

let client: Client;

function account(id: string, row: Record<string, string | number | null>, workspace = WS) {
  return insert("accounts", { id, workspace_id: workspace, name: `Name ${id}`, ...row });
}

function usage(accountId: string, day: string, activeUsers: number, events: number) {
  return insert("usage_daily", { workspace_id: WS, account_id: accountId, day, active_users: activeUsers, events });
}

describe("milestone rules (pure)", () => {
  it("computes progress", () => {
    expect(milestoneProgress(8, 10)).toBe(0.8);
    expect(milestoneProgress(12, 10)).toBe(1);
  });
  it("refuses an integration milestone without an integration_* feature", () => {
    expect(
      adoptionMilestoneSchema.safeParse({ name: "x", kind: "integration_connected", feature: "slack" }).success,
    ).toBe(false);
    expect(
      adoptionMilestoneSchema.safeParse({ name: "x", kind: "integration_connected", feature: "integration_slack" })
        .success,
    ).toBe(true);
    expect(adoptionMilestoneSchema.safeParse({ name: "x", kind: "feature_used" }).success).toBe(false);
  });
});

beforeAll(async () => {
  const { key } = await createWorkspace("healthmile", "csm");
  await createWorkspace("healthmile-other");
  await env.DB.batch([
    ...lifecycleBook(WS, OTHER_WS),
    // Milestones: c2 reaches 12 users on T-3 (best events 80 < 100); c6 10 users and 150 events on T-100.
    usage("c2", d(-20), 4, 50),
    usage("c2", d(-3), 12, 80),
    usage("c6", d(-100), 10, 150),
    insert("usage_feature_daily", {
      workspace_id: WS,
      account_id: "c2",
      day: d(-2),
      feature: "report_shared",
      events: 1,
      active_users: 1,
    }),
  ]);
  client = await connectClient(key, "?toolsets=health");
});

interface MilestoneOut {
  accounts: {
    account_id: string;
    milestones: {
      name: string;
      achieved_on: string | null;
      best: number;
      progress: number;
      newly_achieved: boolean;
      stalled: boolean | null;
    }[];
  }[];
}

/** Per milestone of the first account: name, achieved_on, best, progress, newly_achieved, stalled. */
const pick = (out: MilestoneOut) =>
  out.accounts[0]?.milestones.map((m) => [m.name, m.achieved_on, m.best, m.progress, m.newly_achieved, m.stalled]);

describe("track_adoption_milestones", () => {
  it("gives dates achieved, progress, newly achieved and stalled", async () => {
    // c2: 12 users on T-3 (within 7 days: new); report shared T-2; best 80 events of 100 = 0.8, 30 days a customer: not stalled.
    expect(pick(await callOk<MilestoneOut>(client, "track_adoption_milestones", { account_id: "c2" }))).toEqual([
      ["10 active users", d(-3), 12, 1, true, false],
      ["first report shared", d(-2), 1, 1, true, false],
      ["100 events in a day", null, 80, 0.8, false, false],
    ]);
    // c6: both usage milestones on T-100 (not new); no report in 500 days as a customer: stalled.
    expect(pick(await callOk<MilestoneOut>(client, "track_adoption_milestones", { account_id: "c6" }))).toEqual([
      ["10 active users", d(-100), 10, 1, false, false],
      ["first report shared", null, 0, 0, false, true],
      ["100 events in a day", d(-100), 150, 1, false, false],
    ]);
    // c7: no usage and no customer_since: stalled unknown.
    expect(pick(await callOk<MilestoneOut>(client, "track_adoption_milestones", { account_id: "c7" }))).toEqual([
      ["10 active users", null, 0, 0, false, null],
      ["first report shared", null, 0, 0, false, null],
      ["100 events in a day", null, 0, 0, false, null],
    ]);
    // A 2-day celebration window leaves the T-3 milestone out; a 20-day stall limit makes c2's 30 days stalled.
    const narrow = await callOk<MilestoneOut>(client, "track_adoption_milestones", {
      account_id: "c2",
      newly_days: 2,
      stalled_after_days: 20,
    });
    expect(narrow.accounts[0]?.milestones.map((m) => [m.newly_achieved, m.stalled])).toEqual([
      [false, false],
      [true, false],
      [false, true],
    ]);
  });

  it("pages over all accounts of the workspace", async () => {
    const out = await callOk<MilestoneOut & { next_cursor: string | null }>(client, "track_adoption_milestones", {
      limit: 5,
    });
    expect(out.accounts.map((a) => a.account_id)).toEqual(["c1", "c2", "c3", "c4", "c5"]);
    const rest = await callOk<MilestoneOut & { next_cursor: string | null }>(client, "track_adoption_milestones", {
      limit: 5,
      cursor: out.next_cursor,
    });
    expect(rest.accounts.map((a) => a.account_id)).toEqual(["c6", "c7"]);
    expect(rest.next_cursor).toBeNull();
  });

  it("reads other workspaces' accounts as missing", async () => {
    expect(await callError(client, "track_adoption_milestones", { account_id: "cx" })).toContain("cx");
  });
});

describe("track_adoption_milestones with configured milestones", () => {
  it("reads integration_connected from integration_* feature rollups", async () => {
    const { key } = await createWorkspace("healthmile-int", "viewer");
    const settings = {
      adoption_milestones: [
        { name: "Slack connected", kind: "integration_connected", feature: "integration_slack" },
        { name: "3 exports in a day", kind: "feature_used", feature: "export", value: 3 },
      ],
    };
    const feature = (day: string, name: string, events: number) =>
      insert("usage_feature_daily", {
        workspace_id: "ws_healthmile-int",
        account_id: "i1",
        day,
        feature: name,
        events,
        active_users: 1,
      });
    await env.DB.batch([
      env.DB.prepare("UPDATE workspaces SET settings = ?1 WHERE id = 'ws_healthmile-int'").bind(
        JSON.stringify(settings),
      ),
      account("i1", { customer_since: d(-90) }, "ws_healthmile-int"),
      feature(d(-40), "integration_slack", 1),
      feature(d(-30), "integration_slack", 2),
      // export: 2 events (short of 3) on T-20, 3 on T-10 → achieved T-10.
      feature(d(-20), "export", 2),
      feature(d(-10), "export", 3),
    ]);
    const viewer = await connectClient(key, "?toolsets=health");
    const out = await callOk<MilestoneOut & { milestones: { name: string; kind: string }[] }>(
      viewer,
      "track_adoption_milestones",
      { account_id: "i1" },
    );
    expect(out.milestones.map((m) => m.kind)).toEqual(["integration_connected", "feature_used"]);
    expect(pick(out)).toEqual([
      ["Slack connected", d(-40), 2, 1, false, false],
      ["3 exports in a day", d(-10), 3, 1, false, false],
    ]);
  });
});
