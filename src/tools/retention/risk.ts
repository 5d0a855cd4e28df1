import type { ToolDefinition } from "../../mcp/tool";

/** Retention tools: identify_churn_risk and score_risk_factors. */
export const riskTools: ToolDefinition[] = [];
