import type { ToolDefinition } from "../../mcp/tool";
import { automateRetentionCampaigns } from "./automation";
import { executeRetentionCampaign } from "./interventions";
import { analyzeChurnPostmortem } from "./postmortem";

/** Retention tools: execute_retention_campaign, automate_retention_campaigns and analyze_churn_postmortem. */
export const campaignTools: ToolDefinition[] = [
  executeRetentionCampaign,
  automateRetentionCampaigns,
  analyzeChurnPostmortem,
];
