import { WEBHOOK_PROVIDERS, type WebhookProvider } from "../ingest/messages";

/** Every kind of integration: the webhook senders, and Slack, which we only send to. */
export const INTEGRATION_PROVIDERS = [...WEBHOOK_PROVIDERS, "slack"] as const;
export type IntegrationProvider = (typeof INTEGRATION_PROVIDERS)[number];

/** True for providers that post to `/webhooks/<provider>/<id>`. */
export function isWebhookProvider(provider: string): provider is WebhookProvider {
  return (WEBHOOK_PROVIDERS as readonly string[]).includes(provider);
}

/**
 * Where an integration's secret comes from: `generated` by us unless the admin brings one;
 * `provider` issued by the provider (often only once the webhook URL is saved there, so it may
 * be given later through rotate); `required` given at creation.
 */
export type SecretSource = "generated" | "provider" | "required";

/** What an admin needs to set an integration up at the provider's end. */
export interface ProviderGuide {
  secretSource: SecretSource;
  /** Where the secret comes from, in words. */
  secret: string;
  /** Where the webhook URL is entered at the provider. */
  configureAt: string;
  /** Events to enable (empty for outbound integrations). */
  events: string[];
  /** How deliveries are signed (or how the secret is used). */
  signature: string;
}

/** Setup facts per provider, shown with a new or rotated secret. */
export const PROVIDER_GUIDES: Record<IntegrationProvider, ProviderGuide> = {
  segment: {
    secretSource: "generated",
    secret: "Generated here (or bring your own, at least 16 characters); paste it as the destination's Shared Secret.",
    configureAt:
      "Segment: Connections → Destinations → add Webhooks (Actions) to the source; in its Send mapping set the URL to the webhook URL, method POST; Settings → Shared Secret.",
    events: ["track", "identify", "group", "page"],
    signature: "X-Signature: hex HMAC-SHA1(shared secret, raw body). Deduplicated on messageId.",
  },
  zendesk: {
    secretSource: "provider",
    secret:
      "Issued by Zendesk: Admin Center → Apps and integrations → Webhooks → the webhook → Reveal secret. Create without a secret, save the URL in Zendesk, then rotate with the revealed secret.",
    configureAt:
      "Zendesk Admin Center → Apps and integrations → Webhooks → Create webhook: endpoint URL = the webhook URL, method POST, format JSON; subscribe it to events, or connect it to triggers.",
    events: [
      "zen:event-type:ticket.created (or a trigger on ticket created)",
      "ticket updated / solved (trigger with a JSON body carrying the ticket)",
      "satisfaction rating (trigger on CSAT received)",
    ],
    signature:
      "X-Zendesk-Webhook-Signature: base64 HMAC-SHA256(secret, X-Zendesk-Webhook-Signature-Timestamp + raw body); timestamp ISO-8601 within 5 minutes. Deduplicated on the event id (else webhook id + invocation id).",
  },
  intercom: {
    secretSource: "provider",
    secret: "Your Intercom app's client secret: Developer Hub → your app → Basic information → Client secret.",
    configureAt:
      "Intercom Developer Hub → your app → Webhooks: endpoint URL = the webhook URL; choose the topics below.",
    events: [
      "conversation.user.created",
      "conversation.user.replied",
      "conversation.admin.replied",
      "conversation.admin.closed",
      "contact.user.created",
      "contact.lead.created",
    ],
    signature:
      "X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, raw body)>. The ping topic is answered and not stored.",
  },
  hubspot: {
    secretSource: "provider",
    secret: "Your HubSpot app's client secret: developer account → the app → Auth → Client secret.",
    configureAt:
      "HubSpot developer account → the app → Webhooks: target URL = the webhook URL exactly (no redirect in front of it); create the subscriptions below.",
    events: [
      "company.creation",
      "company.propertyChange",
      "contact.creation",
      "contact.propertyChange",
      "deal.creation",
      "deal.propertyChange",
    ],
    signature:
      "X-HubSpot-Signature-v3: base64 HMAC-SHA256(client secret, method + URI + raw body + X-HubSpot-Request-Timestamp); timestamp in ms within 5 minutes. One receipt per eventId.",
  },
  stripe: {
    secretSource: "provider",
    secret:
      "The endpoint's signing secret (whsec_…), shown by Stripe once the endpoint exists: create without a secret, add the endpoint in Stripe, then rotate with its whsec_ secret.",
    configureAt:
      "Stripe Dashboard → Developers → Webhooks → Add endpoint: URL = the webhook URL; select the events below.",
    events: [
      "invoice.paid",
      "invoice.payment_failed",
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ],
    signature:
      "Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256(whsec secret, t + '.' + raw body)>; any v1 may match; t within 300 s. Deduplicated on the event id.",
  },
  sendgrid: {
    secretSource: "provider",
    secret:
      "The Event Webhook verification key (base64 public key), shown by SendGrid when Signed Event Webhook is enabled: create without it, save the URL in SendGrid, enable signing, then rotate with the key.",
    configureAt:
      "SendGrid → Settings → Mail Settings → Event Webhook: HTTP POST URL = the webhook URL; select the events below; enable Signed Event Webhook.",
    events: ["delivered", "open", "click", "bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe"],
    signature:
      "X-Twilio-Email-Event-Webhook-Signature: base64 DER ECDSA P-256/SHA-256 over X-Twilio-Email-Event-Webhook-Timestamp (unix s, within 5 minutes) + raw body, checked with the public key. One receipt per sg_event_id.",
  },
  generic: {
    secretSource: "generated",
    secret: "Generated here (or bring your own, at least 16 characters); the sender signs with it.",
    configureAt: "Your sender: POST JSON to the webhook URL with the two headers described under signature.",
    events: ['{ "id": "<unique event id>", "type": "<entity>", … }'],
    signature:
      "X-Webhook-Timestamp: <unix s> and X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + '.' + raw body)>; within 5 minutes. Deduplicated on id.",
  },
  slack: {
    secretSource: "required",
    secret:
      "A Slack incoming-webhook URL (https://hooks.slack.com/services/…): Slack → your app → Incoming Webhooks → Add New Webhook.",
    configureAt: "Nothing to configure in Slack beyond creating the incoming webhook: alerts are posted to it.",
    events: [],
    signature: "Outbound only: the URL itself is the secret.",
  },
};
