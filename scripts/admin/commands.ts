/**
 * The admin commands over any SQL runner: wrangler's D1 (local or remote) from the CLI, or a
 * D1 binding in tests. Only the SHA-256 of an API key is ever written; the key itself is
 * returned once to the caller.
 */
import { API_KEY_PREFIX, generateApiKey } from "../../src/platform/auth/api-keys";
import { canonicalEmail } from "../../src/platform/auth/credentials";
import { ROLES, type Role } from "../../src/platform/auth/principal";
import { clock } from "../../src/platform/lib/clock";
import { hashPassword, sha256Hex } from "../../src/platform/lib/crypto";
import { newId } from "../../src/platform/lib/ids";

/** A value bound to a `?N` placeholder. */
export type SqlValue = string | number | null;

/** Runs one SQL statement with `?N` placeholders and returns its rows. */
export interface AdminDb {
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
}

/** An expected failure (unknown workspace, bad role, ...): printed as is, exit status 1. */
export class AdminError extends Error {}

/** Characters of a key kept as its visible prefix: `csk_` plus 8 random ones. */
const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;
const MIN_PASSWORD_LENGTH = 8;
const DAY_MS = 86_400_000;

/** Checks a role name from the command line. */
export function parseRole(value: string): Role {
  if ((ROLES as readonly string[]).includes(value)) return value as Role;
  throw new AdminError(`unknown role "${value}": use one of ${ROLES.join(", ")}`);
}

/** Checks an email and puts it in the form the sign-in page looks it up by. */
function normalizeEmail(email: string): string {
  const normalized = canonicalEmail(email);
  if (!EMAIL_PATTERN.test(normalized)) throw new AdminError(`"${email}" is not an email address`);
  return normalized;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AdminError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  disabled_at: string | null;
}

async function workspaceId(db: AdminDb, slug: string): Promise<string> {
  const [row] = await db.all<{ id: string }>("SELECT id FROM workspaces WHERE slug = ?1", [slug]);
  if (!row) throw new AdminError(`no workspace with slug "${slug}"`);
  return row.id;
}

/** The workspace and one of its users in a single round trip (each wrangler call is slow). */
async function workspaceUser(
  db: AdminDb,
  slug: string,
  email: string,
): Promise<{ workspaceId: string; user: UserRow }> {
  const normalized = normalizeEmail(email);
  const [row] = await db.all<{ workspace_id: string } & { [K in keyof UserRow]: UserRow[K] | null }>(
    `SELECT w.id AS workspace_id, u.id, u.email, u.role, u.disabled_at
       FROM workspaces w LEFT JOIN users u ON u.workspace_id = w.id AND u.email = ?2
      WHERE w.slug = ?1`,
    [slug, normalized],
  );
  if (!row) throw new AdminError(`no workspace with slug "${slug}"`);
  if (!row.id || !row.email || !row.role) throw new AdminError(`no user ${normalized} in workspace "${slug}"`);
  return {
    workspaceId: row.workspace_id,
    user: { id: row.id, email: row.email, role: row.role, disabled_at: row.disabled_at },
  };
}

/** Creates a workspace; the slug is what users type on the sign-in page. */
export async function createWorkspace(
  db: AdminDb,
  opts: { slug: string; name: string },
  now = clock.now(),
): Promise<{ id: string }> {
  if (!SLUG_PATTERN.test(opts.slug)) {
    throw new AdminError(`invalid slug "${opts.slug}": use 1-63 lower-case letters, digits and inner hyphens`);
  }
  if (!opts.name.trim()) throw new AdminError("the workspace name must not be empty");
  const id = newId("ws");
  const [created] = await db.all<{ id: string }>(
    "INSERT INTO workspaces (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (slug) DO NOTHING RETURNING id",
    [id, opts.slug, opts.name.trim(), now.toISOString()],
  );
  if (!created) throw new AdminError(`a workspace with slug "${opts.slug}" already exists`);
  return created;
}

