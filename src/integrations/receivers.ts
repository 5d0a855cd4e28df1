import type { WebhookProvider } from "../ingest/messages";
import { generic } from "./generic/receive";
import { hubspot } from "./hubspot/receive";
import { intercom } from "./intercom/receive";
import type { ProviderReceiver } from "./receive";
import { segment } from "./segment/receive";
import { sendgrid } from "./sendgrid/receive";
import { stripe } from "./stripe/receive";
import { zendesk } from "./zendesk/receive";

/** The verifier and event splitter of each webhook provider. */
export const RECEIVERS: Record<WebhookProvider, ProviderReceiver> = {
  segment,
  zendesk,
  intercom,
  hubspot,
  stripe,
  sendgrid,
  generic,
};
