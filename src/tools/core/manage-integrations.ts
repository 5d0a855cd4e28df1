import { z } from "zod";
import { INTEGRATION_PROVIDERS } from "../../integrations/catalog";
import {
  createIntegration,
  d1Runner,
  getIntegration,
  IntegrationError,
  type IntegrationSettings,
  type IntegrationView,
  listIntegrations,
  rotateIntegration,
  type SecretReveal,
  setIntegrationStatus,
} from "../../integrations/service";
import { markdownTable } from "../../platform/lib/markdown-table";
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

const ACTIONS = ["list", "get", "create", "rotate", "disable", "enable"] as const;
type Action = (typeof ACTIONS)[number];

const integrationOutput = z.object({
  id: z.string(),
  provider: z.string(),
  name: z.string(),
  status: z.enum(["active", "disabled"]),
  direction: z
    .enum(["inbound", "outbound"])
    .describe("inbound: the provider posts webhooks; outbound: we post (Slack)."),
  webhook_url: z.string().nullable().describe("The URL to configure at the provider; null for outbound integrations."),
  secret_fingerprint: z
    .string()
    .nullable()
    .describe("Last 4 hex digits of the secret's SHA-256, to tell secrets apart; null while awaiting the secret."),
  awaiting_secret: z
    .boolean()
    .describe("True until the provider-issued secret is given with rotate; deliveries are refused (401) meanwhile."),
  secret_unreadable: z
    .boolean()
    .describe(
      "True when the stored secret cannot be read with the server's ENCRYPTION_KEY (it was changed, or the database restored under another): deliveries are refused (401) until rotate sets a new one.",
    ),
  previous_secret_valid_until: z
    .string()
    .nullable()
    .describe("After a rotation, when the previous secret stops verifying (ISO instant); null when it no longer does."),
  created_at: z.string(),
  rotated_at: z.string().nullable(),
  last_received_at: z.string().nullable().describe("Last verified delivery."),
  accepted: z.number().describe("Events recorded and queued."),
  rejected: z.number().describe("Deliveries refused: bad signature, stale timestamp, too large, disabled, malformed."),
  failed: z.number().describe("Events that could not be queued or processed."),
});

const setupOutput = z.object({
  secret_source: z.string().describe("Where the secret comes from."),
  configure_at: z.string().describe("Where to enter the webhook URL at the provider."),
  events: z.array(z.string()).describe("Events to enable at the provider."),
  signature: z.string().describe("How deliveries are signed and checked."),
});

export const manageIntegrations = defineActionTool({
  name: "manage_integrations",
  title: "Manage integrations",
  toolset: "core",
  description:
    "Webhook integrations (segment, zendesk, intercom, hubspot, stripe, sendgrid, generic) and outbound Slack alert webhooks of this workspace; admin only. action list: by provider then id, optional provider and status filters, paginated. get: one integration_id. create: provider and name, optional secret; answers the webhook URL to configure at the provider, the events to enable and the secret, shown this once (generated for segment and generic; for providers that issue their own secret, give it now or later with rotate; slack needs its incoming-webhook URL). rotate: a new secret (given, or generated where we choose it), shown once; the previous one keeps verifying for 24 h. disable: deliveries get 404 until enable. Lists and get show only a fingerprint of the secret, with delivery counts.",
  input: {
    action: z.enum(ACTIONS).describe("list, get, create, rotate, disable or enable."),
    integration_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("get/rotate/disable/enable: the integration's id (int_…)."),
    provider: z
      .enum(INTEGRATION_PROVIDERS)
      .optional()
      .describe("create (required): the provider; list: only this provider."),
    name: z.string().trim().min(1).max(100).optional().describe("create (required): a label, unique per provider."),
    secret: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        "create/rotate: the provider's secret (Stripe whsec_…, HubSpot or Intercom client secret, Zendesk signing secret, SendGrid verification public key, Slack incoming-webhook URL). Omit to have one generated (segment, generic) or, on create, to give the provider's secret later.",
      ),
    status: z.enum(["active", "disabled", "all"]).optional().describe("list: active, disabled or all (default all)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    action: z.enum(ACTIONS).describe("The action performed."),
    integration: integrationOutput.optional().describe("get/create/rotate/disable/enable: the integration now."),
    integrations: z.array(integrationOutput).optional().describe("list: one page of integrations."),
    next_cursor: nextCursorField.optional(),
    secret: z
      .string()
      .nullable()
      .optional()
      .describe("create/rotate: the new secret, shown only this once; null while awaiting the provider's secret."),
    setup: setupOutput.optional().describe("create/rotate: what to configure at the provider."),
    changed: z.boolean().optional().describe("disable/enable: false when it already had that status."),
  },
  minRole: "admin",
  secretOutputFields: ["secret"],
  examples: [
    { title: "Connected webhook sources", args: () => ({ action: "list" }) },
    { title: "One integration", args: (ids) => ({ action: "get", integration_id: ids.integrationId }) },
  ],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  commonFields: ["limit"],
  actions: {
    list: { writes: false, fields: ["provider", "status", "limit", "cursor"], run: guarded(listAction) },
    get: { writes: false, fields: ["integration_id"], run: guarded(getAction) },
    create: { writes: true, fields: ["provider", "name", "secret"], run: guarded(createAction) },
    rotate: { writes: true, fields: ["integration_id", "secret"], run: guarded(rotateAction) },
    disable: { writes: true, fields: ["integration_id"], run: guarded(setStatusAction) },
    enable: { writes: true, fields: ["integration_id"], run: guarded(setStatusAction) },
  },
});

