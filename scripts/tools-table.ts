/**
 * Rewrites the tool table between `<!-- tools:start -->` and `<!-- tools:end -->` in README.md
 * from `test/__toolsnaps__/<tool>.json`, the committed `tools/list` entries that a test keeps
 * equal to the registered tools (`npm run docs:tools`). Another test keeps the table equal to it.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

interface ListedTool {
  name: string;
  title?: string;
  annotations?: { readOnlyHint?: boolean };
  _meta?: Record<string, string>;
}

const tools = readdirSync("test/__toolsnaps__")
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => JSON.parse(readFileSync(`test/__toolsnaps__/${file}`, "utf8")) as ListedTool);
const order = ["core", "onboarding", "health", "retention", "communication", "support", "expansion", "feedback"];
const toolsetOf = (tool: ListedTool): string => tool._meta?.["cs-mcp/toolset"] ?? "";
tools.sort((a, b) => order.indexOf(toolsetOf(a)) - order.indexOf(toolsetOf(b)) || a.name.localeCompare(b.name));

const rows = tools.map(
  (tool) =>
    `| \`${tool.name}\` | ${toolsetOf(tool)} | ${tool.annotations?.readOnlyHint ? "read" : "write"} | ${tool._meta?.["cs-mcp/min_role"] ?? ""} | ${tool.title ?? ""} |`,
);
const table = ["| tool | toolset | kind | least role | title |", "|---|---|---|---|---|", ...rows].join("\n");

const readme = readFileSync("README.md", "utf8");
const [before, rest] = readme.split("<!-- tools:start -->");
const after = rest?.split("<!-- tools:end -->")[1];
if (before === undefined || after === undefined) throw new Error("README.md lacks the tools markers");
writeFileSync("README.md", `${before}<!-- tools:start -->\n${table}\n<!-- tools:end -->${after}`);
console.log(`README.md: ${rows.length} tools`);
