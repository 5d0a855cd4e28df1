import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callError, callOk, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";

const HOSTILE_SUBJECT = `<script>alert(1)</script> & "quotes"`;
const HOSTILE_HTML = `<p onclick="steal()">Hi</p><script>alert(2)</script>`;

/** Two workspaces with outbox rows; the first holds markup in its subject and HTML body. */
async function seedOutbox(prefix: string) {
  const mine = await createWorkspace(`outbox-${prefix}-mine`, "admin");
  const theirs = await createWorkspace(`outbox-${prefix}-theirs`, "admin");
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO accounts (id, workspace_id, name) VALUES (?1 || '_acc', ?2, 'Acme'), (?3 || '_acc', ?4, 'Other')",
    ).bind(`obx_${prefix}`, mine.workspaceId, `obx_${prefix}x`, theirs.workspaceId),
    env.DB.prepare(
      "INSERT INTO contacts (id, workspace_id, account_id, name, email) VALUES (?1, ?2, ?3, 'Dana', 'dana@acme.test')",
    ).bind(`obx_${prefix}_con`, mine.workspaceId, `obx_${prefix}_acc`),
    env.DB.prepare(
      `INSERT INTO outbox_messages (id, workspace_id, idempotency_key, account_id, contact_id, to_email, subject, body_text,
                                    body_html, provider, status, origin, attempts, provider_message_id, created_at, sent_at, opened_at, error)
       VALUES (?7 || '_1', ?1, 'k1', ?2, ?3, 'dana@acme.test', ?4, 'Hi Dana <b>', ?5, 'sendgrid', 'opened', 'reminder', 1,
               'sg-1', '2026-11-20T09:00:00.000Z', '2026-11-20T09:00:05.000Z', '2026-11-20T12:00:00.000Z', NULL),
              (?7 || '_2', ?1, 'k2', NULL, NULL, 'lee@acme.test', 'Second', 'Text 2', NULL, 'outbox', 'queued', 'manual', 2,
               NULL, '2026-11-21T09:00:00.000Z', NULL, NULL, 'SendGrid answered 503'),
              (?7 || '_3', ?1, 'k3', ?2, NULL, 'kim@acme.test', 'Third', 'Text 3', NULL, 'outbox', 'suppressed', 'manual', 0,
               NULL, '2026-11-22T09:00:00.000Z', NULL, NULL, 'contact unsubscribed'),
              (?7 || '_9', ?6, 'k9', NULL, NULL, 'x@other.test', 'Other workspace secret', 'Nope', NULL, 'outbox', 'sent', 'manual', 1,
               NULL, '2026-11-23T09:00:00.000Z', '2026-11-23T09:00:01.000Z', NULL, NULL)`,
    ).bind(
      mine.workspaceId,
      `obx_${prefix}_acc`,
      `obx_${prefix}_con`,
      HOSTILE_SUBJECT,
      HOSTILE_HTML,
      theirs.workspaceId,
      `eml_${prefix}`,
    ),
  ]);
  return { mine, theirs };
}

describe("/outbox page", () => {
  it("needs an API key and shows only that key's workspace, escaped", async () => {
    const { mine } = await seedOutbox("page");
    expect((await workerFetch("/outbox")).status).toBe(401);
    expect((await workerFetch("/outbox?key=csk_not-a-key")).status).toBe(401);
    const response = await workerFetch(`/outbox?key=${encodeURIComponent(mine.key)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Security-Policy")).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    const page = await response.text();
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;");
    expect(page).not.toContain("<script>");
    expect(page).toContain("Second");
    expect(page).not.toContain("Other workspace secret");
    // Links carry the key that came in the URL.
    expect(page).toContain(`href="/outbox/eml_page_1?key=${encodeURIComponent(mine.key)}"`);
    const viaHeader = await workerFetch("/outbox", { headers: { Authorization: `Bearer ${mine.key}` } });
    expect(viaHeader.status).toBe(200);
    const headerPage = await viaHeader.text();
    expect(headerPage).toContain('href="/outbox/eml_page_1"');
    expect(headerPage).not.toContain(mine.key);
  });

  it("shows one message with its HTML only in a sandboxed frame, and another workspace's as 404", async () => {
    const { mine } = await seedOutbox("detail");
    const key = encodeURIComponent(mine.key);
    const response = await workerFetch(`/outbox/eml_detail_1?key=${key}`);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain("<pre>Hi Dana &lt;b&gt;</pre>");
    expect(page).toContain(
      'srcdoc="&lt;p onclick=&quot;steal()&quot;&gt;Hi&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;"',
    );
    expect(page).toContain("<iframe sandbox ");
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<p onclick");
    const foreign = await workerFetch(`/outbox/eml_detail_9?key=${key}`);
    expect(foreign.status).toBe(404);
    expect(await foreign.text()).not.toContain("Other workspace secret");
  });

  it("answers 404 on any host but loopback, key or not, and serves 127.0.0.1 and [::1]", async () => {
    const { mine } = await seedOutbox("host");
    const key = encodeURIComponent(mine.key);
    for (const host of ["cs.example.com", "localhost.example.com", "10.0.0.1"]) {
      const response = await workerFetch(new Request(`https://${host}/outbox?key=${key}`, { headers: { host } }));
      expect(response.status, host).toBe(404);
      expect(await response.text(), host).not.toContain("Outbox");
      const detail = await workerFetch(
        new Request(`https://${host}/outbox/eml_host_1?key=${key}`, { headers: { host } }),
      );
      expect(detail.status, host).toBe(404);
    }
    for (const host of ["127.0.0.1:8787", "[::1]:8787"]) {
      const response = await workerFetch(new Request(`http://${host}/outbox?key=${key}`, { headers: { host } }));
      expect(response.status, host).toBe(200);
    }
  });
});

