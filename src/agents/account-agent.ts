import { Agent } from "agents";
import { clock } from "../platform/lib/clock";
import { newId } from "../platform/lib/ids";
import { addDays, isoDay } from "../platform/lib/time";
import { referenceHashes } from "../records/erasure";
import { usageDailyStatement, usageFeatureDailyStatement } from "./queries";

/** One usage event routed to an account: `id` is the dedupe key (the webhook receipt it came from). */
export interface UsageEventInput {
  id: string;
  /** ISO instant the user acted. */
  occurredAt: string;
  feature: string;
  /** The provider's user id (or anonymous id); null when the event names nobody. */
  userRef: string | null;
}

/** What one `ingest` call did with its events. */
export interface IngestResult {
  accepted: number;
  /** Events whose id was already stored: a repeated delivery changes nothing. */
  duplicates: number;
  /** Events dated before the retention window, whose day is already final in D1. */
  expired: number;
}

/** Per-feature counters of one day. */
export interface FeatureCount {
  feature: string;
  events: number;
  activeUsers: number;
}

/** The live state of one account, as tools show it beside the D1 rollups. */
export interface AccountSnapshot {
  /** The UTC day the counters are for. */
  day: string;
  eventsToday: number;
  activeUsersToday: number;
  featuresToday: FeatureCount[];
  lastSeenAt: string | null;
  /** Counts not yet written to D1's daily rollups. */
  unflushed: { days: number; events: number };
}

/** What one `eraseUsers` call changed. */
export interface EraseUsersResult {
  /** Distinct user references replaced by a pseudonym. */
  users: number;
  /** Raw events that named them. */
  events: number;
}

/** What one flush wrote. */
export interface FlushResult {
  days: string[];
  featureRows: number;
  prunedEvents: number;
}

