/**
 * THE registry: every toolset the server offers, in the order their tools are listed, plus the
 * work that belongs to no toolset. Adding a toolset is one folder under `src/tools/` and one line
 * here. The platform (MCP, queues, cron, pages) reads {@link REGISTRY} and imports no tool.
 *
 * @module
 */
import { slackAlertJob } from "./alerts/slack";
import { sendEmailJob } from "./email/deliver";
import { requeueStaleReceipts } from "./ingest/requeue";
import { webhookRoutes } from "./ingest/routes";
import { createRegistry, defineToolset, type ToolsetModule } from "./platform/toolset";
import { purgeExpiredDetail } from "./records/purge";
import { core } from "./tools/core";
import { expansion } from "./tools/expansion";
import { health } from "./tools/health";
import { retention } from "./tools/retention";

/** A toolset of the product whose tools are not built yet: selectable, and listed with no tools. */
function planned(name: string, description: string): ToolsetModule {
  return defineToolset({ name, description, isDefault: false, tools: [] });
}

/** The toolsets, in listing order. */
export const TOOLSETS: readonly ToolsetModule[] = [
  core,
  planned(
    "onboarding",
    "Onboarding & training (processes 79–86): plans, automation, training, certification, journey, time-to-value.",
  ),
  health,
  retention,
  planned(
    "communication",
    "Communication & engagement (102–107): email, workflows, community, advocacy, executive reviews, newsletters.",
  ),
  planned(
    "support",
    "Support & self-service (108–113): tickets, routing, knowledge base, customer portal, support performance.",
  ),
  expansion,
  planned(
    "feedback",
    "Feedback & product intelligence (122–127): feedback, sentiment, product insights, KPI dashboard, VoC.",
  ),
];

/** The registry the Worker serves: the toolsets, and outbound delivery, ingestion and data retention. */
export const REGISTRY = createRegistry(TOOLSETS, {
  jobs: { send_email: sendEmailJob, slack_alert: slackAlertJob },
  crons: { "0 3 * * *": [purgeExpiredDetail], "*/10 * * * *": [requeueStaleReceipts] },
  routes: [webhookRoutes],
});
