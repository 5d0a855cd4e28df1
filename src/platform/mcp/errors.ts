import { z } from "zod";

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

/**
 * Input validation's message where zod's own shows the client a JavaScript word: a missing field
 * ("expected string, received undefined") and a number JSON cannot hold, such as 1e400 ("received
 * Infinity"). Any other issue keeps zod's message.
 */
export function validationMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_type") return undefined;
  if (issue.input === undefined) return `Required (expected ${issue.expected})`;
  if (typeof issue.input === "number" && !Number.isFinite(issue.input)) return `Expected a finite ${issue.expected}`;
  return undefined;
}

// Set once for every schema: each tool loads this module (through define-tool) before any call is validated.
z.config({ customError: validationMessage });
