import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_esc";
const LIST_WS = "ws_esc-list";
const STATS_WS = "ws_esc-stats";
const TOOL = "manage_escalations";
const HOUR = 3_600_000;

const jobs: unknown[] = [];
function captureJobs() {
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async (body: unknown) => {
    jobs.push(body);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
}

afterEach(() => {
  vi.restoreAllMocks();
  jobs.length = 0;
});

interface Escalation {
  id: string;
  status: string;
  severity: string;
  owner_user_id: string | null;
  owner_name: string | null;
  opened_at: string;
  sla_window_start: string;
  sla_due_at: string;
  sla_state: string;
  sla_hours_left: number;
  resolved_at: string | null;
  root_cause: string | null;
  reopen_count: number;
}

const plusHours = (iso: string, hours: number) => new Date(Date.parse(iso) + hours * HOUR).toISOString();

describe("manage_escalations lifecycle", () => {
  let client: Client;
  let viewer: Client;

  beforeAll(async () => {
    const { key } = await createWorkspace("esc", "csm");
    const { key: viewerKey } = await createWorkspace("esc", "viewer");
    await env.DB.batch([
      env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1").bind(
        WS,
        JSON.stringify({ escalation_sla_hours: { critical: 2, high: 24, medium: 72, low: 168 } }),
      ),
      insert("users", {
        id: "usr_esc_owner",
        workspace_id: WS,
        email: "olive@esc.test",
        name: "Olive Owner",
        role: "csm",
      }),
      insert("accounts", { id: "acc_esc", workspace_id: WS, name: "Acme", owner_user_id: "usr_esc_owner" }),
      insert("tickets", {
        id: "tkt_esc",
        workspace_id: WS,
        account_id: "acc_esc",
        subject: "Export fails",
        created_at: "2026-11-01T00:00:00.000Z",
        updated_at: "2026-11-01T00:00:00.000Z",
      }),
      // A Slack destination, so alerts are queued.
      insert("integrations", {
        id: "int_esc_slack",
        workspace_id: WS,
        provider: "slack",
        name: "Slack",
        secret_ciphertext: "x",
      }),
    ]);
    client = await connectClient(key, "?toolsets=retention");
    viewer = await connectClient(viewerKey, "?toolsets=retention");
  });

  it("opens a critical escalation with the configured SLA and a Slack alert", async () => {
    captureJobs();
    const opened = await callOk<{ escalation: Escalation; slack_queued: boolean }>(client, TOOL, {
      action: "open",
      account_id: "acc_esc",
      title: "Data export broken",
      severity: "critical",
      ticket_id: "tkt_esc",
    });
    const e = opened.escalation;
    // critical = 2 h in this workspace's settings
    expect(e.sla_due_at).toBe(plusHours(e.opened_at, 2));
    expect(e).toMatchObject({
      status: "open",
      owner_user_id: "usr_esc_owner",
      sla_state: "on_track",
      sla_hours_left: 2,
      reopen_count: 0,
    });
    expect(opened.slack_queued).toBe(true);
    expect(jobs).toEqual([
      {
        type: "slack_alert",
        workspaceId: WS,
        idempotencyKey: `escalation:${e.id}:opened`,
        text: `Escalation opened [CRITICAL] Acme: Data export broken (${e.id}). Status open; SLA due ${e.sla_due_at} (on_track, 2 h left); owner Olive Owner.`,
      },
    ]);

    const medium = await callOk<{ escalation: Escalation; slack_queued: boolean }>(client, TOOL, {
      action: "open",
      account_id: "acc_esc",
      title: "Slow dashboards",
      severity: "medium",
    });
    expect(medium.escalation.sla_due_at).toBe(plusHours(medium.escalation.opened_at, 72));
    expect(medium.slack_queued).toBe(false);
    expect(jobs).toHaveLength(1);
  });

  it("refuses bad input and viewers' writes", async () => {
    expect(await callError(client, TOOL, { action: "open", account_id: "acc_esc", title: "x" })).toBe(
      "action open needs `account_id`, `title` and `severity` (critical, high, medium or low).",
    );
    expect(
      await callError(client, TOOL, { action: "open", account_id: "acc_nope", title: "x", severity: "low" }),
    ).toContain('No account with id "acc_nope"');
    expect(await callError(client, TOOL, { action: "list", root_cause: "a root cause" })).toContain(
      "root_cause does not apply to action list",
    );
    await expect(
      callOk(viewer, TOOL, { action: "open", account_id: "acc_esc", title: "x", severity: "low" }),
    ).rejects.toThrow(/needs the csm role/);
  });

  it("updates, assigns, notifies, resolves with a root cause and reopens with a new SLA, all on the timeline", async () => {
    captureJobs();
    const { escalation } = await callOk<{ escalation: Escalation }>(client, TOOL, {
      action: "open",
      account_id: "acc_esc",
      title: "SSO outage",
      severity: "high",
    });
    const id = escalation.id;
    jobs.length = 0;
    const updated = await callOk<{ escalation: Escalation }>(client, TOOL, {
      action: "update",
      escalation_id: id,
      note: "Engineering is on it",
    });
    expect(updated.escalation.status).toBe("in_progress");
    const assigned = await callOk<{ escalation: Escalation }>(client, TOOL, {
      action: "assign",
      escalation_id: id,
      owner: "csm@esc.test",
    });
    expect(assigned.escalation.owner_user_id).toBe("usr_esc_csm");
    const notified = await callOk<{ slack_queued: boolean; escalation: Escalation }>(client, TOOL, {
      action: "notify",
      escalation_id: id,
      note: "Customer called again",
    });
    expect(notified.slack_queued).toBe(true);
    expect(jobs).toEqual([
      {
        type: "slack_alert",
        workspaceId: WS,
        idempotencyKey: expect.stringMatching(new RegExp(`^escalation:${id}:notified:`)),
        text: expect.stringMatching(
          new RegExp(
            `^Escalation \\[HIGH\\] Acme: SSO outage \\(${id}\\)\\. Status in_progress; SLA due ${escalation.sla_due_at.replace(/\./g, "\\.")} \\(on_track, [\\d.]+ h left\\); owner csm of esc\\. Note: Customer called again$`,
          ),
        ),
      },
    ]);

    expect(await callError(client, TOOL, { action: "resolve", escalation_id: id })).toBe(
      "action resolve needs `root_cause`.",
    );
    const resolved = await callOk<{ escalation: Escalation }>(client, TOOL, {
      action: "resolve",
      escalation_id: id,
      root_cause: "Expired IdP certificate",
      resolution: "Rotated the certificate",
    });
    expect(resolved.escalation).toMatchObject({
      status: "resolved",
      root_cause: "Expired IdP certificate",
      sla_state: "met",
    });
    expect(await callError(client, TOOL, { action: "update", escalation_id: id, note: "x" })).toBe(
      `Escalation ${id} is resolved; reopen it first.`,
    );
    expect(await callError(client, TOOL, { action: "resolve", escalation_id: id, root_cause: "again" })).toBe(
      `Escalation ${id} is already resolved.`,
    );

    const reopened = await callOk<{ escalation: Escalation }>(client, TOOL, {
      action: "reopen",
      escalation_id: id,
      note: "Back again",
    });
    const r = reopened.escalation;
    expect(r).toMatchObject({ status: "open", reopen_count: 1, resolved_at: null, root_cause: null });
    // The new SLA window starts at the reopening: high = 24 h
    expect(r.sla_window_start > r.opened_at || r.sla_window_start === r.opened_at).toBe(true);
    expect(r.sla_due_at).toBe(plusHours(r.sla_window_start, 24));

    const got = await callOk<{ escalation: Escalation; timeline: { kind: string; at: string; note: string | null }[] }>(
      viewer,
      TOOL,
      { action: "get", escalation_id: id },
    );
    expect(got.timeline.map((t) => t.kind)).toEqual([
      "opened",
      "updated",
      "assigned",
      "notified",
      "resolved",
      "reopened",
    ]);
    expect(got.timeline.map((t) => t.note)).toEqual([
      `severity high; SLA 24 h, due ${escalation.sla_due_at}`,
      "Engineering is on it",
      "owner csm@esc.test",
      "Slack alert queued: Customer called again",
      "root cause: Expired IdP certificate; resolution: Rotated the certificate",
      `new SLA due ${r.sla_due_at}: Back again`,
    ]);
    expect(got.timeline[5]?.at).toBe(r.sla_window_start);

    const audit = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE workspace_id = ?1 AND tool = ?2 AND target_id = ?3 ORDER BY rowid",
    )
      .bind(WS, TOOL, id)
      .all<{ action: string }>();
    expect(audit.results.map((a) => a.action)).toEqual(["open", "update", "assign", "notify", "resolve", "reopen"]);
  });
});

