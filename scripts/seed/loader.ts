/**
 * Node side of the demo seed: streams the generated SQL into D1 through wrangler (local state
 * or the deployed database) or into a file. The generator itself stays free of Node imports.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "../../src/schema";
import { type D1Target, executeSql, query, sqlLiteral } from "../lib/d1";
import { type GenerateOptions, generateWorkspace } from "./generate";
import type { TableName } from "./rows";
import { deleteWorkspaceStatements, SqlEmitter } from "./sql";

/** What a seed run did. */
export interface SeedReport {
  counts: Partial<Record<TableName, number>>;
  statements: number;
  /** Wall time of the whole run and of the part spent inside wrangler. */
  seconds: { total: number; loading: number };
}

/** How a seed run writes. */
export interface SeedWriteOptions {
  /** Delete an existing workspace with the same slug (and all its rows) first. */
  force: boolean;
  /** SQL bytes per wrangler call (local calls run as one transaction each). */
  chunkBytes?: number;
  /** Called with a short progress line after each chunk. */
  progress?: (line: string) => void;
}

/** Tables of the schema that carry `workspace_id`: what deleting a workspace must clear. */
export function tenantTables(): string[] {
  return Object.values(schema as Record<string, unknown>)
    .filter((value): value is SQLiteTable => is(value, SQLiteTable))
    .map((table) => getTableConfig(table))
    .filter((config) => config.columns.some((c) => c.name === "workspace_id"))
    .map((config) => config.name);
}

/** Id of the workspace with this slug, or null. */
export function existingWorkspaceId(slug: string, target: D1Target): string | null {
  const rows = query<{ id: string }>(`SELECT id FROM workspaces WHERE slug = ${sqlLiteral(slug)}`, target);
  return rows[0]?.id ?? null;
}

/** Generates the workspace and loads it into D1, in chunks of SQL files. */
export function seedDatabase(options: GenerateOptions, target: D1Target, write: SeedWriteOptions): SeedReport {
  const started = performance.now();
  let loading = 0;
  let chunks = 0;
  const run = (sql: string) => {
    const t0 = performance.now();
    executeSql(sql, target);
    loading += performance.now() - t0;
    chunks++;
  };
  const report = streamStatements(options, write.force, write.chunkBytes ?? 32 * 1024 * 1024, (sql, counts) => {
    run(sql);
    const rows = Object.values(counts).reduce((sum, n) => sum + n, 0);
    write.progress?.(`loaded chunk ${chunks} (${rows.toLocaleString("en-US")} rows so far)`);
  });
  return { ...report, seconds: { total: (performance.now() - started) / 1000, loading: loading / 1000 } };
}

/** Generates the workspace into one SQL file, written as it is generated. */
export function seedFile(options: GenerateOptions, file: string, write: SeedWriteOptions): SeedReport {
  const started = performance.now();
  const fd = openSync(file, "w");
  try {
    const report = streamStatements(options, write.force, write.chunkBytes ?? 4 * 1024 * 1024, (sql) => {
      writeSync(fd, sql);
    });
    return { ...report, seconds: { total: (performance.now() - started) / 1000, loading: 0 } };
  } finally {
    closeSync(fd);
  }
}

/** Feeds the SQL to `sink` in pieces of about `chunkBytes`; returns the row counts. */
function streamStatements(
  options: GenerateOptions,
  force: boolean,
  chunkBytes: number,
  sink: (sql: string, counts: Partial<Record<TableName, number>>) => void,
): Omit<SeedReport, "seconds"> {
  const emitter = new SqlEmitter();
  let parts: string[] = force ? deleteWorkspaceStatements(options.slug, tenantTables()).map((s) => `${s}\n`) : [];
  let size = parts.reduce((sum, p) => sum + p.length, 0);
  let statements = parts.length;
  const push = (statement: string) => {
    parts.push(statement, "\n");
    size += statement.length + 1;
    statements++;
    if (size >= chunkBytes) {
      sink(parts.join(""), emitter.counts);
      parts = [];
      size = 0;
    }
  };
  for (const chunk of generateWorkspace(options)) for (const statement of emitter.add(chunk)) push(statement);
  for (const statement of emitter.finish()) push(statement);
  if (parts.length > 0) sink(parts.join(""), emitter.counts);
  return { counts: { ...emitter.counts }, statements };
}

/** `accounts 300, usage_daily 123,583, …` */
export function formatCounts(counts: Partial<Record<TableName, number>>): string {
  return Object.entries(counts)
    .map(([table, n]) => `${table} ${n.toLocaleString("en-US")}`)
    .join(", ");
}
