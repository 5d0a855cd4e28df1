/**
 * Integration management: create, rotate, disable, enable, get and list, over any SQL runner
 * (the D1 binding in the Worker, wrangler's D1 in the admin CLI). Secrets are sealed at rest
 * and returned only by create and rotate; views show a fingerprint instead.
 */
import { newId } from "../platform/lib/ids";
import { type IntegrationProvider, isWebhookProvider, PROVIDER_GUIDES } from "./catalog";
import type { SqlRunner } from "./queries";
import {
  AWAITING_SECRET,
  generateSecret,
  type OpenedSecrets,
  previousValidUntil,
  readableSecrets,
  sealSecrets,
  secretFingerprint,
} from "./secrets";
import { normalizeSendGridPublicKey } from "./sendgrid/receive";

export { d1Runner, type SqlRunner, type SqlValue } from "./queries";

/** What sealing secrets and building webhook URLs needs. */
export interface IntegrationSettings {
  /** base64 of 32 bytes: the Worker secret `ENCRYPTION_KEY`. */
  encryptionKey: string;
  /** The base URL webhooks are served under (PUBLIC_URL, else the origin the caller used); empty means a local server on port 8787. */
  publicUrl: string;
}

/** An expected failure with a message a person can act on (never contains a secret). */
export class IntegrationError extends Error {
  override readonly name = "IntegrationError";
}

/** One integration as lists and answers show it: never the secret, only its fingerprint. */
export interface IntegrationView {
  id: string;
  provider: string;
  name: string;
  status: "active" | "disabled";
  direction: "inbound" | "outbound";
  webhook_url: string | null;
  secret_fingerprint: string | null;
  awaiting_secret: boolean;
  secret_unreadable: boolean;
  previous_secret_valid_until: string | null;
  created_at: string;
  rotated_at: string | null;
  last_received_at: string | null;
  accepted: number;
  rejected: number;
  failed: number;
}

/** Setup facts for the provider's side. */
export interface SetupView {
  secret_source: string;
  configure_at: string;
  events: string[];
  signature: string;
}

/** The answer of create and rotate: the only place a secret is ever shown. */
export interface SecretReveal {
  integration: IntegrationView;
  /** The new secret; null while the integration awaits the provider's secret. */
  secret: string | null;
  setup: SetupView;
}

interface IntegrationRow {
  id: string;
  workspace_id: string;
  provider: IntegrationProvider;
  name: string;
  secret_ciphertext: string;
  status: "active" | "disabled";
  last_received_at: string | null;
  accepted_count: number;
  rejected_count: number;
  failed_count: number;
  rotated_at: string | null;
  created_at: string;
}

const MIN_GENERATED_KIND_LENGTH = 16;
const MIN_SECRET_LENGTH = 8;
const MAX_SECRET_LENGTH = 512;
const SLACK_WEBHOOK_HOSTS = new Set(["hooks.slack.com", "hooks.slack-gov.com"]);

/** The base URL webhooks are served under. */
export function webhookBaseUrl(publicUrl: string): string {
  return (publicUrl || "http://localhost:8787").replace(/\/+$/, "");
}

/** The URL to configure at the provider, or null for outbound integrations. */
export function webhookUrl(publicUrl: string, provider: string, id: string): string | null {
  return isWebhookProvider(provider) ? `${webhookBaseUrl(publicUrl)}/webhooks/${provider}/${id}` : null;
}

function setupOf(provider: IntegrationProvider): SetupView {
  const guide = PROVIDER_GUIDES[provider];
  return {
    secret_source: guide.secret,
    configure_at: guide.configureAt,
    events: guide.events,
    signature: guide.signature,
  };
}

