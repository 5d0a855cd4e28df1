/**
 * Admin CLI commands for integrations: the same service the `manage_integrations` tool uses,
 * over wrangler's D1. Secrets are sealed here with the Worker's ENCRYPTION_KEY (the
 * environment variable, else `.dev.vars` for local state), so the key must be the deployed
 * Worker's for `--remote`.
 */
import { existsSync, readFileSync } from "node:fs";
import { INTEGRATION_PROVIDERS, type IntegrationProvider } from "../../src/integrations/catalog";
import {
  createIntegration,
  IntegrationError,
  type IntegrationSettings,
  type IntegrationView,
  listIntegrations,
  rotateIntegration,
  type SecretReveal,
  setIntegrationStatus,
} from "../../src/integrations/service";
import { clock } from "../../src/platform/lib/clock";
import type { D1Target } from "../lib/d1";
import { type AdminDb, AdminError } from "./commands";

type Values = Record<string, string | boolean | undefined>;

/** One CLI command, in the shape `scripts/admin.ts` registers. */
interface IntegrationCommand {
  usage: string;
  options: Record<string, { type: "string" | "boolean" }>;
  required: string[];
  run(db: AdminDb, values: Values, target: D1Target): Promise<void>;
}

const str = (values: Values, name: string): string => {
  const value = values[name];
  return typeof value === "string" ? value : "";
};

/** A `NAME=value` line of a dotenv-style file, or undefined. */
function fileVariable(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, "utf8")
    .split(/\r?\n/)
    .find((l) => l.startsWith(`${name}=`) || l.startsWith(`${name} =`));
  return line
    ?.slice(line.indexOf("=") + 1)
    .trim()
    .replace(/^"(.*)"$/, "$1");
}

/** The sealing key and public URL the Worker itself uses for this target. */
function settingsFor(target: D1Target): IntegrationSettings {
  const encryptionKey =
    process.env.ENCRYPTION_KEY || (target.remote ? undefined : fileVariable(".dev.vars", "ENCRYPTION_KEY"));
  if (!encryptionKey) {
    throw new AdminError(
      target.remote
        ? "set ENCRYPTION_KEY to the deployed Worker's key (integration secrets are sealed with it)"
        : "no ENCRYPTION_KEY: run `npm start` once (it writes .dev.vars) or set ENCRYPTION_KEY",
    );
  }
  const configured = process.env.PUBLIC_URL || fileVariable("wrangler.toml", "PUBLIC_URL") || "";
  const local = process.env.PORT ? `http://localhost:${process.env.PORT}` : "";
  return { encryptionKey, publicUrl: configured || local };
}

async function workspaceId(db: AdminDb, slug: string): Promise<string> {
  const [row] = await db.all<{ id: string }>("SELECT id FROM workspaces WHERE slug = ?1", [slug]);
  if (!row) throw new AdminError(`no workspace with slug "${slug}"`);
  return row.id;
}

function parseProvider(value: string): IntegrationProvider {
  if ((INTEGRATION_PROVIDERS as readonly string[]).includes(value)) return value as IntegrationProvider;
  throw new AdminError(`unknown provider "${value}": use one of ${INTEGRATION_PROVIDERS.join(", ")}`);
}

/** `--secret-stdin` keeps the secret out of shell history and the process list. */
function secretOf(values: Values): string | undefined {
  if (values["secret-stdin"]) {
    if (values.secret !== undefined) throw new AdminError("give --secret or --secret-stdin, not both");
    return readFileSync(0, "utf8").replace(/\r?\n$/, "");
  }
  return typeof values.secret === "string" ? values.secret : undefined;
}

/** Service failures become CLI errors (printed as is, exit status 1). */
async function adminErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof IntegrationError) throw new AdminError(error.message);
    throw error;
  }
}

/** Prints a new secret: URL and secret on stdout (one per line), setup on stderr. */
function printReveal(verb: string, reveal: SecretReveal, json: boolean): void {
  const { integration, secret, setup } = reveal;
  console.error(`${verb} ${integration.provider} integration ${integration.id} "${integration.name}".`);
  if (json) {
    console.log(JSON.stringify(reveal, null, 2));
    return;
  }
  console.error(`Configure at: ${setup.configure_at}`);
  if (setup.events.length > 0) console.error(`Events to enable: ${setup.events.join(", ")}`);
  console.error(`Signature: ${setup.signature}`);
  if (integration.webhook_url) console.log(integration.webhook_url);
  if (secret === null) console.error(`No secret yet. ${setup.secret_source}`);
  else {
    console.error("The secret is shown only once: store it now.");
    console.log(secret);
  }
}

