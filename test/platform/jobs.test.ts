import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { clock } from "../../src/platform/lib/clock";
import { runScheduled } from "../../src/platform/queue/cron";
import { REGISTRY } from "../../src/toolsets";
import { callOk, connectClient, createWorkspace } from "../helpers/mcp";

describe("cron framework", () => {
  it("runs a fire once even when it is delivered twice", async () => {
    const at = new Date("2026-03-01T03:00:00Z");
    const first = await runScheduled(env, REGISTRY.crons, "0 3 * * *", at);
    const second = await runScheduled(env, REGISTRY.crons, "0 3 * * *", at);
    expect(first.status).toBe("succeeded");
    expect(second.status).toBe("duplicate");
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM job_runs WHERE scheduled_time = ?1")
      .bind(at.toISOString())
      .first<{ n: number }>();
    expect(runs?.n).toBe(1);
  });

  it("deletes raw events and feature days past retention, keeping newer ones", async () => {
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO usage_events (id, workspace_id, account_id, event, occurred_at, message_id) VALUES
         ('e1','ws_ret','a1','login','2026-04-01T10:00:00Z','m1'), ('e2','ws_ret','a1','login','2026-04-20T10:00:00Z','m2')`,
      ),
      env.DB.prepare(
        `INSERT INTO usage_feature_daily (workspace_id, account_id, day, feature, events, active_users) VALUES
         ('ws_ret','a1','2025-01-01','reports',3,1), ('ws_ret','a1','2026-04-01','reports',5,2)`,
      ),
    ]);
    // 2026-04-25 minus 14 days = 2026-04-11; minus 400 days = 2025-03-21.
    const outcome = await runScheduled(env, REGISTRY.crons, "0 3 * * *", new Date("2026-04-25T03:00:00Z"));
    expect(outcome.status).toBe("succeeded");
    const detail = outcome.status === "duplicate" ? {} : outcome.detail;
    expect(detail).toMatchObject({
      purge_expired_detail: {
        usage_events_deleted: 1,
        usage_feature_days_deleted: 1,
        usage_event_cutoff: "2026-04-11",
      },
    });
    const left = await env.DB.prepare("SELECT id FROM usage_events WHERE workspace_id = 'ws_ret'").all<{
      id: string;
    }>();
    expect(left.results.map((r) => r.id)).toEqual(["e2"]);
  });

  it("records an unknown cron as a failed run", async () => {
    const outcome = await runScheduled(env, REGISTRY.crons, "*/5 * * * *", new Date("2026-03-01T00:05:00Z"));
    expect(outcome.status).toBe("failed");
  });
});

describe("queues", () => {
  it("keeps a failing message's latest error, then marks it dead once in the dead-letter queue", async () => {
    const body = { workspaceId: "ws_dlq", type: "x" };
    const ctx = createExecutionContext();
    const batch = createMessageBatch("cs-jobs", [{ id: "msg-1", timestamp: clock.now(), attempts: 3, body }]);
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["msg-1"]);
    for (let i = 0; i < 2; i++) {
      const dlqCtx = createExecutionContext();
      const dead = createMessageBatch("cs-jobs-dlq", [{ id: "msg-1", timestamp: clock.now(), attempts: 6, body }]);
      await worker.queue(dead, env);
      expect((await getQueueResult(dead, dlqCtx)).ackAll).toBe(true);
    }
    const rows = await env.DB.prepare(
      "SELECT queue, message_id, workspace_id, body, attempts, status, error FROM dead_letters",
    ).all();
    expect(rows.results).toEqual([
      {
        queue: "cs-jobs",
        message_id: "msg-1",
        workspace_id: "ws_dlq",
        body: '{"workspaceId":"ws_dlq","type":"x"}',
        attempts: 3,
        status: "dead",
        error:
          "not a valid cs-jobs message (type: Invalid discriminator value. Expected 'send_email' | 'slack_alert' | 'health_recalc_chunk' | 'risk_retrain' | 'renewal_reminders')",
      },
    ]);
  });

  it("records a dead letter that was never seen failing, once", async () => {
    for (let i = 0; i < 2; i++) {
      const dead = createMessageBatch("cs-events-dlq", [
        { id: "ev-9", timestamp: clock.now(), attempts: 6, body: { workspaceId: "ws_dlq2" } },
      ]);
      await worker.queue(dead, env);
    }
    const rows = await env.DB.prepare("SELECT status, error FROM dead_letters WHERE message_id = 'ev-9'").all();
    expect(rows.results).toEqual([{ status: "dead", error: "retries exhausted (no error was recorded)" }]);
  });
});

describe("scheduled jobs in the workspace overview", () => {
  it("shows the latest run of each cron with its outcome", async () => {
    await runScheduled(env, REGISTRY.crons, "0 3 * * *", new Date("2026-05-01T03:00:00Z"));
    await runScheduled(env, REGISTRY.crons, "0 3 * * *", new Date("2026-05-02T03:00:00Z"));
    const { key } = await createWorkspace("jobs-overview", "viewer");
    const overview = await callOk<{ scheduled_jobs: { cron: string; last_scheduled_time: string; status: string }[] }>(
      await connectClient(key),
      "get_workspace_overview",
    );
    const daily = overview.scheduled_jobs.find((run) => run.cron === "0 3 * * *");
    expect(daily).toMatchObject({ last_scheduled_time: "2026-05-02T03:00:00.000Z", status: "succeeded" });
    expect(overview.scheduled_jobs.find((run) => run.cron === "*/5 * * * *")).toMatchObject({ status: "failed" });
  });
});

describe("stale webhook receipts", () => {
  it("enqueues again a receipt stored but never enqueued, once per sweep window", async () => {
    await env.DB.prepare(
      `INSERT INTO webhook_receipts (id, workspace_id, integration_id, provider, event_id, payload, status, received_at) VALUES
       ('rcp_stale', 'ws_sweep', 'int_sweep', 'generic', 'evt-stale', '{}', 'queued', '2026-06-01T09:40:00.000Z'),
       ('rcp_fresh', 'ws_sweep', 'int_sweep', 'generic', 'evt-fresh', '{}', 'queued', '2026-06-01T09:55:00.000Z'),
       ('rcp_done', 'ws_sweep', 'int_sweep', 'generic', 'evt-done', '{}', 'processed', '2026-06-01T09:00:00.000Z')`,
    ).run();
    const sent = vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
    const first = await runScheduled(env, REGISTRY.crons, "*/10 * * * *", new Date("2026-06-01T10:00:00Z"));
    expect(first.status === "duplicate" ? null : first.detail).toEqual({
      requeue_stale_receipts: { receipts_requeued: 1 },
    });
    expect(sent.mock.calls[0]?.[0]).toEqual([
      {
        body: {
          type: "webhook",
          workspaceId: "ws_sweep",
          integrationId: "int_sweep",
          provider: "generic",
          receiptIds: ["rcp_stale"],
        },
      },
    ]);
    const next = await runScheduled(env, REGISTRY.crons, "*/10 * * * *", new Date("2026-06-01T10:11:00Z"));
    expect(next.status === "duplicate" ? null : next.detail).toEqual({
      requeue_stale_receipts: { receipts_requeued: 1 },
    });
    expect(sent.mock.calls[1]?.[0]).toEqual([
      {
        body: {
          type: "webhook",
          workspaceId: "ws_sweep",
          integrationId: "int_sweep",
          provider: "generic",
          receiptIds: ["rcp_fresh"],
        },
      },
    ]);
    sent.mockRestore();
  });
});
