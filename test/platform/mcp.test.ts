import { describe, expect, it } from "vitest";
import { callOk, connectClient, createWorkspace, workerFetch } from "../helpers/mcp";

describe("MCP endpoint", () => {
  it("answers /healthz", async () => {
    const response = await workerFetch("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  it("lists tools and calls get_workspace_overview with an API key", async () => {
    const { key } = await createWorkspace("acme");
    const client = await connectClient(key);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("get_workspace_overview");
    const overview = await callOk<{ workspace: { slug: string }; counts: { accounts: number } }>(
      client,
      "get_workspace_overview",
    );
    expect(overview.workspace.slug).toBe("acme");
    expect(overview.counts.accounts).toBe(0);
  });

  it("refuses a missing token with the resource-metadata challenge", async () => {
    const response = await workerFetch("/mcp", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("resource_metadata=");
  });
});
