import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type AdminDb,
  AdminError,
  createKey,
  createUser,
  createWorkspace,
  listKeys,
  listUsers,
  parseRole,
  revokeKey,
  setPassword,
  setRole,
  setUserDisabled,
} from "../../scripts/admin/commands";
import { clock } from "../../src/platform/lib/clock";
import { sha256Hex, verifyPassword } from "../../src/platform/lib/crypto";
import { callOk, connectClient, workerFetch } from "../helpers/mcp";

/** The admin commands run here on the test D1 binding instead of through wrangler. */
const db: AdminDb = {
  async all<T>(sql: string, params: (string | number | null)[] = []): Promise<T[]> {
    return (
      await env.DB.prepare(sql)
        .bind(...params)
        .all<T>()
    ).results;
  },
};

function mcpStatus(key: string): Promise<number> {
  return workerFetch("/mcp", {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    }),
  }).then((r) => r.status);
}

async function expectAdminError(pending: Promise<unknown>, message: string): Promise<void> {
  const error = await pending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminError);
  expect((error as AdminError).message).toBe(message);
}

describe("admin commands", () => {
  it("creates a workspace, a user and a personal key that works on /mcp", async () => {
    const ws = await createWorkspace(db, { slug: "admin-one", name: "Admin One" });
    expect(ws.id).toMatch(/^ws_/);
    const user = await createUser(db, {
      workspace: "admin-one",
      email: " Ann@Admin-One.TEST ",
      name: "Ann",
      role: "csm",
      password: "long enough",
    });
    expect(user.email).toBe("ann@admin-one.test");
    const now = clock.now();
    const created = await createKey(
      db,
      { workspace: "admin-one", role: "csm", user: "ann@admin-one.test", name: "laptop", expiresDays: 30 },
      now,
    );
    expect(created.key).toMatch(/^csk_[A-Za-z0-9_-]{32}$/);
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(created.expiresAt).toBe(new Date(now.getTime() + 30 * 86_400_000).toISOString());

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(created.id).first();
    expect(row).toMatchObject({
      key_hash: await sha256Hex(created.key),
      user_id: user.id,
      role: "csm",
      name: "laptop",
    });
    expect(Object.values(row ?? {})).not.toContain(created.key);
    const users = await listUsers(db, { workspace: "admin-one" });
    expect(users).toMatchObject([{ email: "ann@admin-one.test", role: "csm", has_password: 1, disabled_at: null }]);
    const stored = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?1")
      .bind(user.id)
      .first<{ password_hash: string }>();
    expect(await verifyPassword("long enough", stored?.password_hash ?? "")).toBe(true);

    const client = await connectClient(created.key);
    const overview = await callOk<{ workspace: { slug: string } }>(client, "get_workspace_overview");
    expect(overview.workspace.slug).toBe("admin-one");
  });

  it("creates workspace service keys without a user", async () => {
    await createWorkspace(db, { slug: "admin-service", name: "Service" });
    const created = await createKey(db, { workspace: "admin-service", role: "viewer" });
    const [listed] = await listKeys(db, { workspace: "admin-service" });
    expect(listed).toEqual({
      id: created.id,
      prefix: created.prefix,
      name: "service key",
      role: "viewer",
      user: null,
      created_at: expect.stringMatching(/^\d{4}-/),
      last_used_at: null,
      expires_at: null,
      revoked_at: null,
    });
    expect(await mcpStatus(created.key)).toBe(200);
  });

  it("revokes a key by prefix or id, after which it is refused", async () => {
    await createWorkspace(db, { slug: "admin-revoke", name: "Revoke" });
    const first = await createKey(db, { workspace: "admin-revoke", role: "admin" });
    const second = await createKey(db, { workspace: "admin-revoke", role: "admin" });
    const now = clock.now();
    expect(await revokeKey(db, { workspace: "admin-revoke", prefix: first.prefix }, now)).toEqual({
      id: first.id,
      prefix: first.prefix,
    });
    await revokeKey(db, { workspace: "admin-revoke", id: second.id }, now);
    expect(await mcpStatus(first.key)).toBe(401);
    expect(await mcpStatus(second.key)).toBe(401);
    const listed = await listKeys(db, { workspace: "admin-revoke" });
    expect(listed.map((k) => k.revoked_at)).toEqual([now.toISOString(), now.toISOString()]);
    await expectAdminError(
      revokeKey(db, { workspace: "admin-revoke", prefix: first.prefix }),
      `key ${first.prefix} was already revoked at ${now.toISOString()}`,
    );
    await expectAdminError(
      revokeKey(db, { workspace: "admin-revoke", prefix: "csk_nothing" }),
      'no key csk_nothing in workspace "admin-revoke"',
    );
    await expectAdminError(
      revokeKey(db, { workspace: "admin-revoke", prefix: "csk_" }),
      "--prefix must be the start of a key: csk_ and at least 4 more characters",
    );
    await expectAdminError(
      revokeKey(db, { workspace: "admin-revoke", prefix: first.prefix, id: first.id }),
      "give exactly one of --prefix or --id",
    );
  });

  it("revokes by a shorter start of the prefix or by the whole key, refusing ambiguity", async () => {
    await createWorkspace(db, { slug: "admin-prefix", name: "Prefix" });
    const keys = await Promise.all([1, 2, 3].map(() => createKey(db, { workspace: "admin-prefix", role: "viewer" })));
    const [first, second] = keys as [(typeof keys)[0], (typeof keys)[0]];
    await expect(revokeKey(db, { workspace: "admin-prefix", prefix: first.key.slice(0, 8) })).resolves.toEqual({
      id: first.id,
      prefix: first.prefix,
    });
    await expect(revokeKey(db, { workspace: "admin-prefix", prefix: second.key })).resolves.toEqual({
      id: second.id,
      prefix: second.prefix,
    });
    // Every key starts with csk_; two live keys sharing a short start need more characters.
    await env.DB.prepare("UPDATE api_keys SET prefix = 'csk_SAME' || substr(prefix, 9) WHERE id IN (?1, ?2)")
      .bind(keys[1]!.id, keys[2]!.id)
      .run();
    await expectAdminError(
      revokeKey(db, { workspace: "admin-prefix", prefix: "csk_SAME" }),
      "2 keys start with csk_SAME: give more of the prefix, or --id",
    );
  });

  it("changes passwords and roles and disables users", async () => {
    await createWorkspace(db, { slug: "admin-users", name: "Users" });
    const user = await createUser(db, { workspace: "admin-users", email: "u@users.test", name: "U", role: "admin" });
    const key = await createKey(db, { workspace: "admin-users", role: "admin", user: "u@users.test" });
    await setPassword(db, { workspace: "admin-users", email: "U@users.test", password: "another secret" });
    const stored = await env.DB.prepare("SELECT password_hash, role FROM users WHERE id = ?1")
      .bind(user.id)
      .first<{ password_hash: string }>();
    expect(await verifyPassword("another secret", stored?.password_hash ?? "")).toBe(true);
    await setRole(db, { workspace: "admin-users", email: "u@users.test", role: "viewer" });
    expect((await listUsers(db, { workspace: "admin-users" }))[0]?.role).toBe("viewer");

    await setUserDisabled(db, { workspace: "admin-users", email: "u@users.test", disabled: true });
    expect(await mcpStatus(key.key)).toBe(401);
    await expectAdminError(
      setUserDisabled(db, { workspace: "admin-users", email: "u@users.test", disabled: true }),
      "user u@users.test is already disabled",
    );
    await expectAdminError(
      createKey(db, { workspace: "admin-users", role: "viewer", user: "u@users.test" }),
      "user u@users.test is disabled",
    );
    await setUserDisabled(db, { workspace: "admin-users", email: "u@users.test", disabled: false });
    expect(await mcpStatus(key.key)).toBe(200);
  });

  it("refuses bad input with a message a person can act on", async () => {
    await createWorkspace(db, { slug: "admin-errors", name: "Errors" });
    await createUser(db, { workspace: "admin-errors", email: "v@errors.test", name: "V", role: "viewer" });
    expect(() => parseRole("owner")).toThrow('unknown role "owner": use one of viewer, csm, admin');
    await expectAdminError(
      createWorkspace(db, { slug: "admin-errors", name: "Again" }),
      'a workspace with slug "admin-errors" already exists',
    );
    await expectAdminError(
      createWorkspace(db, { slug: "Not OK", name: "x" }),
      'invalid slug "Not OK": use 1-63 lower-case letters, digits and inner hyphens',
    );
    await expectAdminError(
      createUser(db, { workspace: "nowhere", email: "a@b.test", name: "A", role: "csm" }),
      'no workspace with slug "nowhere"',
    );
    await expectAdminError(
      createUser(db, { workspace: "admin-errors", email: "V@errors.test", name: "V2", role: "csm" }),
      'user v@errors.test already exists in workspace "admin-errors"',
    );
    await expectAdminError(
      createUser(db, { workspace: "admin-errors", email: "w@errors.test", name: "W", role: "csm", password: "short" }),
      "the password must have at least 8 characters",
    );
    await expectAdminError(
      createKey(db, { workspace: "admin-errors", role: "csm", user: "v@errors.test" }),
      "user v@errors.test has the viewer role; a key cannot have csm",
    );
    await expectAdminError(
      createKey(db, { workspace: "admin-errors", role: "viewer", user: "nobody@errors.test" }),
      'no user nobody@errors.test in workspace "admin-errors"',
    );
    await expectAdminError(
      createKey(db, { workspace: "admin-errors", role: "viewer", expiresDays: 0 }),
      "--expires-days must be a whole number of days above 0",
    );
    await expectAdminError(listKeys(db, { workspace: "nowhere" }), 'no workspace with slug "nowhere"');
  });
});