describe("manage_escalations list", () => {
  let client: Client;

  beforeAll(async () => {
    const { key } = await createWorkspace("esc-list", "viewer");
    const now = clock.now().getTime();
    const at = (hours: number) => new Date(now + hours * HOUR).toISOString();
    const escalation = (id: string, severity: string, status: string, openedHours: number, dueHours: number) =>
      insert("escalations", {
        id,
        workspace_id: LIST_WS,
        account_id: "acc_el",
        title: `Title ${id}`,
        severity,
        status,
        opened_at: at(openedHours),
        sla_due_at: at(dueHours),
        resolved_at: status === "resolved" ? at(-1) : null,
      });
    await env.DB.batch([
      insert("accounts", { id: "acc_el", workspace_id: LIST_WS, name: "Listed" }),
      // Breached: due an hour ago. At risk: 0.5 h of a 3.5 h window left (< 25 %). On track: 10 of 11 h left.
      escalation("esc_el_breached", "high", "in_progress", -5, -1),
      escalation("esc_el_risk", "critical", "open", -3, 0.5),
      escalation("esc_el_track", "medium", "open", -1, 10),
      escalation("esc_el_done", "low", "resolved", -10, 100),
    ]);
    client = await connectClient(key, "?toolsets=retention");
  });

  it("lists unresolved escalations by SLA due time with their SLA state, paginated", async () => {
    const first = await callOk<{
      escalations: Escalation[];
      matching: number;
      breached: number;
      next_cursor: string | null;
    }>(client, TOOL, { action: "list", limit: 2 });
    expect([first.matching, first.breached]).toEqual([3, 1]);
    expect(first.escalations.map((e) => [e.id, e.sla_state])).toEqual([
      ["esc_el_breached", "breached"],
      ["esc_el_risk", "at_risk"],
    ]);
    const second = await callOk<typeof first>(client, TOOL, { action: "list", limit: 2, cursor: first.next_cursor });
    expect(second.escalations.map((e) => [e.id, e.sla_state])).toEqual([["esc_el_track", "on_track"]]);
    expect(second.next_cursor).toBeNull();
    const resolved = await callOk<typeof first>(client, TOOL, { action: "list", status: "resolved" });
    expect(resolved.escalations.map((e) => [e.id, e.sla_state])).toEqual([["esc_el_done", "met"]]);
    const critical = await callOk<typeof first>(client, TOOL, { action: "list", severity: "critical" });
    expect(critical.escalations.map((e) => e.id)).toEqual(["esc_el_risk"]);
  });
});

