import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { queueEmail } from "../../../src/email/queue-email";
import worker from "../../../src/index";
import { clock } from "../../../src/platform/lib/clock";
import { callError, callOk, connectClient, createWorkspace } from "../../helpers/mcp";

const SENDGRID_URL = "https://api.sendgrid.com/v3/mail/send";
const sendgridEnv: Env = { ...env, SENDGRID_API_KEY: "SG.test-key" };

/** Captures queue sends (from this test and from tool calls) with the queue they went to. */
function captureQueues(): { queue: string; body: unknown }[] {
  const sent: { queue: string; body: unknown }[] = [];
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async function (
    this: Queue,
    body: unknown,
  ) {
    sent.push({ queue: this === env.EVENTS_QUEUE ? "cs-events" : this === env.JOBS_QUEUE ? "cs-jobs" : "other", body });
    return { metadata: { metrics: { backlogCount: sent.length, backlogBytes: 0 } } };
  });
  return sent;
}

async function runBatch(queue: string, id: string, body: unknown, attempts: number, runEnv: Env) {
  const ctx = createExecutionContext();
  const batch = createMessageBatch(queue, [{ id, timestamp: clock.now(), attempts, body }]);
  await worker.queue(batch, runEnv);
  return getQueueResult(batch, ctx);
}

interface LetterOutput {
  id: string;
  queue: string;
  message_id: string;
  message_type: string | null;
  status: string;
  attempts: number;
  error: string | null;
  replayed_at: string | null;
  body?: unknown;
}

