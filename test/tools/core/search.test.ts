import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { callError, callOk } from "../../helpers/mcp";
import { seedReadWorkspace } from "./read-fixture";

let client: Client;

beforeAll(async () => {
  client = await seedReadWorkspace();
});

interface SearchResult {
  id: string;
  title: string;
  url: string;
  kind: string;
  title_is_customer_text: boolean;
  snippet: string | null;
  customer_text: { snippet: string } | null;
}

describe("search", () => {
  const ids = async (args: Record<string, unknown>) =>
    (await callOk<{ results: SearchResult[] }>(client, "search", args)).results.map((r) => r.id);

  it("finds an account by name, ranks the title match first and never returns another workspace's rows", async () => {
    const { results } = await callOk<{ results: SearchResult[] }>(client, "search", { query: "orbit" });
    expect(results.map((r) => r.id)).toEqual(["account:acc_cr_1", "ticket:tkt_cr_15"]);
    expect(results[0]).toEqual({
      id: "account:acc_cr_1",
      title: "Orbit Logistics",
      url: "cs-mcp://account/acc_cr_1",
      kind: "account",
      title_is_customer_text: false,
      snippet: "**Orbit** Logistics",
      customer_text: null,
    });
    expect(results[1]).toMatchObject({ title_is_customer_text: true, snippet: null });
    expect(results[1]!.customer_text!.snippet).toContain("**orbit**");
  });

  it("finds an account by domain and a ticket by a word of its body, with stemming", async () => {
    expect(await ids({ query: "nimbus.health" })).toEqual(["account:acc_cr_2"]);
    expect(await ids({ query: "timeout" })).toEqual(["ticket:tkt_cr_11"]);
    expect(await ids({ query: "crashing" })).toEqual(["ticket:tkt_cr_11"]);
    expect(await ids({ query: "evergr*" })).toEqual(["account:acc_cr_7"]);
  });

  it("filters by kind and returns only published knowledge-base articles", async () => {
    expect(await ids({ query: "orbit", kinds: ["ticket"] })).toEqual(["ticket:tkt_cr_15"]);
    expect(await ids({ query: "export", kinds: ["kb_article"] })).toEqual(["kb_article:kb_cr_1"]);
    expect(await ids({ query: "export", kinds: ["kb_article", "feedback"], limit: 1 })).toHaveLength(1);
  });

  it("survives hostile queries with a clean result or an actionable error, never an internal error", async () => {
    for (const query of ['"', "*", "()", "-"]) {
      const message = await callError(client, "search", { query });
      expect(message).toContain("no searchable words");
    }
    for (const query of [
      "AND OR",
      "NEAR(",
      'NEAR("a" "b", 2)',
      "title:orbit",
      "orbit OR",
      "^orbit",
      "{title}: x",
      "x'; DROP",
    ]) {
      const result = await client.callTool({ name: "search", arguments: { query } });
      expect(result.isError, query).toBeFalsy();
    }
    expect(await ids({ query: 'orbit"' })).toEqual(["account:acc_cr_1", "ticket:tkt_cr_15"]);
    const long = await callError(client, "search", { query: "a".repeat(300) });
    expect(long).toContain("query");
    expect(long).not.toContain("Internal error");
  });

  it("says a missing query is required, without a JavaScript word in the message", async () => {
    // zod's own wording was "expected string, received undefined".
    const missing = await callError(client, "search", {});
    expect(missing).toContain("query: Required (expected string)");
    expect(missing).not.toMatch(/undefined/);
  });
});
