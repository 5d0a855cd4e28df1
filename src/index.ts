import { consumeEvents } from "./ingest/consumer";
import { createApp } from "./platform/http/app";
import { misdirected, refusedHost } from "./platform/http/hosts";
import { oauthProvider, type ProviderHandlers } from "./platform/http/oauth";
import { handleMcpRequest } from "./platform/mcp/handler";
import { runScheduled } from "./platform/queue/cron";
import { jobsConsumer } from "./platform/queue/jobs";
import { handleQueue } from "./platform/queue/router";
import { REGISTRY } from "./toolsets";

export { AccountAgent } from "./agents/account-agent";

const app = createApp(REGISTRY.routes);
const handlers: ProviderHandlers = {
  mcp: (request, env, ctx, props) => handleMcpRequest(REGISTRY, request, env, ctx, props),
  app: (request, env, ctx) => app.fetch(request, env, ctx),
};
const consumers = { "cs-events": consumeEvents, "cs-jobs": jobsConsumer(REGISTRY.jobs) };

export default {
  fetch(request, env, ctx) {
    const refused = refusedHost(env, request);
    if (refused) return misdirected(refused);
    return oauthProvider(env, request, handlers).fetch(request, env, ctx);
  },
  async queue(batch, env) {
    await handleQueue(batch, env, consumers);
  },
  async scheduled(controller, env) {
    await runScheduled(env, REGISTRY.crons, controller.cron, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
