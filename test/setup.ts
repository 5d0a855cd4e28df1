import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { clock } from "../src/platform/lib/clock";

// The suite runs at TEST_NOW (vitest.config.ts), whatever today's date: fixtures are built from clock.now().
clock.pin(new Date(env.TEST_NOW));

// Outbound HTTP that no test intercepted fails: a test that expects a request mocks it with
// vi.spyOn(globalThis, "fetch"), and restoring the spy brings this guard back.
globalThis.fetch = async (input: RequestInfo | URL) => {
  const url = input instanceof Request ? input.url : String(input);
  throw new Error(`Unintercepted outbound request to ${url}: mock it with vi.spyOn(globalThis, "fetch").`);
};

// Setup files may run more than once; applyD1Migrations skips what is already applied.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
