import { surveyRoutes } from "../../http/survey";
import { defineToolset } from "../../platform/toolset";
import { analyzeChurnPostmortem } from "./analyze-churn-postmortem";
import { automateRetentionCampaigns } from "./automate-retention-campaigns";
import { executeRetentionCampaign } from "./execute-retention-campaign";
import { identifyChurnRisk } from "./identify-churn-risk";
import { manageEscalations } from "./manage-escalations";
import { monitorSatisfaction } from "./monitor-satisfaction";
import { firstRiskModels, RISK_RETRAIN_CRON, riskRetrain, riskRetrainJob } from "./risk-scoring";
import { scoreRiskFactors } from "./score-risk-factors";

/** The retention toolset. */
export const retention = defineToolset({
  name: "retention",
  description:
    "Retention & risk (95–101): churn risk, retention campaigns, surveys, escalations, post-mortems, risk factors.",
  isDefault: true,
  tools: [
    identifyChurnRisk,
    executeRetentionCampaign,
    monitorSatisfaction,
    manageEscalations,
    analyzeChurnPostmortem,
    scoreRiskFactors,
    automateRetentionCampaigns,
  ],
  jobs: { risk_retrain: riskRetrainJob },
  crons: { "0 3 * * *": [firstRiskModels], [RISK_RETRAIN_CRON]: [riskRetrain] },
  routes: surveyRoutes,
});
