/**
 * Runs SQL against the project's D1 database through wrangler: local state (honouring
 * PERSIST_DIR) by default, or the deployed database with `remote: true`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface D1Target {
  remote?: boolean;
  /** wrangler's local state folder; defaults to PERSIST_DIR or `.wrangler/state`. */
  persistTo?: string;
}

/** The local state folder in use: `PERSIST_DIR`, else wrangler's default. */
export function persistDir(): string {
  return process.env.PERSIST_DIR || ".wrangler/state";
}

function wranglerArgs(target: D1Target): string[] {
  return target.remote ? ["--remote"] : ["--local", "--persist-to", target.persistTo ?? persistDir()];
}

function runWrangler(args: string[]): string {
  const result = spawnSync("npx", ["wrangler", ...args], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_D1_WARNING: "true" },
  });
  if (result.status !== 0) {
    throw new Error(`wrangler ${args.slice(0, 4).join(" ")} failed:\n${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

/** Applies pending migrations from `migrations/`. */
export function applyMigrations(target: D1Target = {}): void {
  runWrangler(["d1", "migrations", "apply", "DB", ...wranglerArgs(target)]);
}

/** Runs one or more statements and returns the rows of the last one. */
export function query<T = Record<string, unknown>>(sql: string, target: D1Target = {}): T[] {
  const out = runWrangler(["d1", "execute", "DB", ...wranglerArgs(target), "--json", "--command", sql]);
  const parsed = JSON.parse(out) as { results: T[] }[];
  return parsed.at(-1)?.results ?? [];
}

/** Runs a (possibly large) SQL text as a file. */
export function executeSql(sql: string, target: D1Target = {}): void {
  const dir = mkdtempSync(path.join(tmpdir(), "cs-mcp-sql-"));
  try {
    const file = path.join(dir, "statements.sql");
    writeFileSync(file, sql);
    runWrangler(["d1", "execute", "DB", ...wranglerArgs(target), "--yes", "--file", file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Quotes a value as an SQLite literal. */
export function sqlLiteral(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A statement runner over wrangler with `?N` placeholders (wrangler's CLI binds no parameters,
 * so values are inlined as SQLite literals).
 */
export function wranglerDb(target: D1Target = {}): {
  all<T>(sql: string, params?: (string | number | null)[]): Promise<T[]>;
} {
  return {
    async all<T>(sql: string, params: (string | number | null)[] = []): Promise<T[]> {
      const inlined = sql.replace(/\?(\d+)/g, (_, n: string) => {
        const index = Number(n) - 1;
        if (index >= params.length) throw new Error(`missing SQL parameter ?${n}`);
        return sqlLiteral(params[index]);
      });
      return query<T>(inlined, target);
    },
  };
}
