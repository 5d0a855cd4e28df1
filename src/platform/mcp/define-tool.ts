import type { z } from "zod";
import type { Principal, Role } from "../auth/principal";
import type { Db } from "../db/client";
import type { SessionOptions } from "./session";

/** All four MCP tool annotations, always set explicitly. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a write records in the audit log, set by the handler; the wrapper writes the row. */
export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

/** Everything a handler may use: bindings, the typed database and the verified caller. */
export interface ToolContext {
  env: Env;
  db: Db;
  principal: Principal;
  /** The toolsets and read-only flag this client chose. */
  session: SessionOptions;
  /** This server's public base URL: PUBLIC_URL when set, else the origin the client called. */
  origin: string;
  requestId: string;
  /** Every toolset's tool names, in registry order. */
  catalog: ReadonlyMap<string, readonly string[]>;
  now: Date;
  /** Describes this write for the audit log (one row per successful write call). */
  audit(entry: AuditEntry): void;
}

/** A handler's answer: full records for `structuredContent` and a compact text for the model. */
export interface ToolResult<O> {
  data: O;
  text: string;
}

/** One MCP tool as a plain definition object. */
export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  /** The toolset it belongs to (the module that lists it). */
  toolset: string;
  /** Input fields; every field has `.describe()`. Unknown fields are refused. */
  input: I;
  /** Output fields, validated and returned as `structuredContent`. */
  output: O;
  annotations: ToolAnnotations;
  /** Least role allowed to call it; defaults to viewer for read tools, csm for write tools. */
  minRole?: Role;
  /** For a tool with an `action` argument: actions that need more than `minRole` (e.g. a write action of a tool viewers may read with). */
  actionRoles?: Partial<Record<string, Role>>;
  /** For a write tool with an `action` argument: the actions that only read (no audit row, no idempotency record). */
  readActions?: readonly string[];
  /**
   * Output fields holding a secret shown once (nullable in the output schema). They are never
   * stored: a call repeated with the same idempotency_key answers them as null.
   */
  secretOutputFields?: readonly string[];
  handler(args: z.output<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolResult<z.input<z.ZodObject<O>>>>;
}

/** A tool of any shape, as kept in the registry. */
export type AnyTool = ToolDefinition;

/** Declares a tool with its types inferred from its schemas. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  definition: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return definition;
}

/** The role a tool needs. */
export function requiredRole(tool: Pick<ToolDefinition, "minRole" | "annotations">): Role {
  return tool.minRole ?? (tool.annotations.readOnlyHint ? "viewer" : "csm");
}

/** The role one call needs: its action's role when the tool sets one, else the tool's. */
export function requiredRoleForCall(
  tool: Pick<ToolDefinition, "minRole" | "annotations" | "actionRoles">,
  args: Record<string, unknown> | undefined,
): Role {
  const action = args?.action;
  return (typeof action === "string" ? tool.actionRoles?.[action] : undefined) ?? requiredRole(tool);
}

/** Whether one call writes: a write tool's call, unless its action is one of the tool's read actions. */
export function callWrites(
  tool: Pick<ToolDefinition, "annotations" | "readActions">,
  args: Record<string, unknown> | undefined,
): boolean {
  return !tool.annotations.readOnlyHint && !tool.readActions?.includes(String(args?.action));
}

/**
 * How a tool is listed in a read-only session: a read tool as it is; a tool with read and write
 * actions with its read actions only (supabase's `readOnlyBehavior: 'adapt'`); a tool that only
 * writes not at all (null).
 */
export function readOnlyActions(
  tool: Pick<ToolDefinition, "annotations" | "readActions">,
): "all" | readonly string[] | null {
  if (tool.annotations.readOnlyHint) return "all";
  return tool.readActions && tool.readActions.length > 0 ? tool.readActions : null;
}

/** Annotation presets; each tool still states all four values through one of these or its own. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
