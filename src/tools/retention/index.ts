import type { ToolDefinition } from "../../mcp/tool";
import { automateRetentionCampaigns } from "./automation";
import { manageEscalations } from "./escalations";
import { executeRetentionCampaign } from "./interventions";
import { analyzeChurnPostmortem } from "./postmortem";
import { identifyChurnRisk, scoreRiskFactors } from "./risk";
import { monitorSatisfaction } from "./surveys";

/** The retention toolset, in process order (95–101). */
export const retentionTools: ToolDefinition[] = [
  identifyChurnRisk,
  executeRetentionCampaign,
  monitorSatisfaction,
  manageEscalations,
  analyzeChurnPostmortem,
  scoreRiskFactors,
  automateRetentionCampaigns,
];
