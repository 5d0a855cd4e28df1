import { env } from "cloudflare:workers";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { insert } from "../../helpers/mcp";

const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);

export function account(workspace: string, id: string, extra: Record<string, string | number | null>) {
  return insert("accounts", { id, workspace_id: workspace, name: `Name ${id}`, ...extra });
}

function ticket(workspace: string, id: string, accountId: string, createdDay: string, responseHours: number) {
  const created = Date.parse(`${createdDay}T00:00:00Z`);
  return insert("tickets", {
    id,
    workspace_id: workspace,
    account_id: accountId,
    subject: "Help",
    created_at: new Date(created).toISOString(),
    updated_at: new Date(created).toISOString(),
    first_response_at: new Date(created + responseHours * 3_600_000).toISOString(),
  });
}

function activity(workspace: string, id: string, accountId: string, kind: string, onDay: string) {
  return insert("activities", {
    id,
    workspace_id: workspace,
    account_id: accountId,
    kind,
    subject: kind,
    occurred_at: `${onDay}T10:00:00Z`,
  });
}

/**
 * The book the segment and value-tier tests read: six accounts a1…a6 in `ws` (owned by `csm` and
 * `viewer` users), one in `otherWs`, first-response times and meetings. With the default tiers
 * (Tier 1 arr ≥ 100000: 4 h, 90 d, dedicated; Tier 2 arr ≥ 20000: 8 h, 180 d; Tier 3: 24 h,
 * 365 d), a1's tickets of 2, 6 and 10 h in the window have a median of 6 h > 4; its 1 h ticket
 * 100 days ago is outside the window (with it the median would be 4).
 */
export async function insertSegmentBook(ws: string, otherWs: string, owners: { csm: string; viewer: string }) {
  await env.DB.batch([
    account(ws, "a1", {
      arr: 150000,
      employees: 50,
      owner_user_id: owners.csm,
      health_band: "green",
      segment: "Enterprise",
    }),
    account(ws, "a2", { arr: 10000, employees: 5000, owner_user_id: owners.csm, health_band: "red", segment: "SMB" }),
    account(ws, "a3", { arr: 30000, employees: 10, health_band: "yellow" }),
    account(ws, "a4", { arr: 5000, employees: 300, owner_user_id: owners.viewer, segment: "Mid-Market" }),
    account(ws, "a5", { arr: 1000, health_band: "green", segment: "SMB" }),
    account(ws, "a6", { arr: 200000, segment: "Enterprise" }),
    account(otherWs, "o1", { arr: 500000, segment: "X" }),
    ticket(ws, "t1", "a1", day(-10), 2),
    ticket(ws, "t2", "a1", day(-10), 6),
    ticket(ws, "t3", "a1", day(-10), 10),
    ticket(ws, "t4", "a1", day(-100), 1),
    ticket(ws, "t5", "a2", day(-5), 30),
    activity(ws, "m1", "a1", "meeting", day(-30)),
    activity(ws, "c1", "a3", "call", day(-1)),
    activity(ws, "m3", "a3", "meeting", day(-200)),
    activity(ws, "m2", "a2", "meeting", day(-10)),
    activity(ws, "m4", "a4", "meeting", day(-365)),
    activity(ws, "m6", "a6", "meeting", day(-5)),
  ]);
}
