import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { median } from "../../../src/platform/lib/stats";
import { slaBreaches } from "../../../src/tools/health/domain/segments";
import { callOk, connectClient, createWorkspace } from "../../helpers/mcp";
import { insertSegmentBook } from "./segment-fixture";

const WS = "ws_healthtier";
const OTHER_WS = "ws_healthtier-other";

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
    await insertSegmentBook(WS, OTHER_WS, { csm: CSM, viewer: VIEWER });
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
