/**
 * The platform's tables: tenancy, people and credentials, the audit log, idempotency records, quota counters, cron runs and dead letters.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;
/** A `created_at` column defaulting to the insert time. */
export const createdAt = () => text("created_at").notNull().default(now);
/** An `updated_at` column defaulting to the insert time. */
export const updatedAt = () => text("updated_at").notNull().default(now);

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Current settings document (JSON); every change is also kept in `workspace_settings_versions`. */
  settings: text("settings", { mode: "json" }).notNull().default("{}"),
  settingsVersion: integer("settings_version").notNull().default(1),
  createdAt: createdAt(),
});

export const workspaceSettingsVersions = sqliteTable(
  "workspace_settings_versions",
  {
    workspaceId: text("workspace_id").notNull(),
    version: integer("version").notNull(),
    settings: text("settings", { mode: "json" }).notNull(),
    changedBy: text("changed_by"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.version] })],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    role: text("role", { enum: ["viewer", "csm", "admin"] }).notNull(),
    /** `pbkdf2$<iterations>$<salt b64>$<hash b64>`; null for users who sign in with a key only. */
    passwordHash: text("password_hash"),
    disabledAt: text("disabled_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_ws_email").on(t.workspaceId, t.email)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    /** The user the key acts for; null for a workspace service key. */
    userId: text("user_id"),
    name: text("name").notNull(),
    /** The key's own role; a key of a user is further capped by that user's current role. */
    role: text("role", { enum: ["viewer", "csm", "admin"] }).notNull(),
    /** First characters of the key, shown in listings so a person can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 (hex) of the whole key; the key itself is never stored. */
    keyHash: text("key_hash").notNull().unique(),
    expiresAt: text("expires_at"),
    revokedAt: text("revoked_at"),
    lastUsedAt: text("last_used_at"),
    createdAt: createdAt(),
  },
  (t) => [index("api_keys_ws_user").on(t.workspaceId, t.userId)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    actorUserId: text("actor_user_id"),
    actorKeyId: text("actor_key_id"),
    tool: text("tool").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    details: text("details", { mode: "json" }),
    requestId: text("request_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_ws_time").on(t.workspaceId, t.createdAt),
    index("audit_ws_target").on(t.workspaceId, t.targetId),
  ],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    workspaceId: text("workspace_id").notNull(),
    key: text("key").notNull(),
    tool: text("tool").notNull(),
    /** SHA-256 of the arguments, so a key reused for different arguments is refused. */
    requestHash: text("request_hash").notNull(),
    response: text("response", { mode: "json" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.key] })],
);

/**
 * Exact per-workspace counts of writes and sends in fixed windows (an hour for writes, a day for
 * sends), for the quotas the Rate Limiting binding counts only approximately.
 */
export const quotaCounters = sqliteTable(
  "quota_counters",
  {
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind", { enum: ["writes", "sends"] }).notNull(),
    /** ISO start of the window. */
    windowStart: text("window_start").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.kind, t.windowStart] }),
    index("quota_counters_window").on(t.windowStart),
  ],
);

/** One row per cron fire, keyed by (cron, scheduled time), so a repeated fire is a no-op. */
export const jobRuns = sqliteTable(
  "job_runs",
  {
    id: text("id").primaryKey(),
    cron: text("cron").notNull(),
    scheduledTime: text("scheduled_time").notNull(),
    status: text("status", { enum: ["running", "succeeded", "failed"] }).notNull(),
    detail: text("detail", { mode: "json" }),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [uniqueIndex("job_runs_cron_time").on(t.cron, t.scheduledTime), index("job_runs_started").on(t.startedAt)],
);

/** Queue messages that failed: kept with their latest error while retried, and as dead letters once retries are exhausted (replayable). */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id"),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    body: text("body", { mode: "json" }).notNull(),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    /** `retrying` while the queue still retries it (the latest error is kept), `dead` once in the DLQ. */
    status: text("status", { enum: ["retrying", "dead", "replayed"] })
      .notNull()
      .default("dead"),
    updatedAt: updatedAt(),
    createdAt: createdAt(),
    replayedAt: text("replayed_at"),
  },
  (t) => [
    uniqueIndex("dead_letters_queue_message").on(t.queue, t.messageId),
    index("dead_letters_ws").on(t.workspaceId, t.createdAt),
  ],
);
