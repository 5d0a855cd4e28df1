import fc from "fast-check";
import { z } from "zod";
import type { AnyTool } from "../../../src/platform/mcp/define-tool";
import { forgedCursor, type RealCursor, replayedCursor } from "./cursors";
import { defuse, hostileString } from "./strings";
import {
  anyValue,
  boundaryValue,
  type JsonSchema,
  type Known,
  RAW_NUMBERS,
  validObject,
  validValue,
  WRONG_TYPE,
} from "./values";

/** Which kind of input a fuzz call is, for the per-tool counts. */
export const FUZZ_KINDS = [
  "valid",
  "sample-mutated",
  "boundary",
  "wrong-type",
  "unknown-field",
  "hostile-string",
  "raw-number",
  "forged-cursor",
  "not-an-object",
] as const;

export type FuzzKind = (typeof FUZZ_KINDS)[number];

/** One generated `tools/call`: its kind and the `arguments` sent (possibly not an object at all). */
export interface FuzzCall {
  kind: FuzzKind;
  args: unknown;
}

/** What the generator knows about one tool on the fuzzed workspace. */
export interface ToolFuzzContext {
  /** Its input as listed: the tool's fields, and `idempotency_key` on a write tool. */
  schema: JsonSchema;
  known: Known;
  /** Its sample calls' arguments on this workspace. */
  samples: readonly Record<string, unknown>[];
  /** For a tool with actions: the fields each action takes besides `action` (as the server says). */
  actionFields?: Readonly<Record<string, readonly string[]>>;
  /** Real cursors of this tool, and of every tool. */
  ownCursors: readonly RealCursor[];
  allCursors: readonly RealCursor[];
}

/** The input schema a client sees for the tool: strict, plus `idempotency_key` on a write tool. */
export function listedInputSchema(tool: AnyTool): JsonSchema {
  const idempotency = z.string().min(8).max(200).optional().describe("Idempotency key.");
  const shape = tool.annotations.readOnlyHint ? tool.input : { ...tool.input, idempotency_key: idempotency };
  return z.toJSONSchema(z.strictObject(shape), { io: "input", unrepresentable: "any" }) as JsonSchema;
}

/** Arguments that satisfy the schema, for one action at a time on a tool with actions. */
function validArgs(context: ToolFuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const { schema, known, actionFields } = context;
  if (!actionFields) return validObject(schema, known);
  const properties = schema.properties ?? {};
  return fc.constantFrom(...Object.keys(actionFields)).chain((action) => {
    const fields = (actionFields[action] ?? []).filter((field) => field in properties && field !== "action");
    const subset: JsonSchema = {
      properties: Object.fromEntries(fields.map((field) => [field, properties[field] as JsonSchema])),
      required: [],
    };
    return validObject(subset, known).map((args) => ({ action, ...args }));
  });
}

/** Sets one field (any of the schema's, chosen by `pick`) of a base call to a value from `value`. */
function withField(
  base: fc.Arbitrary<Record<string, unknown>>,
  fields: readonly string[],
  properties: Record<string, JsonSchema>,
  value: (schema: JsonSchema, field: string) => fc.Arbitrary<unknown>,
): fc.Arbitrary<Record<string, unknown>> {
  if (fields.length === 0) return base;
  return fc
    .tuple(base, fc.constantFrom(...fields))
    .chain(([args, field]) => value(properties[field] ?? {}, field).map((v) => ({ ...args, [field]: v })));
}

const UNKNOWN_FIELDS = [
  "no_such_field",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "workspace_id",
  "workspaceId",
  "",
  " ",
  "ACTION",
  "account_id ",
  "😀",
  "a.b",
  "$where",
];

