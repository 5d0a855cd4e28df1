import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleArgs } from "../../src/platform/mcp/examples";
import * as schema from "../../src/schema";
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

/** Characters that continue an id, email or word: a mark must not be part of a longer one. */
const MARK_CHAR = /[A-Za-z0-9_@-]/;

/** Whether `text` holds `mark` on its own (not as part of a longer id, email or word). */
function holds(text: string, mark: string): boolean {
  for (let at = text.indexOf(mark); at !== -1; at = text.indexOf(mark, at + 1)) {
    const before = text[at - 1];
    const after = text[at + mark.length];
    if (!(before && MARK_CHAR.test(before)) && !(after && MARK_CHAR.test(after))) return true;
  }
  return false;
}

/** The strings of a sample call's arguments (the action excepted), each with a setter for a copy. */
function stringArguments(
  args: Record<string, unknown>,
): { path: string; replace: (value: string) => Record<string, unknown> }[] {
  const found: { path: string; replace: (value: string) => Record<string, unknown> }[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (typeof node === "string") {
      if (path.length === 1 && path[0] === "action") return;
      found.push({
        path: path.join("."),
        replace: (value) => {
          const copy = structuredClone(args);
          let target: Record<string | number, unknown> = copy;
          for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
          target[path.at(-1)!] = value;
          return copy;
        },
      });
    } else if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, [...path, i]);
    } else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
    }
  };
  walk(args, []);
  return found;
}

/**
 * Every tool's sample calls, made by workspace B with workspace A's ids (a generated demo), and
 * again with each string argument replaced by A's external ids, account names, contact emails
 * and words from its ticket subjects: each answer either refuses or shows nothing of A — none
 * of its ids, external ids, names, emails or ticket subjects but those B sent — and every row
 * of A is the same afterwards.
 */
