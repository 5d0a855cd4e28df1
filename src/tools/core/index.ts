import { outboxRoutes } from "../../http/outbox";
import { defineToolset } from "../../platform/toolset";
import { finishAgentErasures } from "../../records/erasure";
import { configureWorkspace } from "./configure-workspace";
import { fetchDocument } from "./fetch";
import { getAccountOverview } from "./get-account-overview";
import { getAccountTimeline } from "./get-account-timeline";
import { getWorkspaceOverview } from "./get-workspace-overview";
import { importRecords } from "./import-records";
import { listAccounts } from "./list-accounts";
import { listOutbox } from "./list-outbox";
import { logActivity } from "./log-activity";
import { manageDeadLetters } from "./manage-dead-letters";
import { manageIntegrations } from "./manage-integrations";
import { managePrivacy } from "./manage-privacy";
import { manageTasks } from "./manage-tasks";
import { reviewAuditLog } from "./review-audit-log";
import { search } from "./search";

/** The core toolset. */
export const core = defineToolset({
  name: "core",
  description:
    "Platform: search/fetch, workspace overview and settings, import, accounts, timeline, activities, tasks, privacy and the audit log.",
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
    managePrivacy,
    reviewAuditLog,
  ],
  crons: { "0 3 * * *": [finishAgentErasures] },
  routes: outboxRoutes,
});
