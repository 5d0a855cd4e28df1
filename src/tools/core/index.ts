import { outboxRoutes } from "../../http/outbox";
import { defineToolset } from "../../platform/toolset";
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

/** The core toolset. */
export const core = defineToolset({
  name: "core",
  description:
    "Platform: search/fetch, workspace overview and settings, import, accounts, timeline, activities, tasks.",
  isDefault: true,
  tools: [
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
  ],
  routes: outboxRoutes,
});
