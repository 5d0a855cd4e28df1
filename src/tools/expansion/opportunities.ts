import type { ToolDefinition } from "../../platform/mcp/define-tool";
import { identifyCrosssellOpportunities } from "./crosssell";
import { identifyUpsellOpportunities } from "./upsell";
import { identifyExpansionOpportunities } from "./whitespace";

/** Expansion tools: identify_upsell_opportunities, identify_crosssell_opportunities and identify_expansion_opportunities. */
export const opportunityTools: ToolDefinition[] = [
  identifyUpsellOpportunities,
  identifyCrosssellOpportunities,
  identifyExpansionOpportunities,
];
