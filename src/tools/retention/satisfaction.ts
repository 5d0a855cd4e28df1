import type { ToolDefinition } from "../../mcp/tool";

/** Retention tools: monitor_satisfaction and manage_escalations. */
export const satisfactionTools: ToolDefinition[] = [];
