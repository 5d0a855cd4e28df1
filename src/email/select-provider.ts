import { outboxProvider } from "./outbox";
import type { EmailProvider } from "./provider";
import { sendgridProvider } from "./sendgrid";

/**
 * The provider for this deployment. SendGrid whenever `SENDGRID_API_KEY` is set; otherwise the
 * outbox, which keeps the rendered message in D1 only. `EMAIL_PROVIDER = "sendgrid"` without a
 * key is a configuration error rather than a silent fall back to the outbox, so mail that was
 * meant to leave is never just marked sent.
 */
export function emailProviderFor(env: Pick<Env, "SENDGRID_API_KEY" | "EMAIL_PROVIDER">): EmailProvider {
  if (env.SENDGRID_API_KEY) return sendgridProvider(env.SENDGRID_API_KEY);
  if (env.EMAIL_PROVIDER === "sendgrid") {
    throw new Error("EMAIL_PROVIDER is sendgrid but the SENDGRID_API_KEY secret is not set");
  }
  return outboxProvider;
}
