import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { isoDay } from "../../../src/platform/lib/time";
import { runScheduled } from "../../../src/platform/queue/cron";
import { jobsConsumer } from "../../../src/platform/queue/jobs";
import { type HealthRecalcChunkMessage, handleHealthChunks } from "../../../src/tools/health/jobs";
import { REGISTRY } from "../../../src/toolsets";
import { createWorkspace } from "../../helpers/mcp";

const today = isoDay(clock.now());

afterEach(() => {
  vi.restoreAllMocks();
});

describe("nightly recalculation", () => {
  it("queues chunks of ≤ 500 ids per workspace and the chunks score every active account", async () => {
    const ws = "ws_healthcron";
    await createWorkspace("healthcron");
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 650)
       INSERT INTO accounts (id, workspace_id, name, status) SELECT printf('acc_hc_%03d', i), ?1, 'A' || i,
              CASE WHEN i = 650 THEN 'churned' ELSE 'active' END FROM n`,
    )
      .bind(ws)
      .run();
    const batches: { body: HealthRecalcChunkMessage }[][] = [];
    vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "sendBatch").mockImplementation(async (messages) => {
      batches.push([...messages] as { body: HealthRecalcChunkMessage }[]);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    });
    const scheduled = new Date(`${today}T03:00:00.417Z`);
    const outcome = await runScheduled(env, REGISTRY.crons, "0 3 * * *", scheduled);
    expect(outcome.status).toBe("succeeded");
    const messages = batches.flat().map((m) => m.body);
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(100);
    const mine = messages.filter((m) => m.workspaceId === ws);
    // 649 active accounts in id order: 500 + 149
    expect(mine.map((m) => (m.type === "health_recalc_chunk" ? m.accountIds.length : 0))).toEqual([500, 149]);
    const other = messages.filter((m) => m.workspaceId !== ws);
    // The chunk handler through the consumer for this workspace, the rest directly.
    const batch = createMessageBatch(
      "cs-jobs",
      mine.map((body, i) => ({ id: `hc-${i}`, timestamp: clock.now(), attempts: 1, body })),
    );
    expect(await jobsConsumer(REGISTRY.jobs)(batch.messages, env)).toEqual(new Map());
    const rest = other.flatMap((m, i) =>
      m.type === "health_recalc_chunk"
        ? [{ messageId: `o-${i}`, workspaceId: m.workspaceId, runId: m.runId, day: m.day, accountIds: m.accountIds }]
        : [],
    );
    expect(await handleHealthChunks(env, rest)).toEqual(new Map());
    const counted = await env.DB.prepare(
      "SELECT count(*) AS n, min(score) AS lo, max(score) AS hi FROM health_scores WHERE workspace_id = ?1 AND day = ?2",
    )
      .bind(ws, today)
      .first();
    // Accounts without any data: engagement 0 and support 100 → (0 × 20 + 100 × 15) / 35 = 42.86
    expect(counted).toEqual({ n: 649, lo: 42.86, hi: 42.86 });
    const run = await env.DB.prepare("SELECT detail FROM job_runs WHERE cron = '0 3 * * *' AND scheduled_time = ?1")
      .bind(scheduled.toISOString())
      .first<{ detail: string }>();
    const detail = JSON.parse(run?.detail ?? "{}") as Record<string, Record<string, number>>;
    expect(detail.health_recalc).toMatchObject({ day: today, chunks_queued: messages.length });
    expect(detail.health_recalc_progress).toMatchObject({
      chunks_total: messages.length,
      chunks_done: messages.length,
    });
  });
});
