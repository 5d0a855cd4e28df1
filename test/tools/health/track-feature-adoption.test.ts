import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { addDays } from "../../../src/platform/lib/time";
import { purgeExpiredDetail } from "../../../src/records/purge";
import { callError, callOk, connectClient, createWorkspace } from "../../helpers/mcp";
import { usageFixtures } from "../../helpers/usage-fixtures";

const WS = "ws_healthadopt";
const OTHER_WS = "ws_healthadopt-other";

let client: Client;
const { account, usage, feature } = usageFixtures(WS);

interface Group {
  accounts: number;
  scored_accounts: number;
  mean_health_score: number | null;
  churned: number;
  churned_share: number | null;
}

interface AdoptionOut {
  window: { from: string; to: string; days: number };
  active_accounts: number;
  retention_days: number;
  features: {
    feature: string;
    adopters: number;
    active_accounts: number;
    adoption_rate: number | null;
    depth: number | null;
    time_to_adopt_median_days: number | null;
    time_to_adopt_counted: number;
    adopter_stats: Group;
    non_adopter_stats: Group;
  }[];
  next_cursor: string | null;
  account_gaps: {
    account_id: string;
    segment: string | null;
    peers_active: number;
    threshold_pct: number;
    features: { feature: string; peers_using: number; peer_share: number }[];
  } | null;
}

// Window: 14 days ending 2026-03-08 → 2026-02-23 .. 2026-03-08.
const TO = "2026-03-08";

beforeAll(async () => {
  const { key } = await createWorkspace("healthadopt", "viewer");
  await createWorkspace("healthadopt-other");
  await env.DB.batch([
    account("a1", "smb", "active", { health_score: 80, customer_since: "2026-01-01" }),
    account("a2", "smb", "active", { health_score: 60 }),
    account("a3", "smb", "churned", { customer_since: "2026-02-20" }),
    account("a4", "ent", "active", { health_score: 40, customer_since: "2025-12-01" }),
    account("a5", "smb", "active", { health_score: 90, customer_since: "2025-01-01" }),
    account("ax", "smb", "active", {}, OTHER_WS),
    // Active in the window: a1, a2, a3, a4 (a5 only before it). Scored: 80, 60, 40; churned: a3.
    usage("a1", "2026-02-24", 3, 10, 1),
    usage("a2", "2026-02-01", 1, 1, 1), // a2's first usage day: its time-to-adopt start
    usage("a2", "2026-02-25", 2, 10, 1),
    usage("a3", "2026-02-26", 1, 10, 1),
    usage("a4", "2026-02-27", 5, 10, 1),
    usage("a5", "2026-01-15", 5, 10, 1),
    // reports: a1 8 events / 2 days = 4, first retained use 01-11 (10 days after 01-01);
    // a2 3/1 = 3, first 02-25 (24 days after 02-01); a3 5/1 = 5, first 03-01 (9 days after 02-20).
    feature("a1", "2026-01-11", "reports", 1),
    feature("a1", "2026-02-24", "reports", 6),
    feature("a1", "2026-02-26", "reports", 2),
    feature("a2", "2026-02-25", "reports", 3),
    feature("a3", "2026-03-01", "reports", 5),
    // export: a4 10/1 = 10 (a zero-event row is no use), first 02-28, 89 days after 2025-12-01.
    feature("a4", "2026-02-28", "export", 10),
    feature("a4", "2026-03-02", "export", 0),
    // alerts: a1 and a3; sso: a1 only; api: only before the window.
    feature("a1", "2026-03-03", "alerts", 1),
    feature("a3", "2026-03-04", "alerts", 1),
    feature("a1", "2026-03-05", "sso", 4),
    feature("a5", "2026-01-15", "api", 9),
    // After the window: not counted.
    feature("a2", "2026-03-09", "sso", 4),
  ]);
  client = await connectClient(key, "?toolsets=health");
});

