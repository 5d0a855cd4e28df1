import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * The instant the suite runs at: TEST_NOW when set (a date or an ISO instant), else a fixed one.
 * Every fixture is built from the pinned clock, so any date from 2025 to 2030 passes.
 */
function testNow(): string {
  const raw = process.env.TEST_NOW?.trim();
  if (!raw) return DEFAULT_TEST_NOW;
  const at = new Date(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T12:00:00.000Z` : raw);
  if (Number.isNaN(at.getTime())) throw new Error(`TEST_NOW is not a date: ${raw}`);
  return at.toISOString();
}

const DEFAULT_TEST_NOW = "2026-11-20T12:00:00.000Z";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_NOW: testNow(),
            // A fixed test key: integration secrets are encrypted under it.
            ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            // Lets tests ask for a call's D1 cost (X-Debug-D1), as benchmarks do.
            DEBUG_D1: "1",
            // The fuzz test's calls per tool and seed (test/platform/fuzz.test.ts; `npm run fuzz` sets them).
            FUZZ_RUNS: process.env.FUZZ_RUNS ?? "",
            FUZZ_SEED: process.env.FUZZ_SEED ?? "",
          },
          // The suite makes thousands of calls a minute with one key; the limits' refusals are
          // tested by calling the wrapper with a spent limiter.
          ratelimits: {
            CALLS_PER_CREDENTIAL: { namespace_id: "7101", simple: { limit: 1_000_000, period: 60 } },
            CALLS_PER_WORKSPACE: { namespace_id: "7102", simple: { limit: 1_000_000, period: 60 } },
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      reporters: ["default", "./test/summary-reporter.ts"],
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    },
  };
});
