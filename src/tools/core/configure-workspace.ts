import { z } from "zod";
import { defineActionTool, type ToolContext } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { readSettings, type WorkspaceSettings, workspaceSettingsSchema } from "../../records/settings";
import {
  findSettingsVersion,
  findWorkspaceSettings,
  listSettingsVersions,
  saveSettingsStatements,
} from "./queries/workspace";

/**
 * The shape of a settings patch, derived from the settings schema so new settings are patchable
 * at once: every object level is optional and strict, defaults are dropped (a patch names only
 * what changes), and leaves keep their type and range checks. Arrays are replaced whole.
 */
function patchSchemaOf(schema: z.ZodType, path: string): z.ZodType {
  const description = schema.description ?? `Sets ${path}.`;
  const inner = schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema;
  if (inner instanceof z.ZodNullable) {
    return patchSchemaOf(inner.unwrap() as z.ZodType, path)
      .nullable()
      .describe(description);
  }
  if (inner instanceof z.ZodObject) {
    const shape: Record<string, z.ZodType> = inner.shape;
    const fields = Object.fromEntries(
      Object.entries(shape).map(([key, field]) => [
        key,
        patchSchemaOf(field, path ? `${path}.${key}` : key).optional(),
      ]),
    );
    return z.strictObject(fields).describe(description);
  }
  return inner.describe(description);
}

const settingsPatch = patchSchemaOf(workspaceSettingsSchema, "").describe(
  `Partial settings for action update: only the fields to change, deep-merged into the current settings (objects merge; arrays, values and null replace). Sections: ${Object.keys(workspaceSettingsSchema.shape).join(", ")}. health.weights must sum to 100; timezone is an IANA name.`,
);

const changeSchema = z.object({
  field: z.string().describe("Dotted path of the setting, e.g. health.weights.usage."),
  before: z.unknown().describe("Value before the change (null when it was unset)."),
  after: z.unknown().describe("Value after the change (null when unset)."),
});

type SettingsChange = z.output<typeof changeSchema>;

const versionSchema = z.object({
  version: z.number().describe("Settings version number."),
  changed_by: z.string().nullable().describe("User id of the person who saved it (null for a service key)."),
  created_at: z.string().describe("When it was saved (ISO instant)."),
  changes: z
    .array(changeSchema)
    .nullable()
    .describe("Field-level difference from the previous version; null when that version is not recorded."),
});

const ACTIONS = ["get", "update", "history"] as const;

/** The one action each optional field belongs to; giving it with another action is refused. */
const FIELD_ACTION = {
  settings: "update",
  expected_version: "update",
  version: "get",
  cursor: "history",
} as const;

type Action = (typeof ACTIONS)[number];

/** The optional fields of one action, from FIELD_ACTION. */
function fieldsOf(action: Action): (keyof typeof FIELD_ACTION)[] {
  return (Object.keys(FIELD_ACTION) as (keyof typeof FIELD_ACTION)[]).filter((field) => FIELD_ACTION[field] === action);
}

