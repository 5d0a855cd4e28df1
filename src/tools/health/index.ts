import type { ToolDefinition } from "../../mcp/tool";
import { trackFeatureAdoption } from "./adoption";
import { analyzeEngagementPatterns } from "./engagement";
import { manageLifecycleStages } from "./lifecycle";
import { trackAdoptionMilestones } from "./milestones";
import { calculateHealthScore } from "./score";
import { segmentCustomers } from "./segments";
import { segmentByValueTier } from "./tiers";
import { trackUsageEngagement } from "./usage";

/** The health toolset, in the order tools are listed. */
export const healthTools: ToolDefinition[] = [
  trackUsageEngagement,
  calculateHealthScore,
  trackFeatureAdoption,
  analyzeEngagementPatterns,
  manageLifecycleStages,
  trackAdoptionMilestones,
  segmentCustomers,
  segmentByValueTier,
];
