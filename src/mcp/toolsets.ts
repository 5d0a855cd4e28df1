/** The toolsets: `core` plus one per customer-success process category. */
export const TOOLSETS = {
  core: "Platform: search/fetch, workspace overview and settings, import, accounts, timeline, activities, tasks.",
  onboarding:
    "Onboarding & training (processes 79–86): plans, automation, training, certification, journey, time-to-value.",
  health:
    "Health monitoring & segmentation (87–94): usage, health scores, segments, adoption, lifecycle, tiers, engagement.",
  retention:
    "Retention & risk (95–101): churn risk, retention campaigns, surveys, escalations, post-mortems, risk factors.",
  communication:
    "Communication & engagement (102–107): email, workflows, community, advocacy, executive reviews, newsletters.",
  support: "Support & self-service (108–113): tickets, routing, knowledge base, customer portal, support performance.",
  expansion:
    "Growth & revenue (114–121): upsell, cross-sell, whitespace, renewals, forecasts, NRR/GRR, lifetime value.",
  feedback: "Feedback & product intelligence (122–127): feedback, sentiment, product insights, KPI dashboard, VoC.",
} as const;

export type Toolset = keyof typeof TOOLSETS;

export const TOOLSET_NAMES = Object.keys(TOOLSETS) as Toolset[];

/** Enabled when a client names no toolsets: kept at or under 40 tools. */
export const DEFAULT_TOOLSETS: Toolset[] = ["core", "health", "retention", "expansion"];

/** The MCP session options a client chose on the URL or in headers. */
export interface SessionOptions {
  toolsets: Toolset[];
  readOnly: boolean;
}

/**
 * Reads `?toolsets=a,b` (`core` is always included) (or `X-MCP-Toolsets`) and `?readonly=1` (or `X-MCP-Readonly: 1`).
 * Returns an error message for unknown toolset names so a typo is not silently ignored.
 */
export function parseSessionOptions(request: Request): SessionOptions | { error: string } {
  const url = new URL(request.url);
  const rawToolsets = url.searchParams.get("toolsets") ?? request.headers.get("x-mcp-toolsets");
  const rawReadOnly = url.searchParams.get("readonly") ?? request.headers.get("x-mcp-readonly");
  const readOnly = rawReadOnly !== null && ["1", "true", "yes"].includes(rawReadOnly.trim().toLowerCase());
  if (rawToolsets === null || rawToolsets.trim() === "") return { toolsets: DEFAULT_TOOLSETS, readOnly };
  const names = rawToolsets
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes("all")) return { toolsets: TOOLSET_NAMES, readOnly };
  const unknown = names.filter((name) => !(name in TOOLSETS));
  if (unknown.length > 0) {
    return { error: `Unknown toolset(s): ${unknown.join(", ")}. Valid: ${TOOLSET_NAMES.join(", ")}, or "all".` };
  }
  // core (search, fetch, accounts) is what every other toolset's answers point back into.
  const chosen = new Set<Toolset>(["core", ...(names as Toolset[])]);
  return { toolsets: TOOLSET_NAMES.filter((name) => chosen.has(name)), readOnly };
}
