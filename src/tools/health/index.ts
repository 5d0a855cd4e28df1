import type { ToolDefinition } from "../../mcp/tool";

/** The health toolset, in the order tools are listed. */
export const healthTools: ToolDefinition[] = [];
