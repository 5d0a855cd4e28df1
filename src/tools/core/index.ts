import type { ToolDefinition } from "../../mcp/tool";
import { getAccountOverview, listAccounts } from "./accounts";
import { fetchDocument } from "./fetch";
import { getWorkspaceOverview } from "./overview";
import { search } from "./search";
import { getAccountTimeline } from "./timeline";

/** The core toolset, in the order tools are listed. */
export const coreTools: ToolDefinition[] = [
  getWorkspaceOverview,
  search,
  fetchDocument,
  listAccounts,
  getAccountOverview,
  getAccountTimeline,
];
