/**
 * Invoices of one account, as billing (Stripe) would report them: one per billing period of each
 * contract term, paid on time as a rule; accounts in trouble miss payments more often, and some
 * of those failures are never recovered.
 */
import type { SeedContext } from "./context";
import { type AccountProfile, lastActiveDay } from "./profile";
import { Rng } from "./random";
import type { PaymentRow } from "./rows";

/** Enterprise accounts are billed yearly; the others quarterly. */
export function billingCycle(p: AccountProfile): "annual" | "quarterly" {
  return p.segment === "Enterprise" ? "annual" : "quarterly";
}

/** The billing system's customer id of an account (kept in its custom fields for matching). */
export function stripeCustomerId(ctx: SeedContext, p: AccountProfile): string {
  return `cus_${ctx.slug}${p.ordinal}`;
}

export function paymentRows(ctx: SeedContext, p: AccountProfile): PaymentRow[] {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:payments`);
  const period = billingCycle(p) === "annual" ? 365 : 91;
  const last = Math.min(lastActiveDay(p), -1);
  const rows: PaymentRow[] = [];
  for (const term of p.terms) {
    for (let issue = term.start; issue < term.end && issue <= last; issue += period) {
      const troubled = p.declineStart !== null && issue >= p.declineStart;
      const failRate = p.churnReason === "budget" && troubled ? 0.35 : troubled ? 0.2 : 0.02;
      const due = issue + 30;
      const amount = Math.round(((term.arr * Math.min(period, term.end - issue)) / 365) * 100) / 100;
      let status: PaymentRow["status"];
      let paidAt: number | null = null;
      let failedAt: number | null = null;
      let attempts = 1;
      if (rng.chance(failRate)) {
        failedAt = issue + rng.real(1, 5);
        const recovered = failedAt + rng.real(3, 20);
        if (rng.chance(0.65) && recovered < 0) {
          status = "paid";
          paidAt = recovered;
          attempts = rng.int(2, 3);
        } else {
          status = failedAt < 0 ? "failed" : "open";
          attempts = rng.int(1, 4);
        }
      } else {
        const paid = issue + rng.real(0, 25);
        if (paid < 0 && !(due > 0 && rng.chance(0.5))) {
          status = "paid";
          paidAt = paid;
        } else {
          status = "open";
          attempts = 0;
        }
      }
      const n = String(rows.length + 1).padStart(3, "0");
      const latest = Math.max(issue, paidAt ?? issue, failedAt !== null && failedAt < 0 ? failedAt : issue);
      rows.push({
        id: `pay_${ctx.slug}_${p.ordinal}_${n}`,
        workspace_id: ctx.workspaceId,
        account_id: p.id,
        external_id: `in_${ctx.slug}${p.ordinal}${n}`,
        customer_ref: stripeCustomerId(ctx, p),
        amount,
        currency: "USD",
        status,
        due_date: ctx.cal.day(due),
        paid_at: paidAt === null ? null : ctx.cal.instantAt(paidAt),
        failed_at: failedAt === null || failedAt >= 0 ? null : ctx.cal.instantAt(failedAt),
        attempt_count: attempts,
        source_updated_at: ctx.cal.instantAt(latest),
        created_at: ctx.cal.instant(issue, 8 * 3600),
      });
    }
  }
  return rows;
}
