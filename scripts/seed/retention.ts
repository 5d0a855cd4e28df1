/**
 * Retention history of one account: escalations raised from its worst tickets, and the save
 * interventions its CSM ran once usage began to fall, closed with the outcome its contracts show.
 */
import { type SeedContext, userId } from "./context";
import { type AccountProfile, termOn } from "./profile";
import { Rng } from "./random";
import type { EscalationEventRow, EscalationRow, InterventionRow, InterventionStepRow, TicketRow } from "./rows";

/** Hours to resolve by severity: the workspace settings' defaults. */
const SLA_HOURS = { critical: 4, high: 24, medium: 72, low: 168 } as const;
type Severity = keyof typeof SLA_HOURS;

const ROOT_CAUSES: Readonly<Record<string, readonly string[]>> = {
  bug: ["Product defect in a recent release", "Regression in report rendering"],
  performance: ["Database capacity during peak hours", "Slow queries on large workspaces"],
  outage: ["Infrastructure incident in the region", "Failed deployment rolled back"],
  integration: ["Integration misconfigured after a credential change", "Third-party API change"],
  billing: ["Invoice generated with the wrong seat count", "Payment method expired"],
  how_to: ["Training gap on the admin side", "Documentation out of date"],
  feature_request: ["Missing capability promised in the sales cycle"],
};

const UPDATES = [
  "Engineering reproduced the issue",
  "Workaround shared with the customer",
  "Fix scheduled for the next release",
  "Call held with the customer's admin",
];

/** Playbook by why an account is slipping, and the steps each one ran. */
const PLAYBOOK_BY_REASON: Readonly<Record<string, string>> = {
  low_adoption: "adoption_workshop",
  champion_left: "executive_sponsor",
  budget: "commercial_concession",
  competitor: "renewal_rescue",
  acquired: "executive_sponsor",
};
const SLIPPING_PLAYBOOKS = ["adoption_workshop", "support_review", "executive_sponsor"] as const;
const PLAYBOOK_STEPS: Readonly<Record<string, readonly (readonly ["task" | "email", string])[]>> = {
  adoption_workshop: [
    ["task", "Review feature adoption and inactive seats"],
    ["email", "Invite the team to an adoption workshop"],
    ["task", "Run the workshop and agree adoption goals"],
  ],
  executive_sponsor: [
    ["task", "Map the new stakeholders"],
    ["email", "Executive sponsor introduction"],
    ["task", "Hold the executive business review"],
  ],
  commercial_concession: [
    ["task", "Quantify value delivered this term"],
    ["task", "Prepare a right-sized renewal offer"],
    ["email", "Send the renewal options"],
  ],
  renewal_rescue: [
    ["task", "Competitive gap review with product"],
    ["email", "Roadmap briefing invitation"],
    ["task", "Renewal negotiation call"],
  ],
  support_review: [
    ["task", "Review open and recent tickets with support"],
    ["email", "Share the support action plan"],
    ["task", "Follow-up call on resolved issues"],
  ],
};

const DAY_MS = 86_400_000;

/** Fractional day offset of an ISO instant from the demo's anchor day. */
function offsetOf(ctx: SeedContext, instant: string): number {
  return (Date.parse(instant) - Date.parse(`${ctx.cal.anchorDay}T00:00:00Z`)) / DAY_MS;
}

