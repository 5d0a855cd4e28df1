import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { collectWorkspace, generateWorkspace } from "../../../scripts/seed/generate";
import { SqlEmitter } from "../../../scripts/seed/sql";
import worker from "../../../src/index";
import { clock } from "../../../src/platform/lib/clock";
import { addDays } from "../../../src/platform/lib/time";
import { runScheduled } from "../../../src/platform/queue/cron";
import { readSettings } from "../../../src/records/settings";
import { nextReminder, offsetsForTier, planReminders } from "../../../src/tools/expansion/domain/renewal-schedule";
import { renewalReminders, scanReminders } from "../../../src/tools/expansion/jobs";
import { REGISTRY } from "../../../src/toolsets";
import { insert } from "../../helpers/mcp";

describe("reminder schedule (pure)", () => {
  const offsets = [120, 90, 60, 30, 7];

  it("sends only the nearest crossed offset and skips the larger ones", () => {
    // 20 days left: 120, 90, 60 and 30 are crossed (renewal − offset ≤ today).
    expect(planReminders(offsets, 20, [])).toEqual({
      send: 30,
      skip: [120, 90, 60].map((offset) => ({
        offset,
        note: "passed before the first scan; the 30-day reminder was sent instead",
      })),
    });
    // Exactly on the due day of 90, with 120 already reminded.
    expect(planReminders(offsets, 90, [120])).toEqual({ send: 90, skip: [] });
    expect(planReminders(offsets, 91, [120])).toEqual({ send: null, skip: [] });
    expect(planReminders(offsets, 15, [120, 90, 60, 30])).toEqual({ send: null, skip: [] });
  });

  it("never sends an offset older than a reminder already made", () => {
    // 45 was added to the schedule after the 30-day reminder went out.
    expect(planReminders([120, 90, 60, 45, 30, 7], 20, [120, 90, 60, 30])).toEqual({
      send: null,
      skip: [{ offset: 45, note: "due before the 30-day reminder already made; not sent" }],
    });
  });

  it("picks the tier's offsets, sorted and without repeats, else the default", () => {
    const settings = { offsets_days: [30, 120, 90, 30], by_tier: { "Tier 1": [14, 150, 60] } };
    expect(offsetsForTier(settings, "Tier 1")).toEqual([150, 60, 14]);
    expect(offsetsForTier(settings, "Tier 2")).toEqual([120, 90, 30]);
    expect(offsetsForTier(settings, null)).toEqual([120, 90, 30]);
  });

  it("names the next reminder: pending when crossed, else the next due day ahead", () => {
    expect(nextReminder(offsets, 20, [])).toEqual({ offset: 30, days_until_due: 0, pending: true });
    expect(nextReminder(offsets, 20, [120, 90, 60, 30])).toEqual({ offset: 7, days_until_due: 13, pending: false });
    expect(nextReminder(offsets, 5, [7])).toBeNull();
  });
});

const D = "2031-03-01";
const WS = "ws_rr";
const SLACK_ENV: Env = { ...env, SLACK_WEBHOOK_URL: "https://hooks.slack.test/services/T/B/X" };

function account(id: string, name: string, extra: Record<string, string | number | null> = {}) {
  return insert("accounts", {
    id,
    workspace_id: WS,
    name,
    owner_user_id: "usr_rr_casey",
    health_score: 55,
    health_band: "yellow",
    churn_probability: 0.25,
    ...extra,
  });
}

function contract(id: string, accountId: string, endDate: string, extra: Record<string, string | number | null> = {}) {
  return insert("contracts", {
    id,
    workspace_id: WS,
    account_id: accountId,
    start_date: addDays(endDate, -365),
    end_date: endDate,
    arr: 12_000,
    ...extra,
  });
}

const settingsJson = {
  email_sender: { name: "Vendor CS", email: "cs@vendor.test" },
  renewal_reminders: { by_tier: { "Tier 1": [150, 60, 14] } },
};
const settings = readSettings(settingsJson);

