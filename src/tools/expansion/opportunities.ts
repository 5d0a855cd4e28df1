import type { ToolDefinition } from "../../mcp/tool";

/** Expansion tools: identify_upsell_opportunities, identify_crosssell_opportunities and identify_expansion_opportunities. */
export const opportunityTools: ToolDefinition[] = [];