describe("manage_escalations stats", () => {
  let client: Client;

  beforeAll(async () => {
    const { key } = await createWorkspace("esc-stats", "viewer");
    const opened = "2026-10-01T00:00:00.000Z";
    const escalation = (
      id: string,
      account: string,
      severity: string,
      status: string,
      resolvedAfter: number | null,
      slaHours: number,
      reopenCount = 0,
      openedAt = opened,
    ) =>
      insert("escalations", {
        id,
        workspace_id: STATS_WS,
        account_id: account,
        title: id,
        severity,
        status,
        opened_at: openedAt,
        resolved_at: resolvedAfter === null ? null : plusHours(openedAt, resolvedAfter),
        sla_due_at: plusHours(openedAt, slaHours),
        reopen_count: reopenCount,
      });
    const csat = (id: string, account: string, score: number, at: string, kind = "csat") =>
      insert("survey_responses", { id, workspace_id: STATS_WS, account_id: account, kind, score, responded_at: at });
    await env.DB.batch([
      insert("accounts", { id: "acc_x", workspace_id: STATS_WS, name: "X" }),
      insert("accounts", { id: "acc_y", workspace_id: STATS_WS, name: "Y" }),
      escalation("esc_s1", "acc_x", "critical", "resolved", 2, 4), // met
      escalation("esc_s2", "acc_x", "critical", "resolved", 6, 4), // missed
      escalation("esc_s3", "acc_y", "critical", "resolved", 10, 14, 1), // reopened once, met
      escalation("esc_s4", "acc_y", "high", "resolved", 30, 24), // missed
      escalation("esc_s5", "acc_x", "medium", "open", null, 72),
      escalation("esc_s6", "acc_y", "low", "in_progress", null, 200, 1),
      // Opened the day before the window: not counted
      escalation("esc_s7", "acc_x", "critical", "resolved", 1, 4, 0, "2026-09-30T23:00:00.000Z"),
      // X resolved 10-01 02:00 and 06:00: its CSAT 4 (10-05) counts once, 2 (10-31 04:00) within 30 days of the second
      csat("srv_x1", "acc_x", 4, "2026-10-05T00:00:00.000Z"),
      csat("srv_x2", "acc_x", 2, "2026-10-31T04:00:00.000Z"),
      csat("srv_x3", "acc_x", 5, "2026-11-02T00:00:00.000Z"), // more than 30 days after
      csat("srv_x4", "acc_x", 1, "2026-09-30T00:00:00.000Z"), // before
      // Y resolved 10-01 10:00 and 10-02 06:00
      csat("srv_y1", "acc_y", 5, "2026-10-10T00:00:00.000Z"),
      csat("srv_y2", "acc_y", 3, "2026-10-01T08:00:00.000Z"), // before any resolution
      csat("srv_y3", "acc_y", 0, "2026-10-10T00:00:00.000Z", "nps"), // not CSAT
    ]);
    client = await connectClient(key, "?toolsets=retention");
  });

  it("computes time-to-resolve, SLA met rate, reopen rate and post-resolution CSAT exactly", async () => {
    const stats = await callOk<{
      window: unknown;
      by_severity: Record<string, unknown>;
      overall: unknown;
      reopen: unknown;
      post_resolution_csat: unknown;
    }>(client, TOOL, { action: "stats", from: "2026-10-01", to: "2026-10-31" });
    expect(stats.window).toEqual({ from: "2026-10-01", to: "2026-10-31", window_days: 31 });
    // critical: 2, 6, 10 h → median 6, mean 6; met 2 of 3
    expect(stats.by_severity.critical).toEqual({
      opened: 3,
      resolved: 3,
      median_hours_to_resolve: 6,
      mean_hours_to_resolve: 6,
      sla_met_pct: 66.67,
    });
    expect(stats.by_severity.high).toEqual({
      opened: 1,
      resolved: 1,
      median_hours_to_resolve: 30,
      mean_hours_to_resolve: 30,
      sla_met_pct: 0,
    });
    // all: 2, 6, 10, 30 h → median 8, mean 12; met 2 of 4
    expect(stats.overall).toEqual({
      opened: 6,
      resolved: 4,
      median_hours_to_resolve: 8,
      mean_hours_to_resolve: 12,
      sla_met_pct: 50,
    });
    // resolved at least once: 4 resolved + 1 reopened in progress; reopened: 2 → 40 %
    expect(stats.reopen).toEqual({ ever_resolved: 5, reopened: 2, reopen_rate_pct: 40 });
    // CSAT 4, 2, 5 → 11 / 3 = 3.67
    expect(stats.post_resolution_csat).toEqual({ mean: 3.67, n: 3, days_after: 30 });
  });
});