interface Args {
  action: Action;
  integration_id?: string;
  provider?: (typeof INTEGRATION_PROVIDERS)[number];
  name?: string;
  secret?: string;
  status?: "active" | "disabled" | "all";
  limit: number;
  cursor?: string;
}

function settingsOf(ctx: ToolContext): IntegrationSettings {
  return { encryptionKey: ctx.env.ENCRYPTION_KEY, publicUrl: ctx.origin };
}

function requireId(args: Args): string {
  if (!args.integration_id) throw new ToolError(`action ${args.action} needs \`integration_id\`.`);
  return args.integration_id;
}

function describe(integration: IntegrationView): string {
  const counts = `${integration.accepted} accepted, ${integration.rejected} rejected, ${integration.failed} failed`;
  const secret = integration.secret_unreadable
    ? "secret unreadable: rotate it"
    : integration.awaiting_secret
      ? "awaiting its secret"
      : `secret …${integration.secret_fingerprint}`;
  return `${integration.provider} integration ${integration.id} "${integration.name}" (${integration.status}, ${secret}; ${counts}; last received ${integration.last_received_at ?? "never"})`;
}

function revealText(verb: string, reveal: SecretReveal): string {
  const { integration, secret, setup } = reveal;
  return [
    `${verb} ${describe(integration)}.`,
    integration.webhook_url ? `Webhook URL: ${integration.webhook_url}` : "Outbound only: no webhook URL.",
    secret === null
      ? `Secret: not set yet. ${setup.secret_source}`
      : `Secret (shown only this once, store it now): ${secret}`,
    `Configure at: ${setup.configure_at}`,
    setup.events.length > 0 ? `Events to enable: ${setup.events.join(", ")}.` : "",
    `Signature: ${setup.signature}`,
    integration.previous_secret_valid_until
      ? `The previous secret keeps verifying until ${integration.previous_secret_valid_until}.`
      : "",
  ]
    .filter((line) => line !== "")
    .join("\n");
}

/** Runs an action, reporting the integration service's refusals as tool errors. */
function guarded<R>(run: (args: Args, ctx: ToolContext) => Promise<R>) {
  return async (args: Args, ctx: ToolContext): Promise<R> => {
    try {
      return await run(args, ctx);
    } catch (error) {
      if (error instanceof IntegrationError) throw new ToolError(error.message);
      throw error;
    }
  };
}

