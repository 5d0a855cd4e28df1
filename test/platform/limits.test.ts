import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type Principal, SCOPES } from "../../src/platform/auth/principal";
import { clock } from "../../src/platform/lib/clock";
import { defineActionTool, READ_ONLY } from "../../src/platform/mcp/define-tool";
import { ToolError } from "../../src/platform/mcp/errors";
import { RETRY_AFTER_META_KEY, windowOf } from "../../src/platform/mcp/limits";
import { runTool } from "../../src/platform/mcp/server";
import { REGISTRY } from "../../src/toolsets";
import { createWorkspace, insert } from "../helpers/mcp";

/** A tool whose actions read, write, fail after validation, and send. */
const probe = defineActionTool({
  name: "quota_probe",
  title: "Quota probe",
  description: "Counts calls in a table, for the quota tests.",
  toolset: "core",
  input: {
    action: z.enum(["read", "write", "fail", "send"]).describe("What to do."),
    dry_run: z.boolean().optional().describe("For send: preview only."),
  },
  output: { ok: z.boolean() },
  examples: [{ title: "Read", args: () => ({ action: "read" }) }],
  annotations: { ...READ_ONLY, readOnlyHint: false, idempotentHint: false },
  commonFields: [],
  actions: {
    read: { writes: false, fields: [], run: async () => ({ data: { ok: true }, text: "read" }) },
    write: { writes: true, fields: [], run: async () => ({ data: { ok: true }, text: "wrote" }) },
    fail: {
      writes: true,
      fields: [],
      run: async () => {
        throw new ToolError("No such record.");
      },
    },
    send: { writes: true, sends: true, fields: ["dry_run"], run: async () => ({ data: { ok: true }, text: "sent" }) },
  },
});

async function caller(slug: string): Promise<Principal> {
  const { workspaceId, userId, keyId } = await createWorkspace(slug, "admin");
  return { workspaceId, userId, keyId, role: "admin", scopes: SCOPES, workspaceSlug: slug };
}

function call(principal: Principal, args: Record<string, unknown>, overrides: Partial<Env> = {}) {
  return runTool(probe, args, {
    env: { ...env, ...overrides },
    principal,
    session: { toolsets: [...REGISTRY.defaultToolsets], readOnly: false },
    requestId: "req_quota",
    origin: "http://localhost",
    catalog: new Map(),
  });
}

const spent = { limit: async () => ({ success: false }) } as RateLimit;

describe("rate limits and quotas", () => {
  it("refuses a call once the credential's or the workspace's calls per minute are spent, with a retry hint", async () => {
    const principal = await caller("limits-rate");
    const perKey = await call(principal, { action: "read" }, { CALLS_PER_CREDENTIAL: spent });
    expect(perKey).toMatchObject({ isError: true, _meta: { [RETRY_AFTER_META_KEY]: 60 } });
    expect(perKey.content[0]?.text).toBe(
      "Rate limit: this credential made too many calls in the last minute. Retry after 60 seconds.",
    );
    const perWorkspace = await call(principal, { action: "write" }, { CALLS_PER_WORKSPACE: spent });
    expect(perWorkspace.content[0]?.text).toMatch(/^Rate limit: this workspace made too many calls/);
    const audited = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE workspace_id = ?1")
      .bind(principal.workspaceId)
      .first<{ n: number }>();
    expect(audited?.n).toBe(0);
  });

  it("counts writes exactly per workspace and hour, concurrent ones too, and not the failed ones or the reads", async () => {
    const principal = await caller("limits-writes");
    const quota = { WRITE_QUOTA_PER_HOUR: "5" };
    expect((await call(principal, { action: "fail" }, quota)).isError).toBe(true);
    expect((await call(principal, { action: "read" }, quota)).isError).toBeUndefined();
    const results = await Promise.all(Array.from({ length: 8 }, () => call(principal, { action: "write" }, quota)));
    expect(results.filter((result) => !result.isError)).toHaveLength(5);
    const refused = results.filter((result) => result.isError);
    expect(refused).toHaveLength(3);
    const { secondsLeft } = windowOf(clock.now(), 3600);
    expect(refused[0]?.content[0]?.text).toBe(
      `Quota: this workspace made its 5 writes allowed per hour. Retry after ${secondsLeft} seconds, or ask the deployment's admin to raise WRITE_QUOTA_PER_HOUR.`,
    );
    expect(refused[0]?._meta).toEqual({ [RETRY_AFTER_META_KEY]: secondsLeft });
    const audited = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE workspace_id = ?1")
      .bind(principal.workspaceId)
      .first<{ n: number }>();
    expect(audited?.n).toBe(5);
    // Another workspace has its own quota.
    expect((await call(await caller("limits-writes-b"), { action: "write" }, quota)).isError).toBeUndefined();
  });

  it("counts sends per day besides writes, but not dry runs", async () => {
    const principal = await caller("limits-sends");
    const quota = { SEND_QUOTA_PER_DAY: "1" };
    expect((await call(principal, { action: "send", dry_run: true }, quota)).isError).toBeUndefined();
    expect((await call(principal, { action: "send" }, quota)).isError).toBeUndefined();
    const refused = await call(principal, { action: "send" }, quota);
    expect(refused.content[0]?.text).toMatch(/^Quota: this workspace made its 1 sends allowed per day \(UTC\)\./);
    // The refused send gave its write back: two writes count, the dry run's and the send's.
    const counts = await env.DB.prepare("SELECT kind, count FROM quota_counters WHERE workspace_id = ?1 ORDER BY kind")
      .bind(principal.workspaceId)
      .all<{ kind: string; count: number }>();
    expect(counts.results).toEqual([
      { kind: "sends", count: 1 },
      { kind: "writes", count: 2 },
    ]);
  });

  it("starts a new window on the hour", async () => {
    expect(windowOf(new Date("2026-03-01T10:59:30.000Z"), 3600)).toEqual({
      start: "2026-03-01T10:00:00.000Z",
      secondsLeft: 30,
    });
    expect(windowOf(new Date("2026-03-01T00:00:00.000Z"), 86_400)).toEqual({
      start: "2026-03-01T00:00:00.000Z",
      secondsLeft: 86_400,
    });
  });

  it("keeps old windows out of D1: the nightly purge deletes those older than two days", async () => {
    await env.DB.batch([
      insert("quota_counters", {
        workspace_id: "ws_old",
        kind: "writes",
        window_start: "2020-01-01T00:00:00.000Z",
        count: 3,
      }),
    ]);
    const { purgeExpiredDetail } = await import("../../src/records/purge");
    const outcome = await purgeExpiredDetail.run(env, clock.now());
    expect(outcome).toMatchObject({ quota_windows_deleted: 1 });
  });
});
