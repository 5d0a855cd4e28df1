import { surveyRoutes } from "../../http/survey";
import { defineToolset } from "../../platform/toolset";
import { automateRetentionCampaigns } from "./automation";
import { manageEscalations } from "./escalations";
import { executeRetentionCampaign } from "./interventions";
import { analyzeChurnPostmortem } from "./postmortem";
import { identifyChurnRisk, scoreRiskFactors } from "./risk";
import { firstRiskModels, RISK_RETRAIN_CRON, riskRetrain, riskRetrainJob } from "./risk-scoring";
import { monitorSatisfaction } from "./surveys";

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