/** Checks a secret an admin brought and puts it in the form the verifier uses. */
export async function normalizeGivenSecret(provider: IntegrationProvider, given: string): Promise<string> {
  const secret = given.trim();
  if (provider === "sendgrid") {
    const key = await normalizeSendGridPublicKey(secret);
    if (!key) {
      throw new IntegrationError(
        "The SendGrid secret must be the Event Webhook verification key: a base64 P-256 public key as SendGrid shows it.",
      );
    }
    return key;
  }
  if (provider === "slack") {
    const url = URL.canParse(secret) ? new URL(secret) : null;
    if (url?.protocol !== "https:" || !SLACK_WEBHOOK_HOSTS.has(url.hostname)) {
      throw new IntegrationError(
        "The Slack secret must be an incoming-webhook URL: https://hooks.slack.com/services/….",
      );
    }
    return url.toString();
  }
  if (/\s/.test(secret) || secret.length > MAX_SECRET_LENGTH) {
    throw new IntegrationError(`A secret has no spaces and at most ${MAX_SECRET_LENGTH} characters.`);
  }
  if (provider === "stripe" && !/^whsec_[A-Za-z0-9+/=_-]{8,}$/.test(secret)) {
    throw new IntegrationError("The Stripe secret is the endpoint's signing secret: it starts with whsec_.");
  }
  const minimum =
    PROVIDER_GUIDES[provider].secretSource === "generated" ? MIN_GENERATED_KIND_LENGTH : MIN_SECRET_LENGTH;
  if (secret.length < minimum) throw new IntegrationError(`A ${provider} secret has at least ${minimum} characters.`);
  return secret;
}

async function toView(row: IntegrationRow, settings: IntegrationSettings, now: Date): Promise<IntegrationView> {
  const secrets = await readableSecrets(row.secret_ciphertext, settings.encryptionKey);
  return {
    id: row.id,
    provider: row.provider,
    name: row.name,
    status: row.status,
    direction: isWebhookProvider(row.provider) ? "inbound" : "outbound",
    webhook_url: webhookUrl(settings.publicUrl, row.provider, row.id),
    secret_fingerprint: secrets ? await secretFingerprint(secrets.current) : null,
    awaiting_secret: secrets?.current === AWAITING_SECRET,
    secret_unreadable: secrets === null,
    previous_secret_valid_until: secrets ? previousValidUntil(secrets, row.rotated_at, now) : null,
    created_at: row.created_at,
    rotated_at: row.rotated_at,
    last_received_at: row.last_received_at,
    accepted: row.accepted_count,
    rejected: row.rejected_count,
    failed: row.failed_count,
  };
}

async function loadRow(db: SqlRunner, workspaceId: string, integrationId: string): Promise<IntegrationRow | null> {
  const [row] = await db.all<IntegrationRow>("SELECT * FROM integrations WHERE workspace_id = ?1 AND id = ?2", [
    workspaceId,
    integrationId,
  ]);
  return row ?? null;
}

/**
 * Creates an integration. Without a secret: one is generated for providers where we choose it,
 * the integration awaits the provider's secret (given later through rotate) where the provider
 * issues it, and Slack refuses.
 */
export async function createIntegration(
  db: SqlRunner,
  settings: IntegrationSettings,
  input: { workspaceId: string; provider: IntegrationProvider; name: string; secret?: string },
  now: Date,
): Promise<SecretReveal> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw new IntegrationError("A name has 1 to 100 characters.");
  const [existing] = await db.all<{ id: string }>(
    "SELECT id FROM integrations WHERE workspace_id = ?1 AND provider = ?2 AND name = ?3",
    [input.workspaceId, input.provider, name],
  );
  if (existing) {
    throw new IntegrationError(
      `A ${input.provider} integration named "${name}" already exists (${existing.id}); choose another name or rotate that one.`,
    );
  }
  const source = PROVIDER_GUIDES[input.provider].secretSource;
  let secret: string;
  if (input.secret !== undefined) secret = await normalizeGivenSecret(input.provider, input.secret);
  else if (source === "generated") secret = generateSecret();
  else if (source === "provider") secret = AWAITING_SECRET;
  else
    throw new IntegrationError(
      `A ${input.provider} integration needs its secret: ${PROVIDER_GUIDES[input.provider].secret}`,
    );
  const sealed = await sealSecrets({ current: secret, previous: null }, settings.encryptionKey);
  const [row] = await db.all<IntegrationRow>(
    `INSERT INTO integrations (id, workspace_id, provider, name, secret_ciphertext, status, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6) RETURNING *`,
    [newId("int"), input.workspaceId, input.provider, name, sealed, now.toISOString()],
  );
  if (!row) throw new Error("integration insert returned no row");
  return {
    integration: await toView(row, settings, now),
    secret: secret === AWAITING_SECRET ? null : secret,
    setup: setupOf(row.provider),
  };
}