describe("track_feature_adoption", () => {
  it("computes adoption rate, depth, time to adopt and adopters vs non-adopters", async () => {
    const out = await callOk<AdoptionOut>(client, "track_feature_adoption", { days: 14, to: TO });
    expect(out.window).toEqual({ from: "2026-02-23", to: TO, days: 14 });
    expect(out.active_accounts).toBe(4);
    expect(out.features.map((f) => f.feature)).toEqual(["alerts", "export", "reports", "sso"]);
    const reports = out.features.find((f) => f.feature === "reports");
    expect(reports).toEqual({
      feature: "reports",
      adopters: 3,
      active_accounts: 4,
      adoption_rate: 0.75, // 3 / 4
      depth: 4, // (4 + 3 + 5) / 3
      time_to_adopt_median_days: 10, // median of 10, 24, 9
      time_to_adopt_counted: 3,
      // a1 80, a2 60 scored → 70; a3 churned → 1/3.
      adopter_stats: { accounts: 3, scored_accounts: 2, mean_health_score: 70, churned: 1, churned_share: 0.3333 },
      non_adopter_stats: { accounts: 1, scored_accounts: 1, mean_health_score: 40, churned: 0, churned_share: 0 },
    });
    const exp = out.features.find((f) => f.feature === "export");
    expect(exp).toMatchObject({
      adopters: 1,
      adoption_rate: 0.25,
      depth: 10,
      time_to_adopt_median_days: 89, // 2025-12-01 → 2026-02-28: 31 + 31 + 27
      adopter_stats: { accounts: 1, mean_health_score: 40, churned_share: 0 },
      non_adopter_stats: { accounts: 3, scored_accounts: 2, mean_health_score: 70, churned: 1 },
    });
    // alerts: a1 01-01 → 03-03 = 61 days, a3 02-20 → 03-04 = 12 days → median 36.5.
    expect(out.features.find((f) => f.feature === "alerts")?.time_to_adopt_median_days).toBe(36.5);
    expect(out.account_gaps).toBeNull();
  });

  it("restricts to a segment and pages by feature name", async () => {
    const seg = await callOk<AdoptionOut>(client, "track_feature_adoption", {
      days: 14,
      to: TO,
      segment: "smb",
      feature: "reports",
    });
    expect(seg.active_accounts).toBe(3); // a1, a2, a3
    expect(seg.features[0]).toMatchObject({
      adoption_rate: 1,
      non_adopter_stats: { accounts: 0, mean_health_score: null, churned_share: null },
    });
    const first = await callOk<AdoptionOut>(client, "track_feature_adoption", { days: 14, to: TO, limit: 3 });
    expect(first.features.map((f) => f.feature)).toEqual(["alerts", "export", "reports"]);
    const second = await callOk<AdoptionOut>(client, "track_feature_adoption", {
      days: 14,
      to: TO,
      limit: 3,
      cursor: first.next_cursor,
    });
    expect(second.features.map((f) => f.feature)).toEqual(["sso"]);
    expect(second.next_cursor).toBeNull();
  });

  it("lists features an account has not adopted that its segment peers use", async () => {
    // a2's smb peers active in the window: a1, a3 → alerts 2/2, sso 1/2; reports a2 already uses.
    const out = await callOk<AdoptionOut>(client, "track_feature_adoption", { days: 14, to: TO, account_id: "a2" });
    expect(out.account_gaps).toEqual({
      account_id: "a2",
      segment: "smb",
      peers_active: 2,
      threshold_pct: 50,
      features: [
        { feature: "alerts", peers_using: 2, peer_share: 1 },
        { feature: "sso", peers_using: 1, peer_share: 0.5 },
      ],
    });
    const strict = await callOk<AdoptionOut>(client, "track_feature_adoption", {
      days: 14,
      to: TO,
      account_id: "a2",
      threshold_pct: 60,
    });
    expect(strict.account_gaps?.features.map((f) => f.feature)).toEqual(["alerts"]);
  });

  it("reads another workspace's account as missing and refuses bad input", async () => {
    expect(await callError(client, "track_feature_adoption", { account_id: "ax" })).toContain("No account");
    await callError(client, "track_feature_adoption", { days: 0 });
    await callError(client, "track_feature_adoption", { days: 401 });
    await callError(client, "track_feature_adoption", { account_id: "a1", threshold_pct: 0 });
  });

  // Last: the purge deletes fixture rollups.
  it("keeps time to adopt when the purge has deleted the rollup of the first use", async () => {
    const before = await callOk<AdoptionOut>(client, "track_feature_adoption", { days: 14, to: TO });
    // Purge with the window's first day as the cutoff: a1's reports use of 2026-01-11 goes.
    const retention = Number(env.USAGE_FEATURE_RETENTION_DAYS || 400);
    const purged = await purgeExpiredDetail.run(env, new Date(`${addDays("2026-02-23", retention)}T03:00:00Z`));
    expect(purged.usage_feature_cutoff).toBe("2026-02-23");
    const old = await env.DB.prepare(
      "SELECT count(*) AS n FROM usage_feature_daily WHERE workspace_id = ?1 AND day < '2026-02-23'",
    )
      .bind(WS)
      .first<{ n: number }>();
    expect(old?.n).toBe(0);
    const after = await callOk<AdoptionOut>(client, "track_feature_adoption", { days: 14, to: TO });
    // a1 still adopted reports 10 days after 2026-01-01, not on its earliest retained day (2026-02-24).
    expect(after.features.find((f) => f.feature === "reports")?.time_to_adopt_median_days).toBe(10);
    expect(after.features).toEqual(before.features);
  });
});
