import { defineToolset } from "../../platform/toolset";
import { trackFeatureAdoption } from "./adoption";
import { analyzeEngagementPatterns } from "./engagement";
import { healthRecalc, healthRecalcChunkJob } from "./jobs";
import { manageLifecycleStages } from "./lifecycle";
import { trackAdoptionMilestones } from "./milestones";
import { calculateHealthScore } from "./score";
import { segmentCustomers } from "./segments";
import { segmentByValueTier } from "./tiers";
import { trackUsageEngagement } from "./usage";

/** The health toolset. */
export const health = defineToolset({
  name: "health",
  description:
    "Health monitoring & segmentation (87–94): usage, health scores, segments, adoption, lifecycle, tiers, engagement.",
  isDefault: true,
  tools: [
    trackUsageEngagement,
    calculateHealthScore,
    trackFeatureAdoption,
    analyzeEngagementPatterns,
    manageLifecycleStages,
    trackAdoptionMilestones,
    segmentCustomers,
    segmentByValueTier,
  ],
  jobs: { health_recalc_chunk: healthRecalcChunkJob },
  crons: { "0 3 * * *": [healthRecalc] },
});