async function listAction(args: Args, ctx: ToolContext) {
  const status = args.status === "all" ? undefined : args.status;
  const fingerprint = queryFingerprint(["manage_integrations.list", args.provider ?? null, status ?? null]);
  const position = args.cursor ? decodeCursor(args.cursor, fingerprint) : null;
  const after =
    position && typeof position.k[0] === "string" ? { provider: position.k[0], id: position.id } : undefined;
  const { integrations, more } = await listIntegrations(
    d1Runner(ctx.env.DB),
    settingsOf(ctx),
    { workspaceId: ctx.principal.workspaceId, provider: args.provider, status, limit: args.limit, after },
    ctx.now,
  );
  const last = integrations.at(-1);
  const nextCursor = more && last ? encodeCursor({ k: [last.provider], id: last.id, q: fingerprint }) : null;
  const table =
    integrations.length > 0
      ? `\n${markdownTable(
          ["id", "provider", "name", "status", "secret", "last received", "accepted", "rejected", "failed"],
          integrations.map((i) => [
            i.id,
            i.provider,
            i.name,
            i.status,
            i.secret_unreadable ? "unreadable" : i.awaiting_secret ? "awaiting" : `…${i.secret_fingerprint}`,
            i.last_received_at,
            i.accepted,
            i.rejected,
            i.failed,
          ]),
        )}`
      : "";
  return {
    data: { action: "list" as const, integrations, next_cursor: nextCursor },
    text: `${integrations.length} integration(s) on this page${nextCursor ? "; more with next_cursor" : ""}.${table}`,
  };
}

async function getAction(args: Args, ctx: ToolContext) {
  const id = requireId(args);
  const integration = await getIntegration(
    d1Runner(ctx.env.DB),
    settingsOf(ctx),
    ctx.principal.workspaceId,
    id,
    ctx.now,
  );
  if (!integration) throw notFound("integration", id);
  return {
    data: { action: "get" as const, integration },
    text: `${describe(integration)}.${integration.webhook_url ? ` Webhook URL: ${integration.webhook_url}` : ""}`,
  };
}

async function createAction(args: Args, ctx: ToolContext) {
  if (!args.provider || !args.name) throw new ToolError("action create needs `provider` and `name`.");
  const reveal = await createIntegration(
    d1Runner(ctx.env.DB),
    settingsOf(ctx),
    { workspaceId: ctx.principal.workspaceId, provider: args.provider, name: args.name, secret: args.secret },
    ctx.now,
  );
  ctx.audit({
    action: "create",
    targetType: "integration",
    targetId: reveal.integration.id,
    details: {
      provider: reveal.integration.provider,
      name: reveal.integration.name,
      secret_fingerprint: reveal.integration.secret_fingerprint,
    },
  });
  return {
    data: { action: "create" as const, integration: reveal.integration, secret: reveal.secret, setup: reveal.setup },
    text: revealText("Created", reveal),
  };
}

async function rotateAction(args: Args, ctx: ToolContext) {
  const id = requireId(args);
  const reveal = await rotateIntegration(
    d1Runner(ctx.env.DB),
    settingsOf(ctx),
    { workspaceId: ctx.principal.workspaceId, integrationId: id, secret: args.secret },
    ctx.now,
  );
  if (!reveal) throw notFound("integration", id);
  ctx.audit({
    action: "rotate",
    targetType: "integration",
    targetId: id,
    details: {
      secret_fingerprint: reveal.integration.secret_fingerprint,
      previous_secret_valid_until: reveal.integration.previous_secret_valid_until,
    },
  });
  return {
    data: { action: "rotate" as const, integration: reveal.integration, secret: reveal.secret, setup: reveal.setup },
    text: revealText("Rotated the secret of", reveal),
  };
}

/** disable and enable. */
async function setStatusAction(args: Args, ctx: ToolContext) {
  const id = requireId(args);
  const status = args.action === "disable" ? "disabled" : "active";
  const outcome = await setIntegrationStatus(
    d1Runner(ctx.env.DB),
    settingsOf(ctx),
    { workspaceId: ctx.principal.workspaceId, integrationId: id, status },
    ctx.now,
  );
  if (!outcome) throw notFound("integration", id);
  ctx.audit({
    action: args.action,
    targetType: "integration",
    targetId: id,
    details: { status, changed: outcome.changed },
  });
  const effect =
    status === "disabled" ? "deliveries to it now get 404" : "deliveries to it are verified and recorded again";
  return {
    data: { action: args.action, integration: outcome.integration, changed: outcome.changed },
    text: outcome.changed
      ? `${args.action === "disable" ? "Disabled" : "Enabled"} ${describe(outcome.integration)}: ${effect}.`
      : `${describe(outcome.integration)} was already ${status}.`,
  };
}
