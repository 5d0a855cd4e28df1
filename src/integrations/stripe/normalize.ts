/**
 * Stripe events (`{ id, type, created, data.object }`; one per receipt). `created` (Unix seconds)
 * is the newer-than time. The account is the one whose external_id is the Stripe customer id,
 * else the one whose `custom_fields.stripe_customer_id` is.
 *
 * | Stripe event                                   | Data model                                                       |
 * |------------------------------------------------|------------------------------------------------------------------|
 * | `invoice.paid`, `invoice.payment_succeeded`    | payments row (external_id = invoice id): status paid, amount = amount_paid, paid_at = status_transitions.paid_at (else the event time) |
 * | `invoice.payment_failed`                       | status failed, amount = amount_due, failed_at = the event time   |
 * | `invoice.finalized` / `invoice.voided`         | status open / void, amount = amount_due                          |
 * | every invoice event                            | currency (upper-case), due_date (day), attempt_count, customer_ref = customer id; amounts in major units (zero-decimal currencies as sent) |
 * | `customer.subscription.created` / `.updated`   | contracts row (external_id = subscription id): end_date = current_period_end (on the subscription, else the latest of its items), start_date (on create) = start_date, status (active, trialing, past_due, unpaid, incomplete → active; canceled → cancelled; incomplete_expired → ended), auto_renew = not cancel_at_period_end, arr = Σ items' unit_amount × quantity × billing periods per year (plan.amount × quantity for legacy plans) when prices are given |
 * | `customer.subscription.deleted`                | status cancelled, outcome churned, outcome_date = ended_at (else canceled_at, else the event time) |
 *
 * A contract needs an account: a subscription event for a customer no account matches fails
 * (and is retried) until the account exists. Payments are stored without an account then, with
 * customer_ref kept for matching. Account ARR and renewal date are refreshed in the same batch.
 */

import { column, columnsOf, idAt, numberAt, objectAt, pathAt, unixSecondsAt } from "../../ingest/read";
import { type AccountCandidate, type Change, type ColumnChange, PayloadError } from "../../ingest/records";

/** ISO 4217 currencies Stripe counts in whole units. */
const ZERO_DECIMAL = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);
const PERIODS_PER_YEAR: Record<string, number> = { day: 365, week: 52, month: 12, year: 1 };
const SUBSCRIPTION_STATUSES: Record<string, "active" | "cancelled" | "ended"> = {
  active: "active",
  trialing: "active",
  past_due: "active",
  unpaid: "active",
  incomplete: "active",
  paused: "active",
  canceled: "cancelled",
  incomplete_expired: "ended",
};
const INVOICE_EVENTS: Record<string, "paid" | "failed" | "open" | "void"> = {
  "invoice.paid": "paid",
  "invoice.payment_succeeded": "paid",
  "invoice.payment_failed": "failed",
  "invoice.finalized": "open",
  "invoice.voided": "void",
};

/** Normalizes one Stripe event. */
export function normalizeStripe(payload: unknown): Change[] {
  const event = objectAt(payload);
  const type = idAt(event?.type);
  const object = objectAt(pathAt(event, "data", "object"));
  if (!event || !type || !object) throw new PayloadError("a Stripe event needs type and data.object");
  const at = unixSecondsAt(event.created);
  if (!at) throw new PayloadError("a Stripe event needs created");
  const invoiceStatus = INVOICE_EVENTS[type];
  if (invoiceStatus) return [invoiceChange(object, invoiceStatus, at)];
  if (type === "customer.subscription.created" || type === "customer.subscription.updated") {
    return [subscriptionChange(object, at, false)];
  }
  if (type === "customer.subscription.deleted") return [subscriptionChange(object, at, true)];
  return [];
}

/** Minor units to major units for the currency. */
export function majorUnits(amount: number, currency: string | undefined): number {
  if (currency && ZERO_DECIMAL.has(currency.toLowerCase())) return amount;
  return Math.round(amount) / 100;
}

function customerAccount(customer: string): AccountCandidate[] {
  return [
    { by: "external_id", value: customer },
    { by: "custom_field", key: "stripe_customer_id", value: customer },
  ];
}

function customerOf(object: Record<string, unknown>): string | undefined {
  return idAt(object.customer) ?? idAt(pathAt(object, "customer", "id"));
}