/** Whether a field's schema can hold a string (so hostile text is worth sending to it). */
function takesText(schema: JsonSchema): boolean {
  const members = [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  return members.some((m) => m.type === "string" || (m.type === "array" && m.items?.type === "string"));
}

function hostileFor(schema: JsonSchema, known: Known): fc.Arbitrary<unknown> {
  const text = hostileString(known.strings);
  return schema.type === "array" ? fc.array(text, { minLength: 1, maxLength: 3 }) : text;
}

/** Every kind of call for one tool, weighted toward calls that get past validation into the handler. */
export function fuzzCall(context: ToolFuzzContext): fc.Arbitrary<FuzzCall> {
  const { schema, known, samples } = context;
  const properties = schema.properties ?? {};
  const fields = Object.keys(properties);
  const textFields = fields.filter((field) => takesText(properties[field] ?? {}));
  const numberFields = fields.filter((field) => ["integer", "number"].includes(String(properties[field]?.type)));
  const valid = validArgs(context);
  const sample = samples.length > 0 ? fc.constantFrom(...samples) : valid;
  const base = fc.oneof(sample, valid);
  const kinds: fc.WeightedArbitrary<FuzzCall>[] = [
    { weight: 4, arbitrary: valid.map((args) => ({ kind: "valid" as const, args })) },
    {
      weight: 5,
      arbitrary: fc
        .oneof(
          { weight: 4, arbitrary: withField(sample, fields, properties, (s, field) => anyValue(s, known, field)) },
          {
            weight: 1,
            arbitrary: fc.tuple(sample, fc.nat()).map(([args, n]) => {
              const keys = Object.keys(args);
              const drop = keys[n % Math.max(1, keys.length)];
              return Object.fromEntries(Object.entries(args).filter(([key]) => key !== drop));
            }),
          },
        )
        .map((args) => ({ kind: "sample-mutated" as const, args })),
    },
    {
      weight: 3,
      arbitrary: withField(base, fields, properties, boundaryValue).map((args) => ({
        kind: "boundary" as const,
        args,
      })),
    },
    {
      weight: 1,
      arbitrary: withField(base, fields, properties, () => WRONG_TYPE).map((args) => ({
        kind: "wrong-type" as const,
        args,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...UNKNOWN_FIELDS), fc.jsonValue({ maxDepth: 1 }))
        .map(([args, field, value]) => ({ kind: "unknown-field" as const, args: { ...args, [field]: value } })),
    },
    {
      weight: 3,
      arbitrary: withField(base, textFields.length > 0 ? textFields : fields, properties, (s) =>
        hostileFor(s, known),
      ).map((args) => ({ kind: "hostile-string" as const, args })),
    },
    {
      weight: 1,
      arbitrary: withField(base, numberFields.length > 0 ? numberFields : fields, properties, () => RAW_NUMBERS).map(
        (args) => ({ kind: "raw-number" as const, args }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(null, [], [{}], "args", 1, true, undefined)
        .map((args) => ({ kind: "not-an-object" as const, args })),
    },
  ];
  if ("cursor" in properties) {
    const forged = withField(base, ["cursor"], properties, () => forgedCursor(context.ownCursors, context.allCursors));
    const replayed = replayedCursor(context.ownCursors);
    kinds.push({
      weight: 3,
      arbitrary: (replayed ? fc.oneof(forged, replayed) : forged).map((args) => ({
        kind: "forged-cursor" as const,
        args,
      })),
    });
  }
  return fc.oneof(...kinds).map((call) => ({ ...call, args: defused(call.args) }));
}

/** The call with every generated string and key defused (raw number tokens kept as they are). */
function defused(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith("\u0000raw:") ? value : defuse(value);
  if (Array.isArray(value)) return value.map(defused);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [defuse(key), defused(v)]));
  }
  return value;
}

/** One valid value of a field, fixed by the seed: the probe of which fields an action takes sends it. */
export function oneValidValue(schema: JsonSchema, known: Known, field: string, seed: number): unknown {
  return fc.sample(validValue(schema, known, field), { numRuns: 1, seed })[0];
}
