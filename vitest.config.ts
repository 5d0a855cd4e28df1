import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // A fixed test key: integration secrets are encrypted under it.
            ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            // Lets tests ask for a call's D1 cost (X-Debug-D1), as benchmarks do.
            DEBUG_D1: "1",
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
