import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { median } from "../../../src/platform/lib/stats";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { slaBreaches } from "../../../src/tools/health/domain/segments";
import { callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_healthtier";
const OTHER_WS = "ws_healthtier-other";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);

function account(workspace: string, id: string, extra: Record<string, string | number | null>) {
  return insert("accounts", { id, workspace_id: workspace, name: `Name ${id}`, ...extra });
}

function ticket(id: string, accountId: string, createdDay: string, responseHours: number) {
  const created = Date.parse(`${createdDay}T00:00:00Z`);
  return insert("tickets", {
    id,
    workspace_id: WS,
    account_id: accountId,
    subject: "Help",
    created_at: new Date(created).toISOString(),
    updated_at: new Date(created).toISOString(),
    first_response_at: new Date(created + responseHours * 3_600_000).toISOString(),
  });
}

function activity(id: string, accountId: string, kind: string, onDay: string) {
  return insert("activities", {
    id,
    workspace_id: WS,
    account_id: accountId,
    kind,
    subject: kind,
    occurred_at: `${onDay}T10:00:00Z`,
  });
}

describe("tier rules (pure)", () => {
  it("computes the median and SLA breaches", () => {
    expect(median([10, 2, 6])).toBe(6);
    expect(median([1, 2, 6, 10])).toBe(4);
    expect(median([])).toBeNull();
    const levels = { response_sla_hours: 4, ebr_cadence_days: 90, dedicated_csm: true };
    expect(slaBreaches({ median_first_response_hours: 4, days_since_meeting: 90, has_owner: true }, levels)).toEqual(
      [],
    );
    expect(slaBreaches({ median_first_response_hours: 5, days_since_meeting: null, has_owner: false }, levels)).toEqual(
      ["response", "ebr", "owner"],
    );
  });
});

describe("segment_by_value_tier", () => {
  let csm: Client;
  let viewer: Client;
  const CSM = "usr_healthtier_csm";
  const VIEWER = "usr_healthtier_viewer";

  beforeAll(async () => {
    const c = await createWorkspace("healthtier", "csm");
    const v = await createWorkspace("healthtier", "viewer");
    await createWorkspace("healthtier-other");
    csm = await connectClient(c.key, "?toolsets=health");
    viewer = await connectClient(v.key, "?toolsets=health");
    // Tiers: Tier 1 arr ≥ 100000 (4 h, 90 d, dedicated), Tier 2 arr ≥ 20000 (8 h, 180 d), Tier 3 rest (24 h, 365 d).
    await env.DB.batch([
      account(WS, "a1", {
        arr: 150000,
        employees: 50,
        owner_user_id: CSM,
        health_band: "green",
        segment: "Enterprise",
      }),
      account(WS, "a2", { arr: 10000, employees: 5000, owner_user_id: CSM, health_band: "red", segment: "SMB" }),
      account(WS, "a3", { arr: 30000, employees: 10, health_band: "yellow" }),
      account(WS, "a4", { arr: 5000, employees: 300, owner_user_id: VIEWER, segment: "Mid-Market" }),
      account(WS, "a5", { arr: 1000, health_band: "green", segment: "SMB" }),
      account(WS, "a6", { arr: 200000, segment: "Enterprise" }),
      account(OTHER_WS, "o1", { arr: 500000, segment: "X" }),
      // a1: 2, 6, 10 h in the window → median 6 > 4; the 1 h ticket 100 days ago is outside (with it the median would be 4).
      ticket("t1", "a1", day(-10), 2),
      ticket("t2", "a1", day(-10), 6),
      ticket("t3", "a1", day(-10), 10),
      ticket("t4", "a1", day(-100), 1),
      ticket("t5", "a2", day(-5), 30),
      activity("m1", "a1", "meeting", day(-30)),
      activity("c1", "a3", "call", day(-1)),
      activity("m3", "a3", "meeting", day(-200)),
      activity("m2", "a2", "meeting", day(-10)),
      activity("m4", "a4", "meeting", day(-365)),
      activity("m6", "a6", "meeting", day(-5)),
    ]);
  });

  it("refuses assign to a viewer", async () => {
    // The action needs more than the tool: the endpoint refuses it with HTTP 403, like a tool above the role.
    for (const name of ["segment_by_value_tier"]) {
      await expect(viewer.callTool({ name, arguments: { action: "assign" } })).rejects.toMatchObject({
        code: 403,
        message: expect.stringContaining(`${name} needs the csm role`),
      });
    }
  });

  it("lists tiers and assigns them", async () => {
    const list = await callOk<{ tiers: { name: string; accounts: number; arr: number }[] }>(
      viewer,
      "segment_by_value_tier",
      { action: "list" },
    );
    expect(list.tiers.map((t) => [t.name, t.accounts, t.arr])).toEqual([
      ["Tier 1", 2, 350000], // a1 + a6
      ["Tier 2", 1, 30000], // a3
      ["Tier 3", 3, 16000], // a2 10000 + a4 5000 + a5 1000
    ]);
    const assigned = await callOk<{ updated: number }>(csm, "segment_by_value_tier", { action: "assign" });
    expect(assigned.updated).toBe(6);
    expect((await callOk<{ updated: number }>(csm, "segment_by_value_tier", { action: "assign" })).updated).toBe(0);
  });

  it("lists accounts in breach of their tier's service levels", async () => {
    const out = await callOk<{
      accounts_checked: number;
      in_breach: number;
      breaches: Record<string, unknown>[];
    }>(viewer, "segment_by_value_tier", { action: "check_sla" });
    expect(out.accounts_checked).toBe(6);
    expect(out.in_breach).toBe(5);
    const pick = (b: Record<string, unknown>) => [
      b.account_id,
      b.tier,
      b.tickets_measured,
      b.median_first_response_hours,
      b.days_since_meeting,
      b.breaches,
    ];
    expect(out.breaches.map(pick)).toEqual([
      ["a1", "Tier 1", 3, 6, 30, ["response"]], // median of 2, 6, 10 h = 6 > 4
      ["a2", "Tier 3", 1, 30, 10, ["response"]], // 30 h > 24
      ["a3", "Tier 2", 0, null, 200, ["ebr"]], // last meeting 200 d ago > 180 (a call yesterday does not count)
      ["a5", "Tier 3", 0, null, null, ["ebr"]], // no meeting ever
      ["a6", "Tier 1", 0, null, 5, ["owner"]], // dedicated CSM due, no owner
    ]);
    // a4: meeting 365 days ago = cadence 365, not over; no tickets.
    const tier2 = await callOk<{ accounts_checked: number; in_breach: number }>(viewer, "segment_by_value_tier", {
      action: "check_sla",
      tier: "Tier 2",
    });
    expect(tier2).toMatchObject({ accounts_checked: 1, in_breach: 1 });
  });
});
