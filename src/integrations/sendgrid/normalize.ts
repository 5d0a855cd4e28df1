/**
 * SendGrid Event Webhook: the body is an array of events and each element is its own receipt.
 * The message is found by our outbox id (`outbox_id`, a custom argument the sender sets; the
 * webhook sends custom arguments as top-level keys) or by `sg_message_id`, whose part before the
 * first dot is the `X-Message-Id` stored as `provider_message_id`.
 *
 * | SendGrid event                     | Data model                                                                |
 * |------------------------------------|---------------------------------------------------------------------------|
 * | `delivered`                        | outbox status delivered                                                   |
 * | `open`                             | status opened, opened_at = timestamp (the first open wins)               |
 * | `click`                            | status clicked, clicked_at = timestamp (the first click wins)            |
 * | `bounce` (type bounce)             | status bounced; suppression `bounce`; matching contacts bounced           |
 * | `bounce` (type blocked)            | status bounced (a block is not a permanent bounce: no suppression)       |
 * | `dropped` (reason Bounced Address / Unsubscribed Address / Spam Reporting Address) | suppression bounce (and status bounced) / unsubscribe / spam_report |
 * | `spamreport`                       | suppression `spam_report`; matching contacts spam_reported                |
 * | `unsubscribe`, `group_unsubscribe` | suppression `unsubscribe`; matching contacts unsubscribed (a group unsubscribe is treated as a full one) |
 * | `processed`, `deferred`, `group_resubscribe`, other drops | nothing                                         |
 *
 * Status never moves backwards (clicked > opened > delivered/bounced > sent > queued), whatever
 * the order of delivery. Events for messages we did not send still suppress their address.
 */

import { emailAt, idAt, objectAt, pathAt, unixSecondsAt } from "../../ingest/read";
import type { Change, EmailEventChange, NormalizeContext } from "../../ingest/records";
import { PayloadError } from "../../ingest/records";

/** Normalizes one SendGrid event. */
export function normalizeSendgrid(payload: unknown, context: NormalizeContext): Change[] {
  const event = objectAt(payload);
  const name = idAt(event?.event);
  if (!event || !name) throw new PayloadError("a SendGrid event needs an event name");
  const base: EmailEventChange = {
    kind: "email_event",
    outboxId: idAt(event.outbox_id) ?? idAt(pathAt(event, "custom_args", "outbox_id")) ?? null,
    providerMessageId: idAt(event.sg_message_id)?.split(".")[0] ?? null,
    email: emailAt(event.email) ?? null,
    status: null,
    at: unixSecondsAt(event.timestamp) ?? context.receivedAt,
    suppression: null,
  };
  switch (name) {
    case "delivered":
      return [{ ...base, status: "delivered" }];
    case "open":
      return [{ ...base, status: "opened" }];
    case "click":
      return [{ ...base, status: "clicked" }];
    case "bounce":
      return [{ ...base, status: "bounced", suppression: idAt(event.type) === "blocked" ? null : "bounce" }];
    case "dropped": {
      const reason = idAt(event.reason)?.toLowerCase() ?? "";
      if (reason.includes("bounced")) return [{ ...base, status: "bounced", suppression: "bounce" }];
      if (reason.includes("unsubscribed")) return [{ ...base, suppression: "unsubscribe" }];
      if (reason.includes("spam")) return [{ ...base, suppression: "spam_report" }];
      return [];
    }
    case "spamreport":
      return [{ ...base, suppression: "spam_report" }];
    case "unsubscribe":
    case "group_unsubscribe":
      return [{ ...base, suppression: "unsubscribe" }];
    default:
      return [];
  }
}
