import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { decryptSecret, encryptSecret, sha256Hex } from "../../../src/platform/lib/crypto";
import { callError, callOk, connectClient, createWorkspace, workerFetch } from "../../helpers/mcp";
import { genericHeaders, sendgridKeyPair, stripeHeaders } from "../../helpers/webhook-signing";

interface IntegrationOut {
  id: string;
  provider: string;
  name: string;
  status: string;
  direction: string;
  webhook_url: string | null;
  secret_fingerprint: string | null;
  awaiting_secret: boolean;
  secret_unreadable: boolean;
  previous_secret_valid_until: string | null;
  rotated_at: string | null;
  last_received_at: string | null;
  accepted: number;
  rejected: number;
  failed: number;
}

interface Reveal {
  action: string;
  integration: IntegrationOut;
  secret: string | null;
  setup: { secret_source: string; configure_at: string; events: string[]; signature: string };
}

let admin: Awaited<ReturnType<typeof createWorkspace>>;
let adminClient: Client;
let otherClient: Client;

beforeAll(async () => {
  admin = await createWorkspace("integrations-mcp", "admin");
  adminClient = await connectClient(admin.key);
  otherClient = await connectClient((await createWorkspace("integrations-other", "admin")).key);
  // Deliveries in these tests go to the real queue; nothing here depends on the consumer.
  vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockResolvedValue({
    metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
  });
});

