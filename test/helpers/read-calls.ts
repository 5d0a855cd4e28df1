import { z } from "zod";
import { type AnyTool, readActionsOf } from "../../src/platform/mcp/define-tool";

/** The actions a tool's `action` argument accepts, or none for a tool without one. */
function actionsOf(tool: AnyTool): string[] {
  const action = tool.input.action;
  if (!action) return [];
  const schema = z.toJSONSchema(action) as { enum?: string[] };
  return schema.enum ?? [];
}

/** Every read call: each read-only tool (per action when it has some) and each read action of a write tool. */
export function readCalls(tools: readonly AnyTool[]): { key: string; tool: string; action?: string }[] {
  return tools.flatMap((tool) => {
    const actions = tool.annotations.readOnlyHint ? actionsOf(tool) : readActionsOf(tool);
    if (tool.annotations.readOnlyHint && actions.length === 0) return [{ key: tool.name, tool: tool.name }];
    return actions.map((action) => ({ key: `${tool.name} ${action}`, tool: tool.name, action }));
  });
}
