import type { GenerateOptions } from "./generate";

/** The workspace `npm start` seeds on first run. */
export const DEMO_WORKSPACE = { slug: "demo", accounts: 300, seed: 42 } as const;

/** The demo generator's options for a first run on `anchorDay` (without the password hash). */
export function demoGenerateOptions(anchorDay: string): GenerateOptions {
  const { slug, accounts, seed } = DEMO_WORKSPACE;
  return { seed, accounts, anchorDay, workspaceId: `ws_${slug}`, slug };
}
