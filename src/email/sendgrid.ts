import { type EmailProvider, type OutboundEmail, PermanentSendError } from "./provider";

/** SendGrid v3 Mail Send endpoint. */
export const SENDGRID_SEND_URL = "https://api.sendgrid.com/v3/mail/send";

/** A slow answer is treated like a network failure and retried by the queue. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The JSON body of a Mail Send request for one message. */
export function sendgridRequestBody(email: OutboundEmail): Record<string, unknown> {
  return {
    personalizations: [
      {
        to: [email.to.name ? { email: email.to.email, name: email.to.name } : { email: email.to.email }],
        // Echoed back on every event webhook call, so events find their outbox row and workspace.
        custom_args: { outbox_id: email.outboxId, workspace_id: email.workspaceId },
      },
    ],
    from: { email: email.from.email, name: email.from.name },
    subject: email.subject,
    // SendGrid requires text/plain before text/html.
    content: [
      { type: "text/plain", value: email.text },
      ...(email.html ? [{ type: "text/html", value: email.html }] : []),
    ],
    categories: [email.origin],
  };
}

/**
 * Sends through SendGrid. 202 is success (the message id comes in `X-Message-Id`); 408, 429
 * and 5xx are temporary and thrown for the queue to retry; any other answer is permanent.
 */
export function sendgridProvider(apiKey: string): EmailProvider {
  return {
    name: "sendgrid",
    async send(email) {
      const response = await fetch(SENDGRID_SEND_URL, {
        method: "POST",
        headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(sendgridRequestBody(email)),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.ok) return { providerMessageId: response.headers.get("X-Message-Id") };
      const detail = await errorDetail(response);
      const message = `SendGrid answered ${response.status}${detail ? `: ${detail}` : ""}`;
      if (response.status === 408 || response.status === 429 || response.status >= 500) throw new Error(message);
      throw new PermanentSendError(message);
    },
  };
}

/** SendGrid's own error messages (`{"errors":[{"message":…}]}`), shortened. */
async function errorDetail(response: Response): Promise<string> {
  const body = await response.text().catch(() => "");
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "errors" in parsed && Array.isArray(parsed.errors)) {
      const messages = parsed.errors
        .map((error: unknown) =>
          typeof error === "object" && error !== null && "message" in error ? String(error.message) : "",
        )
        .filter(Boolean);
      return messages.join("; ").slice(0, 300);
    }
  } catch {
    // Not JSON: fall through to the status text.
  }
  return response.statusText.slice(0, 100);
}
