import type { ToolDefinition } from "../../mcp/tool";
import { campaignTools } from "./campaigns";
import { riskTools } from "./risk";
import { satisfactionTools } from "./satisfaction";

/** The retention toolset (processes 95–101). */
export const retentionTools: ToolDefinition[] = [...riskTools, ...campaignTools, ...satisfactionTools];