/** Creates a user; without a password the user signs in with a personal API key only. */
export async function createUser(
  db: AdminDb,
  opts: { workspace: string; email: string; name: string; role: Role; password?: string | undefined },
  now = clock.now(),
): Promise<{ id: string; email: string }> {
  const email = normalizeEmail(opts.email);
  if (!opts.name.trim()) throw new AdminError("the user name must not be empty");
  if (opts.password !== undefined) checkPassword(opts.password);
  const wsId = await workspaceId(db, opts.workspace);
  const passwordHash = opts.password === undefined ? null : await hashPassword(opts.password);
  const [created] = await db.all<{ id: string }>(
    `INSERT INTO users (id, workspace_id, email, name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (workspace_id, email) DO NOTHING RETURNING id`,
    [newId("usr"), wsId, email, opts.name.trim(), opts.role, passwordHash, now.toISOString()],
  );
  if (!created) throw new AdminError(`user ${email} already exists in workspace "${opts.workspace}"`);
  return { id: created.id, email };
}

/** A newly created key: `key` is shown once and never stored. */
export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  role: Role;
  expiresAt: string | null;
}

/**
 * Creates an API key. With `user` it acts for that user (and is capped by the user's current
 * role on every call); without, it is a workspace service key with exactly `role`.
 */
