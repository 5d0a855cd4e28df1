/**
 * Source checks that the type checker and the linter cannot make, run by `npm run lint`:
 * - no import cycle among the modules of `src/` (type-only imports included);
 * - no read of the system clock (`Date.now()`, `new Date()` without an argument) outside the
 *   clock module, in `src/`, `test/` and `scripts/`, nor of SQLite's (`'now'` in SQL) outside the
 *   column defaults the migrations declare: time comes from `clock.now()`;
 * - no SQL outside query modules: a D1 `.prepare(` or a drizzle `db.select/insert/update/delete`
 *   only in `queries/` folders, `queries.ts` files, `src/records/` and `src/platform/db/`.
 * (Handlers of at most 80 lines are Biome's `noExcessiveLinesPerFunction`, set in biome.json.)
 * Prints what it found and exits 1 on any finding.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const CLOCK_MODULE = path.join(ROOT, "src/platform/lib/clock.ts");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/** Relative import specifiers of one file, resolved to files. */
function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.{1,2}(?:\/[^"]*)?)"/g)) {
    const base = path.resolve(path.dirname(file), match[1] as string);
    for (const candidate of [`${base}.ts`, `${base}.tsx`, path.join(base, "index.ts"), base]) {
      if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) {
        found.push(candidate);
        break;
      }
    }
  }
  return found;
}

/** Every elementary cycle's first sighting, as a list of files (depth-first search). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const seen = new Set<string>();
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const cycle = stack.slice(stack.indexOf(next));
        const key = [...cycle].sort().join("|");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

const CLOCK_READ = /\bDate\.now\(\)|\bnew Date\(\s*\)|'now'/;
/** Declares the column defaults the migrations hold (`'now'` there mirrors them; writes set the value). */
const SCHEMA_DEFAULTS = path.join(ROOT, "src/platform/db/schema.ts");

function clockReads(files: string[]): string[] {
  const findings: string[] = [];
  for (const file of files) {
    if (file === CLOCK_MODULE || file === SCHEMA_DEFAULTS || file === import.meta.filename) continue;
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, index) => {
        const code = line.trim();
        if (code.startsWith("*") || code.startsWith("/*") || code.startsWith("//")) return;
        if (CLOCK_READ.test(code)) findings.push(`${path.relative(ROOT, file)}:${index + 1}: ${code}`);
      });
  }
  return findings;
}

const SQL_CALL = /\.prepare\(|\bdb\s*\.\s*(?:select|selectDistinct|insert|update|delete)\s*\(/g;

/** Whether a file may hold SQL: a query module, the shared records, or the database seam itself. */
function isQueryModule(file: string): boolean {
  const relative = path.relative(ROOT, file);
  return (
    relative.includes("/queries/") ||
    path.basename(file) === "queries.ts" ||
    relative.startsWith("src/records/") ||
    relative.startsWith("src/platform/db/")
  );
}

function sqlOutsideQueries(files: string[]): string[] {
  const findings: string[] = [];
  for (const file of files) {
    if (file.endsWith(".test.ts") || isQueryModule(file)) continue;
    const count = readFileSync(file, "utf8").match(SQL_CALL)?.length ?? 0;
    if (count > 0) findings.push(`${path.relative(ROOT, file)}: ${count}`);
  }
  return findings;
}

const srcFiles = sourceFiles(path.join(ROOT, "src"));
const graph = new Map(srcFiles.map((file) => [file, importsOf(file, readFileSync(file, "utf8"))]));
const cycles = findCycles(graph);
const clockFindings = clockReads([
  ...srcFiles,
  ...sourceFiles(path.join(ROOT, "test")),
  ...sourceFiles(path.join(ROOT, "scripts")),
]);

console.log(`import cycles in src/: ${cycles.length} (${srcFiles.length} modules)`);
for (const cycle of cycles)
  console.log(`  ${[...cycle, cycle[0]].map((f) => path.relative(ROOT, f as string)).join(" → ")}`);
console.log(`clock reads outside ${path.relative(ROOT, CLOCK_MODULE)}: ${clockFindings.length}`);
for (const finding of clockFindings) console.log(`  ${finding}`);
const sqlFindings = sqlOutsideQueries(srcFiles);
console.log(`SQL calls outside query modules: ${sqlFindings.length === 0 ? 0 : sqlFindings.join(", ")}`);
if (cycles.length > 0 || clockFindings.length > 0 || sqlFindings.length > 0) process.exit(1);