/** Inserts dead letters directly, with distinct creation times (newest last in `rows`). */
async function insertLetters(
  workspaceId: string,
  rows: { id: string; queue?: string; status?: string; body?: unknown; error?: string }[],
) {
  await env.DB.batch(
    rows.map((row, i) =>
      env.DB.prepare(
        `INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 6, ?7, ?8, ?8)`,
      ).bind(
        row.id,
        workspaceId,
        row.queue ?? "cs-jobs",
        `msg-${row.id}`,
        JSON.stringify(row.body ?? { type: "send_email", workspaceId, outboxId: `eml_${row.id}` }),
        row.error ?? "boom",
        row.status ?? "dead",
        `2026-11-2${i}T10:00:00.000Z`,
      ),
    ),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("dead letters end to end", () => {
  it("retries a send SendGrid answers 503, dead-letters it with the error, and replays it once after the fix", async () => {
    const sent = captureQueues();
    let sendgridStatus = 503;
    const requests: string[] = [];
    const unexpected: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (request.url !== SENDGRID_URL || request.method !== "POST") {
        unexpected.push(`${request.method} ${request.url}`);
        throw new Error("unexpected request");
      }
      requests.push(request.url);
      return sendgridStatus === 503
        ? Response.json({ errors: [{ message: "Service unavailable" }] }, { status: 503 })
        : new Response(null, { status: 202, headers: { "X-Message-Id": "sg-replayed" } });
    });
    const admin = await createWorkspace("dlq-flow", "admin");
    await env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1")
      .bind(admin.workspaceId, JSON.stringify({ email_sender: { name: "CS", email: "cs@vendor.test" } }))
      .run();
    const queued = await queueEmail(sendgridEnv, {
      workspaceId: admin.workspaceId,
      to: "dana@acme.test",
      subject: "Hello",
      text: "Hello",
      idempotencyKey: "flow-1",
      origin: "manual",
    });
    const message = { type: "send_email", workspaceId: admin.workspaceId, outboxId: queued.id };
    expect(sent).toEqual([{ queue: "cs-jobs", body: message }]);

    // One first delivery and five retries (max_retries = 5), all failing.
    for (let attempts = 1; attempts <= 6; attempts++) {
      const result = await runBatch("cs-jobs", "m-flow", message, attempts, sendgridEnv);
      expect(result.retryMessages).toEqual([{ msgId: "m-flow" }]);
    }
    const dead = await runBatch("cs-jobs-dlq", "m-flow", message, 6, sendgridEnv);
    expect(dead.ackAll).toBe(true);

    const client = await connectClient(admin.key);
    const list = await callOk<{ dead_letters: LetterOutput[]; next_cursor: string | null }>(
      client,
      "manage_dead_letters",
      { action: "list" },
    );
    expect(list.next_cursor).toBeNull();
    expect(list.dead_letters).toEqual([
      {
        id: expect.stringMatching(/^dlq_/),
        queue: "cs-jobs",
        message_id: "m-flow",
        message_type: "send_email",
        status: "dead",
        attempts: 6,
        error: "SendGrid answered 503: Service unavailable",
        created_at: expect.any(String),
        updated_at: expect.any(String),
        replayed_at: null,
      },
    ]);
    const letterId = list.dead_letters[0]!.id;
    const got = await callOk<{ dead_letter: LetterOutput }>(client, "manage_dead_letters", {
      action: "get",
      dead_letter_id: letterId,
    });
    expect(got.dead_letter.body).toEqual(message);
    expect(got.dead_letter.error).toBe("SendGrid answered 503: Service unavailable");

    // The provider is back: replay sends the stored body to cs-jobs again, once.
    sendgridStatus = 202;
    sent.length = 0;
    const replay = await callOk<{ dead_letter: LetterOutput }>(client, "manage_dead_letters", {
      action: "replay",
      dead_letter_id: letterId,
    });
    expect(replay.dead_letter).toMatchObject({ status: "replayed", replayed_at: expect.any(String) });
    expect(sent).toEqual([{ queue: "cs-jobs", body: message }]);
    const redelivered = await runBatch("cs-jobs", "m-replayed", sent[0]!.body, 1, sendgridEnv);
    expect(redelivered.explicitAcks).toEqual(["m-replayed"]);
    const row = await env.DB.prepare(
      "SELECT status, attempts, provider_message_id, error FROM outbox_messages WHERE id = ?1",
    )
      .bind(queued.id)
      .first();
    expect(row).toEqual({ status: "sent", attempts: 7, provider_message_id: "sg-replayed", error: null });
    expect(requests).toHaveLength(7);

    expect(await callError(client, "manage_dead_letters", { action: "replay", dead_letter_id: letterId })).toContain(
      `Dead letter ${letterId} was already replayed at`,
    );
    expect(sent).toHaveLength(1);
    const audit = await env.DB.prepare(
      "SELECT tool, action, target_id FROM audit_log WHERE workspace_id = ?1 ORDER BY created_at",
    )
      .bind(admin.workspaceId)
      .all();
    expect(audit.results).toEqual([{ tool: "manage_dead_letters", action: "replay", target_id: letterId }]);
    expect(unexpected).toEqual([]);
  });

  it("replays a cs-events dead letter to the events queue", async () => {
    const sent = captureQueues();
    const admin = await createWorkspace("dlq-events", "admin");
    const body = {
      type: "webhook",
      workspaceId: admin.workspaceId,
      integrationId: "int_1",
      provider: "generic",
      receiptIds: ["rcp_1"],
    };
    await insertLetters(admin.workspaceId, [{ id: "dlq_ev1", queue: "cs-events", body }]);
    const client = await connectClient(admin.key);
    await callOk(client, "manage_dead_letters", { action: "replay", dead_letter_id: "dlq_ev1" });
    expect(sent).toEqual([{ queue: "cs-events", body }]);
  });
});

