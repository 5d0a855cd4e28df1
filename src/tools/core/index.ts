import type { ToolDefinition } from "../../mcp/tool";
import { getAccountOverview, listAccounts } from "./accounts";
import { logActivity } from "./activities";
import { configureWorkspace } from "./configure";
import { manageDeadLetters } from "./dead-letters";
import { fetchDocument } from "./fetch";
import { importRecords } from "./import";
import { manageIntegrations } from "./integrations";
import { listOutbox } from "./outbox";
import { getWorkspaceOverview } from "./overview";
import { search } from "./search";
import { manageTasks } from "./tasks";
import { getAccountTimeline } from "./timeline";

/** The core toolset, in the order tools are listed. */
export const coreTools: ToolDefinition[] = [
  getWorkspaceOverview,
  search,
  fetchDocument,
  listAccounts,
  getAccountOverview,
  getAccountTimeline,
  configureWorkspace,
  importRecords,
  logActivity,
  manageTasks,
  manageIntegrations,
  listOutbox,
  manageDeadLetters,
];
