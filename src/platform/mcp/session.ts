/** The MCP session options a client chose on the URL or in headers. */
export interface SessionOptions {
  /** Enabled toolsets, in registry order. */
  toolsets: string[];
  readOnly: boolean;
}

/** The toolset names a session may choose from. */
export interface ToolsetChoice {
  toolsetNames: readonly string[];
  defaultToolsets: readonly string[];
}

/**
 * Reads `?toolsets=a,b` (`core` is always included) (or `X-MCP-Toolsets`) and `?readonly=1` (or `X-MCP-Readonly: 1`).
 * Returns an error message for unknown toolset names so a typo is not silently ignored.
 */
export function parseSessionOptions(request: Request, choice: ToolsetChoice): SessionOptions | { error: string } {
  const url = new URL(request.url);
  const rawToolsets = url.searchParams.get("toolsets") ?? request.headers.get("x-mcp-toolsets");
  const rawReadOnly = url.searchParams.get("readonly") ?? request.headers.get("x-mcp-readonly");
  const readOnly = rawReadOnly !== null && ["1", "true", "yes"].includes(rawReadOnly.trim().toLowerCase());
  if (rawToolsets === null || rawToolsets.trim() === "") return { toolsets: [...choice.defaultToolsets], readOnly };
  const names = rawToolsets
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes("all")) return { toolsets: [...choice.toolsetNames], readOnly };
  const unknown = names.filter((name) => !choice.toolsetNames.includes(name));
  if (unknown.length > 0) {
    return {
      error: `Unknown toolset(s): ${unknown.join(", ")}. Valid: ${choice.toolsetNames.join(", ")}, or "all".`,
    };
  }
  // core (search, fetch, accounts) is what every other toolset's answers point back into.
  const chosen = new Set<string>(["core", ...names]);
  return { toolsets: choice.toolsetNames.filter((name) => chosen.has(name)), readOnly };
}
