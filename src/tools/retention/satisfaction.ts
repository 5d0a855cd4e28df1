import type { ToolDefinition } from "../../mcp/tool";
import { manageEscalations } from "./escalations";
import { monitorSatisfaction } from "./surveys";

/** Retention tools: monitor_satisfaction and manage_escalations. */
export const satisfactionTools: ToolDefinition[] = [monitorSatisfaction, manageEscalations];
