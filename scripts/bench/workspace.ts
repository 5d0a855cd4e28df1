/**
 * The benchmark's workspace: migrations through wrangler into a state folder of its own, then the
 * demo generator's rows written straight into the local D1 file with better-sqlite3 (wrangler
 * stopped), one transaction per batch of chunks. Piping the same rows through
 * `wrangler d1 execute` takes several times longer at 10,000 accounts.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { clock } from "../../src/platform/lib/clock";
import type { DemoIds } from "../../src/platform/mcp/examples";
import { REFRESH_ACCOUNT_ROLLUPS_SQL } from "../../src/records/rollups";
import { applyMigrations } from "../lib/d1";
import { type GenerateOptions, generateWorkspace } from "../seed/generate";
import type { SqlValue, TableName } from "../seed/rows";

/** Rows written per transaction. */
const ROWS_PER_TRANSACTION = 50_000;

/** What the load wrote and how long it took. */
export interface LoadReport {
  counts: Partial<Record<TableName, number>>;
  seconds: { migrations: number; load: number };
}

/** The local D1 SQLite file of the `DB` binding under a wrangler state folder. */
export function d1File(persistTo: string): string {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 database file in ${dir}, found ${files.length}`);
  return path.join(dir, files[0] as string);
}

/** Opens the local D1 file for bulk work: no fsync per commit (the file is rebuilt on failure anyway). */
export function openD1(file: string, options: { readonly?: boolean } = {}): Database.Database {
  const db = new Database(file, { readonly: options.readonly ?? false });
  if (!options.readonly) {
    db.pragma("synchronous = OFF");
    db.pragma("journal_mode = MEMORY");
    db.pragma("cache_size = -1048576");
  }
  return db;
}

/** Applies the migrations into `persistTo`, then loads the generated workspace into its D1 file. */
export function loadWorkspace(
  persistTo: string,
  options: GenerateOptions,
  progress: (line: string) => void,
): LoadReport {
  const t0 = performance.now();
  applyMigrations({ persistTo });
  const t1 = performance.now();
  const db = openD1(d1File(persistTo));
  // Secondary indexes are cheaper built once over sorted data than kept up row by row.
  const deferred = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE 'CREATE INDEX%'")
    .all() as { name: string; sql: string }[];
  for (const index of deferred) db.exec(`DROP INDEX "${index.name}"`);
  const counts: Partial<Record<TableName, number>> = {};
  const inserts = new Map<TableName, { columns: string[]; statement: Database.Statement }>();
  let pending = 0;
  let total = 0;
  db.exec("BEGIN");
  try {
    for (const chunk of generateWorkspace(options)) {
      const rows = chunk.rows as unknown as Record<string, SqlValue>[];
      if (rows.length === 0) continue;
      let insert = inserts.get(chunk.table);
      if (!insert) {
        const columns = Object.keys(rows[0] as Record<string, SqlValue>);
        insert = {
          columns,
          statement: db.prepare(
            `INSERT INTO ${chunk.table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ),
        };
        inserts.set(chunk.table, insert);
      }
      for (const row of rows) insert.statement.run(insert.columns.map((c) => row[c] ?? null));
      counts[chunk.table] = (counts[chunk.table] ?? 0) + rows.length;
      pending += rows.length;
      total += rows.length;
      if (pending >= ROWS_PER_TRANSACTION) {
        db.exec("COMMIT");
        db.exec("BEGIN");
        if (Math.floor(total / 1_000_000) !== Math.floor((total - pending) / 1_000_000)) {
          progress(`loaded ${total.toLocaleString("en-US")} rows`);
        }
        pending = 0;
      }
    }
    // better-sqlite3 binds `?1` and `?2` by name; the shared statement is written for D1.
    db.prepare(REFRESH_ACCOUNT_ROLLUPS_SQL.replaceAll("?1", "@workspace").replaceAll("?2", "@now")).run({
      workspace: options.workspaceId,
      now: clock.now().toISOString(),
    });
    for (const index of deferred) db.exec(index.sql);
    db.exec("COMMIT");
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  } finally {
    db.close();
  }
  return { counts, seconds: { migrations: (t1 - t0) / 1000, load: (performance.now() - t1) / 1000 } };
}