interface MessageOutput {
  id: string;
  status: string;
  subject: string;
  events?: { event: string; at: string | null; detail: string | null }[];
  body_text?: string;
  body_html?: string | null;
}

describe("list_outbox", () => {
  it("pages newest first and filters by status, account, contact, origin and day", async () => {
    const { mine } = await seedOutbox("list");
    const client = await connectClient(mine.key);
    const first = await callOk<{ messages: MessageOutput[]; next_cursor: string | null }>(client, "list_outbox", {
      limit: 2,
    });
    expect(first.messages.map((m) => m.id)).toEqual(["eml_list_3", "eml_list_2"]);
    expect(first.messages[0]).not.toHaveProperty("body_text");
    const second = await callOk<{ messages: MessageOutput[]; next_cursor: string | null }>(client, "list_outbox", {
      limit: 2,
      cursor: first.next_cursor,
    });
    expect(second.messages.map((m) => m.id)).toEqual(["eml_list_1"]);
    expect(second.next_cursor).toBeNull();
    const ids = async (args: Record<string, unknown>) =>
      (await callOk<{ messages: MessageOutput[] }>(client, "list_outbox", args)).messages.map((m) => m.id);
    expect(await ids({ status: "suppressed" })).toEqual(["eml_list_3"]);
    expect(await ids({ account_id: "obx_list_acc" })).toEqual(["eml_list_3", "eml_list_1"]);
    expect(await ids({ contact_id: "obx_list_con" })).toEqual(["eml_list_1"]);
    expect(await ids({ origin: "reminder" })).toEqual(["eml_list_1"]);
    expect(await ids({ since: "2026-11-21", until: "2026-11-21" })).toEqual(["eml_list_2"]);
    expect(await callError(client, "list_outbox", { limit: 2, cursor: first.next_cursor, status: "sent" })).toContain(
      "This cursor belongs to a listing with other filters",
    );
  });

  it("shows one message in full with its delivery events", async () => {
    const { mine } = await seedOutbox("full");
    const client = await connectClient(mine.key);
    const opened = await callOk<{ message: MessageOutput }>(client, "list_outbox", { message_id: "eml_full_1" });
    expect(opened.message).toMatchObject({
      id: "eml_full_1",
      subject: HOSTILE_SUBJECT,
      body_text: "Hi Dana <b>",
      body_html: HOSTILE_HTML,
    });
    expect(opened.message.events).toEqual([
      { event: "queued", at: "2026-11-20T09:00:00.000Z", detail: "by reminder" },
      { event: "sent", at: "2026-11-20T09:00:05.000Z", detail: "via sendgrid as sg-1" },
      { event: "delivered", at: null, detail: null },
      { event: "opened", at: "2026-11-20T12:00:00.000Z", detail: null },
    ]);
    const retrying = await callOk<{ message: MessageOutput }>(client, "list_outbox", { message_id: "eml_full_2" });
    expect(retrying.message.events).toEqual([
      { event: "queued", at: "2026-11-21T09:00:00.000Z", detail: "by manual" },
      { event: "attempt_failed", at: null, detail: "SendGrid answered 503 (2 attempt(s))" },
    ]);
    expect(await callError(client, "list_outbox", { message_id: "eml_full_1", status: "sent" })).toBe(
      "message_id reads one message; leave out status.",
    );
  });

  it("reads another workspace's messages, accounts and contacts as missing", async () => {
    const { mine } = await seedOutbox("tenancy");
    const client = await connectClient(mine.key);
    const all = await callOk<{ messages: MessageOutput[] }>(client, "list_outbox", {});
    expect(all.messages.map((m) => m.id)).toEqual(["eml_tenancy_3", "eml_tenancy_2", "eml_tenancy_1"]);
    expect(await callError(client, "list_outbox", { message_id: "eml_tenancy_9" })).toBe(
      'No outbox message with id "eml_tenancy_9" in this workspace. Use list or search tools to find valid ids.',
    );
    expect(await callError(client, "list_outbox", { account_id: "obx_tenancyx_acc" })).toBe(
      'No account with id "obx_tenancyx_acc" in this workspace. Use list or search tools to find valid ids.',
    );
  });
});
