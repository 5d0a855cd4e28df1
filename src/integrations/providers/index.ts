import type { WebhookProvider } from "../../ingest/messages";
import { generic } from "./generic";
import { hubspot } from "./hubspot";
import { intercom } from "./intercom";
import { segment } from "./segment";
import { sendgrid } from "./sendgrid";
import { stripe } from "./stripe";
import type { ProviderReceiver } from "./types";
import { zendesk } from "./zendesk";

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