/**
 * Replaces an integration's secret: the given one, or a generated one where we choose it. For
 * webhook integrations the previous secret keeps verifying for 24 hours (a second rotation
 * within that time ends the first one's grace); Slack URLs switch at once. Null when the
 * integration is not in this workspace.
 */
export async function rotateIntegration(
  db: SqlRunner,
  settings: IntegrationSettings,
  input: { workspaceId: string; integrationId: string; secret?: string },
  now: Date,
): Promise<SecretReveal | null> {
  const row = await loadRow(db, input.workspaceId, input.integrationId);
  if (!row) return null;
  // An unreadable secret is replaced outright: it cannot be kept as the previous one.
  const current = (await readableSecrets(row.secret_ciphertext, settings.encryptionKey)) ?? {
    current: AWAITING_SECRET,
    previous: null,
  };
  let secret: string;
  if (input.secret !== undefined) secret = await normalizeGivenSecret(row.provider, input.secret);
  else if (PROVIDER_GUIDES[row.provider].secretSource === "generated") secret = generateSecret();
  else throw new IntegrationError(`Pass the new secret: ${PROVIDER_GUIDES[row.provider].secret}`);
  if (secret === current.current) throw new IntegrationError("That is already the current secret.");
  const next: OpenedSecrets = {
    current: secret,
    previous: isWebhookProvider(row.provider) && current.current !== AWAITING_SECRET ? current.current : null,
  };
  const [updated] = await db.all<IntegrationRow>(
    "UPDATE integrations SET secret_ciphertext = ?3, rotated_at = ?4 WHERE workspace_id = ?1 AND id = ?2 RETURNING *",
    [input.workspaceId, row.id, await sealSecrets(next, settings.encryptionKey), now.toISOString()],
  );
  if (!updated) return null;
  return { integration: await toView(updated, settings, now), secret, setup: setupOf(updated.provider) };
}

/**
 * Turns an integration on or off; receivers answer 404 for a disabled one. `changed` is false
 * when it already had that status. Null when the integration is not in this workspace.
 */
export async function setIntegrationStatus(
  db: SqlRunner,
  settings: IntegrationSettings,
  input: { workspaceId: string; integrationId: string; status: "active" | "disabled" },
  now: Date,
): Promise<{ integration: IntegrationView; changed: boolean } | null> {
  const [updated] = await db.all<IntegrationRow & { changed: number }>(
    `UPDATE integrations SET status = ?3 WHERE workspace_id = ?1 AND id = ?2 AND status <> ?3 RETURNING *, 1 AS changed`,
    [input.workspaceId, input.integrationId, input.status],
  );
  const row = updated ?? (await loadRow(db, input.workspaceId, input.integrationId));
  if (!row) return null;
  return { integration: await toView(row, settings, now), changed: updated !== undefined };
}

/** One integration of the workspace, or null. */
export async function getIntegration(
  db: SqlRunner,
  settings: IntegrationSettings,
  workspaceId: string,
  integrationId: string,
  now: Date,
): Promise<IntegrationView | null> {
  const row = await loadRow(db, workspaceId, integrationId);
  return row ? toView(row, settings, now) : null;
}

/** A page of the workspace's integrations by provider then id, after the given position. */
export async function listIntegrations(
  db: SqlRunner,
  settings: IntegrationSettings,
  input: {
    workspaceId: string;
    provider?: IntegrationProvider;
    status?: "active" | "disabled";
    limit: number;
    after?: { provider: string; id: string };
  },
  now: Date,
): Promise<{ integrations: IntegrationView[]; more: boolean }> {
  const rows = await db.all<IntegrationRow>(
    `SELECT * FROM integrations
      WHERE workspace_id = ?1 AND (?2 IS NULL OR provider = ?2) AND (?3 IS NULL OR status = ?3)
        AND (?4 IS NULL OR provider > ?4 OR (provider = ?4 AND id > ?5))
      ORDER BY provider, id LIMIT ?6`,
    [
      input.workspaceId,
      input.provider ?? null,
      input.status ?? null,
      input.after?.provider ?? null,
      input.after?.id ?? null,
      input.limit + 1,
    ],
  );
  const page = rows.slice(0, input.limit);
  return {
    integrations: await Promise.all(page.map((row) => toView(row, settings, now))),
    more: rows.length > input.limit,
  };
}
