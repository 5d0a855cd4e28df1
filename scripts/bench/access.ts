/**
 * What the benchmark's client needs before the server starts: an admin API key and a Segment
 * integration, made by the same commands as the admin CLI (`create-key`, `create-integration`),
 * run over the local D1 file directly instead of through wrangler.
 */
import { randomBytes } from "node:crypto";
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

/** Creates an admin service key and a Segment integration in the workspace `slug`. */
export async function createAccess(file: string, slug: string, workspaceId: string): Promise<BenchAccess> {
  const db = fileDb(file);
  try {
    const key = await createKey(db, { workspace: slug, role: "admin", name: "benchmark" });
    const encryptionKey = randomBytes(32).toString("base64");
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