/** Seconds between the first unflushed event and the flush that writes its day to D1. */
export const FLUSH_DELAY_SECONDS = 60;
/** Feature-day rows per D1 statement (each row is one element of a JSON array parameter). */
const ROWS_PER_STATEMENT = 500;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS usage_events (
     id TEXT PRIMARY KEY, day TEXT NOT NULL, occurred_at TEXT NOT NULL, feature TEXT NOT NULL, user_ref TEXT)`,
  "CREATE INDEX IF NOT EXISTS usage_events_day ON usage_events (day)",
  // `changes` counts accepted events; the day is unflushed while it is ahead of `flushed_changes`.
  `CREATE TABLE IF NOT EXISTS usage_days (
     day TEXT PRIMARY KEY, events INTEGER NOT NULL DEFAULT 0,
     changes INTEGER NOT NULL DEFAULT 0, flushed_changes INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS usage_day_features (
     day TEXT NOT NULL, feature TEXT NOT NULL, events INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, feature))`,
  "CREATE TABLE IF NOT EXISTS usage_day_users (day TEXT NOT NULL, user_ref TEXT NOT NULL, PRIMARY KEY (day, user_ref))",
  `CREATE TABLE IF NOT EXISTS usage_day_feature_users (
     day TEXT NOT NULL, feature TEXT NOT NULL, user_ref TEXT NOT NULL, PRIMARY KEY (day, feature, user_ref))`,
  "CREATE TABLE IF NOT EXISTS account_live (key TEXT PRIMARY KEY, value TEXT)",
];

/**
 * The per-account Durable Object: the single writer for one account's live usage. Reached with
 * `getAgentByName(env.ACCOUNT_AGENT, workspaceId + ":" + accountId)`; the name is where it
 * learns its workspace and account. Raw events live in its own SQLite (deduped by id) for the
 * retention window; per-day counters and distinct-user sets are kept beside them, and a
 * scheduled flush writes the changed days to D1 as absolute values, so flushing twice is harmless.
 */
export class AccountAgent extends Agent<Env> {
  private schemaReady = false;

  override async onStart(): Promise<void> {
    this.ensureSchema();
  }

  /** Stores new events, updates the counters and schedules a flush (at most one pending). */
  async ingest(events: UsageEventInput[]): Promise<IngestResult> {
    this.ensureSchema();
    const oldestDay = addDays(isoDay(clock.now()), -this.retentionDays());
    const sql = this.ctx.storage.sql;
    const result: IngestResult = { accepted: 0, duplicates: 0, expired: 0 };
    this.ctx.storage.transactionSync(() => {
      for (const event of events) {
        const day = event.occurredAt.slice(0, 10);
        if (day < oldestDay) {
          result.expired += 1;
          continue;
        }
        const inserted = sql.exec(
          "INSERT INTO usage_events (id, day, occurred_at, feature, user_ref) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
          event.id,
          day,
          event.occurredAt,
          event.feature,
          event.userRef,
        ).rowsWritten;
        if (inserted === 0) {
          result.duplicates += 1;
          continue;
        }
        result.accepted += 1;
        sql.exec(
          `INSERT INTO usage_days (day, events, changes) VALUES (?, 1, 1)
           ON CONFLICT (day) DO UPDATE SET events = events + 1, changes = changes + 1`,
          day,
        );
        sql.exec(
          `INSERT INTO usage_day_features (day, feature, events) VALUES (?, ?, 1)
           ON CONFLICT (day, feature) DO UPDATE SET events = events + 1`,
          day,
          event.feature,
        );
        if (event.userRef !== null) {
          sql.exec("INSERT OR IGNORE INTO usage_day_users (day, user_ref) VALUES (?, ?)", day, event.userRef);
          sql.exec(
            "INSERT OR IGNORE INTO usage_day_feature_users (day, feature, user_ref) VALUES (?, ?, ?)",
            day,
            event.feature,
            event.userRef,
          );
        }
        sql.exec(
          `INSERT INTO account_live (key, value) VALUES ('last_seen_at', ?)
           ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
          event.occurredAt,
        );
      }
    });
    if (result.accepted > 0) await this.schedule(FLUSH_DELAY_SECONDS, "flush", undefined, { idempotent: true });
    return result;
  }

  /** Today's counters, the last time anyone was seen, and what still waits for a flush. */
  async snapshot(): Promise<AccountSnapshot> {
    this.ensureSchema();
    const sql = this.ctx.storage.sql;
    const day = isoDay(clock.now());
    const today = sql.exec<{ events: number }>("SELECT events FROM usage_days WHERE day = ?", day).toArray()[0];
    const users = sql.exec<{ n: number }>("SELECT count(*) AS n FROM usage_day_users WHERE day = ?", day).one();
    const features = sql
      .exec<{ feature: string; events: number; active_users: number }>(
        `SELECT f.feature, f.events,
                (SELECT count(*) FROM usage_day_feature_users u WHERE u.day = f.day AND u.feature = f.feature) AS active_users
           FROM usage_day_features f WHERE f.day = ? ORDER BY f.events DESC, f.feature`,
        day,
      )
      .toArray();
    const lastSeen = sql
      .exec<{ value: string }>("SELECT value FROM account_live WHERE key = 'last_seen_at'")
      .toArray()[0];
    const pending = sql
      .exec<{ days: number; events: number | null }>(
        "SELECT count(*) AS days, sum(changes - flushed_changes) AS events FROM usage_days WHERE changes > flushed_changes",
      )
      .one();
    return {
      day,
      eventsToday: today?.events ?? 0,
      activeUsersToday: users.n,
      featuresToday: features.map((f) => ({ feature: f.feature, events: f.events, activeUsers: f.active_users })),
      lastSeenAt: lastSeen?.value ?? null,
      unflushed: { days: pending.days, events: pending.events ?? 0 },
    };
  }

  /**
   * Writes every unflushed day to D1 (`usage_daily`, `usage_feature_daily`) with absolute values,
   * then prunes what is older than the retention window. Events that arrive while D1 is being
   * written keep their day unflushed, and another flush is scheduled for them.
   */
  async flush(): Promise<FlushResult> {
    this.ensureSchema();
    const { workspaceId, accountId } = this.identity();
    const sql = this.ctx.storage.sql;
    const dirty = sql
      .exec<{ day: string; events: number; changes: number }>(
        "SELECT day, events, changes FROM usage_days WHERE changes > flushed_changes ORDER BY day",
      )
      .toArray();
    const days = dirty.map((row) => row.day);
    let featureRows = 0;
    if (dirty.length > 0) {
      const dayList = JSON.stringify(days);
      const daily = sql
        .exec<{ day: string; events: number; active_users: number }>(
          `SELECT d.day, d.events, (SELECT count(*) FROM usage_day_users u WHERE u.day = d.day) AS active_users
             FROM usage_days d WHERE d.day IN (SELECT value FROM json_each(?))`,
          dayList,
        )
        .toArray();
      const perFeature = sql
        .exec<{ day: string; feature: string; events: number; active_users: number }>(
          `SELECT f.day, f.feature, f.events,
                  (SELECT count(*) FROM usage_day_feature_users u WHERE u.day = f.day AND u.feature = f.feature) AS active_users
             FROM usage_day_features f WHERE f.day IN (SELECT value FROM json_each(?))`,
          dayList,
        )
        .toArray();
      featureRows = perFeature.length;
      const db = this.env.DB;
      const statements = [usageDailyStatement(db, workspaceId, accountId, daily)];
      for (let start = 0; start < perFeature.length; start += ROWS_PER_STATEMENT) {
        statements.push(
          usageFeatureDailyStatement(db, workspaceId, accountId, perFeature.slice(start, start + ROWS_PER_STATEMENT)),
        );
      }
      await db.batch(statements);
      this.ctx.storage.transactionSync(() => {
        for (const row of dirty) {
          sql.exec("UPDATE usage_days SET flushed_changes = ? WHERE day = ?", row.changes, row.day);
        }
      });
    }
    const prunedEvents = this.prune();
    const stillDirty = sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM usage_days WHERE changes > flushed_changes")
      .one().n;
    if (stillDirty > 0) await this.schedule(FLUSH_DELAY_SECONDS, "flush", undefined, { idempotent: true });
    return { days, featureRows, prunedEvents };
  }

  /**
   * Erases people from this account's storage: each user reference whose tombstone hash (read as
   * an external id or as an email, see `referenceHashes`) is one of `hashes` becomes a pseudonym of
   * its own, in raw events and in the distinct-user sets, so every count stays as it was.
   */
  async eraseUsers(hashes: string[]): Promise<EraseUsersResult> {
    this.ensureSchema();
    const { workspaceId } = this.identity();
    const wanted = new Set(hashes);
    const sql = this.ctx.storage.sql;
    // usage_day_feature_users only holds references usage_day_users also holds.
    const references = sql
      .exec<{ user_ref: string }>(
        "SELECT user_ref FROM usage_events WHERE user_ref IS NOT NULL UNION SELECT user_ref FROM usage_day_users",
      )
      .toArray()
      .map((row) => row.user_ref);
    const matched: string[] = [];
    for (const reference of references) {
      const candidates = await referenceHashes(workspaceId, reference);
      if (candidates.some((hash) => wanted.has(hash))) matched.push(reference);
    }
    let events = 0;
    this.ctx.storage.transactionSync(() => {
      for (const reference of matched) {
        const pseudonym = newId("erased");
        events += sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM usage_events WHERE user_ref = ?", reference)
          .one().n;
        sql.exec("UPDATE usage_events SET user_ref = ? WHERE user_ref = ?", pseudonym, reference);
        sql.exec("UPDATE usage_day_users SET user_ref = ? WHERE user_ref = ?", pseudonym, reference);
        sql.exec("UPDATE usage_day_feature_users SET user_ref = ? WHERE user_ref = ?", pseudonym, reference);
      }
    });
    return { users: matched.length, events };
  }

  /** Drops raw events and flushed counters of days before the retention window. */
  private prune(): number {
    const sql = this.ctx.storage.sql;
    const oldestDay = addDays(isoDay(clock.now()), -this.retentionDays());
    let pruned = 0;
    this.ctx.storage.transactionSync(() => {
      pruned = sql.exec("DELETE FROM usage_events WHERE day < ?", oldestDay).rowsWritten;
      const finalDays = "SELECT day FROM usage_days WHERE day < ? AND changes = flushed_changes";
      sql.exec(`DELETE FROM usage_day_features WHERE day IN (${finalDays})`, oldestDay);
      sql.exec(`DELETE FROM usage_day_users WHERE day IN (${finalDays})`, oldestDay);
      sql.exec(`DELETE FROM usage_day_feature_users WHERE day IN (${finalDays})`, oldestDay);
      sql.exec("DELETE FROM usage_days WHERE day < ? AND changes = flushed_changes", oldestDay);
    });
    return pruned;
  }

  private retentionDays(): number {
    const days = Number(this.env.USAGE_EVENT_RETENTION_DAYS);
    return Number.isInteger(days) && days > 0 ? days : 14;
  }

  /** The workspace and account this instance serves, from its name `<workspace id>:<account id>`. */
  private identity(): { workspaceId: string; accountId: string } {
    const name = this.name;
    const colon = name.indexOf(":");
    if (colon <= 0 || colon === name.length - 1) {
      throw new Error("AccountAgent must be addressed by name as <workspace id>:<account id>");
    }
    return { workspaceId: name.slice(0, colon), accountId: name.slice(colon + 1) };
  }

  private ensureSchema(): void {
    if (this.schemaReady) return;
    for (const statement of SCHEMA) this.ctx.storage.sql.exec(statement);
    this.schemaReady = true;
  }
}
