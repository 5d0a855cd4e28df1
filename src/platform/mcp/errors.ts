/**
 * An expected failure a person can act on (bad argument, missing record, not allowed). Its
 * message is shown to the client as is, so it must never contain SQL, secrets or customer text.
 */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

/** A record that is absent or belongs to another workspace: both read the same from outside. */
export function notFound(kind: string, id: string): ToolError {
  return new ToolError(`No ${kind} with id "${id}" in this workspace. Use list or search tools to find valid ids.`);
}
