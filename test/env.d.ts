/** Test-only bindings set in vitest.config.ts. */
interface TestBindings {
  TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
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
