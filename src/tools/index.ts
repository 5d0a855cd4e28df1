import type { ToolDefinition } from "../mcp/tool";
import { coreTools } from "./core";
import { expansionTools } from "./expansion";
import { healthTools } from "./health";
import { retentionTools } from "./retention";

/** A tool of any shape, as kept in the registry. */
export type AnyTool = ToolDefinition;

/** Every tool the server offers, in toolset order. */
export const ALL_TOOLS: AnyTool[] = [...coreTools, ...healthTools, ...retentionTools, ...expansionTools];
