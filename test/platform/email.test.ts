import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { queueAlert } from "../../src/alerts/slack";
import { queueEmail } from "../../src/email/queue-email";
import { escapeHtml, renderEmail, renderTemplate } from "../../src/email/render";
import worker from "../../src/index";
import { clock } from "../../src/platform/lib/clock";
import { encryptSecret } from "../../src/platform/lib/crypto";
import { createWorkspace } from "../helpers/mcp";

const SENDGRID_KEY = "SG.test-key";
const sendgridEnv: Env = { ...env, SENDGRID_API_KEY: SENDGRID_KEY };

interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Intercepts outbound HTTP: `answer` returns the response for an expected request; anything else is recorded as unexpected and fails. */
function interceptFetch(answer: (request: Request) => Response | undefined) {
  const requests: CapturedRequest[] = [];
  const unexpected: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const text = await request.clone().text();
    requests.push({
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: text ? JSON.parse(text) : null,
    });
    const response = answer(request);
    if (!response) {
      unexpected.push(`${request.method} ${request.url}`);
      throw new Error(`unexpected request ${request.method} ${request.url}`);
    }
    return response;
  });
  return { requests, unexpected };
}

/** Captures what is sent to the jobs queue instead of enqueueing it. */
function captureJobs(): unknown[] {
  const sent: unknown[] = [];
  vi.spyOn(Object.getPrototypeOf(env.JOBS_QUEUE) as Queue, "send").mockImplementation(async (body: unknown) => {
    sent.push(body);
    return { metadata: { metrics: { backlogCount: sent.length, backlogBytes: 0 } } };
  });
  return sent;
}

let messageNumber = 0;