describe("manage_dead_letters", () => {
  it("lists dead letters by status, newest first, in pages", async () => {
    const admin = await createWorkspace("dlq-list", "admin");
    await insertLetters(admin.workspaceId, [
      { id: "dlq_a" },
      { id: "dlq_b", status: "retrying" },
      { id: "dlq_c", error: "SendGrid answered 503" },
      { id: "dlq_d", queue: "cs-events", body: { type: "webhook" } },
    ]);
    const client = await connectClient(admin.key);
    const first = await callOk<{ dead_letters: LetterOutput[]; next_cursor: string | null }>(
      client,
      "manage_dead_letters",
      { action: "list", limit: 2 },
    );
    expect(first.dead_letters.map((l) => [l.id, l.queue, l.message_type, l.status])).toEqual([
      ["dlq_d", "cs-events", "webhook", "dead"],
      ["dlq_c", "cs-jobs", "send_email", "dead"],
    ]);
    const second = await callOk<{ dead_letters: LetterOutput[]; next_cursor: string | null }>(
      client,
      "manage_dead_letters",
      { action: "list", limit: 2, cursor: first.next_cursor },
    );
    expect(second.dead_letters.map((l) => l.id)).toEqual(["dlq_a"]);
    expect(second.next_cursor).toBeNull();
    const retrying = await callOk<{ dead_letters: LetterOutput[] }>(client, "manage_dead_letters", {
      action: "list",
      status: "retrying",
    });
    expect(retrying.dead_letters.map((l) => l.id)).toEqual(["dlq_b"]);
    const jobsOnly = await callOk<{ dead_letters: LetterOutput[] }>(client, "manage_dead_letters", {
      action: "list",
      status: "all",
      queue: "cs-jobs",
    });
    expect(jobsOnly.dead_letters.map((l) => l.id)).toEqual(["dlq_c", "dlq_b", "dlq_a"]);
    expect(await callError(client, "manage_dead_letters", { action: "replay", dead_letter_id: "dlq_b" })).toBe(
      "Dead letter dlq_b is still being retried by cs-jobs; only dead letters can be replayed.",
    );
    expect(await callError(client, "manage_dead_letters", { action: "list", dead_letter_id: "dlq_a" })).toBe(
      "dead_letter_id does not apply to action list; it takes status, queue, limit, cursor.",
    );
    expect(await callError(client, "manage_dead_letters", { action: "get" })).toBe(
      "action get needs `dead_letter_id`.",
    );
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE workspace_id = ?1")
      .bind(admin.workspaceId)
      .first<{ n: number }>();
    expect(audit?.n).toBe(0);
  });

  it("reads another workspace's dead letters as missing and never replays them", async () => {
    const sent = captureQueues();
    const mine = await createWorkspace("dlq-mine", "admin");
    const theirs = await createWorkspace("dlq-theirs", "admin");
    await insertLetters(mine.workspaceId, [{ id: "dlq_mine" }]);
    await insertLetters(theirs.workspaceId, [{ id: "dlq_theirs" }]);
    const client = await connectClient(mine.key);
    const list = await callOk<{ dead_letters: LetterOutput[] }>(client, "manage_dead_letters", {
      action: "list",
      status: "all",
    });
    expect(list.dead_letters.map((l) => l.id)).toEqual(["dlq_mine"]);
    const missing =
      'No dead letter with id "dlq_theirs" in this workspace. Use list or search tools to find valid ids.';
    expect(await callError(client, "manage_dead_letters", { action: "get", dead_letter_id: "dlq_theirs" })).toBe(
      missing,
    );
    expect(await callError(client, "manage_dead_letters", { action: "replay", dead_letter_id: "dlq_theirs" })).toBe(
      missing,
    );
    const theirRow = await env.DB.prepare(
      "SELECT status, replayed_at FROM dead_letters WHERE id = 'dlq_theirs'",
    ).first();
    expect(theirRow).toEqual({ status: "dead", replayed_at: null });
    expect(sent).toEqual([]);
  });

  it("is for admins only: a csm key gets HTTP 403 and does not see the tool", async () => {
    const { workspaceId } = await createWorkspace("dlq-roles", "admin");
    const csm = await createWorkspace("dlq-roles", "csm");
    await insertLetters(workspaceId, [{ id: "dlq_role" }]);
    const client = await connectClient(csm.key);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).not.toContain("manage_dead_letters");
    expect(names).toContain("list_outbox");
    await expect(client.callTool({ name: "manage_dead_letters", arguments: { action: "list" } })).rejects.toMatchObject(
      {
        code: 403,
        message: expect.stringContaining(
          "Forbidden: manage_dead_letters needs the admin role; this credential has csm.",
        ),
      },
    );
  });
});
