import { ToolError } from "./errors";

/**
 * Refuses arguments that do not belong to the chosen action, so a field meant for another action
 * is never silently ignored. `common` names fields every action takes (`action`, `limit`, …).
 */
export function refuseMisplacedFields(
  args: { action: string } & Record<string, unknown>,
  allowed: readonly string[],
  common: readonly string[],
): void {
  const misplaced = Object.keys(args).filter(
    (field) => args[field] !== undefined && field !== "action" && !common.includes(field) && !allowed.includes(field),
  );
  if (misplaced.length === 0) return;
  throw new ToolError(
    `${misplaced.join(", ")} ${misplaced.length === 1 ? "does" : "do"} not apply to action ${args.action}; it takes ${allowed.join(", ") || "no other field"}.`,
  );
}