beforeAll(async () => {
  await env.DB.batch([
    insert("workspaces", { id: WS, slug: "rr", name: "RR Inc", settings: JSON.stringify(settingsJson) }),
    insert("users", {
      id: "usr_rr_casey",
      workspace_id: WS,
      email: "casey@vendor.test",
      name: "Casey Morgan",
      role: "csm",
    }),
    account("acc_fresh", "Fresh Co"),
    account("acc_late", "Late Co"),
    account("acc_tier", "Tier Co", { tier: "Tier 1", health_score: 82, health_band: "green", churn_probability: 0.05 }),
    account("acc_closed", "Closed Co"),
    account("acc_churned", "Churned Co", { status: "churned" }),
    // 95 days out: only 120 is crossed.
    contract("c_fresh", "acc_fresh", addDays(D, 95)),
    // First seen 20 days out: 120, 90, 60 and 30 are all crossed.
    contract("c_late", "acc_late", addDays(D, 20), { auto_renew: 1 }),
    // Tier 1 (150/60/14): 150 is crossed at 140 days; the default schedule would have none yet.
    contract("c_tier", "acc_tier", addDays(D, 140), { arr: 50_000 }),
    // Closed renewals: an outcome recorded early, an ended contract, a churned account, a past date.
    contract("c_outcome", "acc_closed", addDays(D, 20), { outcome: "renewed", outcome_date: D }),
    contract("c_ended", "acc_closed", addDays(D, 25), { status: "ended" }),
    contract("c_churned", "acc_churned", addDays(D, 20)),
    contract("c_past", "acc_closed", addDays(D, -1)),
    contract("c_far", "acc_closed", addDays(D, 200)),
  ]);
});

