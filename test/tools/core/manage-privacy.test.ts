import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getAgentByName } from "agents";
import { beforeAll, describe, expect, it } from "vitest";
import { eraseContactCommand, exportContactCommand, joinStatements } from "../../../scripts/admin/privacy";
import type { AccountAgent } from "../../../src/agents/account-agent";
import { loadIndexes } from "../../../src/ingest/lookup";
import { planMessage } from "../../../src/ingest/plan";
import { clock } from "../../../src/platform/lib/clock";
import { isoDay } from "../../../src/platform/lib/time";
import { finishAgentErasures } from "../../../src/records/erasure";
import { d1PrivacyDb } from "../../../src/tools/core/queries/privacy";
import { callError, callOk, connectClient, createWorkspace, insert, workerFetch } from "../../helpers/mcp";
import { daysAgo } from "../../helpers/time";
import { genericHeaders } from "../../helpers/webhook-signing";

/**
 * One account with two people: Ana Qorvallis, whose rows are exported and erased, and Bo Berg,
 * whose rows must stay as they are. Ana's name and email also appear in the account's free text
 * (a note, a task, an escalation) and in a stored webhook payload.
 */
const ANA = { id: "con_pv_ana", ext: "c-ana", name: "Ana Qorvallis", email: "ana@qorvallis.example" };
const TODAY = isoDay(clock.now());

interface ExportTable {
  table: string;
  total: number;
  returned: number;
  rows: Record<string, unknown>[];
  next_cursor: string | null;
}
interface ExportAnswer {
  subject: { kind: string; id: string };
  tables: ExportTable[];
  cut_tables: string[];
}
interface EraseAnswer {
  erasure: {
    dry_run: boolean;
    contact_id: string;
    name: string | null;
    email: string | null;
    tables: { table: string; rows: number; effect: string }[];
    search_documents_removed: number;
    agent_accounts: string[];
    agents_pending: string[];
    tombstone_id: string | null;
  };
}

/** Ids of the rows of each table that holds any, from an export. */
function idsByTable(answer: ExportAnswer): Record<string, unknown[]> {
  return Object.fromEntries(
    answer.tables
      .filter((table) => table.total > 0)
      .map((table) => [table.table, table.rows.map((row) => row.id ?? row.email ?? row.key ?? row.day)]),
  );
}

