import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { renderTemplate, TEMPLATE_VARIABLES } from "../../../src/email/render";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { outcomesByPlaybook } from "../../../src/tools/retention/domain/outcomes";
import { PLAYBOOK_LIBRARY } from "../../../src/tools/retention/domain/playbooks";
import { INTERVENTION_BY_FACTOR } from "../../../src/tools/retention/domain/risk-library";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const WS = "ws_retint";
const STATS_WS = "ws_retint-stats";
const CASEY = "usr_retint_casey";
const today = isoDay(clock.now());
const day = (offset: number) => addDays(today, offset);

/** Captures what is sent to the jobs queue instead of enqueueing it. */
function captureJobs(): unknown[] {
  const sent: unknown[] = [];
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async (body: unknown) => {
    sent.push(body);
    return { metadata: { metrics: { backlogCount: sent.length, backlogBytes: 0 } } };
  });
  return sent;
}

interface Step {
  position: number;
  kind: string;
  title: string;
  status: string;
  due_date: string | null;
  task_id: string | null;
  outbox_id: string | null;
}
interface Intervention {
  id: string;
  account_id: string;
  playbook: string;
  owner_user_id: string | null;
  status: string;
  outcome: string | null;
  arr_at_open: number;
  arr_at_close: number | null;
  steps: Step[];
}
interface Sent {
  intervention: Intervention;
  preview?: { contact_id: string; to: string; subject: string; text: string };
  confirmation?: { token: string; expires_at: string };
  sent?: { outbox_id: string; status: string; created: boolean };
}

async function outbox(accountId: string) {
  const { results } = await env.DB.prepare(
    "SELECT to_email, contact_id, subject, body_text, origin, idempotency_key, status FROM outbox_messages WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY created_at, id",
  )
    .bind(WS, accountId)
    .all();
  return results;
}

