import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { exampleArgs } from "../../src/platform/mcp/examples";
import { REGISTRY } from "../../src/toolsets";
import { type DemoWorkspace, loadDemoWorkspace } from "../helpers/demo-workspace";
import { callError, callOk, connectClient, createWorkspace } from "../helpers/mcp";

/**
 * Workspace A holds the records; a key of workspace B tries every core tool on them. Nothing of
 * A may be read or changed, and A's ids must read exactly like ids that do not exist.
 */
const A = { account: "acc_tenant_a", contact: "con_tenant_a", ticket: "tkt_tenant_a", task: "tsk_tenant_a" };

async function snapshotOfA(workspaceId: string): Promise<unknown[]> {
  const tables = ["accounts", "contacts", "tickets", "tasks", "activities", "contracts", "workspaces"];
  const out: unknown[] = [];
  for (const table of tables) {
    const column = table === "workspaces" ? "id" : "workspace_id";
    out.push(
      (await env.DB.prepare(`SELECT * FROM ${table} WHERE ${column} = ?1 ORDER BY 1`).bind(workspaceId).all()).results,
    );
  }
  return out;
}

describe("tenancy: workspace B never reaches workspace A", () => {
  let a: Awaited<ReturnType<typeof createWorkspace>>;
  let b: Awaited<ReturnType<typeof createWorkspace>>;
  let before: unknown[];

  beforeAll(async () => {
    a = await createWorkspace("tenant-a", "admin");
    b = await createWorkspace("tenant-b", "admin");
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO accounts (id, workspace_id, external_id, name, domain, arr, renewal_date) VALUES (?1, ?2, 'crm-shared-1', 'Zephyrine Labs', 'zephyrine.io', 50000, '2027-01-31')",
      ).bind(A.account, a.workspaceId),
      env.DB.prepare(
        "INSERT INTO contacts (id, workspace_id, account_id, external_id, name, email) VALUES (?1, ?2, ?3, 'c-1', 'Zara Zephyr', 'zara@zephyrine.io')",
      ).bind(A.contact, a.workspaceId, A.account),
      env.DB.prepare(
        "INSERT INTO tickets (id, workspace_id, account_id, subject, body, created_at, updated_at) VALUES (?1, ?2, ?3, 'Zephyrine export broken', 'The zephyrine export fails', '2026-01-05T10:00:00Z', '2026-01-05T10:00:00Z')",
      ).bind(A.ticket, a.workspaceId, A.account),
      env.DB.prepare(
        "INSERT INTO tasks (id, workspace_id, account_id, title, owner_user_id) VALUES (?1, ?2, ?3, 'Call Zara', ?4)",
      ).bind(A.task, a.workspaceId, A.account, a.userId),
      env.DB.prepare(
        "INSERT INTO accounts (id, workspace_id, external_id, name, arr) VALUES ('acc_tenant_b', ?1, 'crm-b-1', 'Bravo Co', 1000)",
      ).bind(b.workspaceId),
    ]);
    before = await snapshotOfA(a.workspaceId);
  });

  it("search, fetch, list and overview show none of A's records", async () => {
    const client = await connectClient(b.key);
    const found = await callOk<{ results: unknown[] }>(client, "search", { query: "zephyrine" });
    expect(found.results).toEqual([]);
    for (const id of [`account:${A.account}`, `ticket:${A.ticket}`, `contact:${A.contact}`]) {
      expect(await callError(client, "fetch", { id })).toMatch(/^No .* in this workspace/);
    }
    const listed = await callOk<{ accounts: { id: string }[] }>(client, "list_accounts", { limit: 200 });
    expect(listed.accounts.map((row) => row.id)).toEqual(["acc_tenant_b"]);
    const overview = await callOk<{ counts: { accounts: number; tickets: number; open_tasks: number } }>(
      client,
      "get_workspace_overview",
    );
    expect(overview.counts).toMatchObject({ accounts: 1, tickets: 0, open_tasks: 0 });
  });

  it("account overview and timeline treat A's account as missing, by id and by external id", async () => {
    const client = await connectClient(b.key);
    const missing = await callError(client, "get_account_overview", { account_id: "acc_does_not_exist" });
    expect(await callError(client, "get_account_overview", { account_id: A.account })).toBe(
      missing.replace("acc_does_not_exist", A.account),
    );
    expect(await callError(client, "get_account_overview", { external_id: "crm-shared-1" })).toMatch(/^No account/);
    expect(await callError(client, "get_account_timeline", { account_id: A.account })).toMatch(/^No account/);
  });

  it("tasks and activities of A can be neither listed nor changed", async () => {
    const client = await connectClient(b.key);
    const tasks = await callOk<{ tasks: { id: string }[] }>(client, "manage_tasks", { action: "list", status: "open" });
    expect(tasks.tasks).toEqual([]);
    expect(await callError(client, "manage_tasks", { action: "complete", task_id: A.task })).toMatch(/^No task/);
    expect(await callError(client, "manage_tasks", { action: "update", task_id: A.task, title: "Hijacked" })).toMatch(
      /^No task/,
    );
    expect(await callError(client, "manage_tasks", { action: "reassign", task_id: A.task, owner: "me" })).toMatch(
      /^No task/,
    );
    expect(await callError(client, "manage_tasks", { action: "create", title: "x", account_id: A.account })).toMatch(
      /^No account/,
    );
    expect(await callError(client, "log_activity", { account_id: A.account, kind: "note", subject: "x" })).toMatch(
      /^No account/,
    );
  });

  it("an import in B with A's external ids creates B's own records and leaves A untouched", async () => {
    const client = await connectClient(b.key);
    const result = await callOk<{ inserted: number; updated: number }>(client, "import_records", {
      entity: "accounts",
      rows: [{ external_id: "crm-shared-1", name: "Imported into B" }],
    });
    expect(result).toMatchObject({ inserted: 1, updated: 0 });
    const contacts = await callOk<{ failed: number }>(client, "import_records", {
      entity: "contacts",
      rows: [{ external_id: "c-1", name: "Someone", account_external_id: "crm-shared-1" }],
    });
    expect(contacts.failed).toBe(0);
    const inB = await env.DB.prepare(
      "SELECT name FROM accounts WHERE workspace_id = ?1 AND external_id = 'crm-shared-1'",
    )
      .bind(b.workspaceId)
      .first<{ name: string }>();
    expect(inB?.name).toBe("Imported into B");
    await callOk(client, "configure_workspace", { action: "update", settings: { timezone: "Asia/Tokyo" } });
    expect(await snapshotOfA(a.workspaceId)).toEqual(before);
  });
});