export const configureWorkspace = defineActionTool({
  name: "configure_workspace",
  title: "Configure workspace",
  toolset: "core",
  description:
    "Admin only. Reads and changes the workspace settings: KPI targets, health model weights (sum 100) and bands, alert drop, the value event for time-to-value, lifecycle stage rules, timezone and email sender. action get returns the current settings and version (or a past version); update deep-merges a partial `settings` patch, validates the result, stores it as a new version and returns the field-level diff (a patch that changes nothing keeps the version); history lists versions newest first with their diffs (paginated). Pass expected_version on update to refuse the change if someone else saved in between.",
  input: {
    action: z
      .enum(ACTIONS)
      .describe("get: current settings; update: apply a partial patch; history: list saved versions."),
    settings: settingsPatch.optional(),
    expected_version: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("update only: the version you read; the update is refused if the current version differs."),
    version: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("get only: read this past version instead of the current one."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    version: z.number().optional().describe("get/update: the settings version returned (current after update)."),
    current_version: z.number().describe("The workspace's current settings version."),
    settings: workspaceSettingsSchema.optional().describe("get/update: the full settings, defaults filled in."),
    changes: z.array(changeSchema).optional().describe("update: what changed; empty when the patch changed nothing."),
    versions: z.array(versionSchema).optional().describe("history: saved versions, newest first."),
    next_cursor: nextCursorField.optional(),
  },
  examples: [
    { title: "Current settings", args: () => ({ action: "get" }) },
    { title: "Who changed the settings, and when", args: () => ({ action: "history" }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  minRole: "admin",
  commonFields: ["limit"],
  actions: {
    get: { writes: false, fields: fieldsOf("get"), run: (args, ctx) => getSettings(ctx, args.version) },
    update: {
      writes: true,
      fields: fieldsOf("update"),
      run: (args, ctx) => update(ctx, args.settings, args.expected_version),
    },
    history: { writes: false, fields: fieldsOf("history"), run: (args, ctx) => history(ctx, args.limit, args.cursor) },
  },
});

/** The workspace's current settings (defaults filled in) and version. */
async function currentSettings(ctx: ToolContext): Promise<{ current: WorkspaceSettings; version: number }> {
  const workspace = await findWorkspaceSettings(ctx.db, ctx.principal.workspaceId);
  if (!workspace) throw new Error("workspace of a verified principal is missing");
  return { current: readSettings(workspace.settings), version: workspace.version };
}

async function getSettings(ctx: ToolContext, version: number | undefined) {
  const workspace = await currentSettings(ctx);
  ctx.audit({ action: "get", targetType: "workspace", targetId: ctx.principal.workspaceId });
  if (version === undefined || version === workspace.version) {
    return {
      data: {
        action: "get" as const,
        version: workspace.version,
        current_version: workspace.version,
        settings: workspace.current,
      },
      text: `Settings version ${workspace.version} (current).\n${settingsSummary(workspace.current)}`,
    };
  }
  const past = await findSettingsVersion(ctx.env.DB, ctx.principal.workspaceId, version);
  if (past === null) throw notFound("settings version", String(version));
  const settings = readSettings(JSON.parse(past));
  return {
    data: { action: "get" as const, version, current_version: workspace.version, settings },
    text: `Settings version ${version} (current is ${workspace.version}).\n${settingsSummary(settings)}`,
  };
}

async function update(ctx: ToolContext, patch: unknown, expectedVersion: number | undefined) {
  const { current, version: currentVersion } = await currentSettings(ctx);
  if (patch === undefined) {
    throw new ToolError("action update needs `settings`: an object with only the settings to change.");
  }
  if (expectedVersion !== undefined && expectedVersion !== currentVersion) {
    throw new ToolError(
      `The settings changed since version ${expectedVersion}: the current version is ${currentVersion}. Re-read them with action get, then re-apply your change with expected_version ${currentVersion}.`,
    );
  }
  const next = validSettings(deepMerge(current, patch));
  const changes = diffSettings(current, next);
  const workspaceId = ctx.principal.workspaceId;
  if (changes.length === 0) {
    ctx.audit({ action: "update", targetType: "workspace", targetId: workspaceId, details: { changed: [] } });
    return {
      data: {
        action: "update" as const,
        version: currentVersion,
        current_version: currentVersion,
        settings: next,
        changes,
      },
      text: `No change: the patch matches the current settings (version ${currentVersion}).`,
    };
  }
  const newVersion = currentVersion + 1;
  const document = JSON.stringify(next);
  // Both statements apply only while the version is still the one read; the version row's
  // primary key also refuses a concurrent writer that got there first.
  let results: D1Result[];
  try {
    results = await ctx.env.DB.batch(
      saveSettingsStatements(ctx.env.DB, workspaceId, { document, changedBy: ctx.principal.userId, currentVersion }),
    );
  } catch (error) {
    if (String(error).includes("UNIQUE constraint failed")) throw concurrentChange();
    throw error;
  }
  if (results[1]?.meta.changes !== 1) throw concurrentChange();
  ctx.audit({
    action: "update",
    targetType: "workspace",
    targetId: workspaceId,
    details: { from_version: currentVersion, to_version: newVersion, changed: changes.map((change) => change.field) },
  });
  const lines = changes
    .slice(0, 10)
    .map((change) => `- ${change.field}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`);
  const more = changes.length > 10 ? `\n- … ${changes.length - 10} more in structured content` : "";
  return {
    data: { action: "update" as const, version: newVersion, current_version: newVersion, settings: next, changes },
    text: `Saved settings version ${newVersion} (was ${currentVersion}); ${changes.length} field(s) changed:\n${lines.join("\n")}${more}`,
  };
}

/** The merged settings once validated; refused with every problem named. */
function validSettings(candidate: unknown): WorkspaceSettings {
  const parsed = workspaceSettingsSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, candidate));
    throw new ToolError(`Settings not saved: ${problems.join("; ")}.`);
  }
  const next = parsed.data;
  if (!isTimeZone(next.timezone)) {
    throw new ToolError(
      "Settings not saved: timezone must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York.",
    );
  }
  return next;
}

function concurrentChange(): ToolError {
  return new ToolError(
    "Someone else saved the settings at the same moment; nothing was saved. Re-read them with action get and apply your change again.",
  );
}

async function history(ctx: ToolContext, limit: number, cursor: string | undefined) {
  const { version: currentVersion } = await currentSettings(ctx);
  const fingerprint = queryFingerprint(["configure_workspace.history"]);
  const before = cursor ? Number(decodeCursor(cursor, fingerprint).k[0]) : Number.MAX_SAFE_INTEGER;
  // One extra row tells whether there is another page, and one more gives the last row's predecessor.
  const results = await listSettingsVersions(ctx.env.DB, ctx.principal.workspaceId, { before, limit: limit + 2 });
  const page = results.slice(0, limit);
  const versions = page.map((row, index) => {
    const previous = results[index + 1];
    return {
      version: row.version,
      changed_by: row.changed_by,
      created_at: row.created_at,
      changes:
        previous && previous.version === row.version - 1
          ? diffSettings(readSettings(JSON.parse(previous.settings)), readSettings(JSON.parse(row.settings)))
          : null,
    };
  });
  const last = page.at(-1);
  const nextCursor =
    results.length > limit && last
      ? encodeCursor({ k: [last.version], id: String(last.version), q: fingerprint })
      : null;
  ctx.audit({ action: "history", targetType: "workspace", targetId: ctx.principal.workspaceId });
  const rows = versions.map(
    (entry) =>
      `- v${entry.version} ${entry.created_at} by ${entry.changed_by ?? "service key"}: ${
        entry.changes ? entry.changes.map((change) => change.field).join(", ") || "no change" : "diff unavailable"
      }`,
  );
  return {
    data: { action: "history" as const, current_version: currentVersion, versions, next_cursor: nextCursor },
    text: `${versions.length} settings version(s), current is ${currentVersion}${nextCursor ? "; more with next_cursor" : ""}.${rows.length ? `\n${rows.join("\n")}` : ""}`,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `patch` into `base`: objects merge key by key; arrays, values and null replace. */
function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) merged[key] = deepMerge(base[key], value);
  }
  return merged;
}

