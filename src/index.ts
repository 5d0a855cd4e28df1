import { oauthProvider } from "./auth/oauth";
import { runScheduled } from "./jobs/cron";
import { consumeEvents } from "./jobs/events";
import { consumeJobs } from "./jobs/jobs-consumer";
import { handleQueue } from "./jobs/queue";

export { AccountAgent } from "./agents/account-agent";

export default {
  fetch(request, env, ctx) {
    return oauthProvider(env, request).fetch(request, env, ctx);
  },
  async queue(batch, env) {
    await handleQueue(batch, env, { "cs-events": consumeEvents, "cs-jobs": consumeJobs });
  },
  async scheduled(controller, env) {
    await runScheduled(env, controller.cron, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