function printStatus(integration: IntegrationView, changed: boolean): void {
  console.error(
    changed
      ? `${integration.provider} integration ${integration.id} is now ${integration.status}.`
      : `${integration.provider} integration ${integration.id} was already ${integration.status}.`,
  );
}

const secretOptions = { secret: { type: "string" }, "secret-stdin": { type: "boolean" } } as const;

/** Integration commands, merged into the admin CLI's command table. */
export const INTEGRATION_COMMANDS: Record<string, IntegrationCommand> = {
  "create-integration": {
    usage:
      "create-integration --workspace <slug> --provider <provider> --name <name> [--secret <s> | --secret-stdin] [--json]",
    options: {
      workspace: { type: "string" },
      provider: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean" },
      ...secretOptions,
    },
    required: ["workspace", "provider", "name"],
    async run(db, v, target) {
      const settings = settingsFor(target);
      const reveal = await adminErrors(
        createIntegration(
          db,
          settings,
          {
            workspaceId: await workspaceId(db, str(v, "workspace")),
            provider: parseProvider(str(v, "provider")),
            name: str(v, "name"),
            secret: secretOf(v),
          },
          clock.now(),
        ),
      );
      printReveal("Created", reveal, v.json === true);
    },
  },
  "rotate-integration": {
    usage: "rotate-integration --workspace <slug> --id <integration id> [--secret <s> | --secret-stdin] [--json]",
    options: { workspace: { type: "string" }, id: { type: "string" }, json: { type: "boolean" }, ...secretOptions },
    required: ["workspace", "id"],
    async run(db, v, target) {
      const reveal = await adminErrors(
        rotateIntegration(
          db,
          settingsFor(target),
          { workspaceId: await workspaceId(db, str(v, "workspace")), integrationId: str(v, "id"), secret: secretOf(v) },
          clock.now(),
        ),
      );
      if (!reveal) throw new AdminError(`no integration ${str(v, "id")} in workspace "${str(v, "workspace")}"`);
      printReveal("Rotated the secret of", reveal, v.json === true);
      if (reveal.integration.previous_secret_valid_until) {
        console.error(`The previous secret keeps verifying until ${reveal.integration.previous_secret_valid_until}.`);
      }
    },
  },
  ...Object.fromEntries(
    (["disable", "enable"] as const).map((verb) => [
      `${verb}-integration`,
      {
        usage: `${verb}-integration --workspace <slug> --id <integration id>`,
        options: { workspace: { type: "string" }, id: { type: "string" } },
        required: ["workspace", "id"],
        async run(db: AdminDb, v: Values, target: D1Target) {
          const outcome = await setIntegrationStatus(
            db,
            settingsFor(target),
            {
              workspaceId: await workspaceId(db, str(v, "workspace")),
              integrationId: str(v, "id"),
              status: verb === "disable" ? "disabled" : "active",
            },
            clock.now(),
          );
          if (!outcome) throw new AdminError(`no integration ${str(v, "id")} in workspace "${str(v, "workspace")}"`);
          printStatus(outcome.integration, outcome.changed);
        },
      } satisfies IntegrationCommand,
    ]),
  ),
  "list-integrations": {
    usage: "list-integrations --workspace <slug> [--json]",
    options: { workspace: { type: "string" }, json: { type: "boolean" } },
    required: ["workspace"],
    async run(db, v, target) {
      const { integrations } = await listIntegrations(
        db,
        settingsFor(target),
        { workspaceId: await workspaceId(db, str(v, "workspace")), limit: 200 },
        clock.now(),
      );
      if (v.json === true) {
        console.log(JSON.stringify(integrations, null, 2));
        return;
      }
      if (integrations.length === 0) console.error("(none)");
      for (const i of integrations) {
        const secret = i.awaiting_secret ? "awaiting-secret" : `secret:…${i.secret_fingerprint}`;
        console.log(
          [
            i.id,
            i.provider,
            i.status,
            secret,
            `accepted:${i.accepted}`,
            `rejected:${i.rejected}`,
            `failed:${i.failed}`,
            `last:${i.last_received_at ?? "-"}`,
            i.name,
          ].join("  "),
        );
      }
    },
  },
};