/** Leaf-level differences between two settings documents; arrays compare as a whole. */
function diffSettings(before: unknown, after: unknown, path = ""): SettingsChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => diffSettings(before[key], after[key], path ? `${path}.${key}` : key));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ field: path, before: before ?? null, after: after ?? null }];
}

/** A validation problem as "<field>: <constraint>", with the offending total for cross-field rules. */
function describeIssue(issue: z.core.$ZodIssue, candidate: unknown): string {
  const field = issue.path.map(String).join(".");
  if (issue.code !== "custom") return `${field || "settings"}: ${issue.message}`;
  const value = issue.path.reduce<unknown>(
    (node, key) => (isPlainObject(node) ? node[String(key)] : undefined),
    candidate,
  );
  if (field === "health.weights" && isPlainObject(value)) {
    const total = Object.values(value).reduce<number>(
      (sum, weight) => sum + (typeof weight === "number" ? weight : 0),
      0,
    );
    return `${issue.message} (got ${total})`;
  }
  return `${issue.message} (got ${JSON.stringify(value)})`;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function settingsSummary(settings: WorkspaceSettings): string {
  const weights = Object.entries(settings.health.weights)
    .map(([component, weight]) => `${component} ${weight}`)
    .join(", ");
  const targets = Object.entries(settings.kpi_targets)
    .map(([kpi, target]) => `${kpi} ${target}`)
    .join(", ");
  return [
    `Timezone ${settings.timezone}; email sender ${settings.email_sender ? `${settings.email_sender.name} <${settings.email_sender.email}>` : "not set"}.`,
    `Health weights: ${weights}; bands red < ${settings.health.bands.red_below} ≤ yellow < ${settings.health.bands.green_from} ≤ green; alert on a ${settings.health.alert_drop}-point 7-day drop.`,
    `KPI targets: ${targets}.`,
    `Value event: ${settings.value_event.kind} "${settings.value_event.name}" ×${settings.value_event.min_count}; ${settings.lifecycle_rules.length} lifecycle rules.`,
  ].join("\n");
}