/**
 * Every tool's sample calls, made by workspace B with workspace A's ids (a generated demo): each
 * answer either refuses or shows nothing of A — none of its ids (but those sent), names or emails — and A's rows
 * are the same afterwards.
 */
describe("tenancy: every tool's sample calls from another workspace", () => {
  let demo: DemoWorkspace;
  let outsider: Client;
  let marks: string[];
  let rowsOfA: () => Promise<string>;
  let before: string;

  beforeAll(async () => {
    demo = await loadDemoWorkspace("tenantdemo", { accounts: 12 });
    const b = await createWorkspace("tenant-outsider", "admin");
    outsider = await connectClient(b.key, "?toolsets=all");
    // A's record ids, account names and contact emails.
    const { accounts, contacts, contracts, tickets, escalations, interventions, retention_campaigns } = demo.data;
    marks = [
      ...[accounts, contacts, contracts, tickets, escalations, interventions, retention_campaigns].flatMap((rows) =>
        rows.map((row) => row.id),
      ),
      ...accounts.map((a) => a.name),
      ...contacts.map((c) => c.email),
    ];
    const tables = [
      "accounts",
      "contacts",
      "tasks",
      "activities",
      "escalations",
      "interventions",
      "retention_campaigns",
    ];
    rowsOfA = async () =>
      JSON.stringify(
        await Promise.all(
          tables.map(
            async (table) =>
              (
                await env.DB.prepare(`SELECT * FROM ${table} WHERE workspace_id = ?1 ORDER BY id`)
                  .bind(demo.workspaceId)
                  .all()
              ).results,
          ),
        ),
      );
    before = await rowsOfA();
  }, 180_000);

  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name shows workspace B nothing of A",
    async ({ tool }) => {
      for (const example of tool.examples) {
        const args = exampleArgs(example, demo.ids);
        if (!args) continue;
        const result = await outsider.callTool({ name: tool.name, arguments: args });
        const answer = JSON.stringify([result.content, result.structuredContent]);
        // An id the caller sent may be quoted back ("No account with id …"); anything else of A is a leak.
        const sent = JSON.stringify(args);
        const leaked = marks.filter((mark) => answer.includes(mark) && !sent.includes(mark));
        expect(leaked, `${tool.name} ${example.title}`).toEqual([]);
      }
    },
    60_000,
  );

  it("leaves A's rows as they were", async () => {
    expect(await rowsOfA()).toBe(before);
  });
});