/** What was sent to the jobs queue one by one (emails, alerts) and in batches (cron chunks). */
const sends: unknown[] = [];
const batched: unknown[] = [];
function captureQueue() {
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async (body: unknown) => {
    sends.push(body);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "sendBatch").mockImplementation(async (messages) => {
    batched.push(...[...messages].map((m) => m.body));
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
}

/** The reminder chunks the cron queued since the last call. */
function reminderChunks(): { type: string; workspaceId: string; day: string; reminderIds: string[] }[] {
  const chunks = batched.filter((b) => (b as { type: string }).type === "renewal_reminders");
  batched.length = 0;
  return chunks as { type: string; workspaceId: string; day: string; reminderIds: string[] }[];
}

const cronAt = (day: string, hour = "03") => new Date(`${day}T${hour}:00:00Z`);

afterEach(() => {
  vi.restoreAllMocks();
  sends.length = 0;
  batched.length = 0;
});

async function reminders() {
  return (
    await env.DB.prepare(
      `SELECT contract_id, offset_days, due_day, status, note, task_id IS NOT NULL AS has_task, outbox_id IS NOT NULL AS has_email,
              slack_queued FROM renewal_reminders WHERE workspace_id = ?1 ORDER BY contract_id, offset_days DESC`,
    )
      .bind(WS)
      .all()
  ).results;
}

let messageNumber = 0;
/** Runs bodies through the Worker's `cs-jobs` consumer as one batch. */
async function deliver(bodies: unknown[], runEnv: Env = env) {
  const ctx = createExecutionContext();
  const batch = createMessageBatch(
    "cs-jobs",
    bodies.map((body) => ({ id: `rr-${++messageNumber}`, timestamp: clock.now(), attempts: 1, body })),
  );
  await worker.queue(batch, runEnv);
  return getQueueResult(batch, ctx);
}

describe("daily renewal reminders", () => {
  it("reminds each open renewal once per offset, honours tiers, skips what the first scan passed, ignores closed renewals", async () => {
    captureQueue();
    // Pages of one contract: every page boundary of the scan is crossed.
    expect(await scanReminders(env, WS, settings, D, 1)).toEqual({ created: 3, skipped: 3 });
    const cron = await renewalReminders.run(SLACK_ENV, cronAt(D));
    expect(cron).toMatchObject({ day: D, created: 0, skipped: 0, reminders_queued: 3, chunks_queued: 1 });
    const [chunk, ...more] = reminderChunks();
    expect(more).toEqual([]);
    const queuedIds = await env.DB.prepare(
      "SELECT id FROM renewal_reminders WHERE workspace_id = ?1 AND status = 'queued' ORDER BY due_day, id",
    )
      .bind(WS)
      .all<{ id: string }>();
    expect(chunk).toEqual({
      type: "renewal_reminders",
      workspaceId: WS,
      day: D,
      reminderIds: queuedIds.results.map((r) => r.id),
    });
    // The queue delivers the chunk twice: the second delivery finds every reminder sent.
    expect((await deliver([chunk], SLACK_ENV)).retryMessages).toEqual([]);
    expect((await deliver([chunk], SLACK_ENV)).retryMessages).toEqual([]);
    const row = (contractId: string, offset: number, status: string, note: string | null, sent: boolean) => ({
      contract_id: contractId,
      offset_days: offset,
      due_day: addDays(
        contractId === "c_fresh" ? addDays(D, 95) : contractId === "c_late" ? addDays(D, 20) : addDays(D, 140),
        -offset,
      ),
      status,
      note,
      has_task: sent ? 1 : 0,
      has_email: sent ? 1 : 0,
      slack_queued: sent ? 1 : 0,
    });
    const skippedNote = "passed before the first scan; the 30-day reminder was sent instead";
    const expected = [
      row("c_fresh", 120, "sent", null, true),
      row("c_late", 120, "skipped", skippedNote, false),
      row("c_late", 90, "skipped", skippedNote, false),
      row("c_late", 60, "skipped", skippedNote, false),
      row("c_late", 30, "sent", null, true),
      row("c_tier", 150, "sent", null, true),
    ];
    expect(await reminders()).toEqual(expected);

    // The cron firing again the same day adds and queues nothing.
    const again = await renewalReminders.run(SLACK_ENV, cronAt(D, "15"));
    expect(again).toMatchObject({ created: 0, skipped: 0, reminders_queued: 0, chunks_queued: 0 });
    expect(reminderChunks()).toEqual([]);
    expect(await reminders()).toEqual(expected);

    // Three emails and three Slack alerts were queued, nothing more.
    const types = sends.map((s) => (s as { type: string }).type).sort();
    expect(types).toEqual(["send_email", "send_email", "send_email", "slack_alert", "slack_alert", "slack_alert"]);
    expect(sends.find((s) => (s as { idempotencyKey?: string }).idempotencyKey === "renewal:c_late:30")).toEqual({
      type: "slack_alert",
      workspaceId: WS,
      idempotencyKey: "renewal:c_late:30",
      text: `Renewal in 20 days: Late Co renews on ${addDays(D, 20)} (ARR 12,000, auto-renew on, health 55 (yellow), churn probability 25%; owner Casey Morgan).`,
    });
  });

  it("writes the exact owner email and task", async () => {
    const reminder = await env.DB.prepare(
      "SELECT id, outbox_id, task_id FROM renewal_reminders WHERE workspace_id = ?1 AND contract_id = 'c_late' AND offset_days = 30",
    )
      .bind(WS)
      .first<{ id: string; outbox_id: string; task_id: string }>();
    expect(reminder?.task_id).toBe(`tsk_${reminder?.id}`);
    const email = await env.DB.prepare(
      "SELECT id, to_email, subject, body_text, account_id, origin, status FROM outbox_messages WHERE workspace_id = ?1 AND idempotency_key = 'renewal:c_late:30'",
    )
      .bind(WS)
      .first();
    expect(email).toEqual({
      id: reminder?.outbox_id,
      to_email: "casey@vendor.test",
      subject: `Renewal in 20 days: Late Co (${addDays(D, 20)})`,
      body_text:
        `Late Co renews on ${addDays(D, 20)}: 20 days left (the 30-day reminder).\n` +
        "Contract c_late: ARR 12,000, auto-renew on, health 55 (yellow), churn probability 25%.\n" +
        `Acknowledge it with track_renewals, action acknowledge, reminder_id ${reminder?.id}.`,
      account_id: "acc_late",
      origin: "reminder",
      status: "queued",
    });
    const task = await env.DB.prepare(
      "SELECT account_id, title, description, owner_user_id, due_date, priority, status, source FROM tasks WHERE workspace_id = ?1 AND id = ?2",
    )
      .bind(WS, reminder?.task_id)
      .first();
    expect(task).toEqual({
      account_id: "acc_late",
      title: "Prepare renewal (20 days left): Late Co",
      description: `Renewal reminder 30 days before ${addDays(D, 20)} for contract c_late: ARR 12,000, auto-renew on, health 55 (yellow), churn probability 25%.`,
      owner_user_id: "usr_rr_casey",
      // Seven days after the reminder, before the renewal date.
      due_date: addDays(D, 7),
      priority: "high",
      status: "open",
      source: "renewal_reminder",
    });
    const tasks = await env.DB.prepare(
      "SELECT count(*) AS n FROM tasks WHERE workspace_id = ?1 AND source = 'renewal_reminder'",
    )
      .bind(WS)
      .first<{ n: number }>();
    expect(tasks?.n).toBe(3);
  });

  it("sends a redelivered email once and a reminder dispatched again creates no second email or task", async () => {
    captureQueue();
    // A reminder left queued (a run interrupted after queueing) is dispatched again on the next run.
    await env.DB.prepare(
      "UPDATE renewal_reminders SET status = 'queued', sent_at = NULL WHERE workspace_id = ?1 AND contract_id = 'c_fresh'",
    )
      .bind(WS)
      .run();
    const resumed = await renewalReminders.run(env, cronAt(addDays(D, 1)));
    expect(resumed).toMatchObject({ created: 0, reminders_queued: 1, chunks_queued: 1 });
    expect((await deliver(reminderChunks())).retryMessages).toEqual([]);
    expect(sends).toEqual([]);
    const resent = await env.DB.prepare(
      "SELECT status FROM renewal_reminders WHERE workspace_id = ?1 AND contract_id = 'c_fresh'",
    )
      .bind(WS)
      .first();
    expect(resent).toEqual({ status: "sent" });

    const outbox = await env.DB.prepare(
      "SELECT id, idempotency_key FROM outbox_messages WHERE workspace_id = ?1 ORDER BY idempotency_key",
    )
      .bind(WS)
      .all<{ id: string; idempotency_key: string }>();
    expect(outbox.results.map((r) => r.idempotency_key)).toEqual([
      "renewal:c_fresh:120",
      "renewal:c_late:30",
      "renewal:c_tier:150",
    ]);
    // The queue delivers every send_email message twice: each email goes out once.
    const messages = outbox.results.map((r) => ({ type: "send_email", workspaceId: WS, outboxId: r.id }));
    expect((await deliver(messages)).retryMessages).toEqual([]);
    expect((await deliver(messages)).retryMessages).toEqual([]);
    const delivered = await env.DB.prepare(
      "SELECT idempotency_key, status, attempts FROM outbox_messages WHERE workspace_id = ?1 ORDER BY idempotency_key",
    )
      .bind(WS)
      .all();
    expect(delivered.results).toEqual([
      { idempotency_key: "renewal:c_fresh:120", status: "sent", attempts: 1 },
      { idempotency_key: "renewal:c_late:30", status: "sent", attempts: 1 },
      { idempotency_key: "renewal:c_tier:150", status: "sent", attempts: 1 },
    ]);
  });

  it("sends the next offsets as their days arrive, through the daily cron", async () => {
    captureQueue();
    // Day +2: nothing new is due.
    await runScheduled(env, REGISTRY.crons, "0 3 * * *", cronAt(addDays(D, 2)));
    expect(reminderChunks()).toEqual([]);
    // Day +5: c_fresh is 90 days out.
    const outcome = await runScheduled(env, REGISTRY.crons, "0 3 * * *", cronAt(addDays(D, 5)));
    expect(outcome.status === "duplicate" ? null : outcome.detail.renewal_reminders).toMatchObject({
      day: addDays(D, 5),
      created: 1,
      reminders_queued: 1,
      chunks_queued: 1,
    });
    expect((await deliver(reminderChunks())).retryMessages).toEqual([]);
    expect(sends.map((s) => (s as { type: string }).type)).toEqual(["send_email"]);
    const fresh = await env.DB.prepare(
      "SELECT offset_days, status FROM renewal_reminders WHERE workspace_id = ?1 AND contract_id = 'c_fresh' ORDER BY offset_days DESC",
    )
      .bind(WS)
      .all();
    expect(fresh.results).toEqual([
      { offset_days: 120, status: "sent" },
      { offset_days: 90, status: "sent" },
    ]);
    const subject = await env.DB.prepare(
      "SELECT subject FROM outbox_messages WHERE workspace_id = ?1 AND idempotency_key = 'renewal:c_fresh:90'",
    )
      .bind(WS)
      .first<{ subject: string }>();
    expect(subject?.subject).toBe(`Renewal in 90 days: Fresh Co (${addDays(D, 95)})`);
  });

  it("skips a queued reminder whose renewal closed before it went out", async () => {
    captureQueue();
    await env.DB.batch([
      contract("c_closing", "acc_fresh", addDays(D, 100)),
      insert("renewal_reminders", {
        id: "rrm_closing",
        workspace_id: WS,
        contract_id: "c_closing",
        account_id: "acc_fresh",
        offset_days: 120,
        due_day: addDays(D, -20),
        renewal_date: addDays(D, 100),
        status: "queued",
      }),
      env.DB.prepare("UPDATE contracts SET outcome = 'churned' WHERE workspace_id = ?1 AND id = 'c_closing'").bind(WS),
    ]);
    const run = await renewalReminders.run(env, cronAt(addDays(D, 5), "16"));
    expect(run).toMatchObject({ created: 0, reminders_queued: 1 });
    expect((await deliver(reminderChunks())).retryMessages).toEqual([]);
    const row = await env.DB.prepare("SELECT status, note, outbox_id FROM renewal_reminders WHERE id = 'rrm_closing'")
      .bind()
      .first();
    expect(row).toEqual({ status: "skipped", note: "renewal already closed (churned)", outbox_id: null });
    expect(sends).toEqual([]);
  });
});

describe("demo data: cron → queue → outbox", () => {
  it("reminds the demo workspace's open renewals and the queue delivers them into the outbox", async () => {
    const options = { seed: 7, accounts: 40, anchorDay: "2026-06-15", workspaceId: "ws_rrdemo", slug: "rrdemo" };
    const emitter = new SqlEmitter();
    for (const chunk of generateWorkspace(options)) {
      for (const statement of emitter.add(chunk)) await env.DB.prepare(statement).run();
    }
    for (const statement of emitter.finish()) await env.DB.prepare(statement).run();
    const demo = collectWorkspace(options);
    const churned = new Set(demo.accounts.filter((a) => a.status === "churned").map((a) => a.id));
    const open = demo.contracts.filter(
      (c) =>
        c.status === "active" &&
        c.outcome === null &&
        !churned.has(c.account_id) &&
        c.end_date > "2026-06-15" &&
        c.end_date <= addDays("2026-06-15", 120),
    );
    expect(open.length).toBeGreaterThan(0);

    captureQueue();
    await renewalReminders.run(env, cronAt("2026-06-15"));
    const chunks = reminderChunks().filter((c) => c.workspaceId === options.workspaceId);
    expect(chunks.length).toBe(1);
    expect((await deliver(chunks)).retryMessages).toEqual([]);
    const made = await env.DB.prepare(
      "SELECT contract_id, status, outbox_id FROM renewal_reminders WHERE workspace_id = ?1 AND status = 'sent'",
    )
      .bind(options.workspaceId)
      .all<{ contract_id: string; status: string; outbox_id: string | null }>();
    // Every open renewal inside 120 days has exactly one sent reminder today.
    expect(made.results.map((r) => r.contract_id).sort()).toEqual(open.map((c) => c.id).sort());
    const emails = sends.filter(
      (s) =>
        (s as { type: string; workspaceId: string }).type === "send_email" &&
        (s as { workspaceId: string }).workspaceId === options.workspaceId,
    );
    expect(emails.length).toBe(made.results.filter((r) => r.outbox_id !== null).length);
    expect(emails.length).toBeGreaterThan(0);
    expect((await deliver(emails)).retryMessages).toEqual([]);
    const outbox = await env.DB.prepare(
      "SELECT status, origin, count(*) AS n FROM outbox_messages WHERE workspace_id = ?1 AND origin = 'reminder' GROUP BY status, origin",
    )
      .bind(options.workspaceId)
      .all();
    expect(outbox.results).toEqual([{ status: "sent", origin: "reminder", n: emails.length }]);
  });
});
