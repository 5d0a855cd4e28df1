import type { ToolDefinition } from "../../mcp/tool";
import { getWorkspaceOverview } from "./overview";

/** The core toolset, in the order tools are listed. */
export const coreTools: ToolDefinition[] = [getWorkspaceOverview];
