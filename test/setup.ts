import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { clock } from "../src/platform/lib/clock";

// The suite runs at TEST_NOW (vitest.config.ts), whatever today's date: fixtures are built from clock.now().
clock.pin(new Date(env.TEST_NOW));

// Setup files may run more than once; applyD1Migrations skips what is already applied.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
