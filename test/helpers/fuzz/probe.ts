import { z } from "zod";
import type { AnyTool } from "../../../src/platform/mcp/define-tool";
import { oneValidValue } from "./calls";
import type { RealCursor } from "./cursors";
import { rawToolCall } from "./rpc";
import type { JsonSchema, Known } from "./values";

/** Where the fuzz calls go: the key and the `/mcp` query. */
export interface FuzzTarget {
  key: string;
  query: string;
}

function resultText(answer: Awaited<ReturnType<typeof rawToolCall>>): string {
  return (answer.message?.result?.content ?? []).map((c) => c.text ?? "").join("\n");
}

/** A value for each field that its own zod schema accepts (a few seeds tried); a field none fits is left out. */
function probeValues(tool: AnyTool, schema: JsonSchema, known: Known, fields: readonly string[]) {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const zodField = tool.input[field];
    for (let seed = 0; seed < 20; seed++) {
      const value = oneValidValue(schema.properties?.[field] ?? {}, known, field, seed);
      if (zodField && z.safeParse(zodField, value).success) {
        values[field] = value;
        break;
      }
    }
  }
  return values;
}

/**
 * The fields each action of a tool takes, as the server itself says: one call per action with a
 * valid value in every field, whose refusal lists the fields that do not apply. An action that
 * takes them all runs once with those values (a write writes: the workspace is the fuzz's own).
 */
export async function probeActionFields(
  target: FuzzTarget,
  tool: AnyTool,
  schema: JsonSchema,
  known: Known,
): Promise<Record<string, string[]> | undefined> {
  const actionSchema = schema.properties?.action;
  if (!tool.actions || !actionSchema?.enum) return undefined;
  const fields = Object.keys(schema.properties ?? {}).filter((f) => f !== "action" && f !== "idempotency_key");
  const values = probeValues(tool, schema, known, fields);
  const table: Record<string, string[]> = {};
  for (const action of actionSchema.enum as string[]) {
    const answer = await rawToolCall(target.key, target.query, tool.name, { action, ...values });
    const refusal = /^(.+?) (?:does|do) not apply to action /.exec(resultText(answer));
    const misplaced = new Set(refusal?.[1]?.split(", ") ?? []);
    table[action] = fields.filter((f) => !misplaced.has(f));
  }
  return table;
}

/** The string at `next_cursor` in a structured answer, if any. */
function nextCursor(content: unknown): string | null {
  if (!content || typeof content !== "object") return null;
  const value = (content as Record<string, unknown>).next_cursor;
  return typeof value === "string" ? value : null;
}

/**
 * Real cursors of a tool: each sample call, and each action with no other field, made again with
 * `limit: 1`, and the cursor it answers.
 */
export async function realCursors(
  target: FuzzTarget,
  tool: AnyTool,
  schema: JsonSchema,
  samples: readonly Record<string, unknown>[],
): Promise<RealCursor[]> {
  if (!schema.properties?.cursor || !schema.properties.limit) return [];
  const actions = (schema.properties.action?.enum ?? []) as string[];
  const bare = actions.length > 0 ? actions.map((action) => ({ action })) : [{}];
  const cursors: RealCursor[] = [];
  for (const call of [...samples, ...bare]) {
    const args = { ...call, limit: 1 };
    const answer = await rawToolCall(target.key, target.query, tool.name, args);
    const cursor = nextCursor(answer.message?.result?.structuredContent);
    if (cursor && !cursors.some((real) => real.cursor === cursor)) cursors.push({ tool: tool.name, args, cursor });
  }
  return cursors;
}
