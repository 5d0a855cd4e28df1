import { defineToolset } from "../../platform/toolset";
import { analyzeEngagementPatterns } from "./analyze-engagement-patterns";
import { calculateHealthScore } from "./calculate-health-score";
import { healthRecalc, healthRecalcChunkJob } from "./jobs";
import { manageLifecycleStages } from "./manage-lifecycle-stages";
import { segmentByValueTier } from "./segment-by-value-tier";
import { segmentCustomers } from "./segment-customers";
import { trackAdoptionMilestones } from "./track-adoption-milestones";
import { trackFeatureAdoption } from "./track-feature-adoption";
import { trackUsageEngagement } from "./track-usage-engagement";

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
