import type { ToolDefinition } from "../../mcp/tool";
import { monitorSatisfaction } from "./surveys";

/** Retention tools: monitor_satisfaction and manage_escalations. */
export const satisfactionTools: ToolDefinition[] = [monitorSatisfaction];
