/**
 * What the benchmark's client needs before the server starts: an admin API key and a Segment
 * integration, made by the same commands as the admin CLI (`create-key`, `create-integration`),
 * run over the local D1 file directly instead of through wrangler.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createIntegration } from "../../src/integrations/service";
import { clock } from "../../src/platform/lib/clock";
import { type AdminDb, createKey, type SqlValue } from "../admin/commands";
import { openD1 } from "./workspace";

/** The key, and the integration the ingestion posts to with its secret. */
export interface BenchAccess {
  apiKey: string;
  integrationId: string;
  segmentSecret: string;
  /** The sealing key the server must run with to read the integration's secret. */
  encryptionKey: string;
}

/** An {@link AdminDb} over better-sqlite3: `?N` placeholders become named ones. */
function fileDb(file: string): AdminDb & { close(): void } {
  const db = openD1(file);
  return {
    async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
      const named = Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
      const statement = db.prepare(sql.replace(/\?(\d+)/g, "@p$1"));
      if (statement.reader) return statement.all(named) as T[];
      statement.run(named);
      return [];
    },
    close: () => db.close(),
  };
}

/**
 * The sealing key of a state folder's integrations, kept in the folder: a reused workspace holds
 * the integrations of earlier runs, and a server started with another key could not open their
 * secrets.
 */
function stateEncryptionKey(state: string): string {
  const file = path.join(state, "bench-encryption-key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = randomBytes(32).toString("base64");
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

/** Creates an admin service key and a Segment integration in the workspace `slug`, sealed under the state folder's key. */
export async function createAccess(
  file: string,
  state: string,
  slug: string,
  workspaceId: string,
): Promise<BenchAccess> {
  const db = fileDb(file);
  try {
    const key = await createKey(db, { workspace: slug, role: "admin", name: "benchmark" });
    const encryptionKey = stateEncryptionKey(state);
    const segmentSecret = randomBytes(24).toString("hex");
    const reveal = await createIntegration(
      db,
      { encryptionKey, publicUrl: "" },
      { workspaceId, provider: "segment", name: `benchmark ${clock.now().getTime()}`, secret: segmentSecret },
      clock.now(),
    );
    return { apiKey: key.key, integrationId: reveal.integration.id, segmentSecret, encryptionKey };
  } finally {
    db.close();
  }
}

/** `count` more admin service keys in the workspace `slug`, one for each load client, as a team's members each have theirs. */
export async function createClientKeys(file: string, slug: string, count: number): Promise<string[]> {
  const db = fileDb(file);
  try {
    const keys: string[] = [];
    for (let i = 0; i < count; i++) {
      keys.push((await createKey(db, { workspace: slug, role: "admin", name: `load client ${i}` })).key);
    }
    return keys;
  } finally {
    db.close();
  }
}
