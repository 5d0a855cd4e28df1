/** A rendered message ready to hand to a provider. */
export interface OutboundEmail {
  outboxId: string;
  workspaceId: string;
  to: { email: string; name: string | null };
  from: { email: string; name: string };
  subject: string;
  text: string;
  html: string | null;
  /** What made the message (`manual`, `reminder`, `campaign:<id>`…), sent as a category. */
  origin: string;
}

/** What a provider reports for an accepted message. */
export interface SendReceipt {
  /** The provider's id for the message (SendGrid's `X-Message-Id`), matched by its event webhook. */
  providerMessageId: string | null;
}

/** Delivers rendered messages. Throwing {@link PermanentSendError} means retrying cannot help. */
export interface EmailProvider {
  readonly name: "outbox" | "sendgrid";
  send(email: OutboundEmail): Promise<SendReceipt>;
}

/**
 * The provider refused the message for a reason a retry will not change (bad request,
 * rejected credentials): the message is marked failed instead of being retried.
 */
export class PermanentSendError extends Error {
  override readonly name = "PermanentSendError";
}