async function task(id: string) {
  return env.DB.prepare("SELECT title, owner_user_id, due_date, status, source, account_id FROM tasks WHERE id = ?1")
    .bind(id)
    .first();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("playbook library and outcome statistics (pure)", () => {
  it("uses only known template variables in every library step", () => {
    const all = Object.fromEntries(TEMPLATE_VARIABLES.map((v) => [v, "x"]));
    for (const [name, playbook] of Object.entries(PLAYBOOK_LIBRARY)) {
      for (const step of playbook.steps) {
        expect(renderTemplate(step.title, all, "line").ok, `${name}: ${step.title}`).toBe(true);
        if (step.kind === "email") expect(renderTemplate(step.body ?? "", all, "text").ok).toBe(true);
        else expect(step.body).toBeUndefined();
      }
    }
    expect(PLAYBOOK_LIBRARY.custom.steps).toEqual([]);
  });

  it("has every playbook the churn-risk model suggests", () => {
    const suggested = [...new Set(Object.values(INTERVENTION_BY_FACTOR).map((s) => s.playbook))];
    expect(suggested.filter((p) => !(p in PLAYBOOK_LIBRARY))).toEqual([]);
  });

  it("counts downsized as retained but not saved", () => {
    const row = (outcome: "saved" | "downsized" | "churned" | null, open: number, close: number | null) => ({
      playbook: "p",
      opened_in_window: true,
      outcome,
      arr_at_open: open,
      arr_at_close: close,
      days_to_close: outcome ? 10 : null,
    });
    const { total } = outcomesByPlaybook([
      row("saved", 100, 120),
      row("downsized", 100, 60),
      row("churned", 50, 0),
      row(null, 70, null),
    ]);
    expect(total).toEqual({
      playbook: "all",
      opened: 4,
      closed: 3,
      saved: 1,
      downsized: 1,
      churned: 1,
      save_rate: 0.3333,
      retention_rate: 0.6667,
      arr_at_open_closed: 250,
      arr_saved: 180,
      arr_lost: 50,
      median_days_to_close: 10,
    });
  });
});

describe("execute_retention_campaign", () => {
  let csm: Client;
  let viewer: Client;
  let stats: Client;

  beforeAll(async () => {
    const c = await createWorkspace("retint", "csm");
    const v = await createWorkspace("retint", "viewer");
    const s = await createWorkspace("retint-stats", "viewer");
    csm = await connectClient(c.key, "?toolsets=retention");
    viewer = await connectClient(v.key, "?toolsets=retention");
    stats = await connectClient(s.key, "?toolsets=retention");
    await env.DB.batch([
      env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1").bind(
        WS,
        JSON.stringify({ email_sender: { name: "Vendor CS", email: "cs@vendor.test" } }),
      ),
      insert("users", { id: CASEY, workspace_id: WS, email: "casey@vendor.test", name: "Casey Morgan", role: "csm" }),
      insert("accounts", { id: "acc_ri_a", workspace_id: WS, name: "Acme", arr: 10000, owner_user_id: CASEY }),
      insert("accounts", { id: "acc_ri_b", workspace_id: WS, name: "Bolt", arr: 5000, owner_user_id: CASEY }),
      // Acme: the champion who left and the unsubscribed one are passed over; Dana (champion) is the default, Lee (decision maker) eligible.
      insert("contacts", {
        id: "con_ri_a0",
        workspace_id: WS,
        account_id: "acc_ri_a",
        name: "Gone Champion",
        email: "gone@acme.test",
        is_champion: 1,
        left_at: day(-3),
      }),
      insert("contacts", {
        id: "con_ri_a1",
        workspace_id: WS,
        account_id: "acc_ri_a",
        name: "Una Sub",
        email: "una@acme.test",
        is_champion: 1,
        unsubscribed: 1,
      }),
      insert("contacts", {
        id: "con_ri_a2",
        workspace_id: WS,
        account_id: "acc_ri_a",
        name: "Dana Reed",
        email: "dana@acme.test",
        is_champion: 1,
      }),
      insert("contacts", {
        id: "con_ri_a3",
        workspace_id: WS,
        account_id: "acc_ri_a",
        name: "Lee Park",
        email: "lee@acme.test",
        is_decision_maker: 1,
      }),
      // Bolt has only a plain user: no eligible recipient.
      insert("contacts", {
        id: "con_ri_b1",
        workspace_id: WS,
        account_id: "acc_ri_b",
        name: "Ann User",
        email: "ann@bolt.test",
      }),
    ]);
  });

  beforeEach(() => {
    captureJobs();
  });

  it("opens a library playbook: tasks for the owner, emails left unsent", async () => {
    const { intervention } = await callOk<{ intervention: Intervention }>(csm, "execute_retention_campaign", {
      action: "open",
      account_id: "acc_ri_a",
      playbook: "executive_sponsor",
      reason: "Champion left and usage fell",
    });
    const id = intervention.id;
    expect(intervention).toMatchObject({
      account_id: "acc_ri_a",
      playbook: "executive_sponsor",
      owner_user_id: CASEY,
      status: "open",
      arr_at_open: 10000,
    });
    expect(intervention.steps).toEqual([
      {
        position: 1,
        kind: "task",
        title: "Identify the executive sponsor on both sides",
        status: "pending",
        due_date: day(2),
        task_id: `tsk_${id}_1`,
        outbox_id: null,
        completed_at: null,
      },
      {
        position: 2,
        kind: "email",
        title: "{{account.name}}: an executive conversation about your goals",
        status: "pending",
        due_date: day(3),
        task_id: null,
        outbox_id: null,
        completed_at: null,
      },
      {
        position: 3,
        kind: "task",
        title: "Hold the executive alignment meeting",
        status: "pending",
        due_date: day(14),
        task_id: `tsk_${id}_3`,
        outbox_id: null,
        completed_at: null,
      },
      {
        position: 4,
        kind: "task",
        title: "Send the agreed success plan",
        status: "pending",
        due_date: day(21),
        task_id: `tsk_${id}_4`,
        outbox_id: null,
        completed_at: null,
      },
    ]);
    expect(await task(`tsk_${id}_3`)).toEqual({
      title: "Hold the executive alignment meeting",
      owner_user_id: CASEY,
      due_date: day(14),
      status: "open",
      source: "intervention",
      account_id: "acc_ri_a",
    });
    expect(await outbox("acc_ri_a")).toEqual([]);

    // send_step: a dry run previews and sends nothing; the token sends exactly one email.
    const preview = await callOk<Sent>(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 2,
    });
    expect(preview.preview).toMatchObject({
      contact_id: "con_ri_a2",
      to: "dana@acme.test",
      subject: "Acme: an executive conversation about your goals",
    });
    expect(preview.preview?.text).toContain("Hi Dana Reed,");
    expect(preview.preview?.text).toContain("Casey Morgan");
    expect(await outbox("acc_ri_a")).toEqual([]);
    expect(
      await callError(csm, "execute_retention_campaign", {
        action: "send_step",
        intervention_id: id,
        position: 2,
        dry_run: false,
      }),
    ).toContain("confirmation_token");
    expect(await outbox("acc_ri_a")).toEqual([]);

    const token = preview.confirmation?.token ?? "";
    const sent = await callOk<Sent>(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 2,
      confirmation_token: token,
    });
    expect(sent.sent?.created).toBe(true);
    const rows = await outbox("acc_ri_a");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      to_email: "dana@acme.test",
      contact_id: "con_ri_a2",
      subject: "Acme: an executive conversation about your goals",
      origin: `intervention:${id}`,
      idempotency_key: `intervention:${id}:2`,
      status: "queued",
    });
    expect(sent.intervention.steps[1]).toMatchObject({ status: "done", outbox_id: sent.sent?.outbox_id });

    // The same token again sends nothing new.
    const again = await callOk<Sent>(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 2,
      confirmation_token: token,
    });
    expect(again.sent).toEqual({ outbox_id: sent.sent?.outbox_id, status: "already_sent", created: false });
    expect(await outbox("acc_ri_a")).toHaveLength(1);

    // Steps: completing a task step completes its task, skipping cancels it.
    await callOk(csm, "execute_retention_campaign", {
      action: "step",
      intervention_id: id,
      position: 1,
      status: "done",
    });
    await callOk(csm, "execute_retention_campaign", {
      action: "step",
      intervention_id: id,
      position: 3,
      status: "skipped",
    });
    expect((await task(`tsk_${id}_1`))?.status).toBe("done");
    expect((await task(`tsk_${id}_3`))?.status).toBe("cancelled");
    expect(
      await callError(csm, "execute_retention_campaign", {
        action: "step",
        intervention_id: id,
        position: 1,
        status: "done",
      }),
    ).toContain("already done");

    // Close: ARR at close is the account's ARR then; the pending step is skipped and its task cancelled.
    await env.DB.prepare("UPDATE accounts SET arr = 8000 WHERE id = 'acc_ri_a'").run();
    const closed = await callOk<{ intervention: Intervention }>(csm, "execute_retention_campaign", {
      action: "close",
      intervention_id: id,
      outcome: "downsized",
      reason: "Renewed on fewer seats",
    });
    expect(closed.intervention).toMatchObject({
      status: "closed",
      outcome: "downsized",
      arr_at_open: 10000,
      arr_at_close: 8000,
    });
    expect(closed.intervention.steps.map((s) => s.status)).toEqual(["done", "done", "skipped", "skipped"]);
    expect((await task(`tsk_${id}_4`))?.status).toBe("cancelled");
    expect(
      await callError(csm, "execute_retention_campaign", {
        action: "close",
        intervention_id: id,
        outcome: "saved",
        reason: "x",
      }),
    ).toContain("already closed");
  });

  it("refuses a token for another position or recipient", async () => {
    const { intervention } = await callOk<{ intervention: Intervention }>(csm, "execute_retention_campaign", {
      action: "open",
      account_id: "acc_ri_a",
      playbook: "custom",
      steps: [
        { kind: "email", title: "First note for {{account.name}}", due_offset_days: 0 },
        { kind: "email", title: "Second note for {{account.name}}", due_offset_days: 7 },
      ],
    });
    const id = intervention.id;
    const before = (await outbox("acc_ri_a")).length;
    expect(
      await callError(csm, "execute_retention_campaign", { action: "send_step", intervention_id: id, position: 1 }),
    ).toContain("give its `body`");
    const body = "Hello {{contact.name}}, a note from {{csm.name}}.";
    const preview = await callOk<Sent>(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 1,
      body,
    });
    expect(preview.preview).toEqual({
      position: 1,
      contact_id: "con_ri_a2",
      to: "dana@acme.test",
      subject: "First note for Acme",
      text: "Hello Dana Reed, a note from Casey Morgan.",
    });
    const token = preview.confirmation?.token ?? "";
    const otherPosition = await callError(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 2,
      body,
      confirmation_token: token,
    });
    expect(otherPosition).toContain("does not match this payload");
    const otherRecipient = await callError(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 1,
      body,
      contact_id: "con_ri_a3",
      confirmation_token: token,
    });
    expect(otherRecipient).toContain("does not match this payload");
    const ineligible = await callError(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 1,
      body,
      contact_id: "con_ri_a1",
    });
    expect(ineligible).toContain("cannot be emailed");
    expect(await outbox("acc_ri_a")).toHaveLength(before);
    const sent = await callOk<Sent>(csm, "execute_retention_campaign", {
      action: "send_step",
      intervention_id: id,
      position: 1,
      body,
      confirmation_token: token,
    });
    expect(sent.sent?.created).toBe(true);
    const rows = await outbox("acc_ri_a");
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({
      subject: "First note for Acme",
      body_text: "Hello Dana Reed, a note from Casey Morgan.",
      to_email: "dana@acme.test",
    });
  });

  it("needs an eligible recipient, a csm to write, and lists with filters", async () => {
    const { intervention } = await callOk<{ intervention: Intervention }>(csm, "execute_retention_campaign", {
      action: "open",
      account_id: "acc_ri_b",
      playbook: "billing_outreach",
      owner: "casey@vendor.test",
    });
    expect(
      await callError(csm, "execute_retention_campaign", {
        action: "send_step",
        intervention_id: intervention.id,
        position: 2,
      }),
    ).toContain("no champion or decision maker");
    await expect(
      viewer.callTool({
        name: "execute_retention_campaign",
        arguments: { action: "open", account_id: "acc_ri_b", playbook: "support_review" },
      }),
    ).rejects.toMatchObject({ code: 403 });
    expect(
      await callError(csm, "execute_retention_campaign", {
        action: "open",
        account_id: "acc_ri_b",
        playbook: "custom",
      }),
    ).toContain("needs `steps`");
    expect(
      await callError(csm, "execute_retention_campaign", { action: "get", intervention_id: "int_nope" }),
    ).toContain('No intervention with id "int_nope"');
    const page1 = await callOk<{ interventions: Intervention[]; next_cursor: string | null }>(
      viewer,
      "execute_retention_campaign",
      { action: "list", account_id: "acc_ri_a", limit: 1 },
    );
    expect(page1.interventions).toHaveLength(1);
    expect(page1.interventions[0]?.playbook).toBe("custom");
    const page2 = await callOk<{ interventions: Intervention[]; next_cursor: string | null }>(
      viewer,
      "execute_retention_campaign",
      { action: "list", account_id: "acc_ri_a", limit: 1, cursor: page1.next_cursor },
    );
    expect(page2.interventions.map((i) => i.playbook)).toEqual(["executive_sponsor"]);
    expect(page2.next_cursor).toBeNull();
    const open = await callOk<{ interventions: Intervention[] }>(viewer, "execute_retention_campaign", {
      action: "list",
      status: "open",
      playbook: "billing_outreach",
    });
    expect(open.interventions.map((i) => i.id)).toEqual([intervention.id]);
  });

  it("computes save rate and ARR saved by playbook exactly", async () => {
    const row = (
      id: string,
      playbook: string,
      opened: number,
      closed: number | null,
      outcome: string | null,
      arrOpen: number,
      arrClose: number | null,
    ) =>
      insert("interventions", {
        id,
        workspace_id: STATS_WS,
        account_id: `acc_${id}`,
        playbook,
        status: closed === null ? "open" : "closed",
        outcome,
        arr_at_open: arrOpen,
        arr_at_close: arrClose,
        opened_at: `${day(opened)}T10:00:00.000Z`,
        closed_at: closed === null ? null : `${day(closed)}T10:00:00.000Z`,
      });
    await env.DB.batch([
      row("s1", "executive_sponsor", -100, -70, "saved", 10000, 12000),
      row("s2", "executive_sponsor", -90, -30, "downsized", 20000, 15000),
      row("s3", "executive_sponsor", -60, -50, "churned", 5000, 0),
      row("s4", "executive_sponsor", -10, null, null, 4000, null),
      row("s5", "adoption_workshop", -400, -370, "saved", 9000, 9000),
      row("s6", "adoption_workshop", -400, -20, "saved", 3000, 3000),
      row("s7", "renewal_rescue", -30, -5, "churned", 7000, 0),
      // Another workspace's intervention never counts.
      insert("interventions", {
        id: "s8",
        workspace_id: WS,
        account_id: "acc_ri_a",
        playbook: "renewal_rescue",
        status: "closed",
        outcome: "saved",
        arr_at_open: 1,
        arr_at_close: 1,
        opened_at: `${day(-3)}T10:00:00.000Z`,
        closed_at: `${day(-2)}T10:00:00.000Z`,
      }),
    ]);
    const result = await callOk<{
      window: { from: string; to: string; window_days: number };
      playbooks: Record<string, unknown>[];
      total: Record<string, unknown>;
    }>(stats, "execute_retention_campaign", { action: "stats" });
    expect(result.window).toEqual({ from: day(-365), to: today, window_days: 365 });
    expect(result.playbooks).toEqual([
      {
        playbook: "adoption_workshop",
        opened: 0,
        closed: 1,
        saved: 1,
        downsized: 0,
        churned: 0,
        save_rate: 1,
        retention_rate: 1,
        arr_at_open_closed: 3000,
        arr_saved: 3000,
        arr_lost: 0,
        median_days_to_close: 380,
      },
      {
        playbook: "executive_sponsor",
        opened: 4,
        closed: 3,
        saved: 1,
        downsized: 1,
        churned: 1,
        save_rate: 0.3333,
        retention_rate: 0.6667,
        arr_at_open_closed: 35000,
        arr_saved: 27000,
        arr_lost: 5000,
        median_days_to_close: 30,
      },
      {
        playbook: "renewal_rescue",
        opened: 1,
        closed: 1,
        saved: 0,
        downsized: 0,
        churned: 1,
        save_rate: 0,
        retention_rate: 0,
        arr_at_open_closed: 7000,
        arr_saved: 0,
        arr_lost: 7000,
        median_days_to_close: 25,
      },
    ]);
    expect(result.total).toEqual({
      playbook: "all",
      opened: 5,
      closed: 5,
      saved: 2,
      downsized: 1,
      churned: 2,
      save_rate: 0.4,
      retention_rate: 0.6,
      arr_at_open_closed: 45000,
      arr_saved: 30000,
      arr_lost: 12000,
      median_days_to_close: 30,
    });
    const narrow = await callOk<{ total: { closed: number; churned: number } }>(stats, "execute_retention_campaign", {
      action: "stats",
      window_days: 10,
    });
    expect(narrow.total).toMatchObject({ closed: 1, churned: 1 });
  });
});
