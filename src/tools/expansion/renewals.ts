import type { ToolDefinition } from "../../mcp/tool";

/** Expansion tools: track_renewals and forecast_renewals. */
export const renewalTools: ToolDefinition[] = [];
