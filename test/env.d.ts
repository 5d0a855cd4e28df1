/** Test-only bindings set in vitest.config.ts. */
interface TestBindings {
  TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  /** The instant the suite's clock is pinned to (ISO 8601). */
  TEST_NOW: string;
  /** Calls per tool in the fuzz test (empty: its default). */
  FUZZ_RUNS: string;
  /** The fuzz test's seed (empty: its default). */
  FUZZ_SEED: string;
}

interface Env extends TestBindings {}
declare namespace Cloudflare {
  interface Env extends TestBindings {}
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}

declare module "*.md?raw" {
  const content: string;
  export default content;
}

/** Vite's module globbing, as vitest provides it. */
interface ImportMeta {
  glob(pattern: string): Record<string, () => Promise<unknown>>;
}
