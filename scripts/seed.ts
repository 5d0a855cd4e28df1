/**
 * Seeds a deterministic demo workspace.
 *
 *   npx tsx scripts/seed.ts [--accounts 300] [--seed 42] [--anchor YYYY-MM-DD] [--slug demo]
 *                           [--local | --remote | --out file.sql] [--force]
 *
 * `--local` (the default) loads into wrangler's local state in PERSIST_DIR (default
 * `.wrangler/state`), applying migrations first; `--remote` loads into the deployed D1;
 * `--out` only writes the SQL. An existing workspace with the slug is left alone unless
 * `--force`, which deletes it and all its rows first. The anchor ("today" of the demo)
 * defaults to the current UTC day.
 */
import { parseArgs } from "node:util";
import { clock } from "../src/platform/lib/clock";
import { applyMigrations, type D1Target, persistDir } from "./lib/d1";
import type { GenerateOptions } from "./seed/generate";
import { existingWorkspaceId, formatCounts, type SeedReport, seedDatabase, seedFile } from "./seed/loader";
import { demoPasswordHash } from "./seed/password";

const USAGE =
  "usage: npx tsx scripts/seed.ts [--accounts N] [--seed N] [--anchor YYYY-MM-DD] [--slug SLUG] [--local | --remote | --out FILE] [--force]";

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} must be a whole number`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      accounts: { type: "string" },
      seed: { type: "string" },
      anchor: { type: "string" },
      slug: { type: "string" },
      local: { type: "boolean" },
      remote: { type: "boolean" },
      out: { type: "string" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const targets = [values.local, values.remote, values.out !== undefined].filter(Boolean).length;
  if (targets > 1) throw new Error("choose one of --local, --remote and --out");
  const slug = values.slug ?? "demo";
  const seed = integer(values.seed, "seed", 42);
  const accounts = integer(values.accounts, "accounts", 300);
  if (accounts < 1) throw new Error("--accounts must be at least 1");
  const options: GenerateOptions = {
    seed,
    accounts,
    anchorDay: values.anchor ?? clock.now().toISOString().slice(0, 10),
    workspaceId: `ws_${slug}`,
    slug,
    passwordHash: await demoPasswordHash(seed, slug),
  };
  const write = { force: values.force ?? false, progress: (line: string) => console.error(line) };
  let report: SeedReport;
  if (values.out !== undefined) {
    report = seedFile(options, values.out, write);
    console.error(`wrote ${values.out}`);
  } else {
    const target: D1Target = values.remote ? { remote: true } : { persistTo: persistDir() };
    if (!values.remote) applyMigrations(target);
    const existing = existingWorkspaceId(slug, target);
    if (existing && !write.force) {
      console.error(`workspace "${slug}" already exists (${existing}); use --force to delete and reseed it`);
      process.exitCode = 1;
      return;
    }
    report = seedDatabase(options, target, write);
  }
  console.error(
    `seeded "${slug}" (seed ${seed}, anchor ${options.anchorDay}, ${accounts} accounts) in ${report.seconds.total.toFixed(1)} s` +
      (report.seconds.loading > 0 ? ` (${report.seconds.loading.toFixed(1)} s loading)` : "") +
      `, ${report.statements.toLocaleString("en-US")} statements`,
  );
  console.error(formatCounts(report.counts));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