function invoiceChange(
  invoice: Record<string, unknown>,
  status: "paid" | "failed" | "open" | "void",
  at: string,
): Change {
  const id = idAt(invoice.id);
  if (!id) throw new PayloadError("a Stripe invoice event needs the invoice id");
  const currency = idAt(invoice.currency);
  const minor = numberAt(status === "paid" ? invoice.amount_paid : invoice.amount_due);
  const customer = customerOf(invoice);
  const attempts = numberAt(invoice.attempt_count);
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({
      amount: minor === undefined ? undefined : majorUnits(minor, currency),
      currency: currency?.toUpperCase(),
      customer_ref: customer,
      due_date: unixSecondsAt(invoice.due_date)?.slice(0, 10),
      attempt_count: attempts !== undefined && Number.isInteger(attempts) && attempts >= 0 ? attempts : undefined,
    }),
    status: column(status),
  };
  if (status === "paid")
    columns.paid_at = column(unixSecondsAt(pathAt(invoice, "status_transitions", "paid_at")) ?? at);
  if (status === "failed") columns.failed_at = column(at);
  return {
    kind: "row",
    table: "payments",
    externalId: id,
    columns,
    sourceUpdatedAt: at,
    ...(customer ? { account: customerAccount(customer) } : {}),
    label: `Stripe invoice ${id}`,
  };
}

function subscriptionChange(subscription: Record<string, unknown>, at: string, deleted: boolean): Change {
  const id = idAt(subscription.id);
  const customer = customerOf(subscription);
  if (!id || !customer) throw new PayloadError("a Stripe subscription event needs the subscription and customer ids");
  const items = pathAt(subscription, "items", "data");
  const itemList = Array.isArray(items) ? items.map(objectAt).filter((item) => item !== undefined) : [];
  const periodEnd =
    unixSecondsAt(subscription.current_period_end) ??
    itemList
      .map((item) => unixSecondsAt(item.current_period_end))
      .filter((end): end is string => end !== undefined)
      .sort()
      .at(-1);
  const start = unixSecondsAt(subscription.start_date) ?? unixSecondsAt(subscription.current_period_start);
  const state = idAt(subscription.status);
  const status = deleted ? "cancelled" : state ? SUBSCRIPTION_STATUSES[state] : undefined;
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({
      end_date: periodEnd?.slice(0, 10),
      status,
      arr: annualValue(subscription, itemList),
      auto_renew:
        typeof subscription.cancel_at_period_end === "boolean"
          ? subscription.cancel_at_period_end
            ? 0
            : 1
          : undefined,
    }),
  };
  if (start) columns.start_date = column(start.slice(0, 10), "insert");
  if (deleted) {
    const ended = unixSecondsAt(subscription.ended_at) ?? unixSecondsAt(subscription.canceled_at) ?? at;
    columns.outcome = column("churned");
    columns.outcome_date = column(ended.slice(0, 10));
  }
  return {
    kind: "row",
    table: "contracts",
    externalId: id,
    columns,
    sourceUpdatedAt: at,
    account: customerAccount(customer),
    accountMerge: "insert",
    accountRequired: true,
    label: `Stripe subscription ${id}`,
  };
}

/** The subscription's yearly value in major units, when its prices say it. */
function annualValue(subscription: Record<string, unknown>, items: Record<string, unknown>[]): number | undefined {
  let total = 0;
  let priced = false;
  for (const item of items) {
    const price = objectAt(item.price) ?? objectAt(item.plan);
    const unit = numberAt(price?.unit_amount) ?? numberAt(price?.amount);
    const interval = idAt(pathAt(price, "recurring", "interval")) ?? idAt(price?.interval);
    const every = numberAt(pathAt(price, "recurring", "interval_count")) ?? numberAt(price?.interval_count) ?? 1;
    const perYear = interval ? PERIODS_PER_YEAR[interval] : undefined;
    if (unit === undefined || perYear === undefined || every <= 0) continue;
    total += majorUnits(unit * (numberAt(item.quantity) ?? 1), idAt(price?.currency)) * (perYear / every);
    priced = true;
  }
  if (!priced) {
    const plan = objectAt(subscription.plan);
    const amount = numberAt(plan?.amount);
    const perYear = PERIODS_PER_YEAR[idAt(plan?.interval) ?? ""];
    const every = numberAt(plan?.interval_count) ?? 1;
    if (amount === undefined || perYear === undefined || every <= 0) return undefined;
    total = majorUnits(amount * (numberAt(subscription.quantity) ?? 1), idAt(plan?.currency)) * (perYear / every);
  }
  return Math.round(total * 100) / 100;
}
