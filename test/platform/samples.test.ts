/**
 * Every tool's sample calls on a generated demo workspace, in registry order (writes included):
 * each answers without an error and within its output schema (the client checks
 * `structuredContent` against the listed one), and every read tool and read action has one.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { exampleArgs } from "../../src/platform/mcp/examples";
import { REGISTRY } from "../../src/toolsets";
import { type DemoWorkspace, loadDemoWorkspace } from "../helpers/demo-workspace";
import { connectClient } from "../helpers/mcp";
import { readCalls } from "../helpers/read-calls";

let demo: DemoWorkspace;
let client: Client;

beforeAll(async () => {
  demo = await loadDemoWorkspace("samples", { accounts: 30 });
  client = await connectClient(demo.adminKey, "?toolsets=all");
}, 180_000);

describe("sample calls", () => {
  it("every tool has a sample call, and every read tool and read action one of its own", () => {
    expect(REGISTRY.tools.filter((tool) => tool.examples.length === 0).map((tool) => tool.name)).toEqual([]);
    const missing = readCalls(REGISTRY.tools).filter(
      ({ tool, action }) =>
        !REGISTRY.toolByName.get(tool)?.examples.some((example) => example.args(demo.ids).action === action),
    );
    expect(missing.map((call) => call.key)).toEqual([]);
  });

  it.each(REGISTRY.tools.map((tool) => ({ name: tool.name, tool })))(
    "$name answers each of its sample calls",
    async ({ tool }) => {
      for (const example of tool.examples) {
        const args = exampleArgs(example, demo.ids);
        expect(args, `${tool.name}: ${example.title} names a record the demo lacks`).not.toBeNull();
        const result = await client.callTool({ name: tool.name, arguments: args ?? {} });
        expect(result.isError, `${tool.name} ${example.title}: ${JSON.stringify(result.content)}`).toBeFalsy();
        expect(result.structuredContent, `${tool.name} ${example.title}`).toBeDefined();
      }
    },
    60_000,
  );
});
