import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";
import { dayAgo, daysAgo } from "../../helpers/time";

interface Entry {
  id: string;
  at: string;
  user_id: string | null;
  user_email: string | null;
  key_id: string | null;
  tool: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string;
  details: Record<string, unknown> | null;
}
interface Review {
  entries: Entry[];
  from: string;
  to: string;
  next_cursor: string | null;
  known_values: { users: string[]; tools: string[]; actions: string[] } | null;
}

/**
 * Six entries by hand: two at the same instant (ordered by id, descending), one by a service key,
 * one by the admin command, and one 40 days ago, outside the default 30-day window.
 */
describe("review_audit_log", () => {
  let ws: string;
  let client: Client;
  let latest: string;

  beforeAll(async () => {
    const admin = await createWorkspace("audit-review", "admin");
    ws = admin.workspaceId;
    client = await connectClient(admin.key);
    latest = daysAgo(1);
    const tie = daysAgo(2);
    const row = (id: string, at: string, fields: Record<string, string | null>) =>
      insert("audit_log", {
        id,
        workspace_id: ws,
        actor_user_id: null,
        actor_key_id: null,
        target_type: null,
        target_id: null,
        details: null,
        request_id: `req_${id}`,
        created_at: at,
        tool: "manage_tasks",
        action: "create",
        ...fields,
      });
    await env.DB.batch([
      insert("users", { id: "usr_ar_csm", workspace_id: ws, email: "Cara.Csm@audit.test", name: "Cara", role: "csm" }),
      row("aud_1", latest, {
        actor_user_id: "usr_ar_csm",
        target_type: "task",
        target_id: "tsk_1",
        details: '{"due_date":null}',
      }),
      row("aud_2", tie, {
        actor_user_id: admin.userId,
        tool: "manage_privacy",
        action: "erase_contact",
        target_type: "contact",
        target_id: "con_9",
      }),
      row("aud_3", tie, {
        actor_user_id: admin.userId,
        tool: "manage_privacy",
        action: "export_contact",
        target_type: "contact",
        target_id: "con_9",
      }),
      row("aud_4", daysAgo(5), {
        actor_key_id: "key_service",
        tool: "import_records",
        action: "import",
        target_type: "accounts",
      }),
      row("aud_5", daysAgo(6), {
        tool: "admin_cli",
        action: "export_contact",
        target_type: "contact",
        target_id: "con_8",
      }),
      row("aud_6", daysAgo(40), { actor_user_id: "usr_ar_csm", target_type: "task", target_id: "tsk_old" }),
      insert("audit_log", {
        id: "aud_other",
        workspace_id: "ws_elsewhere",
        tool: "manage_tasks",
        action: "create",
        request_id: "req_x",
        created_at: daysAgo(1),
      }),
    ]);
  });

  it("lists the last 30 days newest first, ties by id, with who, what, target and request id", async () => {
    const review = await callOk<Review>(client, "review_audit_log");
    expect(review).toMatchObject({ from: dayAgo(29), to: dayAgo(0), next_cursor: null, known_values: null });
    expect(review.entries.map((e) => e.id)).toEqual(["aud_1", "aud_3", "aud_2", "aud_4", "aud_5"]);
    expect(review.entries[0]).toEqual({
      id: "aud_1",
      at: latest,
      user_id: "usr_ar_csm",
      user_email: "Cara.Csm@audit.test",
      key_id: null,
      tool: "manage_tasks",
      action: "create",
      target_type: "task",
      target_id: "tsk_1",
      request_id: "req_aud_1",
      details: { due_date: null },
    });
    expect(review.entries.find((e) => e.id === "aud_4")).toMatchObject({ user_id: null, key_id: "key_service" });
  });

  it("filters by user (email in any case, or id), tool and action in any case, target and days", async () => {
    const ids = async (args: Record<string, unknown>) =>
      (await callOk<Review>(client, "review_audit_log", args)).entries.map((e) => e.id);
    expect(await ids({ user: "CARA.csm@AUDIT.test" })).toEqual(["aud_1"]);
    expect(await ids({ user: "usr_ar_csm", from: dayAgo(60) })).toEqual(["aud_1", "aud_6"]);
    expect(await ids({ user: "key_service" })).toEqual(["aud_4"]);
    expect(await ids({ tool: "Manage_Privacy" })).toEqual(["aud_3", "aud_2"]);
    expect(await ids({ tool: "manage_privacy", action: "ERASE_CONTACT" })).toEqual(["aud_2"]);
    expect(await ids({ action: "export_contact" })).toEqual(["aud_3", "aud_5"]);
    expect(await ids({ target_id: "con_9" })).toEqual(["aud_3", "aud_2"]);
    expect(await ids({ from: dayAgo(5), to: dayAgo(2) })).toEqual(["aud_3", "aud_2", "aud_4"]);
    expect(await ids({ to: dayAgo(39) })).toEqual(["aud_6"]);
  });

  it("pages with a cursor that belongs to its filters", async () => {
    const first = await callOk<Review>(client, "review_audit_log", { limit: 2 });
    expect(first.entries.map((e) => e.id)).toEqual(["aud_1", "aud_3"]);
    const second = await callOk<Review>(client, "review_audit_log", { limit: 2, cursor: first.next_cursor });
    expect(second.entries.map((e) => e.id)).toEqual(["aud_2", "aud_4"]);
    const third = await callOk<Review>(client, "review_audit_log", { limit: 2, cursor: second.next_cursor });
    expect(third.entries.map((e) => e.id)).toEqual(["aud_5"]);
    expect(third.next_cursor).toBeNull();
    expect(
      await callError(client, "review_audit_log", { limit: 2, tool: "manage_tasks", cursor: first.next_cursor }),
    ).toMatch(/other filters/);
  });

  it("says which users, tools and actions the window holds when nothing matches", async () => {
    const review = await callOk<Review>(client, "review_audit_log", { tool: "manage_taks" });
    expect(review.entries).toEqual([]);
    expect(review.known_values).toEqual({
      users: ["admin@audit-review.test", "Cara.Csm@audit.test", "admin command", "key key_service"],
      tools: ["manage_privacy", "admin_cli", "import_records", "manage_tasks"],
      actions: ["export_contact", "create", "erase_contact", "import"],
    });
    const text = await client.callTool({ name: "review_audit_log", arguments: { tool: "manage_taks" } });
    expect(JSON.stringify(text.content)).toContain("tools manage_privacy, admin_cli, import_records, manage_tasks");
  });

  it("refuses a window backwards or over a year long", async () => {
    expect(await callError(client, "review_audit_log", { from: dayAgo(1), to: dayAgo(3) })).toMatch(/is after to/);
    expect(await callError(client, "review_audit_log", { from: dayAgo(400) })).toMatch(/more than 366 days/);
  });

  it("shows a write made through a tool, with the caller's email", async () => {
    const task = await callOk<{ task: { id: string } }>(client, "manage_tasks", {
      action: "create",
      title: "Follow up",
    });
    const review = await callOk<Review>(client, "review_audit_log", { target_id: task.task.id });
    expect(review.entries.map((e) => [e.tool, e.action, e.user_email])).toEqual([
      ["manage_tasks", "create", "admin@audit-review.test"],
    ]);
  });
});
