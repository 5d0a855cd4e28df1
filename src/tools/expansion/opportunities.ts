import type { ToolDefinition } from "../../platform/mcp/define-tool";
import { identifyCrosssellOpportunities } from "./identify-crosssell-opportunities";
import { identifyExpansionOpportunities } from "./identify-expansion-opportunities";
import { identifyUpsellOpportunities } from "./identify-upsell-opportunities";

/** Expansion tools: identify_upsell_opportunities, identify_crosssell_opportunities and identify_expansion_opportunities. */
export const opportunityTools: ToolDefinition[] = [
  identifyUpsellOpportunities,
  identifyCrosssellOpportunities,
  identifyExpansionOpportunities,
];