async function deliverGeneric(id: string, secret: string, eventId: string): Promise<number> {
  const body = JSON.stringify({ id: eventId, type: "account" });
  const response = await workerFetch(`/webhooks/generic/${id}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await genericHeaders(secret, body)) },
    body,
  });
  return response.status;
}

async function auditRows(targetId: string) {
  const { results } = await env.DB.prepare(
    "SELECT tool, action, target_type, target_id, details FROM audit_log WHERE workspace_id = ?1 AND target_id = ?2 ORDER BY rowid",
  )
    .bind(admin.workspaceId, targetId)
    .all<{ tool: string; action: string; target_type: string; target_id: string; details: string | null }>();
  return results;
}

describe("manage_integrations", () => {
  it("creates a generic integration with a generated secret shown once, which signs deliveries", async () => {
    const created = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "generic",
      name: "Warehouse sync",
    });
    const { integration, secret } = created;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(integration).toMatchObject({
      provider: "generic",
      name: "Warehouse sync",
      status: "active",
      direction: "inbound",
      webhook_url: `http://localhost/webhooks/generic/${integration.id}`,
      secret_fingerprint: (await sha256Hex(secret!)).slice(-4),
      awaiting_secret: false,
      previous_secret_valid_until: null,
      accepted: 0,
      rejected: 0,
      failed: 0,
    });
    expect(created.setup.signature).toContain("X-Webhook-Signature: sha256=");
    expect(await deliverGeneric(integration.id, secret!, "wh-1")).toBe(200);

    const listed = await adminClient.callTool({ name: "manage_integrations", arguments: { action: "list" } });
    const got = await adminClient.callTool({
      name: "manage_integrations",
      arguments: { action: "get", integration_id: integration.id },
    });
    const view = (got.structuredContent as { integration: IntegrationOut }).integration;
    expect(view).toMatchObject({ accepted: 1, rejected: 0, secret_fingerprint: integration.secret_fingerprint });
    expect(view.last_received_at).not.toBeNull();
    const audits = await auditRows(integration.id);
    expect(audits).toEqual([
      {
        tool: "manage_integrations",
        action: "create",
        target_type: "integration",
        target_id: integration.id,
        details: JSON.stringify({
          provider: "generic",
          name: "Warehouse sync",
          secret_fingerprint: integration.secret_fingerprint,
        }),
      },
    ]);
    for (const shown of [JSON.stringify(listed), JSON.stringify(got), JSON.stringify(audits)]) {
      expect(shown).not.toContain(secret);
    }
    const row = await env.DB.prepare("SELECT secret_ciphertext FROM integrations WHERE id = ?1")
      .bind(integration.id)
      .first<{ secret_ciphertext: string }>();
    expect(row?.secret_ciphertext).not.toContain(secret);
    expect(await decryptSecret(row!.secret_ciphertext, env.ENCRYPTION_KEY)).toBe(secret);
  });

  it("never stores a shown-once secret for an idempotent repeat", async () => {
    const args = { action: "create", provider: "generic", name: "Idempotent", idempotency_key: "integration-create-1" };
    const first = await callOk<Reveal>(adminClient, "manage_integrations", args);
    expect(first.secret).toMatch(/.{20,}/);
    const repeat = await callOk<Reveal>(adminClient, "manage_integrations", args);
    expect(repeat).toEqual({ ...first, secret: null });
    const stored = await env.DB.prepare("SELECT response FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2")
      .bind(admin.workspaceId, "integration-create-1")
      .first<{ response: string }>();
    expect(stored?.response).not.toContain(first.secret!);
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n FROM integrations WHERE workspace_id = ?1 AND name = 'Idempotent'",
    )
      .bind(admin.workspaceId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it("rotates: the old secret keeps verifying for 24 hours, then fails; read actions write no audit row", async () => {
    const { integration, secret: first } = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "generic",
      name: "Rotated",
    });
    const rotated = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "rotate",
      integration_id: integration.id,
    });
    const second = rotated.secret!;
    expect(second).not.toBe(first);
    expect(rotated.integration.secret_fingerprint).toBe((await sha256Hex(second)).slice(-4));
    expect(
      Date.parse(rotated.integration.previous_secret_valid_until!) - Date.parse(rotated.integration.rotated_at!),
    ).toBe(24 * 3600_000);
    expect(await deliverGeneric(integration.id, first!, "r-1")).toBe(200);
    expect(await deliverGeneric(integration.id, second, "r-2")).toBe(200);

    await env.DB.prepare("UPDATE integrations SET rotated_at = ?2 WHERE id = ?1")
      .bind(integration.id, new Date(clock.now().getTime() - 25 * 3600_000).toISOString())
      .run();
    expect(await deliverGeneric(integration.id, first!, "r-3")).toBe(401);
    expect(await deliverGeneric(integration.id, second, "r-4")).toBe(200);
    const after = await callOk<{ integration: IntegrationOut }>(adminClient, "manage_integrations", {
      action: "get",
      integration_id: integration.id,
    });
    expect(after.integration).toMatchObject({ accepted: 3, rejected: 1, previous_secret_valid_until: null });
    const audits = await auditRows(integration.id);
    expect(audits.map((a) => a.action)).toEqual(["create", "rotate"]);
    expect(JSON.stringify(audits)).not.toContain(second);
    expect(JSON.stringify(audits)).not.toContain(first);
  });

  it("shows a secret sealed under another ENCRYPTION_KEY as unreadable, refuses its deliveries, and takes a new one", async () => {
    const { integration, secret } = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "generic",
      name: "Restored elsewhere",
    });
    const otherKey = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
    await env.DB.prepare("UPDATE integrations SET secret_ciphertext = ?2 WHERE id = ?1")
      .bind(integration.id, await encryptSecret(secret!, otherKey))
      .run();
    const listed = await callOk<{ integrations: IntegrationOut[] }>(adminClient, "manage_integrations", {
      action: "list",
      provider: "generic",
    });
    expect(listed.integrations.find((i) => i.id === integration.id)).toMatchObject({
      secret_unreadable: true,
      secret_fingerprint: null,
      awaiting_secret: false,
    });
    const body = JSON.stringify({ id: "unreadable-1", type: "account" });
    const refused = await workerFetch(`/webhooks/generic/${integration.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await genericHeaders(secret!, body)) },
      body,
    });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain("cannot be read with the server's ENCRYPTION_KEY");
    const rotated = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "rotate",
      integration_id: integration.id,
    });
    expect(rotated.integration).toMatchObject({ secret_unreadable: false, previous_secret_valid_until: null });
    expect(await deliverGeneric(integration.id, rotated.secret!, "unreadable-2")).toBe(200);
  });

  it("disables (deliveries get 404) and enables again, and the overview shows the counts", async () => {
    const { integration, secret } = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "generic",
      name: "Switchable",
    });
    const disabled = await callOk<{ integration: IntegrationOut; changed: boolean }>(
      adminClient,
      "manage_integrations",
      {
        action: "disable",
        integration_id: integration.id,
      },
    );
    expect(disabled).toMatchObject({ changed: true, integration: { status: "disabled" } });
    expect(await deliverGeneric(integration.id, secret!, "s-1")).toBe(404);
    const again = await callOk<{ changed: boolean }>(adminClient, "manage_integrations", {
      action: "disable",
      integration_id: integration.id,
    });
    expect(again.changed).toBe(false);
    await callOk(adminClient, "manage_integrations", { action: "enable", integration_id: integration.id });
    expect(await deliverGeneric(integration.id, secret!, "s-2")).toBe(200);

    const overview = await callOk<{ integrations: Record<string, unknown>[] }>(adminClient, "get_workspace_overview");
    expect(overview.integrations.find((i) => i.id === integration.id)).toEqual({
      id: integration.id,
      provider: "generic",
      name: "Switchable",
      status: "active",
      last_received_at: expect.any(String),
      accepted: 1,
      rejected: 1,
      failed: 0,
    });
    expect((await auditRows(integration.id)).map((a) => a.action)).toEqual(["create", "disable", "disable", "enable"]);
  });

  it("lets a provider-issued secret follow the URL: Stripe awaits its whsec_ secret, then verifies", async () => {
    const created = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "stripe",
      name: "Billing",
    });
    expect(created.secret).toBeNull();
    expect(created.integration).toMatchObject({ awaiting_secret: true, secret_fingerprint: null });
    expect(created.setup.events).toEqual([
      "invoice.paid",
      "invoice.payment_failed",
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
    const id = created.integration.id;
    expect(await callError(adminClient, "manage_integrations", { action: "rotate", integration_id: id })).toContain(
      "Pass the new secret",
    );
    expect(
      await callError(adminClient, "manage_integrations", {
        action: "rotate",
        integration_id: id,
        secret: "sk_live_x",
      }),
    ).toBe("The Stripe secret is the endpoint's signing secret: it starts with whsec_.");
    const rotated = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "rotate",
      integration_id: id,
      secret: "whsec_4eC39HqLyjWDarjtT1zdp7dc",
    });
    expect(rotated.integration).toMatchObject({ awaiting_secret: false, previous_secret_valid_until: null });
    const body = JSON.stringify({ id: "evt_after_setup", type: "invoice.paid" });
    const response = await workerFetch(`/webhooks/stripe/${id}`, {
      method: "POST",
      headers: await stripeHeaders("whsec_4eC39HqLyjWDarjtT1zdp7dc", body),
      body,
    });
    expect(response.status).toBe(200);
  });

  it("stores a Slack incoming-webhook URL sealed as is, so decryptSecret reads it, and rotates it at once", async () => {
    expect(
      await callError(adminClient, "manage_integrations", { action: "create", provider: "slack", name: "Alerts" }),
    ).toContain("A slack integration needs its secret");
    expect(
      await callError(adminClient, "manage_integrations", {
        action: "create",
        provider: "slack",
        name: "Alerts",
        secret: "https://example.com/hook",
      }),
    ).toBe("The Slack secret must be an incoming-webhook URL: https://hooks.slack.com/services/….");
    const url = "https://hooks.slack.com/services/T000/B000/XXXXXXXX";
    const created = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "slack",
      name: "Alerts",
      secret: url,
    });
    expect(created.integration).toMatchObject({ direction: "outbound", webhook_url: null });
    const next = "https://hooks.slack.com/services/T000/B000/YYYYYYYY";
    const rotated = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "rotate",
      integration_id: created.integration.id,
      secret: next,
    });
    expect(rotated.integration.previous_secret_valid_until).toBeNull();
    const row = await env.DB.prepare(
      "SELECT secret_ciphertext FROM integrations WHERE workspace_id = ?1 AND provider = 'slack' AND status = 'active'",
    )
      .bind(admin.workspaceId)
      .first<{ secret_ciphertext: string }>();
    expect(await decryptSecret(row!.secret_ciphertext, env.ENCRYPTION_KEY)).toBe(next);
  });

  it("takes the SendGrid verification key with PEM armour and stores it as plain base64", async () => {
    const { publicKeyBase64 } = await sendgridKeyPair();
    const pem = `-----BEGIN PUBLIC KEY-----\n${publicKeyBase64}\n-----END PUBLIC KEY-----`;
    const created = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "sendgrid",
      name: "Mail events",
      secret: pem,
    });
    expect(created.secret).toBe(publicKeyBase64);
    expect(
      await callError(adminClient, "manage_integrations", {
        action: "create",
        provider: "sendgrid",
        name: "Bad key",
        secret: "c2VjcmV0",
      }),
    ).toContain("verification key");
  });

  it("refuses a duplicate name, misplaced fields and missing arguments", async () => {
    await callOk(adminClient, "manage_integrations", { action: "create", provider: "segment", name: "Product" });
    expect(
      await callError(adminClient, "manage_integrations", { action: "create", provider: "segment", name: "Product" }),
    ).toMatch(/^A segment integration named "Product" already exists \(int_/);
    expect(await callError(adminClient, "manage_integrations", { action: "list", secret: "whsec_abcdefgh1234" })).toBe(
      "secret does not apply to action list; it takes provider, status, limit, cursor.",
    );
    expect(await callError(adminClient, "manage_integrations", { action: "create", provider: "segment" })).toBe(
      "action create needs `provider` and `name`.",
    );
    expect(await callError(adminClient, "manage_integrations", { action: "get" })).toBe(
      "action get needs `integration_id`.",
    );
  });

  it("pages the list by provider then id, with filters", async () => {
    const { key } = await createWorkspace("integrations-pages", "admin");
    const client = await connectClient(key);
    for (const [provider, name] of [
      ["segment", "a"],
      ["generic", "b"],
      ["generic", "c"],
    ]) {
      await callOk(client, "manage_integrations", { action: "create", provider, name });
    }
    const first = await callOk<{ integrations: IntegrationOut[]; next_cursor: string | null }>(
      client,
      "manage_integrations",
      { action: "list", limit: 2 },
    );
    expect(first.integrations.map((i) => i.provider)).toEqual(["generic", "generic"]);
    const second = await callOk<{ integrations: IntegrationOut[]; next_cursor: string | null }>(
      client,
      "manage_integrations",
      { action: "list", limit: 2, cursor: first.next_cursor },
    );
    expect(second).toMatchObject({ next_cursor: null, integrations: [{ provider: "segment", name: "a" }] });
    const generic = await callOk<{ integrations: IntegrationOut[] }>(client, "manage_integrations", {
      action: "list",
      provider: "generic",
      status: "active",
    });
    expect(generic.integrations.map((i) => i.name).sort()).toEqual(["b", "c"]);
  });

  it("keeps each workspace's integrations to itself", async () => {
    const { integration } = await callOk<Reveal>(adminClient, "manage_integrations", {
      action: "create",
      provider: "generic",
      name: "Private",
    });
    const missing = `No integration with id "${integration.id}" in this workspace. Use list or search tools to find valid ids.`;
    for (const action of ["get", "rotate", "disable", "enable"]) {
      expect(await callError(otherClient, "manage_integrations", { action, integration_id: integration.id })).toBe(
        missing,
      );
    }
    const listed = await callOk<{ integrations: IntegrationOut[] }>(otherClient, "manage_integrations", {
      action: "list",
    });
    expect(listed.integrations).toEqual([]);
  });

  it("is admin only: a csm key does not see it and gets HTTP 403", async () => {
    const csm = await createWorkspace("integrations-mcp", "csm");
    const client = await connectClient(csm.key);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("manage_integrations");
    await expect(client.callTool({ name: "manage_integrations", arguments: { action: "list" } })).rejects.toMatchObject(
      {
        code: 403,
        message: expect.stringContaining(
          "Forbidden: manage_integrations needs the admin role; this credential has csm.",
        ),
      },
    );
  });
});