/** The escalations raised from an account's tickets, with their timelines. */
export function escalationRows(
  ctx: SeedContext,
  p: AccountProfile,
  tickets: readonly TicketRow[],
): { escalations: EscalationRow[]; events: EscalationEventRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:escalations`);
  const escalations: EscalationRow[] = [];
  const events: EscalationEventRow[] = [];
  const owner = userId(ctx, p.ownerUserKey);
  for (const ticket of tickets) {
    const created = offsetOf(ctx, ticket.created_at);
    const troubled = p.declineStart !== null && created >= p.declineStart;
    const raise =
      ticket.priority === "urgent" ? rng.chance(0.5) : ticket.priority === "high" && troubled && rng.chance(0.25);
    if (!raise) continue;
    const severity: Severity =
      ticket.priority === "urgent" ? (p.segment === "Enterprise" ? "critical" : "high") : "medium";
    const id = `esc_${ctx.slug}_${p.ordinal}_${String(escalations.length + 1).padStart(3, "0")}`;
    const opened = created + rng.real(1, 8) / 24;
    if (opened >= 0) continue;
    const sla = SLA_HOURS[severity];
    // An escalation of a ticket still unsolved stays unresolved too; slipping accounts' take longer.
    const stuck = ticket.solved_at === null || (troubled && opened > -21 && rng.chance(0.6));
    let resolved = stuck ? Number.POSITIVE_INFINITY : opened + rng.logNormal(sla * (troubled ? 1.2 : 0.5), 0.6) / 24;
    const reopened = resolved < -3 && rng.chance(0.1) ? resolved + rng.real(1, 3) : null;
    if (reopened !== null) resolved = reopened + rng.logNormal(sla * 0.5, 0.5) / 24;
    const isResolved = resolved < 0;
    const timeline: [number, EscalationEventRow["kind"], string | null][] = [
      [opened, "opened", `Raised from ticket ${ticket.external_id} (${ticket.priority})`],
      [opened + 0.02, "assigned", null],
    ];
    if (severity === "critical" || severity === "high") timeline.push([opened + 0.01, "notified", "Slack alert sent"]);
    const span = Math.min(resolved, 0) - opened;
    for (let k = 0; k < rng.int(1, 2); k++) {
      const at = opened + span * rng.real(0.2, 0.8);
      if (at < 0) timeline.push([at, "updated", rng.pick(UPDATES)]);
    }
    if (reopened !== null) timeline.push([reopened, "reopened", "The customer reported the problem again"]);
    const rootCause = rng.pick(ROOT_CAUSES[ticket.category] ?? ROOT_CAUSES.how_to!);
    if (isResolved) timeline.push([resolved, "resolved", rootCause]);
    timeline.sort((a, b) => a[0] - b[0]);
    const status: EscalationRow["status"] = isResolved
      ? "resolved"
      : timeline.some((t) => t[1] === "updated")
        ? "in_progress"
        : "open";
    const slaFrom = reopened ?? opened;
    escalations.push({
      id,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      ticket_id: ticket.id,
      // The team names it; the ticket's subject is customer-written and stays on the ticket.
      title: `${severity[0]?.toUpperCase()}${severity.slice(1)} ${ticket.category.replace("_", " ")} escalation`,
      description: `${severity} escalation of a ${ticket.category.replace("_", " ")} ticket`,
      severity,
      status,
      owner_user_id: owner,
      sla_due_at: new Date(Date.parse(ctx.cal.instantAt(slaFrom)) + sla * 3_600_000).toISOString(),
      opened_at: ctx.cal.instantAt(opened),
      resolved_at: isResolved ? ctx.cal.instantAt(resolved) : null,
      root_cause: isResolved ? rootCause : null,
      resolution: isResolved ? "Fixed and confirmed with the customer" : null,
      reopen_count: reopened !== null && reopened < 0 ? 1 : 0,
      created_by: owner,
    });
    timeline.forEach(([at, kind, note], i) => {
      if (at >= 0) return;
      events.push({
        id: `${id}_e${i + 1}`,
        workspace_id: ctx.workspaceId,
        escalation_id: id,
        at: ctx.cal.instantAt(at),
        kind,
        actor_user_id: owner,
        note,
      });
    });
  }
  return { escalations, events };
}

/**
 * The save intervention opened a few weeks after usage began to fall (or, for some steady
 * accounts, a couple of months before a renewal they signed), closed by what the contracts show next: a renewal or expansion saved it, a contraction downsized it, churn lost it.
 */
export function interventionRows(
  ctx: SeedContext,
  p: AccountProfile,
): { interventions: InterventionRow[]; steps: InterventionStepRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:interventions`);
  let openDay: number;
  if (p.declineStart !== null) {
    openDay = p.declineStart + rng.int(21, 60);
  } else {
    // Some steady accounts had a scare before a renewal they went on to sign: the saves.
    const renewed = p.terms.filter(
      (t) => (t.outcome === "renewed" || t.outcome === "expanded") && t.outcomeDay !== null && t.outcomeDay < -30,
    );
    const term = renewed.length > 0 && rng.chance(0.2) ? rng.pick(renewed) : null;
    if (!term || term.outcomeDay === null) return { interventions: [], steps: [] };
    openDay = term.outcomeDay - rng.int(45, 100);
  }
  if (openDay >= -1 || (p.churnDay !== null && openDay >= p.churnDay)) return { interventions: [], steps: [] };
  const playbook = (p.churnReason && PLAYBOOK_BY_REASON[p.churnReason]) ?? rng.pick(SLIPPING_PLAYBOOKS);
  const openTerm = termOn(p, openDay);
  const next = p.terms.find((t) => t.outcomeDay !== null && t.outcomeDay > openDay && t.outcomeDay < 0);
  let outcome: InterventionRow["outcome"] = null;
  let closeDay: number | null = null;
  let arrAtClose: number | null = null;
  if (next?.outcome) {
    outcome = next.outcome === "churned" ? "churned" : next.outcome === "contracted" ? "downsized" : "saved";
    closeDay = next.outcomeDay;
    arrAtClose = outcome === "churned" ? 0 : (p.terms.find((t) => t.index === next.index + 1)?.arr ?? next.arr);
  }
  const owner = userId(ctx, p.ownerUserKey);
  const id = `int_${ctx.slug}_${p.ordinal}`;
  const template = PLAYBOOK_STEPS[playbook] ?? PLAYBOOK_STEPS.support_review!;
  const steps = template.map(([kind, title], i): InterventionStepRow => {
    const due = openDay + 7 * (i + 1);
    const done = closeDay !== null ? due < closeDay : due < -7 && i === 0;
    return {
      id: `${id}_s${i + 1}`,
      workspace_id: ctx.workspaceId,
      intervention_id: id,
      position: i + 1,
      kind,
      title,
      status: done ? "done" : closeDay !== null ? "skipped" : "pending",
      task_id: null,
      outbox_id: null,
      due_date: ctx.cal.day(due),
      completed_at: done ? ctx.cal.instant(due - 1, 15 * 3600) : null,
    };
  });
  const intervention: InterventionRow = {
    id,
    workspace_id: ctx.workspaceId,
    account_id: p.id,
    playbook,
    owner_user_id: owner,
    status: closeDay === null ? "open" : "closed",
    outcome,
    reason:
      p.declineStart === null
        ? "Health fell before the renewal"
        : p.churnReason
          ? `Usage falling; suspected ${p.churnReason.replace("_", " ")}`
          : "Usage falling",
    arr_at_open: openTerm?.arr ?? 0,
    arr_at_close: arrAtClose,
    campaign_id: null,
    opened_at: ctx.cal.instant(openDay, 10 * 3600),
    closed_at: closeDay === null ? null : ctx.cal.instant(closeDay, 16 * 3600),
    created_by: owner,
  };
  return { interventions: [intervention], steps };
}
