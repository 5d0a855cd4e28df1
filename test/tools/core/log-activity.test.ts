import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk } from "../../helpers/mcp";
import { dayAgo } from "../../helpers/time";
import {
  admin,
  adminClient,
  auditMark,
  auditSince,
  idOf,
  importAccountsAndContacts,
  query,
  setUpWorkspaces,
} from "./write-fixture";

beforeAll(async () => {
  await setUpWorkspaces();
  await importAccountsAndContacts();
});

describe("log_activity", () => {
  it("records a touchpoint once per idempotency key and audits it", async () => {
    const accountId = await idOf("accounts", "acc-1");
    const contactId = await idOf("contacts", "con-1");
    const args = {
      account_id: accountId,
      contact_id: contactId,
      kind: "call",
      direction: "outbound",
      subject: "Renewal check-in",
      body: "Discussed seat growth.",
      duration_minutes: 25,
      occurred_at: `${dayAgo(10)}T16:00:00+01:00`,
      idempotency_key: "activity-key-0001",
    };
    const mark = await auditMark(admin.workspaceId);
    const first = await callOk<{ activity: Record<string, unknown> }>(adminClient, "log_activity", args);
    expect(first.activity).toEqual({
      id: expect.stringMatching(/^act_/),
      account_id: accountId,
      account_name: "Acme Corp",
      contact_id: contactId,
      user_id: admin.userId,
      kind: "call",
      direction: "outbound",
      subject: "Renewal check-in",
      body: "Discussed seat growth.",
      customer_text: null,
      duration_minutes: 25,
      occurred_at: `${dayAgo(10)}T15:00:00.000Z`,
      source: "manual",
      created_at: expect.any(String),
    });
    const repeat = await callOk<{ activity: Record<string, unknown> }>(adminClient, "log_activity", args);
    expect(repeat).toEqual(first);
    expect(await query("SELECT id FROM activities WHERE workspace_id = ?1", admin.workspaceId)).toEqual([
      { id: first.activity.id },
    ]);
    expect(await auditSince(admin.workspaceId, mark)).toEqual([
      { tool: "log_activity", action: "create", target_type: "activity", target_id: first.activity.id },
    ]);
    expect(await callError(adminClient, "log_activity", { ...args, subject: "Another call" })).toBe(
      "This idempotency_key was already used for a different call; choose a new key.",
    );
  });

  it("returns an inbound email's subject and body as customer_text only", async () => {
    const result = await callOk<{ activity: Record<string, unknown> }>(adminClient, "log_activity", {
      account_id: await idOf("accounts", "acc-1"),
      kind: "email",
      direction: "inbound",
      subject: "Re: renewal",
      body: "We want 10 more seats.",
      occurred_at: `${dayAgo(9)}T09:00:00Z`,
    });
    expect(result.activity).toMatchObject({
      subject: null,
      body: null,
      customer_text: { subject: "Re: renewal", body: "We want 10 more seats." },
      direction: "inbound",
    });
  });

  it("refuses bad combinations, future times and other workspaces' accounts", async () => {
    const accountId = await idOf("accounts", "acc-1");
    const otherContact = await idOf("contacts", "con-3");
    const fail = (args: Record<string, unknown>) =>
      callError(adminClient, "log_activity", { account_id: accountId, subject: "Touchpoint", ...args });
    expect(await fail({ kind: "email" })).toBe(
      "direction is required for kind email: inbound (received) or outbound (sent).",
    );
    expect(await fail({ kind: "note", direction: "inbound" })).toBe(
      "direction applies to calls and emails only; leave it out for kind note.",
    );
    expect(await fail({ kind: "note", duration_minutes: 10 })).toBe(
      "duration_minutes applies to calls and meetings only; leave it out for kind note.",
    );
    expect(await fail({ kind: "note", contact_id: otherContact })).toBe(
      `Contact ${otherContact} belongs to another account, not ${accountId}; pick one of this account's contacts.`,
    );
    expect(await fail({ kind: "note", occurred_at: "2999-01-01T00:00:00Z" })).toMatch(/^occurred_at is in the future/);
    expect(await fail({ kind: "note", account_id: "acc_other_1" })).toBe(
      'No account with id "acc_other_1" in this workspace. Use list or search tools to find valid ids.',
    );
    expect(await query("SELECT count(*) AS n FROM activities WHERE account_id = 'acc_other_1'")).toEqual([{ n: 0 }]);
  });
});
