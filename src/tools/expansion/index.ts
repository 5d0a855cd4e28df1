import type { ToolDefinition } from "../../mcp/tool";
import { opportunityTools } from "./opportunities";
import { renewalTools } from "./renewals";
import { revenueTools } from "./revenue";

/** The expansion toolset (processes 114–121). */
export const expansionTools: ToolDefinition[] = [...opportunityTools, ...renewalTools, ...revenueTools];
