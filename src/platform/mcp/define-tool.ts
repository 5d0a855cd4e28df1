import type { z } from "zod";
import type { Principal, Role, Scope } from "../auth/principal";
import { scopesForCall } from "../auth/scopes";
import type { Db } from "../db/client";
import { refuseMisplacedFields } from "./action-fields";
import { ToolError } from "./errors";
import type { ToolExample } from "./examples";
import type { SessionOptions } from "./session";

/** Whether an action writes or sends, and the least role it needs. */
export interface ActionAccess {
  writes: boolean;
  /** It sends email or starts a campaign: the `send` scope is needed besides `write`. */
  sends?: boolean;
  role?: Role;
}

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
  /**
   * Sample calls on the demo workspace, at least one per read action: the smoke test, the bench
   * and the errors, tenancy and query-plan tests run them, so a new tool is covered by all.
   */
  examples: readonly ToolExample[];
  /** Least role allowed to call it; defaults to viewer for read tools, csm for write tools. */
  minRole?: Role;
  /**
   * For a tool with an `action` argument: each action, whether it writes and the least role it
   * needs (set by {@link defineActionTool} from its action table).
   */
  actions?: Readonly<Record<string, ActionAccess>>;
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

/**
 * The action one call names: its `action` argument, or the enum's default when it gives none (a
 * raw request is checked before validation fills defaults in).
 */
function actionOf(tool: Pick<ToolDefinition, "input">, args: Record<string, unknown> | undefined): string {
  return args?.action !== undefined ? String(args.action) : (defaultAction(tool) ?? "undefined");
}

/** The action a call without `action` gets: its enum's default, or null when it has none. */
export function defaultAction(tool: Pick<ToolDefinition, "input">): string | null {
  const parsed = (tool.input as Record<string, z.ZodType | undefined>).action?.safeParse(undefined);
  return parsed?.success ? String(parsed.data) : null;
}

/** The role one call needs: its action's role when the tool sets one, else the tool's. */
export function requiredRoleForCall(
  tool: Pick<ToolDefinition, "minRole" | "annotations" | "actions" | "input">,
  args: Record<string, unknown> | undefined,
): Role {
  return tool.actions?.[actionOf(tool, args)]?.role ?? requiredRole(tool);
}

/** Whether one call writes: a write tool's call, unless its action is one that only reads. */
export function callWrites(
  tool: Pick<ToolDefinition, "annotations" | "actions" | "input">,
  args: Record<string, unknown> | undefined,
): boolean {
  if (tool.annotations.readOnlyHint) return false;
  return tool.actions?.[actionOf(tool, args)]?.writes ?? true;
}

/** Whether one call sends email or starts a campaign (its action says so). */
export function callSends(
  tool: Pick<ToolDefinition, "actions" | "input">,
  args: Record<string, unknown> | undefined,
): boolean {
  return tool.actions?.[actionOf(tool, args)]?.sends ?? false;
}

/** The OAuth scopes one call needs (see `scopesForCall`). */
export function scopesNeededForCall(
  tool: Pick<ToolDefinition, "minRole" | "annotations" | "actions" | "input">,
  args: Record<string, unknown> | undefined,
): Scope[] {
  return scopesForCall({
    writes: callWrites(tool, args),
    sends: callSends(tool, args),
    role: requiredRoleForCall(tool, args),
  });
}

/** A tool's actions that only read, in table order (none for a tool without actions). */
export function readActionsOf(tool: Pick<ToolDefinition, "annotations" | "actions">): string[] {
  return Object.entries(tool.actions ?? {})
    .filter(([, access]) => tool.annotations.readOnlyHint || !access.writes)
    .map(([action]) => action);
}

/**
 * How a tool is listed in a read-only session: a read tool as it is; a tool with read and write
 * actions with its read actions only (supabase's `readOnlyBehavior: 'adapt'`); a tool that only
 * writes not at all (null).
 */
export function readOnlyActions(
  tool: Pick<ToolDefinition, "annotations" | "actions">,
): "all" | readonly string[] | null {
  if (tool.annotations.readOnlyHint) return "all";
  const reads = readActionsOf(tool);
  return reads.length > 0 ? reads : null;
}

/** Annotation presets; each tool still states all four values through one of these or its own. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** One row of a multi-action tool's action table. */
export interface ActionSpec<A, O> {
  /** Whether it writes: an audit row, idempotency, and hidden from read-only sessions. */
  writes: boolean;
  /** Whether it sends email or starts a campaign (it needs the `send` scope). */
  sends?: boolean;
  /** Least role, when it needs more than the tool's `minRole`. */
  role?: Role;
  /** Input fields it reads besides `action` and the tool's common fields; any other one given is refused. */
  fields: readonly string[];
  run(args: A, ctx: ToolContext): Promise<ToolResult<O>>;
}

/** The action names a tool's `action` enum accepts. */
type ActionOf<I extends z.ZodRawShape> = I extends { action: z.ZodType<infer A> } ? Extract<A, string> : never;

/** A tool whose `action` argument picks one row of its action table. */
export interface ActionToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape>
  extends Omit<ToolDefinition<I, O>, "handler" | "actions"> {
  /** Fields every action accepts (e.g. `limit`, which has a default). */
  commonFields: readonly (keyof I & string)[];
  /** One row per value of the `action` enum. */
  actions: { [K in ActionOf<I>]: ActionSpec<z.output<z.ZodObject<I>>, z.input<z.ZodObject<O>>> };
}

/**
 * Declares a multi-action tool from one action table: each action's read or write, least role,
 * fields and handler. The wrapper, read-only listings and role checks read the same table.
 */
export function defineActionTool<I extends z.ZodRawShape & { action: z.ZodType }, O extends z.ZodRawShape>(
  definition: ActionToolDefinition<I, O>,
): ToolDefinition<I, O> {
  const { actions, commonFields, ...rest } = definition;
  const table = actions as Record<string, ActionSpec<z.output<z.ZodObject<I>>, z.input<z.ZodObject<O>>>>;
  return {
    ...rest,
    actions: Object.fromEntries(
      Object.entries(table).map(([name, spec]) => [
        name,
        {
          writes: spec.writes,
          ...(spec.sends ? { sends: true } : {}),
          ...(spec.role ? { role: spec.role } : {}),
        },
      ]),
    ),
    handler(args, ctx) {
      const action = String((args as { action: unknown }).action);
      const spec = table[action];
      if (!spec) throw new ToolError(`Unknown action ${action}; use one of ${Object.keys(table).join(", ")}.`);
      refuseMisplacedFields(args as { action: string } & Record<string, unknown>, spec.fields, commonFields);
      return spec.run(args, ctx);
    },
  };
}
