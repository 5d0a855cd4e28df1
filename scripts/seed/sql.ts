/**
 * Turns generated rows into multi-row INSERT statements with literal values. Literals avoid
 * D1's 100-bound-parameter limit; statements stay well under D1's 100 KB statement limit and
 * SQLite's 500-row compound limit, so the same SQL loads through `wrangler d1 execute` (local or
 * remote) and through `env.DB` in tests.
 */
import type { SeedChunk, SqlValue, TableName } from "./rows";

/** Statement size bounds. */
export interface EmitLimits {
  /** Rows per INSERT (default 500). */
  maxRows: number;
  /** Characters per INSERT (default 60,000: below 100 KB even with some multi-byte text). */
  maxChars: number;
}

const DEFAULT_LIMITS: EmitLimits = { maxRows: 500, maxChars: 60_000 };

/**
 * Workspace-level tables are written as soon as they arrive, so the workspace row is the first
 * statement: a load that stops half-way still leaves a workspace that `--force` can find and clear.
 */
const WRITE_AT_ONCE: ReadonlySet<TableName> = new Set([
  "workspaces",
  "workspace_settings_versions",
  "users",
  "products",
  "kb_articles",
]);

interface Pending {
  header: string;
  columns: string[];
  values: string[];
  chars: number;
}

/** Quotes one value as an SQLite literal. */
export function sqlLiteral(value: SqlValue): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Buffers rows per table and hands out full INSERT statements. Only one statement's worth of
 * rows per table is ever held, so memory stays bounded for any workspace size.
 */
export class SqlEmitter {
  private readonly pending = new Map<TableName, Pending>();
  private readonly limits: EmitLimits;
  /** Rows emitted so far, per table. */
  readonly counts: Partial<Record<TableName, number>> = {};

  constructor(limits: Partial<EmitLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Adds a chunk of rows; returns the statements that filled up. */
  add(chunk: SeedChunk): string[] {
    const out: string[] = [];
    const rows = chunk.rows as unknown as Record<string, SqlValue>[];
    for (const row of rows) {
      let buffer = this.pending.get(chunk.table);
      if (!buffer) {
        const columns = Object.keys(row);
        buffer = {
          header: `INSERT INTO ${chunk.table} (${columns.join(", ")}) VALUES\n`,
          columns,
          values: [],
          chars: 0,
        };
        this.pending.set(chunk.table, buffer);
      }
      const tuple = `(${buffer.columns.map((c) => sqlLiteral(row[c] ?? null)).join(", ")})`;
      if (buffer.values.length > 0 && buffer.header.length + buffer.chars + tuple.length + 2 > this.limits.maxChars) {
        out.push(this.flush(buffer));
      }
      buffer.values.push(tuple);
      buffer.chars += tuple.length + 2;
      if (buffer.values.length >= this.limits.maxRows) out.push(this.flush(buffer));
      this.counts[chunk.table] = (this.counts[chunk.table] ?? 0) + 1;
    }
    const buffer = this.pending.get(chunk.table);
    if (buffer && buffer.values.length > 0 && WRITE_AT_ONCE.has(chunk.table)) out.push(this.flush(buffer));
    return out;
  }

  /** Statements for every row still buffered. */
  finish(): string[] {
    const out: string[] = [];
    for (const buffer of this.pending.values()) if (buffer.values.length > 0) out.push(this.flush(buffer));
    return out;
  }

  private flush(buffer: Pending): string {
    const statement = `${buffer.header}${buffer.values.join(",\n")};`;
    buffer.values = [];
    buffer.chars = 0;
    return statement;
  }
}

/** All INSERT statements for a stream of chunks, in a stream. */
export function* insertStatements(chunks: Iterable<SeedChunk>, limits: Partial<EmitLimits> = {}): Generator<string> {
  const emitter = new SqlEmitter(limits);
  for (const chunk of chunks) yield* emitter.add(chunk);
  yield* emitter.finish();
}

/**
 * Statements that delete a workspace (found by slug) and every row of it in the given tables,
 * e.g. before reseeding it. Search-index rows go with their source rows through the delete triggers.
 */
export function deleteWorkspaceStatements(slug: string, tenantTables: readonly string[]): string[] {
  const owner = `(SELECT id FROM workspaces WHERE slug = ${sqlLiteral(slug)})`;
  return [
    ...tenantTables.filter((t) => t !== "workspaces").map((t) => `DELETE FROM ${t} WHERE workspace_id IN ${owner};`),
    `DELETE FROM workspaces WHERE slug = ${sqlLiteral(slug)};`,
  ];
}
