import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk } from "../../helpers/mcp";
import {
  admin,
  adminClient,
  auditMark,
  auditSince,
  csm,
  idOf,
  importAccountsAndContacts,
  other,
  query,
  SLUG,
  setUpWorkspaces,
  type TasksResult,
} from "./write-fixture";

beforeAll(async () => {
  await setUpWorkspaces();
  await importAccountsAndContacts();
});

describe("manage_tasks", () => {
  it("creates, lists with filters and pages, completes, reassigns and updates tasks", async () => {
    const acc1 = await idOf("accounts", "acc-1");
    const acc2 = await idOf("accounts", "acc-2");
    const tasks = (args: Record<string, unknown>) => callOk<TasksResult>(adminClient, "manage_tasks", args);

    const mark = await auditMark(admin.workspaceId);
    const qbr = (
      await tasks({
        action: "create",
        title: "Send QBR deck",
        account_id: acc1,
        due_date: "2020-01-10",
        priority: "high",
      })
    ).task!;
    expect(qbr).toEqual({
      id: expect.stringMatching(/^tsk_/),
      title: "Send QBR deck",
      description: null,
      account_id: acc1,
      account_name: "Acme Corp",
      owner_user_id: admin.userId,
      owner_email: `admin@${SLUG}.test`,
      due_date: "2020-01-10",
      priority: "high",
      status: "open",
      source: "manual",
      created_by: admin.userId,
      created_at: expect.any(String),
      completed_at: null,
      overdue: true,
    });
    expect(await auditSince(admin.workspaceId, mark)).toEqual([
      { tool: "manage_tasks", action: "create", target_type: "task", target_id: qbr.id },
    ]);
    const listMark = await auditMark(admin.workspaceId);
    await tasks({ action: "list" });
    expect(await auditSince(admin.workspaceId, listMark)).toEqual([]);
    const onboarding = (
      await tasks({ action: "create", title: "Plan onboarding", owner: `CSM@${SLUG}.test`, due_date: "2999-01-01" })
    ).task!;
    expect(onboarding).toMatchObject({ owner_user_id: csm.userId, priority: "normal", overdue: false });
    const usageDip = (await tasks({ action: "create", title: "Check usage dip", owner: csm.userId })).task!;
    const followUp = (await tasks({ action: "create", title: "Send survey follow-up", owner: csm.userId })).task!;
    const champion = (
      await tasks({ action: "create", title: "Call champion", owner: "me", account_id: acc2, due_date: "2020-01-10" })
    ).task!;

    const overdueIds = [qbr.id, champion.id].sort();
    const undatedIds = [usageDip.id, followUp.id].sort();
    const ordered = [...overdueIds, onboarding.id, ...undatedIds];
    const pages: string[][] = [];
    let cursor: string | null | undefined;
    do {
      const page = await tasks({ action: "list", limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.tasks!.map((task) => task.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(pages).toEqual([ordered.slice(0, 2), ordered.slice(2, 4), ordered.slice(4)]);
    const firstPage = await tasks({ action: "list", limit: 2 });
    // The counts are over the whole filter, not the page.
    expect(firstPage.totals).toEqual({ matching: 5, overdue: 2 });
    expect((await tasks({ action: "list", owner: `csm@${SLUG}.test`, limit: 1 })).totals).toEqual({
      matching: 3,
      overdue: 0,
    });
    const listed = await adminClient.callTool({ name: "manage_tasks", arguments: { action: "list", limit: 2 } });
    expect((listed.content as { text: string }[])[0]?.text).toMatch(
      /^5 open task\(s\) match, 2 of them overdue \(today \d{4}-\d{2}-\d{2}\); 2 on this page, more with next_cursor\./,
    );

    const ids = async (filters: Record<string, unknown>) =>
      (await tasks({ action: "list", ...filters })).tasks!.map((task) => task.id);
    expect(await ids({ overdue: true })).toEqual(overdueIds);
    expect(await ids({ owner: "me" })).toEqual(overdueIds);
    expect(await ids({ owner: `csm@${SLUG}.test` })).toEqual([onboarding.id, ...undatedIds]);
    expect(await ids({ account_id: acc2 })).toEqual([champion.id]);
    expect(await ids({ due_before: "2500-01-01" })).toEqual(overdueIds);
    expect(await ids({ source: "automation" })).toEqual([]);
    expect(
      await callError(adminClient, "manage_tasks", { action: "list", cursor: firstPage.next_cursor, overdue: true }),
    ).toBe("This cursor belongs to a listing with other filters or sort; repeat the first call without `cursor`.");

    const completeMark = await auditMark(admin.workspaceId);
    const done = (await tasks({ action: "complete", task_id: qbr.id })).task!;
    expect(done).toMatchObject({ status: "done", completed_at: expect.any(String), overdue: false });
    expect(await auditSince(admin.workspaceId, completeMark)).toEqual([
      { tool: "manage_tasks", action: "complete", target_type: "task", target_id: qbr.id },
    ]);
    expect((await tasks({ action: "complete", task_id: qbr.id })).task).toEqual(done);
    expect(await ids({})).toEqual([champion.id, onboarding.id, ...undatedIds]);
    expect(await ids({ status: "done" })).toEqual([qbr.id]);
    expect(await ids({ status: "all", limit: 10 })).toEqual(ordered);

    const reassignMark = await auditMark(admin.workspaceId);
    const reassigned = (await tasks({ action: "reassign", task_id: onboarding.id, owner: admin.userId })).task!;
    expect(reassigned).toMatchObject({ owner_user_id: admin.userId, owner_email: `admin@${SLUG}.test` });
    expect(await auditSince(admin.workspaceId, reassignMark)).toEqual([
      { tool: "manage_tasks", action: "reassign", target_type: "task", target_id: onboarding.id },
    ]);

    const updated = (
      await tasks({
        action: "update",
        task_id: usageDip.id,
        due_date: "2030-05-01",
        priority: "urgent",
        description: "Usage fell 40% in two weeks.",
      })
    ).task!;
    expect(updated).toMatchObject({
      title: "Check usage dip",
      due_date: "2030-05-01",
      priority: "urgent",
      description: "Usage fell 40% in two weeks.",
    });
    const cleared = (await tasks({ action: "update", task_id: usageDip.id, description: null, due_date: null })).task!;
    expect(cleared).toMatchObject({ description: null, due_date: null, priority: "urgent" });
  });

  it("says exactly what is missing or wrong for each action", async () => {
    const fail = (args: Record<string, unknown>) => callError(adminClient, "manage_tasks", args);
    expect(await fail({ action: "create" })).toBe("action create needs `title`.");
    expect(await fail({ action: "complete" })).toBe("action complete needs `task_id`.");
    expect(await fail({ action: "reassign", task_id: "tsk_none" })).toBe(
      'No task with id "tsk_none" in this workspace. Use list or search tools to find valid ids.',
    );
    expect(await fail({ action: "complete", task_id: "tsk_other_1" })).toBe(
      'No task with id "tsk_other_1" in this workspace. Use list or search tools to find valid ids.',
    );
    const [open] = await query<{ id: string }>(
      "SELECT id FROM tasks WHERE workspace_id = ?1 AND status = 'open' LIMIT 1",
      admin.workspaceId,
    );
    expect(await fail({ action: "reassign", task_id: open!.id })).toBe(
      'action reassign needs `owner`: a user id, an email or "me".',
    );
    expect(await fail({ action: "reassign", task_id: open!.id, owner: `ghost@${SLUG}.test` })).toBe(
      `No user with id "ghost@${SLUG}.test" in this workspace. Use list or search tools to find valid ids.`,
    );
    expect(await fail({ action: "reassign", task_id: open!.id, owner: other.userId })).toBe(
      `No user with id "${other.userId}" in this workspace. Use list or search tools to find valid ids.`,
    );
    expect(await fail({ action: "update", task_id: open!.id })).toBe(
      "action update needs at least one of `title`, `due_date`, `priority`, `description`.",
    );
    expect(await fail({ action: "list", title: "x" })).toBe(
      "title does not apply to action list; it takes status, owner, account_id, due_before, overdue, source, limit, cursor.",
    );
    expect(await fail({ action: "list", overdue: true, status: "done" })).toBe(
      "overdue lists open tasks only; leave status out or set it to open.",
    );
    expect(await fail({ action: "create", title: "X", account_id: "acc_other_1" })).toBe(
      'No account with id "acc_other_1" in this workspace. Use list or search tools to find valid ids.',
    );
    const [otherTask] = await query("SELECT status FROM tasks WHERE id = 'tsk_other_1'");
    expect(otherTask).toEqual({ status: "open" });
  });
});