export async function createKey(
  db: AdminDb,
  opts: {
    workspace: string;
    role: Role;
    user?: string | undefined;
    name?: string | undefined;
    expiresDays?: number | undefined;
  },
  now = clock.now(),
): Promise<CreatedKey> {
  if (opts.expiresDays !== undefined && !(Number.isInteger(opts.expiresDays) && opts.expiresDays > 0)) {
    throw new AdminError("--expires-days must be a whole number of days above 0");
  }
  let wsId: string;
  let userId: string | null = null;
  if (opts.user) {
    const found = await workspaceUser(db, opts.workspace, opts.user);
    if (found.user.disabled_at) throw new AdminError(`user ${found.user.email} is disabled`);
    // A user key never carries more than its user's role; refusing says so instead of a silent cap.
    if (ROLES.indexOf(opts.role) > ROLES.indexOf(found.user.role)) {
      throw new AdminError(`user ${found.user.email} has the ${found.user.role} role; a key cannot have ${opts.role}`);
    }
    wsId = found.workspaceId;
    userId = found.user.id;
  } else {
    wsId = await workspaceId(db, opts.workspace);
  }
  const key = generateApiKey();
  const id = newId("key");
  const prefix = key.slice(0, PREFIX_LENGTH);
  const expiresAt = opts.expiresDays ? new Date(now.getTime() + opts.expiresDays * DAY_MS).toISOString() : null;
  const name = opts.name?.trim() || (userId ? "personal key" : "service key");
  await db.all(
    `INSERT INTO api_keys (id, workspace_id, user_id, name, role, prefix, key_hash, expires_at, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    [id, wsId, userId, name, opts.role, prefix, await sha256Hex(key), expiresAt, now.toISOString()],
  );
  return { id, key, prefix, role: opts.role, expiresAt };
}

/** One row of `list-keys`: everything about a key except the key. */
export interface KeyListing {
  id: string;
  prefix: string;
  name: string;
  role: Role;
  user: string | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

/** The workspace's keys, newest first. */
export async function listKeys(db: AdminDb, opts: { workspace: string }): Promise<KeyListing[]> {
  const wsId = await workspaceId(db, opts.workspace);
  return db.all<KeyListing>(
    `SELECT k.id, k.prefix, k.name, k.role, u.email AS user, k.created_at, k.last_used_at, k.expires_at, k.revoked_at
       FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
      WHERE k.workspace_id = ?1
      ORDER BY k.created_at DESC, k.id`,
    [wsId],
  );
}

/** Characters a `--prefix` needs: enough after `csk_` that it rarely names more than one key. */
const MIN_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;

/**
 * Revokes one key, named by its id or by the start of its key (its listed prefix, a shorter
 * start, or the whole key); it stops working on the next call.
 */
export async function revokeKey(
  db: AdminDb,
  opts: { workspace: string; prefix?: string | undefined; id?: string | undefined },
  now = clock.now(),
): Promise<{ id: string; prefix: string }> {
  if (!opts.prefix === !opts.id) throw new AdminError("give exactly one of --prefix or --id");
  const start = opts.prefix?.slice(0, PREFIX_LENGTH);
  if (start !== undefined && (!start.startsWith(API_KEY_PREFIX) || start.length < MIN_PREFIX_LENGTH)) {
    throw new AdminError(`--prefix must be the start of a key: ${API_KEY_PREFIX} and at least 4 more characters`);
  }
  const wsId = await workspaceId(db, opts.workspace);
  const matches = await db.all<{ id: string; prefix: string; revoked_at: string | null }>(
    opts.id
      ? "SELECT id, prefix, revoked_at FROM api_keys WHERE workspace_id = ?1 AND id = ?2"
      : "SELECT id, prefix, revoked_at FROM api_keys WHERE workspace_id = ?1 AND substr(prefix, 1, length(?2)) = ?2",
    [wsId, opts.id ?? start ?? null],
  );
  const [match] = matches;
  if (!match) throw new AdminError(`no key ${opts.id ?? start} in workspace "${opts.workspace}"`);
  if (matches.length > 1) {
    throw new AdminError(`${matches.length} keys start with ${start}: give more of the prefix, or --id`);
  }
  if (match.revoked_at) throw new AdminError(`key ${match.prefix} was already revoked at ${match.revoked_at}`);
  await db.all("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1", [match.id, now.toISOString()]);
  return { id: match.id, prefix: match.prefix };
}

/** Sets (or replaces) a user's password. */
export async function setPassword(
  db: AdminDb,
  opts: { workspace: string; email: string; password: string },
): Promise<void> {
  checkPassword(opts.password);
  const { user } = await workspaceUser(db, opts.workspace, opts.email);
  await db.all("UPDATE users SET password_hash = ?2 WHERE id = ?1", [user.id, await hashPassword(opts.password)]);
}

/** Changes a user's role; it applies from the user's next call, whatever token they hold. */
export async function setRole(db: AdminDb, opts: { workspace: string; email: string; role: Role }): Promise<void> {
  const { user } = await workspaceUser(db, opts.workspace, opts.email);
  await db.all("UPDATE users SET role = ?2 WHERE id = ?1", [user.id, opts.role]);
}

/**
 * Disables (or re-enables) a user: their sign-in, OAuth tokens and personal keys stop working
 * on the next call, since every call re-reads the user.
 */
export async function setUserDisabled(
  db: AdminDb,
  opts: { workspace: string; email: string; disabled: boolean },
  now = clock.now(),
): Promise<void> {
  const { user } = await workspaceUser(db, opts.workspace, opts.email);
  if (opts.disabled && user.disabled_at) throw new AdminError(`user ${user.email} is already disabled`);
  if (!opts.disabled && !user.disabled_at) throw new AdminError(`user ${user.email} is not disabled`);
  await db.all("UPDATE users SET disabled_at = ?2 WHERE id = ?1", [user.id, opts.disabled ? now.toISOString() : null]);
}

/** One row of `list-users`. */
export interface UserListing {
  id: string;
  email: string;
  name: string;
  role: Role;
  has_password: number;
  disabled_at: string | null;
  created_at: string;
}

/** The workspace's users, by email. */
export async function listUsers(db: AdminDb, opts: { workspace: string }): Promise<UserListing[]> {
  const wsId = await workspaceId(db, opts.workspace);
  return db.all<UserListing>(
    `SELECT id, email, name, role, password_hash IS NOT NULL AS has_password, disabled_at, created_at
       FROM users WHERE workspace_id = ?1 ORDER BY email`,
    [wsId],
  );
}
