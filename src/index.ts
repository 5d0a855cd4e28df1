import { oauthProvider } from "./auth/oauth";

export { AccountAgent } from "./agents/account-agent";

export default {
  fetch(request, env, ctx) {
    return oauthProvider(env, request).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