describe("tenancy: every tool's sample calls from another workspace", () => {
  let demo: DemoWorkspace;
  let outsider: Client;
  let marks: string[];
  let values: { kind: string; value: string }[];
  let rowsOfA: () => Promise<string>;
  let before: string;
  /** Everything B has sent so far: B's own writes may show it back. */
  let sent = "";
  /** Per tool: probes made, refused, and answers holding A's data. */
  const probes = new Map<string, { probes: number; refused: number; leaks: number }>();

  /** A's marks in an answer that B did not send itself. */
  function leakedMarks(answer: string): string[] {
    return marks.filter((mark) => holds(answer, mark) && !holds(sent, mark));
  }

  beforeAll(async () => {
    demo = await loadDemoWorkspace("tenantdemo", { accounts: 12 });
    const b = await createWorkspace("tenant-outsider", "admin");
    outsider = await connectClient(b.key, "?toolsets=all");
    // A's record ids, external ids, names, emails and ticket subjects.
    const { accounts, contacts, contracts, tickets, escalations, interventions, retention_campaigns } = demo.data;
    marks = [
      ...[accounts, contacts, contracts, tickets, escalations, interventions, retention_campaigns].flatMap((rows) =>
        rows.map((row) => row.id),
      ),
      ...[accounts, contacts, contracts, tickets].flatMap((rows) => rows.map((row) => row.external_id)),
      ...accounts.map((a) => a.name),
      ...contacts.flatMap((c) => [c.name, c.email]),
      ...tickets.map((t) => t.subject),
    ];
    const account = accounts.find((a) => a.id === demo.ids.accountId)!;
    const other = accounts.find((a) => a.id !== account.id)!;
    const contact = contacts.find((c) => c.id === demo.ids.contactId)!;
    const ticket = tickets.find((t) => t.id === demo.ids.ticketId)!;
    const contract = contracts.find((c) => c.id === demo.ids.contractId)!;
    const words = ticket.subject.split(/[^A-Za-z]+/).filter((word) => word.length >= 5);
    if (words.length === 0) throw new Error(`fixture ticket subject has no search words: ${ticket.subject}`);
    values = [
      { kind: "external id", value: account.external_id },
      { kind: "external id", value: contact.external_id },
      { kind: "external id", value: ticket.external_id },
      { kind: "external id", value: contract.external_id },
      { kind: "account name", value: account.name },
      { kind: "account name", value: other.name },
      { kind: "contact email", value: contact.email },
      { kind: "search words", value: words.slice(0, 2).join(" ") },
      { kind: "search words", value: words.at(-1)! },
    ];
    // Every table holding A's rows (and A's workspace row), each sorted so row order does not matter.
    const tables = Object.values(schema as Record<string, unknown>)
      .filter((value): value is SQLiteTable => is(value, SQLiteTable))
      .map((table) => getTableConfig(table))
      .filter(({ columns }) => columns.some((column) => column.name === "workspace_id"))
      .map(({ name }) => name);
    rowsOfA = async () => {
      const snapshot: Record<string, string[]> = {
        workspaces: [
          JSON.stringify(await env.DB.prepare("SELECT * FROM workspaces WHERE id = ?1").bind(demo.workspaceId).first()),
        ],
      };
      for (const table of tables) {
        const { results } = await env.DB.prepare(`SELECT * FROM ${table} WHERE workspace_id = ?1`)
          .bind(demo.workspaceId)
          .all();
        snapshot[table] = results.map((row) => JSON.stringify(row)).sort();
      }
      return JSON.stringify(snapshot);
    };
    before = await rowsOfA();
  }, 180_000);

  afterAll(() => {
    const rows = [...probes].map(
      ([tool, p]) =>
        `${tool.padEnd(34)} ${String(p.probes).padStart(6)} ${String(p.refused).padStart(7)} ${String(p.probes - p.refused).padStart(8)} ${String(p.leaks).padStart(5)}`,
    );
    const total = [...probes.values()].reduce((sum, p) => sum + p.probes, 0);
    console.log(
      `cross-tenant probes (A's external ids, names, emails, search words): ${total}\n${"tool".padEnd(34)} probes refused answered leaks\n${rows.join("\n")}`,
    );
  });

  it("the probes would see A's data: A's own key finds it with the same values", async () => {
    const own = await connectClient(demo.adminKey, "?toolsets=all");
    const calls: [string, Record<string, unknown>][] = [
      ["get_account_overview", { external_id: values[0]!.value }],
      ...values.slice(4).map((v): [string, Record<string, unknown>] => ["search", { query: v.value }]),
    ];
    for (const [tool, args] of calls) {
      const result = await own.callTool({ name: tool, arguments: args });
      const seen = leakedMarks(JSON.stringify([result.content, result.structuredContent]));
      expect(seen.length, `${tool} ${JSON.stringify(args)}`).toBeGreaterThan(0);
    }
    // A's own calls stamp its key's last use: what B is held to starts after them.
    before = await rowsOfA();
  });

  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name shows workspace B nothing of A",
    async ({ tool }) => {
      for (const example of tool.examples) {
        const args = exampleArgs(example, demo.ids);
        if (!args) continue;
        const result = await outsider.callTool({ name: tool.name, arguments: args });
        const answer = JSON.stringify([result.content, result.structuredContent]);
        // An id the caller sent may be quoted back ("No account with id …"); anything else of A is a leak.
        const quoted = JSON.stringify(args);
        const leaked = marks.filter((mark) => holds(answer, mark) && !holds(quoted, mark));
        sent += quoted;
        expect(leaked, `${tool.name} ${example.title}`).toEqual([]);
      }
    },
    60_000,
  );

  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name shows B nothing of A when given A's external ids, names, emails and search words",
    async ({ tool }) => {
      const tally = { probes: 0, refused: 0, leaks: 0 };
      probes.set(tool.name, tally);
      const leaks: string[] = [];
      for (const example of tool.examples) {
        const args = exampleArgs(example, demo.ids);
        if (!args) continue;
        for (const argument of stringArguments(args)) {
          for (const { kind, value } of values) {
            const variant = argument.replace(value);
            sent += JSON.stringify(variant);
            const result = await outsider.callTool({ name: tool.name, arguments: variant });
            tally.probes += 1;
            if (result.isError) tally.refused += 1;
            const leaked = leakedMarks(JSON.stringify([result.content, result.structuredContent]));
            tally.leaks += leaked.length;
            for (const mark of leaked) leaks.push(`${example.title}, ${argument.path} = ${kind} ${value}: ${mark}`);
          }
        }
      }
      expect(leaks).toEqual([]);
    },
    120_000,
  );

  it("leaves A's rows as they were", async () => {
    expect(await rowsOfA()).toBe(before);
  });
});
