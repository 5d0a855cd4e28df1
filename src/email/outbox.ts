import type { EmailProvider } from "./provider";

/**
 * The default provider: the rendered message already lives in `outbox_messages`, where the
 * `list_outbox` tool and the local `/outbox` page show it; sending only marks it sent.
 */
export const outboxProvider: EmailProvider = {
  name: "outbox",
  async send() {
    return { providerMessageId: null };
  },
};
