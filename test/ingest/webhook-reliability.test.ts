import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getAgentByName } from "agents";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { processEvents } from "../../src/ingest/consumer";
import type { EventMessage } from "../../src/ingest/messages";
import { claimStaleReceipts } from "../../src/ingest/queries/receipts";
import { MAX_BODY_BYTES } from "../../src/ingest/receiver";
import { requeueStaleReceipts } from "../../src/ingest/requeue";
import { createIntegration, d1Runner } from "../../src/integrations/service";
import { clock } from "../../src/platform/lib/clock";
import { callOk, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";
import { segmentHeaders } from "../helpers/webhook-signing";

/**
 * At-least-once delivery end to end: signed POSTs to the webhook route, the queue messages they
 * enqueue run through the Worker's queue handler. The same delivery many times is one effect; a
 * poison message is retried and ends as a dead letter while the rest of its batch is written;
 * and on every failure path (queue send, D1, normalizer, account agent) an event ends either
 * written, or recorded as a receipt still to process or a dead letter, never acked and lost.
 */

let workspaceId = "";
let client: Client;
/** Messages handed to the events queue since the test began. */
let queued: EventMessage[] = [];
let sendBatch: ReturnType<typeof vi.spyOn>;
let seq = 0;

beforeAll(async () => {
  const workspace = await createWorkspace("webhook-reliability", "admin");
  workspaceId = workspace.workspaceId;
  client = await connectClient(workspace.key);
});

beforeEach(() => {
  queued = [];
  sendBatch = vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockImplementation(async (messages) => {
    for (const message of messages) queued.push(message.body as EventMessage);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function segmentIntegration(): Promise<{ id: string; secret: string }> {
  const created = await createIntegration(
    d1Runner(env.DB),
    { encryptionKey: env.ENCRYPTION_KEY, publicUrl: env.PUBLIC_URL },
    { workspaceId, provider: "segment", name: `reliability ${++seq}` },
    clock.now(),
  );
  return { id: created.integration.id, secret: created.secret ?? "" };
}

async function post(integration: { id: string; secret: string }, body: string): Promise<Response> {
  return workerFetch(`/webhooks/segment/${integration.id}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...(await segmentHeaders(integration.secret, body)) },
  });
}

interface Delivery {
  id: string;
  body: unknown;
  attempts?: number;
}

/** Runs one cs-events batch through the Worker's queue handler; returns the ids it retried. */
async function consume(messages: Delivery[], runEnv: Env = env): Promise<string[]> {
  const ctx = createExecutionContext();
  const batch = createMessageBatch(
    "cs-events",
    messages.map(({ id, body, attempts }) => ({ id, body, attempts: attempts ?? 1, timestamp: clock.now() })),
  );
  await worker.queue(batch, runEnv);
  return (await getQueueResult(batch, ctx)).retryMessages.map((message) => message.msgId);
}

/** Hands a dead-lettered message to the dead-letter queue's consumer, as the queue does after the last retry. */
async function deadLetter(id: string, body: unknown): Promise<void> {
  await worker.queue(createMessageBatch("cs-events-dlq", [{ id, body, attempts: 6, timestamp: clock.now() }]), env);
}

async function receipts(integrationId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, event_id, status, error FROM webhook_receipts WHERE integration_id = ?1 ORDER BY event_id",
  )
    .bind(integrationId)
    .all<{ id: string; event_id: string; status: string; error: string | null }>();
  return results;
}

async function counters(integrationId: string) {
  return env.DB.prepare(
    "SELECT accepted_count AS accepted, rejected_count AS rejected, failed_count AS failed FROM integrations WHERE id = ?1",
  )
    .bind(integrationId)
    .first<{ accepted: number; rejected: number; failed: number }>();
}

async function accounts(...externalIds: string[]) {
  const { results } = await env.DB.prepare(
    "SELECT id, external_id, name FROM accounts WHERE workspace_id = ?1 AND external_id IN (SELECT value FROM json_each(?2)) ORDER BY external_id",
  )
    .bind(workspaceId, JSON.stringify(externalIds))
    .all<{ id: string; external_id: string; name: string }>();
  return results;
}

async function deadLetterRows(...messageIds: string[]) {
  const { results } = await env.DB.prepare(
    "SELECT message_id, status, error, attempts FROM dead_letters WHERE queue = 'cs-events' AND message_id IN (SELECT value FROM json_each(?1)) ORDER BY message_id",
  )
    .bind(JSON.stringify(messageIds))
    .all<{ message_id: string; status: string; error: string; attempts: number }>();
  return results;
}

const group = (messageId: string, groupId: string, name: string) =>
  JSON.stringify({ type: "group", messageId, groupId, traits: { name }, timestamp: clock.now().toISOString() });

const hourAgo = () => new Date(clock.now().getTime() - 3_600_000).toISOString();

describe("the same delivery many times", () => {
  it("10 concurrent deliveries, and the message delivered twice at once: one account, usage counted once", async () => {
    const integration = await segmentIntegration();
    const body = JSON.stringify([
      { type: "group", messageId: "rel-g1", groupId: "rel-acme", traits: { name: "Rel Acme" }, timestamp: hourAgo() },
      {
        type: "track",
        messageId: "rel-t1",
        event: "Report Exported",
        userId: "u-1",
        timestamp: hourAgo(),
        context: { groupId: "rel-acme" },
      },
    ]);
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(integration, body)));
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    const answers = (await Promise.all(responses.map((response) => response.json()))) as {
      accepted: number;
      duplicates: number;
    }[];
    expect(answers.reduce((sum, answer) => sum + answer.accepted, 0)).toBe(2);
    expect(answers.reduce((sum, answer) => sum + answer.duplicates, 0)).toBe(18);
    expect(queued).toHaveLength(1);
    const [message] = queued;

    // The queue delivers at least once: the same message in two batches at the same time.
    const retried = await Promise.all([
      consume([{ id: "rel-once-a", body: message }]),
      consume([{ id: "rel-once-b", body: message }]),
    ]);
    expect(retried).toEqual([[], []]);
    expect(await consume([{ id: "rel-once-c", body: message }])).toEqual([]);

    const [account] = await accounts("rel-acme");
    expect(account).toMatchObject({ external_id: "rel-acme", name: "Rel Acme" });
    expect((await accounts("rel-acme")).length).toBe(1);
    expect((await receipts(integration.id)).map(({ event_id, status }) => [event_id, status])).toEqual([
      ["rel-g1", "processed"],
      ["rel-t1", "processed"],
    ]);
    expect(await counters(integration.id)).toEqual({ accepted: 2, rejected: 0, failed: 0 });
    const agent = await getAgentByName(env.ACCOUNT_AGENT, `${workspaceId}:${account!.id}`);
    expect((await agent.snapshot()).unflushed).toEqual({ days: 1, events: 1 });
    expect(await deadLetterRows("rel-once-a", "rel-once-b", "rel-once-c")).toEqual([]);
  });
});

describe("a poison message", () => {
  it("is retried and dead-lettered with its error, visible to manage_dead_letters, while its batch is written", async () => {
    const integration = await segmentIntegration();
    for (const body of [
      group("rel-p-good-1", "rel-good-1", "Good One"),
      JSON.stringify({ type: "group", messageId: "rel-p-poison", traits: { name: "No Group Id" } }),
      group("rel-p-good-2", "rel-good-2", "Good Two"),
    ]) {
      expect((await post(integration, body)).status).toBe(200);
    }
    const [good1, poison, good2] = queued;
    const invalid = {
      type: "webhook",
      workspaceId,
      integrationId: integration.id,
      provider: "segment",
      receiptIds: [],
    };
    const batch = [
      { id: "rel-good-1", body: good1 },
      { id: "rel-poison", body: poison },
      { id: "rel-invalid", body: invalid },
      { id: "rel-good-2", body: good2 },
    ];
    expect(await consume(batch)).toEqual(["rel-poison", "rel-invalid"]);
    expect((await accounts("rel-good-1", "rel-good-2")).map((a) => a.name)).toEqual(["Good One", "Good Two"]);
    const poisonError = "a Segment group call needs a groupId";
    expect((await receipts(integration.id)).map(({ event_id, status, error }) => [event_id, status, error])).toEqual([
      ["rel-p-good-1", "processed", null],
      ["rel-p-good-2", "processed", null],
      ["rel-p-poison", "failed", poisonError],
    ]);

    for (let attempts = 2; attempts <= 5; attempts++) {
      const again = await consume([
        { id: "rel-poison", body: poison, attempts },
        { id: "rel-invalid", body: invalid, attempts },
      ]);
      expect(again).toEqual(["rel-poison", "rel-invalid"]);
    }
    await deadLetter("rel-poison", poison);
    await deadLetter("rel-invalid", invalid);

    const listed = await callOk<{
      dead_letters: { id: string; message_id: string; message_type: string; status: string; error: string }[];
    }>(client, "manage_dead_letters", { action: "list", queue: "cs-events" });
    const ours = listed.dead_letters.filter((letter) => ["rel-poison", "rel-invalid"].includes(letter.message_id));
    expect(
      ours.map(({ message_id, message_type, status, error }) => ({ message_id, message_type, status, error })),
    ).toEqual(
      expect.arrayContaining([
        { message_id: "rel-poison", message_type: "webhook", status: "dead", error: poisonError },
        {
          message_id: "rel-invalid",
          message_type: "webhook",
          status: "dead",
          error: expect.stringContaining("invalid cs-events message"),
        },
      ]),
    );
    expect(ours).toHaveLength(2);
    const letter = await callOk<{ dead_letter: { body: unknown } }>(client, "manage_dead_letters", {
      action: "get",
      dead_letter_id: ours.find((l) => l.message_id === "rel-poison")!.id,
    });
    expect(letter.dead_letter.body).toEqual(poison);
    expect(await counters(integration.id)).toEqual({ accepted: 3, rejected: 0, failed: 1 });
  });
});

describe("nothing disappears", () => {
  it("receiver, D1 batch fails: 500 and nothing stored, so the sender's retry is accepted", async () => {
    const integration = await segmentIntegration();
    const body = group("rel-d1-recv", "rel-d1-recv", "D1 Receiver");
    vi.spyOn(env.DB, "batch").mockRejectedValueOnce(new Error("D1_ERROR: Network connection lost."));
    const failed = await post(integration, body);
    expect(failed.status).toBe(500);
    expect(await receipts(integration.id)).toEqual([]);
    expect(queued).toEqual([]);
    const retried = await post(integration, body);
    expect(await retried.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(queued).toHaveLength(1);
  });

  it("receiver, queue send fails and no retry comes (9 of 10 concurrent copies were answered 200): the sweep enqueues it", async () => {
    const integration = await segmentIntegration();
    const body = group("rel-unsent", "rel-unsent", "Never Enqueued");
    sendBatch.mockRejectedValueOnce(new Error("Queue send failed: internal error"));
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(integration, body)));
    expect(responses.map((response) => response.status).toSorted()).toEqual([...Array(9).fill(200), 500]);
    expect(queued).toEqual([]);
    const [stored] = await receipts(integration.id);
    expect(stored).toMatchObject({
      event_id: "rel-unsent",
      error: "not enqueued: Error: Queue send failed: internal error",
    });

    // The provider saw 200s and sends no retry; the sweep finds the receipt once it is stale.
    const sweptAt = new Date(clock.now().getTime() + 16 * 60_000);
    await requeueStaleReceipts.run(env, sweptAt);
    const ours = queued.filter((message) => message.integrationId === integration.id);
    expect(ours).toEqual([
      { type: "webhook", workspaceId, integrationId: integration.id, provider: "segment", receiptIds: [stored!.id] },
    ]);
    expect(await consume([{ id: "rel-unsent-swept", body: ours[0] }])).toEqual([]);
    expect((await accounts("rel-unsent")).map((a) => a.name)).toEqual(["Never Enqueued"]);
    expect(await receipts(integration.id)).toEqual([{ ...stored, status: "processed", error: null }]);
    expect(await counters(integration.id)).toEqual({ accepted: 1, rejected: 0, failed: 1 });

    // A retry after all is a duplicate, and a later sweep leaves the processed receipt alone.
    queued = [];
    expect(await (await post(integration, body)).json()).toEqual({ accepted: 0, duplicates: 1 });
    await requeueStaleReceipts.run(env, new Date(sweptAt.getTime() + 30 * 60_000));
    expect(queued.filter((message) => message.integrationId === integration.id)).toEqual([]);
  });

  it("receiver, a send reported failed that reached the queue after all: both messages name one receipt, one effect", async () => {
    const integration = await segmentIntegration();
    const body = group("rel-ambiguous", "rel-ambiguous", "Sent After All");
    sendBatch.mockImplementationOnce(async (messages: Iterable<MessageSendRequest>) => {
      for (const message of messages) queued.push(message.body as EventMessage);
      throw new Error("Queue send failed: timed out");
    });
    expect((await post(integration, body)).status).toBe(500);
    expect(await (await post(integration, body)).json()).toEqual({ accepted: 1, duplicates: 0 });
    const [receipt] = await receipts(integration.id);
    expect(receipt).toMatchObject({ status: "queued", error: null });
    // The retry took the receipt over under its id, so the first message is not left naming a receipt that is gone.
    expect(queued.map((message) => message.receiptIds)).toEqual([[receipt!.id], [receipt!.id]]);
    expect(
      await consume([
        { id: "rel-ambiguous-1", body: queued[0] },
        { id: "rel-ambiguous-2", body: queued[1] },
      ]),
    ).toEqual([]);
    expect((await accounts("rel-ambiguous")).map((a) => a.name)).toEqual(["Sent After All"]);
    expect(await counters(integration.id)).toEqual({ accepted: 1, rejected: 0, failed: 1 });
    expect(await deadLetterRows("rel-ambiguous-1", "rel-ambiguous-2")).toEqual([]);
    // Claimed again, a processed receipt is not: the sweep leaves it alone.
    expect(await claimStaleReceipts(env.DB, integration.id, [receipt!.id], clock.now().toISOString())).toEqual([]);
  });

  it("receiver, a 1 MiB body that escaping doubles: no D1 value over 2 MB, so it is stored and processed", async () => {
    const integration = await segmentIntegration();
    const event = {
      type: "group",
      messageId: "rel-quotes",
      groupId: "rel-quotes",
      traits: { name: "Quoted", notes: "" },
    };
    // Each quote is two bytes in the body and four once the body is a string in a JSON array.
    const notes = '"'.repeat(Math.floor((MAX_BODY_BYTES - JSON.stringify(event).length) / 2));
    const body = JSON.stringify({ ...event, traits: { name: "Quoted", notes } });
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES - 2);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const bind = vi.spyOn(Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as D1PreparedStatement, "bind");
    expect(await (await post(integration, body)).json()).toEqual({ accepted: 1, duplicates: 0 });
    const bytes = bind.mock.calls
      .flat()
      .map((value) => (typeof value === "string" ? new TextEncoder().encode(value).length : 0));
    expect(Math.max(...bytes)).toBeGreaterThanOrEqual(body.length);
    expect(Math.max(...bytes)).toBeLessThan(2_000_000);
    bind.mockRestore();
    const stored = await env.DB.prepare("SELECT payload FROM webhook_receipts WHERE integration_id = ?1")
      .bind(integration.id)
      .first<{ payload: string }>();
    expect(stored?.payload).toBe(body);
    expect(await consume([{ id: "rel-quotes", body: queued[0] }])).toEqual([]);
    expect((await accounts("rel-quotes")).map((a) => a.name)).toEqual(["Quoted"]);
  });

  it("consumer, D1 down: every message is retried and its receipt stays queued for the sweep", async () => {
    const integration = await segmentIntegration();
    expect((await post(integration, group("rel-d1-down", "rel-d1-down", "D1 Down"))).status).toBe(200);
    const [message] = queued;
    const batch = vi.spyOn(env.DB, "batch").mockRejectedValue(new Error("D1_ERROR: Network connection lost."));
    const ctx = createExecutionContext();
    const down = createMessageBatch("cs-events", [
      { id: "rel-d1-down", body: message, attempts: 1, timestamp: clock.now() },
    ]);
    await expect(worker.queue(down, env)).rejects.toThrow("Network connection lost");
    expect((await getQueueResult(down, ctx)).retryMessages.map((m) => m.msgId)).toEqual(["rel-d1-down"]);
    batch.mockRestore();
    expect((await receipts(integration.id)).map((r) => r.status)).toEqual(["queued"]);

    // Even if the queue gave the message up, the receipt is still queued: the sweep enqueues it again.
    queued = [];
    await requeueStaleReceipts.run(env, new Date(clock.now().getTime() + 16 * 60_000));
    const swept = queued.filter((m) => m.integrationId === integration.id);
    expect(swept).toHaveLength(1);
    expect(await consume([{ id: "rel-d1-down-2", body: swept[0] }])).toEqual([]);
    expect((await accounts("rel-d1-down")).map((a) => a.name)).toEqual(["D1 Down"]);
  });

  it("consumer, the write batch fails once: each message is written alone and none is lost", async () => {
    const integration = await segmentIntegration();
    for (const [id, name] of [
      ["rel-w-1", "Write One"],
      ["rel-w-2", "Write Two"],
    ]) {
      expect((await post(integration, group(id!, id!, name!))).status).toBe(200);
    }
    const original = env.DB.batch.bind(env.DB);
    let calls = 0;
    // The first batch is the reference lookup, the second the write of the whole batch.
    vi.spyOn(env.DB, "batch").mockImplementation(async (statements) => {
      calls += 1;
      if (calls === 2) throw new Error("D1_ERROR: reset because its code was updated.");
      return original(statements);
    });
    expect(
      await consume([
        { id: "rel-w-1", body: queued[0] },
        { id: "rel-w-2", body: queued[1] },
      ]),
    ).toEqual([]);
    expect((await accounts("rel-w-1", "rel-w-2")).map((a) => a.name)).toEqual(["Write One", "Write Two"]);
    expect((await receipts(integration.id)).map((r) => r.status)).toEqual(["processed", "processed"]);
  });

  it("consumer, an account agent fails: its message is retried with the error, the others are written", async () => {
    const integration = await segmentIntegration();
    expect((await post(integration, group("rel-a-g1", "rel-agent-down", "Agent Down"))).status).toBe(200);
    expect((await post(integration, group("rel-a-g2", "rel-agent-up", "Agent Up"))).status).toBe(200);
    expect(await consume(queued.map((body, i) => ({ id: `rel-a-setup-${i}`, body })))).toEqual([]);
    queued = [];
    const track = (messageId: string, groupId: string) =>
      JSON.stringify({
        type: "track",
        messageId,
        event: "Login",
        userId: "u-a",
        timestamp: hourAgo(),
        context: { groupId },
      });
    expect((await post(integration, track("rel-a-t1", "rel-agent-down"))).status).toBe(200);
    expect((await post(integration, track("rel-a-t2", "rel-agent-up"))).status).toBe(200);
    const [down] = await accounts("rel-agent-down");
    const failing = `${workspaceId}:${down!.id}`;
    const namespace = env.ACCOUNT_AGENT;
    const brokenAgents = {
      ...env,
      ACCOUNT_AGENT: {
        idFromName(name: string) {
          if (name === failing) throw new Error("Durable Object is overloaded");
          return namespace.idFromName(name);
        },
        get: (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) =>
          namespace.get(id, options),
      } as unknown as Env["ACCOUNT_AGENT"],
    };
    const [toDown, toUp] = queued;
    expect(
      await consume(
        [
          { id: "rel-a-down", body: toDown },
          { id: "rel-a-up", body: toUp },
        ],
        brokenAgents,
      ),
    ).toEqual(["rel-a-down"]);
    const states = await receipts(integration.id);
    expect(states.filter((r) => r.event_id.startsWith("rel-a-t")).map((r) => [r.event_id, r.status, r.error])).toEqual([
      ["rel-a-t1", "failed", "Durable Object is overloaded"],
      ["rel-a-t2", "processed", null],
    ]);
    expect(await deadLetterRows("rel-a-down")).toEqual([
      { message_id: "rel-a-down", status: "retrying", error: "Durable Object is overloaded", attempts: 1 },
    ]);

    // The agent is back: the retry delivers the event once and the retrying record goes.
    expect(await consume([{ id: "rel-a-down", body: toDown, attempts: 2 }])).toEqual([]);
    expect((await receipts(integration.id)).find((r) => r.event_id === "rel-a-t1")?.status).toBe("processed");
    expect(await deadLetterRows("rel-a-down")).toEqual([]);
    const agent = await getAgentByName(env.ACCOUNT_AGENT, failing);
    expect((await agent.snapshot()).unflushed.events).toBe(1);
  });

  it("consumer, usage older than the agents keep: the receipt is processed and the events are counted as expired", async () => {
    const integration = await segmentIntegration();
    expect((await post(integration, group("rel-old-g", "rel-old", "Old Usage"))).status).toBe(200);
    expect(await consume([{ id: "rel-old-setup", body: queued[0] }])).toEqual([]);
    queued = [];
    const monthAgo = new Date(clock.now().getTime() - 30 * 86_400_000).toISOString();
    const track = JSON.stringify({
      type: "track",
      messageId: "rel-old-t",
      event: "Login",
      userId: "u-old",
      timestamp: monthAgo,
      context: { groupId: "rel-old" },
    });
    expect((await post(integration, track)).status).toBe(200);
    const outcome = await processEvents(
      createMessageBatch("cs-events", [{ id: "rel-old", body: queued[0], attempts: 1, timestamp: clock.now() }])
        .messages,
      env,
    );
    expect({ failures: outcome.failures.size, processed: outcome.processed, expired: outcome.expiredUsage }).toEqual({
      failures: 0,
      processed: 1,
      expired: 1,
    });
  });
});