async function seed(ws: string, prefix: string): Promise<void> {
  const p = (id: string) => `${prefix}${id}`;
  const at = daysAgo(3);
  await env.DB.batch([
    insert("accounts", {
      id: p("acc_1"),
      workspace_id: ws,
      external_id: p("crm-1"),
      name: `${prefix}Northwind`,
      arr: 48000,
    }),
    insert("accounts", {
      id: p("acc_2"),
      workspace_id: ws,
      external_id: p("crm-2"),
      name: `${prefix}Contoso`,
      arr: 1000,
    }),
    insert("contacts", {
      id: p(ANA.id),
      workspace_id: ws,
      account_id: p("acc_1"),
      external_id: p(ANA.ext),
      name: ANA.name,
      email: ANA.email,
      title: "VP Operations",
      role: "champion",
      is_champion: 1,
    }),
    insert("contacts", {
      id: p("con_bo"),
      workspace_id: ws,
      account_id: p("acc_1"),
      external_id: p("c-bo"),
      name: "Bo Berg",
      email: "bo@berg.example",
    }),
    insert("tickets", {
      id: p("tkt_a"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      subject: "Exports fail for Ana",
      body: `Hi, ${ANA.name} here (${ANA.email}): exports fail.`,
      status: "solved",
      csat_score: 4,
      created_at: at,
      updated_at: at,
    }),
    insert("tickets", {
      id: p("tkt_b"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p("con_bo"),
      subject: "Slow dashboard",
      body: "It is slow.",
      created_at: at,
      updated_at: at,
    }),
    insert("survey_responses", {
      id: p("srv_a"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      kind: "nps",
      score: 9,
      comment: "Love it, Ana Qorvallis",
      responded_at: at,
    }),
    insert("survey_responses", {
      id: p("srv_b"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p("con_bo"),
      kind: "nps",
      score: 6,
      comment: "ok",
      responded_at: at,
    }),
    insert("feedback_items", {
      id: p("fbk_a"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      kind: "idea",
      title: "Qorvallis wants dark mode",
      body: "Please.",
      created_at: at,
    }),
    insert("activities", {
      id: p("act_a"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      kind: "call",
      subject: "Call with Ana",
      body: "Renewal talk",
      duration_minutes: 30,
      occurred_at: at,
    }),
    insert("activities", {
      id: p("act_x"),
      workspace_id: ws,
      account_id: p("acc_1"),
      kind: "note",
      subject: "QBR prep",
      body: `${ANA.name} will sign; cc ANA@Qorvallis.example`,
      occurred_at: at,
    }),
    insert("activities", {
      id: p("act_y"),
      workspace_id: ws,
      account_id: p("acc_1"),
      kind: "note",
      subject: "Pricing",
      body: "Bo asked for a quote",
      occurred_at: at,
    }),
    insert("usage_events", {
      id: p("ue_1"),
      workspace_id: ws,
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      user_ref: p(ANA.ext),
      event: "export",
      occurred_at: at,
      message_id: p("m1"),
    }),
    insert("usage_events", {
      id: p("ue_2"),
      workspace_id: ws,
      account_id: p("acc_1"),
      user_ref: ANA.email,
      event: "login",
      occurred_at: at,
      message_id: p("m2"),
    }),
    insert("usage_events", {
      id: p("ue_3"),
      workspace_id: ws,
      account_id: p("acc_1"),
      user_ref: p("c-bo"),
      event: "login",
      occurred_at: at,
      message_id: p("m3"),
    }),
    insert("outbox_messages", {
      id: p("out_a"),
      workspace_id: ws,
      idempotency_key: p("k1"),
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      to_email: ANA.email,
      subject: "Your QBR, Ana",
      body_text: `Dear ${ANA.name}`,
      status: "opened",
      created_at: at,
    }),
    insert("surveys", {
      id: p("sv_1"),
      workspace_id: ws,
      kind: "nps",
      name: "Q3 NPS",
      question: "Recommend us?",
      status: "sent",
      created_at: at,
    }),
    insert("survey_invitations", {
      id: p("inv_a"),
      workspace_id: ws,
      survey_id: p("sv_1"),
      account_id: p("acc_1"),
      contact_id: p(ANA.id),
      token_hash: p("tok-a"),
      response_id: p("srv_a"),
    }),
    insert("email_suppressions", { workspace_id: ws, email: ANA.email, reason: "unsubscribe", created_at: at }),
    insert("tasks", {
      id: p("tsk_a"),
      workspace_id: ws,
      account_id: p("acc_1"),
      title: `Send the deck to ${ANA.name}`,
      created_at: at,
    }),
    insert("tasks", {
      id: p("tsk_b"),
      workspace_id: ws,
      account_id: p("acc_1"),
      title: "Plan the renewal",
      created_at: at,
    }),
    insert("escalations", {
      id: p("esc_a"),
      workspace_id: ws,
      account_id: p("acc_1"),
      title: "Export outage",
      description: `Raised by ${ANA.email}`,
      severity: "high",
      sla_due_at: at,
      opened_at: at,
    }),
    insert("health_scores", {
      workspace_id: ws,
      account_id: p("acc_1"),
      day: TODAY,
      score: 71,
      band: "green",
      created_at: at,
    }),
    insert("webhook_receipts", {
      id: p("rcp_a"),
      workspace_id: ws,
      integration_id: p("int_x"),
      provider: "generic",
      event_id: p("e1"),
      payload: JSON.stringify({ data: { email: "Ana@Qorvallis.example" } }),
      status: "processed",
      received_at: at,
    }),
    insert("webhook_receipts", {
      id: p("rcp_b"),
      workspace_id: ws,
      integration_id: p("int_x"),
      provider: "generic",
      event_id: p("e2"),
      payload: JSON.stringify({ data: { email: "bo@berg.example" } }),
      status: "processed",
      received_at: at,
    }),
  ]);
}

/**
 * Every row of every table that mentions `needle`, FTS shadow tables included: their blobs hold
 * index terms stemmed (porter drops a final "s") and prefix-compressed, so a blob is searched
 * for the middle of a needle long enough to be a word of its own.
 */
async function rowsMentioning(needle: string): Promise<string[]> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const lower = needle.toLowerCase();
  const inBlob = lower.length >= 8 ? lower.slice(2, -2) : null;
  const found: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all<Record<string, unknown>>();
    for (const row of results) {
      const hit = Object.values(row).some((value) =>
        Array.isArray(value)
          ? inBlob !== null && String.fromCharCode(...(value as number[])).includes(inBlob)
          : String(value).toLowerCase().includes(lower),
      );
      if (hit) found.push(`${name}: ${JSON.stringify(row).slice(0, 200)}`);
    }
  }
  return found;
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  return (
    (
      await env.DB.prepare(sql)
        .bind(...params)
        .first<{ n: number }>()
    )?.n ?? -1
  );
}

describe("manage_privacy", () => {
  let ws: string;
  let client: Client;

  beforeAll(async () => {
    const admin = await createWorkspace("privacy", "admin");
    ws = admin.workspaceId;
    client = await connectClient(admin.key);
    await seed(ws, "");
    const agent = await getAgentByName(env.ACCOUNT_AGENT, `${ws}:acc_1`);
    await agent.ingest([
      { id: "ev-a1", occurredAt: `${TODAY}T08:00:00.000Z`, feature: "exports", userRef: ANA.ext },
      { id: "ev-a2", occurredAt: `${TODAY}T08:05:00.000Z`, feature: "exports", userRef: ANA.email },
      { id: "ev-b1", occurredAt: `${TODAY}T09:00:00.000Z`, feature: "exports", userRef: "c-bo" },
    ]);
  });

  it("exports every row stored about a contact, by email in any case, and audits the export", async () => {
    const answer = await callOk<ExportAnswer>(client, "manage_privacy", {
      action: "export_contact",
      email: "  ANA@Qorvallis.EXAMPLE ",
    });
    expect(answer.subject).toEqual({ kind: "contact", id: ANA.id });
    expect(idsByTable(answer)).toEqual({
      contacts: [ANA.id],
      tickets: ["tkt_a"],
      survey_responses: ["srv_a"],
      feedback_items: ["fbk_a"],
      activities: ["act_a", "act_x"],
      usage_events: ["ue_1", "ue_2"],
      outbox_messages: ["out_a"],
      survey_invitations: ["inv_a"],
      email_suppressions: [ANA.email],
      tasks: ["tsk_a"],
      escalations: ["esc_a"],
      webhook_receipts: ["rcp_a"],
    });
    expect(answer.cut_tables).toEqual([]);
    const ticket = answer.tables.find((t) => t.table === "tickets")?.rows[0];
    expect(ticket).toMatchObject({ id: "tkt_a", csat_score: 4, customer_text: { subject: "Exports fail for Ana" } });
    expect(ticket).not.toHaveProperty("body");
    const audit = await env.DB.prepare(
      "SELECT tool, action, target_type, target_id, actor_user_id FROM audit_log WHERE workspace_id = ?1 AND action = 'export_contact'",
    )
      .bind(ws)
      .all();
    expect(audit.results).toEqual([
      {
        tool: "manage_privacy",
        action: "export_contact",
        target_type: "contact",
        target_id: ANA.id,
        actor_user_id: "usr_privacy_admin",
      },
    ]);
  });

  it("exports an account's rows in every table, and pages a cut table with its cursor", async () => {
    const answer = await callOk<ExportAnswer>(client, "manage_privacy", {
      action: "export_account",
      account_id: "acc_1",
      limit: 1,
    });
    const totals = Object.fromEntries(answer.tables.filter((t) => t.total > 0).map((t) => [t.table, t.total]));
    expect(totals).toEqual({
      contacts: 2,
      accounts: 1,
      tickets: 2,
      survey_responses: 2,
      feedback_items: 1,
      activities: 3,
      usage_events: 3,
      outbox_messages: 1,
      survey_invitations: 1,
      tasks: 2,
      escalations: 1,
      health_scores: 1,
    });
    expect(answer.cut_tables).toEqual([
      "contacts",
      "tickets",
      "survey_responses",
      "activities",
      "usage_events",
      "tasks",
    ]);
    const activities = answer.tables.find((t) => t.table === "activities")!;
    const seen = activities.rows.map((row) => row.id);
    let cursor = activities.next_cursor;
    while (cursor) {
      const page = await callOk<ExportAnswer>(client, "manage_privacy", {
        action: "export_account",
        account_id: "acc_1",
        limit: 1,
        table: "activities",
        cursor,
      });
      expect(page.tables.map((t) => t.table)).toEqual(["activities"]);
      seen.push(...page.tables[0]!.rows.map((row) => row.id));
      cursor = page.tables[0]!.next_cursor;
    }
    expect(seen).toEqual(["act_a", "act_x", "act_y"]);
    expect(
      await callError(client, "manage_privacy", {
        action: "export_account",
        account_id: "acc_1",
        cursor: activities.next_cursor,
      }),
    ).toMatch(/give `table`/);
    expect(
      await callError(client, "manage_privacy", {
        action: "export_account",
        account_id: "acc_1",
        table: "webhook_receipts",
      }),
    ).toMatch(/holds nothing about an account/);
  });

  it("previews an erasure without changing anything", async () => {
    const before = await rowsMentioning("qorvallis");
    const answer = await callOk<EraseAnswer>(client, "manage_privacy", { action: "erase_contact", contact_id: ANA.id });
    expect(answer.erasure).toMatchObject({
      dry_run: true,
      contact_id: ANA.id,
      name: ANA.name,
      email: ANA.email,
      search_documents_removed: 1,
      agent_accounts: ["acc_1"],
      tombstone_id: null,
    });
    expect(Object.fromEntries(answer.erasure.tables.map((t) => [t.table, t.rows]))).toEqual({
      contacts: 1,
      tickets: 1,
      survey_responses: 1,
      feedback_items: 1,
      activities: 2,
      usage_events: 2,
      outbox_messages: 1,
      survey_invitations: 1,
      email_suppressions: 1,
      tasks: 1,
      escalations: 1,
      webhook_receipts: 1,
    });
    expect(await rowsMentioning("qorvallis")).toEqual(before);
    expect(
      await callError(client, "manage_privacy", { action: "erase_contact", contact_id: ANA.id, dry_run: false }),
    ).toMatch(/confirm: true/);
  });

  it("erases the contact everywhere, keeps the aggregates, and audits it", async () => {
    const aggregates = () =>
      Promise.all([
        count("SELECT count(*) AS n FROM contacts WHERE workspace_id = ?1 AND account_id = 'acc_1'", ws),
        count(
          "SELECT count(*) AS n FROM tickets WHERE workspace_id = ?1 AND account_id = 'acc_1' AND csat_score = 4",
          ws,
        ),
        count("SELECT sum(score) AS n FROM survey_responses WHERE workspace_id = ?1", ws),
        count("SELECT count(*) AS n FROM usage_events WHERE workspace_id = ?1", ws),
        count(
          "SELECT count(*) AS n FROM activities WHERE workspace_id = ?1 AND kind = 'call' AND duration_minutes = 30",
          ws,
        ),
        count("SELECT sum(arr) AS n FROM accounts WHERE workspace_id = ?1", ws),
        count("SELECT score AS n FROM health_scores WHERE workspace_id = ?1", ws),
        count("SELECT count(*) AS n FROM contacts WHERE workspace_id = ?1 AND is_champion = 1", ws),
      ]);
    const kept = await aggregates();
    const agent = await getAgentByName(env.ACCOUNT_AGENT, `${ws}:acc_1`);
    const usersBefore = (await agent.snapshot()).activeUsersToday;
    expect(await rowsMentioning("qorvallis")).not.toEqual([]);

    const answer = await callOk<EraseAnswer>(client, "manage_privacy", {
      action: "erase_contact",
      email: ANA.email,
      confirm: true,
    });
    expect(answer.erasure).toMatchObject({ dry_run: false, name: null, email: null, agents_pending: [] });
    expect(answer.erasure.tombstone_id).toMatch(/^era_/);
    expect(JSON.stringify(answer)).not.toMatch(/qorvallis/i);

    expect(await rowsMentioning("qorvallis")).toEqual([]);
    expect(await rowsMentioning(ANA.ext)).toEqual([]);
    expect(await aggregates()).toEqual(kept);
    const search = await callOk<{ results: unknown[] }>(client, "search", { query: "Qorvallis" });
    expect(search.results).toEqual([]);
    expect(await count("SELECT count(*) AS n FROM search_fts WHERE search_fts MATCH 'qorvallis'")).toBe(0);

    // The person is now an anonymous record their rows still point at.
    const anonymous = await env.DB.prepare(
      "SELECT id, name, email, external_id, title, role, is_champion FROM contacts WHERE workspace_id = ?1 AND name = 'Erased contact'",
    )
      .bind(ws)
      .first<{ id: string }>();
    expect(anonymous).toMatchObject({
      name: "Erased contact",
      email: null,
      external_id: null,
      title: null,
      role: "champion",
      is_champion: 1,
    });
    expect(anonymous!.id).not.toBe(ANA.id);
    expect(await env.DB.prepare("SELECT contact_id, subject, body FROM tickets WHERE id = 'tkt_a'").first()).toEqual({
      contact_id: anonymous!.id,
      subject: "[erased]",
      body: "",
    });
    expect(await env.DB.prepare("SELECT body FROM activities WHERE id = 'act_x'").first()).toEqual({
      body: "[erased]",
    });
    expect(await env.DB.prepare("SELECT title FROM tasks WHERE id = 'tsk_a'").first()).toEqual({
      title: "Send the deck to [erased]",
    });
    expect(await env.DB.prepare("SELECT body FROM tickets WHERE id = 'tkt_b'").first()).toEqual({
      body: "It is slow.",
    });
    expect(await count("SELECT count(*) AS n FROM contacts WHERE id = ?1", ANA.id)).toBe(0);

    // The live usage storage: Ana's two references are pseudonyms now; the distinct-user count is unchanged.
    expect((await agent.snapshot()).activeUsersToday).toBe(usersBefore);
    const refs = await runInDurableObject(agent, async (_instance: AccountAgent, state) =>
      state.storage.sql.exec<{ user_ref: string }>("SELECT user_ref FROM usage_day_users ORDER BY user_ref").toArray(),
    );
    expect(refs.map((r) => r.user_ref).filter((ref) => !ref.startsWith("erased_"))).toEqual(["c-bo"]);

    const audits = await env.DB.prepare(
      "SELECT action, target_id, json_extract(details, '$.dry_run') AS dry_run FROM audit_log WHERE workspace_id = ?1 AND tool = 'manage_privacy' ORDER BY created_at, id",
    )
      .bind(ws)
      .all();
    expect(audits.results).toEqual(
      expect.arrayContaining([
        { action: "export_contact", target_id: ANA.id, dry_run: null },
        { action: "erase_contact", target_id: ANA.id, dry_run: 1 },
        { action: "erase_contact", target_id: ANA.id, dry_run: 0 },
      ]),
    );
    expect(await callError(client, "manage_privacy", { action: "export_contact", contact_id: ANA.id })).toMatch(
      /was erased at/,
    );
    expect(await callError(client, "manage_privacy", { action: "erase_contact", email: ANA.email })).toMatch(
      /was erased at/,
    );
  });

  it("drops a later webhook and import that name the erased person, as skipped, not failed", async () => {
    const created = await callOk<{ integration: { id: string }; secret: string }>(client, "manage_integrations", {
      action: "create",
      provider: "generic",
      name: "CRM feed",
    });
    const deliveries = [
      {
        id: "evt-back-1",
        type: "contact",
        data: { external_id: ANA.ext, name: ANA.name, email: ANA.email, account_external_id: "crm-1" },
      },
      { id: "evt-back-2", type: "contact", data: { external_id: "c-ana-new", name: "A. Qorvallis", email: ANA.email } },
      {
        id: "evt-back-3",
        type: "ticket",
        data: { external_id: "t-back", contact_external_id: ANA.ext, subject: "Me again", created_at: daysAgo(0) },
      },
      {
        id: "evt-ok",
        type: "contact",
        data: { external_id: "c-cy", name: "Cy Dale", email: "cy@dale.example", account_external_id: "crm-1" },
      },
    ];
    for (const delivery of deliveries) {
      const body = JSON.stringify(delivery);
      const response = await workerFetch(`/webhooks/generic/${created.integration.id}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(await genericHeaders(created.secret, body)) },
      });
      expect(response.status).toBe(200);
    }
    // Bounded polling for the queue consumer, which runs on its own; not a timing assertion.
    for (let attempt = 0; attempt < 100; attempt++) {
      const settled = await count(
        "SELECT count(*) AS n FROM webhook_receipts WHERE integration_id = ?1 AND status <> 'queued'",
        created.integration.id,
      );
      if (settled === deliveries.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const statuses = await env.DB.prepare(
      "SELECT event_id, status FROM webhook_receipts WHERE integration_id = ?1 ORDER BY event_id",
    )
      .bind(created.integration.id)
      .all();
    expect(statuses.results).toEqual([
      { event_id: "evt-back-1", status: "processed" },
      { event_id: "evt-back-2", status: "processed" },
      { event_id: "evt-back-3", status: "processed" },
      { event_id: "evt-ok", status: "processed" },
    ]);
    expect(await count("SELECT count(*) AS n FROM contacts WHERE workspace_id = ?1 AND external_id = 'c-cy'", ws)).toBe(
      1,
    );
    expect(
      await count("SELECT count(*) AS n FROM tickets WHERE workspace_id = ?1 AND external_id = 't-back'", ws),
    ).toBe(0);

    const imported = await callOk<{
      inserted: number;
      failed: number;
      errors: { row: number; field: string; message: string }[];
    }>(client, "import_records", {
      entity: "contacts",
      rows: [
        { external_id: "c-ana-2", name: "Ana Q", email: "Ana@Qorvallis.example" },
        { external_id: ANA.ext, name: "Ana" },
        { external_id: "c-dee", name: "Dee Fox", email: "dee@fox.example" },
      ],
    });
    expect(imported).toMatchObject({ inserted: 1, failed: 2 });
    expect(imported.errors).toEqual([
      { row: 1, field: "email", message: "names a contact that was erased; not imported" },
      { row: 2, field: "external_id", message: "names a contact that was erased; not imported" },
    ]);
    const tickets = await callOk<{ failed: number; errors: { field: string }[] }>(client, "import_records", {
      entity: "tickets",
      rows: [{ external_id: "t-imp", contact_external_id: ANA.ext, subject: "Hello", created_at: daysAgo(0) }],
    });
    expect(tickets.failed).toBe(1);
    expect(tickets.errors.map((e) => e.field)).toEqual(["contact_external_id"]);
    expect(await rowsMentioning("qorvallis")).toEqual([]);
  });

  it("plans a usage event of the erased person without its user and counts a change about them as skipped", async () => {
    const changes = [
      {
        kind: "usage_event" as const,
        occurredAt: `${TODAY}T10:00:00.000Z`,
        feature: "exports",
        userRef: ANA.ext,
        account: [{ by: "external_id" as const, value: "crm-1" }],
      },
      {
        kind: "usage_event" as const,
        occurredAt: `${TODAY}T10:00:00.000Z`,
        feature: "exports",
        userRef: "c-bo",
        account: [{ by: "external_id" as const, value: "crm-1" }],
      },
      {
        kind: "row" as const,
        table: "contacts" as const,
        externalId: "c-new",
        columns: {
          name: { value: "Ana", merge: "latest" as const },
          email: { value: ANA.email, merge: "latest" as const },
        },
        sourceUpdatedAt: daysAgo(0),
        label: "contact c-new",
      },
    ];
    const indexes = await loadIndexes(env.DB, new Map([[ws, changes]]));
    const plan = await planMessage(ws, "rcp_plan", changes, indexes.get(ws)!);
    expect(plan.usage.map((u) => u.userRef)).toEqual([null, "c-bo"]);
    expect(plan.rows).toEqual([]);
    expect(plan.skippedErased).toBe(1);
  });

  it("refuses non-admins and treats another workspace's contact as missing", async () => {
    const csm = await createWorkspace("privacy-csm", "csm");
    const csmClient = await connectClient(csm.key);
    await expect(
      csmClient.callTool({ name: "manage_privacy", arguments: { action: "export_contact", contact_id: "con_bo" } }),
    ).rejects.toThrow(/admin role/);
    await expect(csmClient.callTool({ name: "review_audit_log", arguments: {} })).rejects.toThrow(/admin role/);
    const other = await createWorkspace("privacy-other", "admin");
    const outsider = await connectClient(other.key);
    expect(await callError(outsider, "manage_privacy", { action: "export_contact", contact_id: "con_bo" })).toMatch(
      /^No contact with id "con_bo"/,
    );
    expect(
      await callError(outsider, "manage_privacy", { action: "erase_contact", contact_id: "con_bo", confirm: true }),
    ).toMatch(/^No contact with id "con_bo"/);
    expect(await callError(outsider, "manage_privacy", { action: "export_account", account_id: "acc_1" })).toMatch(
      /^No account/,
    );
    expect(await count("SELECT count(*) AS n FROM contacts WHERE id = 'con_bo'")).toBe(1);
  });
});

describe("admin commands export-contact and erase-contact", () => {
  it("export and erase through the same steps, audited as admin_cli, with the agents left to the cron", async () => {
    const admin = await createWorkspace("privacy-cli", "admin");
    await seed(admin.workspaceId, "cli_");
    const db = d1PrivacyDb(env.DB);
    const exported = await exportContactCommand(db, {
      workspace: "privacy-cli",
      email: ANA.email,
      by: "admin@privacy-cli.test",
    });
    expect(exported.contact_id).toBe(`cli_${ANA.id}`);
    expect(exported.tables.find((t) => t.table === "activities")?.rows.map((r) => r.id)).toEqual([
      "cli_act_a",
      "cli_act_x",
    ]);
    const preview = await eraseContactCommand(db, {
      workspace: "privacy-cli",
      contactId: `cli_${ANA.id}`,
      confirm: false,
    });
    expect(preview.tombstoneId).toBeNull();
    const erased = await eraseContactCommand(db, {
      workspace: "privacy-cli",
      contactId: `cli_${ANA.id}`,
      confirm: true,
    });
    expect(erased.tombstoneId).toMatch(/^era_/);
    expect(
      (
        await env.DB.prepare("SELECT count(*) AS n FROM contacts WHERE workspace_id = ?1 AND email = ?2")
          .bind(admin.workspaceId, ANA.email)
          .first()
      )?.n,
    ).toBe(0);
    const audit = await env.DB.prepare(
      "SELECT tool, action, actor_user_id FROM audit_log WHERE workspace_id = ?1 ORDER BY action",
    )
      .bind(admin.workspaceId)
      .all();
    expect(audit.results).toEqual([
      { tool: "admin_cli", action: "erase_contact", actor_user_id: null },
      { tool: "admin_cli", action: "export_contact", actor_user_id: admin.userId },
    ]);
    const pending = () =>
      env.DB.prepare("SELECT pending_agents FROM erased_contacts WHERE id = ?1")
        .bind(erased.tombstoneId)
        .first<{ pending_agents: string }>();
    expect((await pending())?.pending_agents).toBe('["cli_acc_1"]');
    const run = await finishAgentErasures.run(env, clock.now());
    expect(run).toMatchObject({ agents_failed: 0 });
    expect((await pending())?.pending_agents).toBe("[]");
    await expect(exportContactCommand(db, { workspace: "privacy-cli", email: ANA.email })).rejects.toThrow(
      /was erased at/,
    );
  });

  it("joins a batch into one text for one wrangler call, renumbering each statement's parameters", () => {
    expect(
      joinStatements([
        { sql: "UPDATE a SET x = ?2 WHERE id = ?1", params: ["i", 1] },
        { sql: "DELETE FROM b WHERE id = ?1 OR id = ?1", params: ["j"] },
        { sql: "SELECT 1", params: [] },
      ]),
    ).toEqual({
      sql: "UPDATE a SET x = ?2 WHERE id = ?1;\nDELETE FROM b WHERE id = ?3 OR id = ?3;\nSELECT 1",
      params: ["i", 1, "j"],
    });
  });
});
