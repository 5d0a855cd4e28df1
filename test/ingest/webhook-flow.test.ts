import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callOk, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";
import { segmentHeaders, stripeHeaders } from "../helpers/webhook-signing";

/**
 * End to end through the real local queue: a signed delivery is verified, recorded, queued,
 * consumed and written into the data model; the tools then show it.
 */
async function until<T>(read: () => Promise<T | null | undefined>, what: string): Promise<T> {
  // Bounded polling for the queue consumer, which runs on its own; not a timing assertion.
  for (let attempt = 0; attempt < 100; attempt++) {
    const value = await read();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function createIntegration(
  key: string,
  provider: string,
  secret?: string,
): Promise<{ id: string; secret: string }> {
  const created = await callOk<{ integration: { id: string }; secret: string | null }>(
    await connectClient(key),
    "manage_integrations",
    { action: "create", provider, name: `${provider} e2e`, ...(secret ? { secret } : {}) },
  );
  return { id: created.integration.id, secret: created.secret ?? secret ?? "" };
}

async function post(path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return workerFetch(path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

describe("webhook → queue → data model", () => {
  it("turns a signed Segment group call into an account the tools list", async () => {
    const ws = await createWorkspace("flow-segment", "admin");
    const integration = await createIntegration(ws.key, "segment");
    const body = JSON.stringify({
      type: "group",
      messageId: "grp-flow-1",
      groupId: "flow-acme",
      userId: "u-1",
      traits: { name: "Flow Acme", industry: "Logistics", employees: 240, website: "https://flowacme.io" },
      timestamp: "2026-11-20T10:00:00.000Z",
    });
    const response = await post(
      `/webhooks/segment/${integration.id}`,
      body,
      await segmentHeaders(integration.secret, body),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });
    const account = await until(
      () =>
        env.DB.prepare(
          "SELECT name, industry, employees, domain FROM accounts WHERE workspace_id = ?1 AND external_id = 'flow-acme'",
        )
          .bind(ws.workspaceId)
          .first(),
      "the Segment account",
    );
    expect(account).toEqual({ name: "Flow Acme", industry: "Logistics", employees: 240, domain: "flowacme.io" });
    const receipt = await until(
      () =>
        env.DB.prepare("SELECT status FROM webhook_receipts WHERE integration_id = ?1 AND status = 'processed'")
          .bind(integration.id)
          .first<{ status: string }>(),
      "the processed receipt",
    );
    expect(receipt.status).toBe("processed");
    const listed = await callOk<{ accounts: { name: string }[] }>(await connectClient(ws.key), "list_accounts", {
      text: "Flow Acme",
    });
    expect(listed.accounts.map((a) => a.name)).toEqual(["Flow Acme"]);
  });

  it("records a failed Stripe invoice as a payment of the matching account", async () => {
    const ws = await createWorkspace("flow-stripe", "admin");
    await env.DB.prepare(
      "INSERT INTO accounts (id, workspace_id, external_id, name) VALUES ('acc_flow_stripe', ?1, 'cus_FLOW1', 'Stripe Flow Co')",
    )
      .bind(ws.workspaceId)
      .run();
    const integration = await createIntegration(ws.key, "stripe", "whsec_flowtestsecret0123456789");
    const body = JSON.stringify({
      id: "evt_flow_1",
      type: "invoice.payment_failed",
      created: 1_795_000_000,
      data: {
        object: {
          id: "in_flow_1",
          object: "invoice",
          customer: "cus_FLOW1",
          amount_due: 125_000,
          amount_paid: 0,
          currency: "usd",
          status: "open",
          attempt_count: 2,
          due_date: 1_795_600_000,
        },
      },
    });
    const response = await post(
      `/webhooks/stripe/${integration.id}`,
      body,
      await stripeHeaders(integration.secret, body),
    );
    expect(response.status).toBe(200);
    const payment = await until(
      () =>
        env.DB.prepare(
          "SELECT account_id, amount, currency, status, attempt_count FROM payments WHERE workspace_id = ?1 AND external_id = 'in_flow_1'",
        )
          .bind(ws.workspaceId)
          .first(),
      "the Stripe payment",
    );
    expect(payment).toEqual({
      account_id: "acc_flow_stripe",
      amount: 1250,
      currency: "USD",
      status: "failed",
      attempt_count: 2,
    });
  });
});