/** Runs bodies through the Worker's queue handler as one `cs-jobs` batch. */
async function runJobs(bodies: unknown[], runEnv: Env, options: { attempts?: number; ids?: string[] } = {}) {
  const ctx = createExecutionContext();
  const batch = createMessageBatch(
    "cs-jobs",
    bodies.map((body, i) => ({
      id: options.ids?.[i] ?? `job-${++messageNumber}`,
      timestamp: clock.now(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  await worker.queue(batch, runEnv);
  return getQueueResult(batch, ctx);
}

async function outboxRow(id: string) {
  return env.DB.prepare(
    "SELECT status, provider, provider_message_id, attempts, error, sent_at IS NOT NULL AS has_sent_at FROM outbox_messages WHERE id = ?1",
  )
    .bind(id)
    .first();
}

/** A workspace with a sender, a CSM who owns "Acme & Sons", and contacts in every mailing state. */
async function seedWorkspace(slug: string, settings: Record<string, unknown> = {}) {
  const { workspaceId } = await createWorkspace(slug, "admin");
  const ws = workspaceId;
  await env.DB.batch([
    env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1").bind(
      ws,
      JSON.stringify({ email_sender: { name: "Acme CS", email: "cs@vendor.test" }, ...settings }),
    ),
    env.DB.prepare(
      "INSERT INTO users (id, workspace_id, email, name, role) VALUES (?1, ?2, 'casey@vendor.test', 'Casey Morgan', 'csm')",
    ).bind(`usr_${slug}_casey`, ws),
    env.DB.prepare(
      "INSERT INTO accounts (id, workspace_id, name, domain, owner_user_id) VALUES (?1, ?2, 'Acme & Sons', 'acme.test', ?3)",
    ).bind(`acc_${slug}`, ws, `usr_${slug}_casey`),
    env.DB.prepare(
      `INSERT INTO contacts (id, workspace_id, account_id, name, email, unsubscribed, bounced, spam_reported) VALUES
        (?1 || '_dana', ?2, ?3, 'Dana O''Neil', 'dana@acme.test', 0, 0, 0),
        (?1 || '_lee', ?2, ?3, 'Lee Park', 'lee@acme.test', 0, 0, 0),
        (?1 || '_unsub', ?2, ?3, 'Una Sub', 'unsub@acme.test', 1, 0, 0),
        (?1 || '_bounced', ?2, ?3, 'Bo Unced', 'bounced@acme.test', 0, 1, 0),
        (?1 || '_spam', ?2, ?3, 'Spam Reporter', 'spam@acme.test', 0, 0, 1)`,
    ).bind(`con_${slug}`, ws, `acc_${slug}`),
    env.DB.prepare(
      "INSERT INTO email_suppressions (workspace_id, email, reason, source) VALUES (?1, 'blocked@acme.test', 'bounce', 'sendgrid')",
    ).bind(ws),
  ]);
  return { workspaceId: ws, accountId: `acc_${slug}`, contact: (name: string) => `con_${slug}_${name}` };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("template rendering", () => {
  it("fills variables, escaping values only in the HTML part", () => {
    const values = { "contact.first_name": "Dana", "account.name": "Acme & <Sons>" };
    expect(renderTemplate("Hi {{contact.first_name}} of {{ account.name }}", values, "text")).toEqual({
      ok: true,
      text: "Hi Dana of Acme & <Sons>",
    });
    expect(renderTemplate("<p>{{account.name}}</p>", values, "html")).toEqual({
      ok: true,
      text: "<p>Acme &amp; &lt;Sons&gt;</p>",
    });
    expect(renderTemplate("Re: {{account.name}}", { "account.name": "Two\nLines" }, "line")).toEqual({
      ok: true,
      text: "Re: Two Lines",
    });
    expect(escapeHtml(`"x" & 'y'`)).toBe("&quot;x&quot; &amp; &#39;y&#39;");
  });

  it("names unknown variables and variables without a value instead of leaving blanks", () => {
    expect(
      renderTemplate("{{contact.nmae}} {{deal.size}} {{contact.title}}", { "contact.title": null }, "text"),
    ).toEqual({
      ok: false,
      unknown: ["contact.nmae", "deal.size"],
      missing: ["contact.title"],
    });
    const rendered = renderEmail({ subject: "Hi {{contact.nmae}}", text: "{{csm.name}}" }, {});
    expect(rendered).toEqual({
      ok: false,
      error:
        "The email cannot be personalized: unknown template variable(s) {{contact.nmae}} (known: contact.name, contact.first_name, contact.email, contact.title, account.name, account.domain, csm.name, csm.first_name, csm.email, sender.name, sender.email); no stored value for {{csm.name}} (give the contact or account it comes from, or fill the field).",
    });
  });
});

describe("queueEmail and the outbox provider", () => {
  it("stores the rendered message, enqueues it, and marks it sent by the outbox provider", async () => {
    const jobs = captureJobs();
    const { unexpected } = interceptFetch(() => undefined);
    const { workspaceId, contact } = await seedWorkspace("email-outbox");
    const queued = await queueEmail(env, {
      workspaceId,
      to: "Dana@Acme.test",
      contactId: contact("dana"),
      subject: "Renewal for {{account.name}}",
      text: "Hi {{contact.first_name}},\n{{csm.first_name}} from {{sender.name}}",
      html: "<p>Hi {{contact.first_name}} of {{account.name}}</p>",
      idempotencyKey: "renewal-1",
      origin: "reminder",
    });
    expect(queued).toEqual({ id: expect.stringMatching(/^eml_/), status: "queued", error: null, created: true });
    expect(jobs).toEqual([{ type: "send_email", workspaceId, outboxId: queued.id }]);
    const stored = await env.DB.prepare(
      "SELECT account_id, contact_id, to_email, subject, body_text, body_html, provider, origin, status, attempts FROM outbox_messages WHERE id = ?1",
    )
      .bind(queued.id)
      .first();
    expect(stored).toEqual({
      account_id: "acc_email-outbox",
      contact_id: contact("dana"),
      to_email: "dana@acme.test",
      subject: "Renewal for Acme & Sons",
      body_text: "Hi Dana,\nCasey from Acme CS",
      body_html: "<p>Hi Dana of Acme &amp; Sons</p>",
      provider: "outbox",
      origin: "reminder",
      status: "queued",
      attempts: 0,
    });

    const result = await runJobs(jobs, env, { ids: ["outbox-1"] });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(["outbox-1"]);
    expect(await outboxRow(queued.id)).toEqual({
      status: "sent",
      provider: "outbox",
      provider_message_id: null,
      attempts: 1,
      error: null,
      has_sent_at: 1,
    });
    // A redelivery of the same message is a no-op.
    await runJobs(jobs, env);
    expect((await outboxRow(queued.id))?.attempts).toBe(1);
    expect(unexpected).toEqual([]);
  });

  it("refuses unknown variables, unknown contacts and a missing sender before storing anything", async () => {
    const jobs = captureJobs();
    const { workspaceId, contact } = await seedWorkspace("email-refuse");
    const base = { workspaceId, to: "dana@acme.test", text: "Hello", idempotencyKey: "k1", origin: "manual" };
    await expect(
      queueEmail(env, { ...base, subject: "Hi {{contact.nickname}}", contactId: contact("dana") }),
    ).rejects.toThrow("unknown template variable(s) {{contact.nickname}}");
    await expect(queueEmail(env, { ...base, subject: "Hi {{contact.name}}" })).rejects.toThrow(
      "no stored value for {{contact.name}}",
    );
    await expect(queueEmail(env, { ...base, subject: "Hi", contactId: "con_nobody" })).rejects.toThrow(
      'No contact with id "con_nobody" in this workspace.',
    );
    await env.DB.prepare("UPDATE workspaces SET settings = '{}' WHERE id = ?1").bind(workspaceId).run();
    await expect(queueEmail(env, { ...base, subject: "Hi" })).rejects.toThrow(
      "No email sender is configured for this workspace: set email_sender (name and email) with configure_workspace.",
    );
    const count = await env.DB.prepare("SELECT count(*) AS n FROM outbox_messages WHERE workspace_id = ?1")
      .bind(workspaceId)
      .first<{ n: number }>();
    expect(count?.n).toBe(0);
    expect(jobs).toEqual([]);
  });
});

describe("SendGrid provider", () => {
  it("sends the exact Mail Send request for a personalized message and records the message id", async () => {
    const jobs = captureJobs();
    const { requests, unexpected } = interceptFetch((request) =>
      request.url === "https://api.sendgrid.com/v3/mail/send"
        ? new Response(null, { status: 202, headers: { "X-Message-Id": "sg-msg-123" } })
        : undefined,
    );
    const { workspaceId, contact } = await seedWorkspace("email-sendgrid");
    const queued = await queueEmail(sendgridEnv, {
      workspaceId,
      to: "dana@acme.test",
      contactId: contact("dana"),
      subject: "Renewal for {{account.name}}",
      text: "Hi {{contact.first_name}},\n{{csm.name}} here.",
      html: "<p>Hi {{contact.first_name}}, about {{account.name}}</p>",
      idempotencyKey: "renewal-sg",
      origin: "reminder",
    });
    const result = await runJobs(jobs, sendgridEnv, { ids: ["sg-1"] });
    expect(result.explicitAcks).toEqual(["sg-1"]);
    expect(requests).toEqual([
      {
        url: "https://api.sendgrid.com/v3/mail/send",
        method: "POST",
        headers: { authorization: "Bearer SG.test-key", "content-type": "application/json" },
        body: {
          personalizations: [
            {
              to: [{ email: "dana@acme.test", name: "Dana O'Neil" }],
              custom_args: { outbox_id: queued.id, workspace_id: workspaceId },
            },
          ],
          from: { email: "cs@vendor.test", name: "Acme CS" },
          subject: "Renewal for Acme & Sons",
          content: [
            { type: "text/plain", value: "Hi Dana,\nCasey Morgan here." },
            { type: "text/html", value: "<p>Hi Dana, about Acme &amp; Sons</p>" },
          ],
          categories: ["reminder"],
        },
      },
    ]);
    expect(await outboxRow(queued.id)).toEqual({
      status: "sent",
      provider: "sendgrid",
      provider_message_id: "sg-msg-123",
      attempts: 1,
      error: null,
      has_sent_at: 1,
    });
    expect(unexpected).toEqual([]);
  });

  it("never sends to unsubscribed, bounced or spam-reporting contacts or suppressed addresses, and shows them as suppressed", async () => {
    const jobs = captureJobs();
    const { requests } = interceptFetch(() => undefined);
    const { workspaceId, contact } = await seedWorkspace("email-suppress");
    const cases = [
      { to: "unsub@acme.test", contactId: contact("unsub"), reason: "contact unsubscribed" },
      { to: "bounced@acme.test", contactId: contact("bounced"), reason: "contact bounced" },
      { to: "spam@acme.test", contactId: contact("spam"), reason: "contact reported spam" },
      // Matched by address even when no contact id is given.
      { to: "unsub@acme.test", contactId: undefined, reason: "contact unsubscribed" },
      { to: "blocked@acme.test", contactId: undefined, reason: "address suppressed (bounce)" },
    ];
    for (const [i, item] of cases.entries()) {
      const queued = await queueEmail(sendgridEnv, {
        workspaceId,
        to: item.to,
        contactId: item.contactId,
        subject: "Check-in",
        text: "Hello",
        idempotencyKey: `suppressed-${i}`,
        origin: "manual",
      });
      expect(queued).toEqual({ id: queued.id, status: "suppressed", error: item.reason, created: true });
    }
    expect(jobs).toEqual([]);

    // An unsubscribe that arrives after queueing is honoured at send time.
    const late = await queueEmail(sendgridEnv, {
      workspaceId,
      to: "lee@acme.test",
      contactId: contact("lee"),
      subject: "Check-in",
      text: "Hello",
      idempotencyKey: "late-unsubscribe",
      origin: "manual",
    });
    expect(late.status).toBe("queued");
    await env.DB.prepare("UPDATE contacts SET unsubscribed = 1 WHERE id = ?1").bind(contact("lee")).run();
    const result = await runJobs(jobs, sendgridEnv, { ids: ["late-1"] });
    expect(result.explicitAcks).toEqual(["late-1"]);
    expect(await outboxRow(late.id)).toEqual({
      status: "suppressed",
      provider: "sendgrid",
      provider_message_id: null,
      attempts: 0,
      error: "contact unsubscribed",
      has_sent_at: 0,
    });
    expect(requests).toEqual([]);
  });

  it("sends one message for one idempotency key, however often it is queued or delivered", async () => {
    const jobs = captureJobs();
    const { requests, unexpected } = interceptFetch(
      () => new Response(null, { status: 202, headers: { "X-Message-Id": "sg-once" } }),
    );
    const { workspaceId } = await seedWorkspace("email-idem");
    const input = {
      workspaceId,
      to: "dana@acme.test",
      subject: "Hello",
      text: "Hello",
      idempotencyKey: "same-key",
      origin: "manual",
    };
    const first = await queueEmail(sendgridEnv, input);
    const second = await queueEmail(sendgridEnv, input);
    expect(second).toEqual({ id: first.id, status: "queued", error: null, created: false });
    expect(jobs).toHaveLength(1);
    // The same message delivered twice in one batch and once more later.
    await runJobs([jobs[0], jobs[0]], sendgridEnv);
    await runJobs(jobs, sendgridEnv);
    expect(requests).toHaveLength(1);
    const rows = await env.DB.prepare("SELECT id, status, attempts FROM outbox_messages WHERE workspace_id = ?1")
      .bind(workspaceId)
      .all();
    expect(rows.results).toEqual([{ id: first.id, status: "sent", attempts: 1 }]);
    expect(await queueEmail(sendgridEnv, input)).toEqual({ id: first.id, status: "sent", error: null, created: false });
    expect(unexpected).toEqual([]);
  });

  it("enforces the daily quota at the boundary: the N-th is accepted, the N+1-th is refused", async () => {
    const jobs = captureJobs();
    const { workspaceId, contact } = await seedWorkspace("email-quota", { email: { daily_quota: 2 } });
    const send = (key: string, to = "dana@acme.test", contactId?: string) =>
      queueEmail(env, { workspaceId, to, contactId, subject: "Hi", text: "Hi", idempotencyKey: key, origin: "manual" });
    // A suppressed message does not use the quota.
    expect((await send("q0", "unsub@acme.test", contact("unsub"))).status).toBe("suppressed");
    expect((await send("q1")).status).toBe("queued");
    expect((await send("q2")).status).toBe("queued");
    const over = await send("q3");
    expect(over).toEqual({ id: over.id, status: "failed", error: "daily send quota of 2 reached", created: true });
    expect(jobs).toHaveLength(2);
  });

  it("retries a message SendGrid answers 503 for, keeping the error on the row", async () => {
    const jobs = captureJobs();
    const { unexpected } = interceptFetch(() =>
      Response.json({ errors: [{ message: "Service unavailable" }] }, { status: 503 }),
    );
    const { workspaceId } = await seedWorkspace("email-503");
    const queued = await queueEmail(sendgridEnv, {
      workspaceId,
      to: "dana@acme.test",
      subject: "Hi",
      text: "Hi",
      idempotencyKey: "k-503",
      origin: "manual",
    });
    const result = await runJobs(jobs, sendgridEnv, { ids: ["m-503"] });
    expect(result.retryMessages).toEqual([{ msgId: "m-503" }]);
    expect(await outboxRow(queued.id)).toEqual({
      status: "queued",
      provider: "sendgrid",
      provider_message_id: null,
      attempts: 1,
      error: "SendGrid answered 503: Service unavailable",
      has_sent_at: 0,
    });
    const letter = await env.DB.prepare(
      "SELECT status, error, attempts FROM dead_letters WHERE message_id = 'm-503'",
    ).first();
    expect(letter).toEqual({ status: "retrying", error: "SendGrid answered 503: Service unavailable", attempts: 1 });
    expect(unexpected).toEqual([]);
  });

  it("does not retry a request SendGrid refuses with 400, and marks the message failed", async () => {
    const jobs = captureJobs();
    const { requests } = interceptFetch(() =>
      Response.json({ errors: [{ message: "The from email does not contain a valid address." }] }, { status: 400 }),
    );
    const { workspaceId } = await seedWorkspace("email-400");
    const queued = await queueEmail(sendgridEnv, {
      workspaceId,
      to: "dana@acme.test",
      subject: "Hi",
      text: "Hi",
      idempotencyKey: "k-400",
      origin: "manual",
    });
    const result = await runJobs(jobs, sendgridEnv, { ids: ["m-400"] });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(["m-400"]);
    expect(await outboxRow(queued.id)).toEqual({
      status: "failed",
      provider: "sendgrid",
      provider_message_id: null,
      attempts: 1,
      error: "SendGrid answered 400: The from email does not contain a valid address.",
      has_sent_at: 0,
    });
    await runJobs(jobs, sendgridEnv);
    expect(requests).toHaveLength(1);
  });

  it("treats EMAIL_PROVIDER=sendgrid without a key as an error, not as the outbox", async () => {
    const jobs = captureJobs();
    const { workspaceId } = await seedWorkspace("email-misconfig");
    const input = {
      workspaceId,
      to: "dana@acme.test",
      subject: "Hi",
      text: "Hi",
      idempotencyKey: "k",
      origin: "manual",
    };
    const queued = await queueEmail(env, input);
    const result = await runJobs(jobs, { ...env, EMAIL_PROVIDER: "sendgrid" }, { ids: ["m-cfg"] });
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-cfg"]);
    expect((await outboxRow(queued.id))?.status).toBe("queued");
    await expect(
      queueEmail({ ...env, EMAIL_PROVIDER: "sendgrid" }, { ...input, idempotencyKey: "k2" }),
    ).rejects.toThrow("EMAIL_PROVIDER is sendgrid but the SENDGRID_API_KEY secret is not set");
  });
});

describe("Slack alerts", () => {
  it("posts the exact incoming-webhook request to each active slack integration, once per idempotency key", async () => {
    const jobs = captureJobs();
    const { requests, unexpected } = interceptFetch((request) =>
      request.url.startsWith("https://hooks.slack.test/") ? new Response("ok") : undefined,
    );
    const { workspaceId } = await createWorkspace("alerts-slack", "admin");
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO integrations (id, workspace_id, provider, name, secret_ciphertext) VALUES ('int_slack_a', ?1, 'slack', 'CS alerts', ?2)",
      ).bind(workspaceId, await encryptSecret("https://hooks.slack.test/services/T1/B1/aaa", env.ENCRYPTION_KEY)),
      env.DB.prepare(
        "INSERT INTO integrations (id, workspace_id, provider, name, secret_ciphertext, status) VALUES ('int_slack_b', ?1, 'slack', 'Old', ?2, 'disabled')",
      ).bind(workspaceId, await encryptSecret("https://hooks.slack.test/services/T1/B2/bbb", env.ENCRYPTION_KEY)),
    ]);
    const alert = {
      workspaceId,
      text: "Health of Acme & <Sons> dropped 18 points",
      idempotencyKey: "drop:acc_1:2026-11-27",
    };
    expect(await queueAlert(env, alert)).toEqual({ queued: true });
    expect(await queueAlert(env, alert)).toEqual({ queued: true });
    expect(jobs).toEqual([
      { type: "slack_alert", workspaceId, idempotencyKey: "drop:acc_1:2026-11-27", text: alert.text },
      { type: "slack_alert", workspaceId, idempotencyKey: "drop:acc_1:2026-11-27", text: alert.text },
    ]);
    const result = await runJobs(jobs, env, { ids: ["a-1", "a-2"] });
    expect(result.explicitAcks).toEqual(["a-1", "a-2"]);
    await runJobs(jobs.slice(0, 1), env);
    expect(requests).toEqual([
      {
        url: "https://hooks.slack.test/services/T1/B1/aaa",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: { text: "Health of Acme &amp; &lt;Sons&gt; dropped 18 points" },
      },
    ]);
    expect(unexpected).toEqual([]);
  });

  it("falls back to SLACK_WEBHOOK_URL, retries a failed post, and queues nothing when there is nowhere to post", async () => {
    const jobs = captureJobs();
    let answer = 500;
    const { requests } = interceptFetch((request) =>
      request.url === "https://hooks.slack.test/services/ENV" ? new Response("oops", { status: answer }) : undefined,
    );
    const { workspaceId } = await createWorkspace("alerts-env", "admin");
    const alert = { workspaceId, text: "Renewal in 30 days", idempotencyKey: "renewal:acc_2" };
    expect(await queueAlert(env, alert)).toEqual({ queued: false });
    const withWebhook: Env = { ...env, SLACK_WEBHOOK_URL: "https://hooks.slack.test/services/ENV" };
    expect(await queueAlert(withWebhook, alert)).toEqual({ queued: true });
    const failed = await runJobs(jobs, withWebhook, { ids: ["env-1"] });
    expect(failed.retryMessages).toEqual([{ msgId: "env-1" }]);
    const letter = await env.DB.prepare("SELECT error FROM dead_letters WHERE message_id = 'env-1'").first();
    expect(letter).toEqual({ error: "the Slack webhook of SLACK_WEBHOOK_URL answered 500: oops" });
    answer = 200;
    const retried = await runJobs(jobs, withWebhook, { ids: ["env-1"], attempts: 2 });
    expect(retried.explicitAcks).toEqual(["env-1"]);
    expect(requests.map((r) => r.body)).toEqual([{ text: "Renewal in 30 days" }, { text: "Renewal in 30 days" }]);
  });

  it("keeps a retrying alert whose Slack destination went away as a failure, never acked unsent", async () => {
    const jobs = captureJobs();
    const { unexpected } = interceptFetch((request) =>
      request.url.startsWith("https://hooks.slack.test/") ? new Response("down", { status: 503 }) : undefined,
    );
    const { workspaceId } = await createWorkspace("alerts-gone", "admin");
    await env.DB.prepare(
      "INSERT INTO integrations (id, workspace_id, provider, name, secret_ciphertext) VALUES ('int_slack_gone', ?1, 'slack', 'CS alerts', ?2)",
    )
      .bind(workspaceId, await encryptSecret("https://hooks.slack.test/services/T9/B9/ccc", env.ENCRYPTION_KEY))
      .run();
    expect(await queueAlert(env, { workspaceId, text: "Churn risk up", idempotencyKey: "risk:acc_9" })).toEqual({
      queued: true,
    });
    const first = await runJobs(jobs, env, { ids: ["gone-1"] });
    expect(first.retryMessages).toEqual([{ msgId: "gone-1" }]);
    // Slack is disabled while the alert waits for its retry.
    await env.DB.prepare("UPDATE integrations SET status = 'disabled' WHERE id = 'int_slack_gone'").run();
    const again = await runJobs(jobs, env, { ids: ["gone-1"], attempts: 2 });
    expect(again.retryMessages).toEqual([{ msgId: "gone-1" }]);
    const letter = await env.DB.prepare("SELECT status, error FROM dead_letters WHERE message_id = 'gone-1'").first<{
      status: string;
      error: string;
    }>();
    expect(letter?.status).toBe("retrying");
    expect(letter?.error).toMatch(/^no Slack destination: .* then replay this dead letter$/);
    expect(unexpected).toEqual([]);
  });
});