/** Ids the benchmark's calls rotate through, read from the loaded workspace. */
export interface Fixtures {
  workspaceId: string;
  /** Active accounts: internal id and external id (Segment's groupId). */
  accounts: { id: string; externalId: string }[];
  contacts: string[];
  segments: string[];
  activeContracts: string[];
  interventions: string[];
  escalations: string[];
  campaigns: string[];
}

/** Samples up to `perKind` ids of each kind, spread over the workspace (every n-th row). */
export function sampleFixtures(file: string, workspaceId: string, perKind = 200): Fixtures {
  const db = openD1(file, { readonly: true });
  try {
    const spread = (table: string, where = "", columns = "id") => {
      const total = (
        db.prepare(`SELECT count(*) AS n FROM ${table} WHERE workspace_id = ? ${where}`).get(workspaceId) as {
          n: number;
        }
      ).n;
      const step = Math.max(1, Math.floor(total / perKind));
      return db
        .prepare(`SELECT ${columns} FROM ${table} WHERE workspace_id = ? ${where} ORDER BY id`)
        .all(workspaceId)
        .filter((_, i) => i % step === 0)
        .slice(0, perKind) as Record<string, string>[];
    };
    return {
      workspaceId,
      accounts: spread("accounts", "AND status = 'active'", "id, external_id").map((r) => ({
        id: r.id as string,
        externalId: r.external_id as string,
      })),
      contacts: spread("contacts").map((r) => r.id as string),
      segments: (
        db
          .prepare("SELECT DISTINCT segment FROM accounts WHERE workspace_id = ? AND segment IS NOT NULL ORDER BY 1")
          .all(workspaceId) as { segment: string }[]
      ).map((r) => r.segment),
      activeContracts: spread("contracts", "AND status = 'active'").map((r) => r.id as string),
      interventions: spread("interventions").map((r) => r.id as string),
      escalations: spread("escalations").map((r) => r.id as string),
      campaigns: spread("retention_campaigns").map((r) => r.id as string),
    };
  } finally {
    db.close();
  }
}

/**
 * Id sets for the sample calls, one per sampled active account that has a contact, an active
 * contract, a ticket and a used feature: that account's records, and escalations, interventions
 * and campaigns spread over the workspace.
 */
export function sampleIdSets(file: string, fixtures: Fixtures, perKind = 200): DemoIds[] {
  const db = openD1(file, { readonly: true });
  try {
    const first = (sql: string, ...params: string[]) =>
      (db.prepare(sql).get(...params) as { v: string | null } | undefined)?.v ?? null;
    const ws = fixtures.workspaceId;
    const sets: DemoIds[] = [];
    for (const [i, { id }] of fixtures.accounts.slice(0, perKind).entries()) {
      const account = db
        .prepare("SELECT segment, tier, owner_user_id FROM accounts WHERE workspace_id = ? AND id = ?")
        .get(ws, id) as { segment: string | null; tier: string | null; owner_user_id: string | null };
      const contactId = first("SELECT min(id) AS v FROM contacts WHERE workspace_id = ? AND account_id = ?", ws, id);
      const contractId = first(
        "SELECT min(id) AS v FROM contracts WHERE workspace_id = ? AND account_id = ? AND status = 'active'",
        ws,
        id,
      );
      const ticketId = first("SELECT min(id) AS v FROM tickets WHERE workspace_id = ? AND account_id = ?", ws, id);
      const feature = first(
        "SELECT feature AS v FROM usage_feature_daily WHERE workspace_id = ? AND account_id = ? LIMIT 1",
        ws,
        id,
      );
      const pick = (list: readonly string[]) => list[i % list.length];
      const escalationId = pick(fixtures.escalations);
      const interventionId = pick(fixtures.interventions);
      const campaignId = pick(fixtures.campaigns);
      if (!contactId || !contractId || !ticketId || !feature || !account.segment || !account.tier) continue;
      if (!account.owner_user_id || !escalationId || !interventionId || !campaignId) continue;
      sets.push({
        accountId: id,
        contactId,
        contractId,
        segment: account.segment,
        tier: account.tier,
        ownerId: account.owner_user_id,
        ticketId,
        feature,
        escalationId,
        interventionId,
        campaignId,
      });
    }
    return sets;
  } finally {
    db.close();
  }
}
