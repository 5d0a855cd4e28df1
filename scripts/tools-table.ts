/**
 * Rewrites the tool table between `<!-- tools:start -->` and `<!-- tools:end -->` in README.md
 * from the registered tool definitions (`npm run docs:tools`). A test keeps the two equal.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { requiredRole } from "../src/mcp/tool";
import { ALL_TOOLS } from "../src/tools";

const rows = ALL_TOOLS.map(
  (tool) =>
    `| \`${tool.name}\` | ${tool.toolset} | ${tool.annotations.readOnlyHint ? "read" : "write"} | ${requiredRole(tool)} | ${tool.title} |`,
);
const table = ["| tool | toolset | kind | least role | title |", "|---|---|---|---|---|", ...rows].join("\n");

const readme = readFileSync("README.md", "utf8");
const [before, rest] = readme.split("<!-- tools:start -->");
const after = rest?.split("<!-- tools:end -->")[1];
if (before === undefined || after === undefined) throw new Error("README.md lacks the tools markers");
writeFileSync("README.md", `${before}<!-- tools:start -->\n${table}\n<!-- tools:end -->${after}`);
console.log(`README.md: ${rows.length} tools`);
