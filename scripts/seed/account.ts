/**
 * The CRM side of one account: the account row, its stage history, contacts, contracts with
 * their items, opportunities and onboarding plan, all derived from the account's profile.
 */
import { billingCycle, stripeCustomerId } from "./billing";
import { productByKey } from "./catalog";
import { productId, type SeedContext, userId, workInstant } from "./context";
import { type AccountProfile, demand, lastActiveDay, stageAt, termOn } from "./profile";
import { Rng } from "./random";
import type {
  AccountRow,
  AccountStageHistoryRow,
  ContactRow,
  ContractItemRow,
  ContractRow,
  OnboardingMilestoneRow,
  OnboardingPlanRow,
  OpportunityRow,
} from "./rows";
import { asciiSlug, CONTACT_ROLES, FIRST_NAMES, LAST_NAMES } from "./vocabulary";

/** A contact as the rest of the generator needs it. */
export interface ContactInfo {
  id: string;
  first: string;
  name: string;
  role: string;
  isChampion: boolean;
  created: number;
  left: number | null;
  unsubscribed: boolean;
  bounced: boolean;
}

/** True when the contact worked at the customer on `day`. */
export function isPresent(contact: ContactInfo, day: number): boolean {
  return contact.created <= day && (contact.left === null || contact.left > day);
}

/** The account row, with `arr` and `renewal_date` taken from its active contract. */
export function accountRow(ctx: SeedContext, p: AccountProfile): AccountRow {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:row`);
  const active = p.terms.find((t) => t.status === "active");
  return {
    id: p.id,
    workspace_id: ctx.workspaceId,
    external_id: `crm-${p.ordinal}`,
    name: p.name,
    domain: p.domain,
    industry: p.industry.name,
    employees: p.employees,
    region: p.region,
    plan: p.plan.name,
    segment: p.segment,
    tier: p.tier,
    lifecycle_stage: p.lifecycleStage,
    owner_user_id: userId(ctx, p.ownerUserKey),
    status: p.churnDay === null ? "active" : "churned",
    arr: active?.arr ?? 0,
    health_score: null,
    health_band: null,
    renewal_date: active ? ctx.cal.day(active.end) : null,
    customer_since: ctx.cal.day(p.customerSince),
    churned_at: p.churnDay === null ? null : ctx.cal.day(p.churnDay),
    churn_probability: null,
    source_updated_at: null,
    custom_fields: JSON.stringify({
      hq_country: p.country,
      primary_use_case: rng.pick(p.industry.useCases),
      billing_cycle: billingCycle(p),
      stripe_customer_id: stripeCustomerId(ctx, p),
    }),
    created_at: workInstant(ctx, rng, p.customerSince - rng.int(15, 90), p.region),
    updated_at: ctx.cal.instant(-1, 23 * 3600),
  };
}

/** Stage changes by the default lifecycle rules, evaluated at every day a rule can flip. */
export function stageHistoryRows(ctx: SeedContext, p: AccountProfile): AccountStageHistoryRow[] {
  const candidates = new Set<number>([p.customerSince, p.customerSince + 90, p.customerSince + 365]);
  for (const term of p.terms) {
    candidates.add(term.end - 90);
    candidates.add(term.end);
  }
  if (p.declineStart !== null) candidates.add(p.declineStart + 30);
  if (p.churnDay !== null) candidates.add(p.churnDay);
  const days = [...candidates].filter((d) => d >= p.customerSince && d <= 0).sort((a, b) => a - b);
  const rows: AccountStageHistoryRow[] = [];
  let current: string | null = null;
  for (const day of days) {
    const { stage, reason } = stageAt(p, day);
    if (stage === current) continue;
    rows.push({
      id: `stg_${ctx.slug}_${p.ordinal}_${String(rows.length + 1).padStart(2, "0")}`,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      from_stage: current,
      to_stage: stage,
      reason,
      // The daily lifecycle job runs at 03:00 UTC.
      changed_at: ctx.cal.instant(day, 3 * 3600),
    });
    current = stage;
  }
  return rows;
}

/** The buying committee and users, including champions who left. */
export function buildContacts(ctx: SeedContext, p: AccountProfile): { infos: ContactInfo[]; rows: ContactRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:contacts`);
  const last = lastActiveDay(p);
  const count = p.segment === "SMB" ? rng.int(3, 6) : p.segment === "Mid-Market" ? rng.int(5, 10) : rng.int(8, 15);
  const roles = ["champion", "decision_maker"];
  if (p.segment !== "SMB" || rng.chance(0.3)) roles.push("economic_buyer");
  if (p.segment === "Enterprise") roles.push("executive_sponsor");
  if (p.segment !== "SMB") roles.push("admin");
  while (roles.length < count) roles.push("user");

  const usedNames = new Set<string>();
  const newPerson = () => {
    for (;;) {
      const first = rng.pick(FIRST_NAMES);
      const lastName = rng.pick(LAST_NAMES);
      const name = `${first} ${lastName}`;
      if (usedNames.has(name)) continue;
      usedNames.add(name);
      return { first, name, email: `${asciiSlug(first)}.${asciiSlug(lastName)}@${p.domain}` };
    }
  };
  const infos: (ContactInfo & { email: string; title: string })[] = [];
  const add = (role: string, created: number, isChampion: boolean) => {
    const person = newPerson();
    const info = {
      id: `con_${ctx.slug}_${p.ordinal}_${String(infos.length + 1).padStart(2, "0")}`,
      first: person.first,
      name: person.name,
      email: person.email,
      title: rng.pick(CONTACT_ROLES[role] ?? CONTACT_ROLES.user!),
      role,
      isChampion,
      created,
      left: null as number | null,
      unsubscribed: rng.chance(0.04),
      bounced: false,
    };
    infos.push(info);
    return info;
  };
  for (const role of roles) {
    const lateJoiner = role === "user" && rng.chance(0.4) && last - p.customerSince > 40;
    const created = lateJoiner
      ? p.customerSince + rng.int(20, last - p.customerSince)
      : p.customerSince - rng.int(0, 25);
    add(role, created, role === "champion");
  }

  const champion = infos[0]!;
  if (p.trajectory === "declining" && p.declineStart !== null && rng.chance(0.65)) {
    champion.left = rng.int(p.declineStart - 20, -10);
  } else if (p.churnReason === "champion_left" && p.churnDay !== null) {
    champion.left = Math.max(p.customerSince + 60, p.churnDay - rng.int(60, 150));
  } else if (p.trajectory === "churned" && p.churnReason !== "acquired" && p.churnDay !== null && rng.chance(0.25)) {
    champion.left = Math.max(p.customerSince + 60, p.churnDay - rng.int(30, 120));
  } else if (last - p.customerSince > 400 && rng.chance(0.08)) {
    // A champion moved on long ago and a successor took over.
    champion.left = p.customerSince + rng.int(120, last - p.customerSince - 60);
    const successorStart = champion.left + rng.int(14, 45);
    if (successorStart <= last) add("champion", successorStart, true);
  }
  for (const c of infos) {
    if (c.left === null && !c.isChampion && rng.chance(0.06) && last - c.created > 90) {
      c.left = rng.int(c.created + 60, last);
    }
    // Mail to people who left tends to bounce.
    c.bounced = c.left !== null ? rng.chance(0.6) : rng.chance(0.02);
  }

  const rows = infos.map((c): ContactRow => {
    let seenUntil = c.left ?? last;
    const quietChampion = p.trajectory === "declining" && c.isChampion && c.left === null;
    if (quietChampion) seenUntil = Math.min(seenUntil, -rng.int(25, 60));
    const seen = Math.max(c.created, seenUntil - rng.int(0, 10));
    return {
      id: c.id,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      external_id: `crm-${p.ordinal}-c${c.id.slice(-2)}`,
      name: c.name,
      email: c.email,
      title: c.title,
      role: c.role,
      is_champion: c.isChampion ? 1 : 0,
      is_decision_maker: c.role === "decision_maker" || c.role === "economic_buyer" ? 1 : 0,
      unsubscribed: c.unsubscribed ? 1 : 0,
      bounced: c.bounced ? 1 : 0,
      last_seen_at: seen <= -1 ? workInstant(ctx, rng, seen, p.region) : null,
      left_at: c.left === null ? null : workInstant(ctx, rng, c.left, p.region),
      spam_reported: 0,
      source_updated_at: null,
      created_at: workInstant(ctx, rng, c.created, p.region),
    };
  });
  return { infos, rows };
}

/** Contracts as a contiguous chain of annual terms, and their line items. */
export function contractRows(
  ctx: SeedContext,
  p: AccountProfile,
): { contracts: ContractRow[]; items: ContractItemRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:contracts`);
  const contracts: ContractRow[] = [];
  const items: ContractItemRow[] = [];
  let previous: ContractRow | null = null;
  for (const term of p.terms) {
    const n = term.index + 1;
    const prior = p.terms[term.index - 1];
    const row: ContractRow = {
      id: `ctr_${ctx.slug}_${p.ordinal}_${n}`,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      external_id: `crm-ctr-${p.ordinal}-${n}`,
      start_date: ctx.cal.day(term.start),
      end_date: ctx.cal.day(term.end),
      status: term.status,
      auto_renew: p.autoRenew ? 1 : 0,
      arr: term.arr,
      outcome: term.outcome,
      outcome_reason: term.outcomeReason,
      outcome_date: term.outcomeDay === null ? null : ctx.cal.day(term.outcomeDay),
      previous_contract_id: previous?.id ?? null,
      source_updated_at: null,
      created_at: workInstant(ctx, rng, prior?.outcomeDay ?? term.start - rng.int(3, 20), p.region),
    };
    contracts.push(row);
    for (const item of term.items) {
      items.push({
        id: `cti_${ctx.slug}_${p.ordinal}_${n}_${item.product.key}`,
        workspace_id: ctx.workspaceId,
        contract_id: row.id,
        product_id: productId(ctx, item.product.key),
        seats: item.seats,
        arr: item.arr,
      });
    }
    previous = row;
  }
  return { contracts, items };
}

/** Closed renewal and expansion deals of the past, and the open pipeline. */
export function opportunityRows(ctx: SeedContext, p: AccountProfile): OpportunityRow[] {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:opportunities`);
  const rows: OpportunityRow[] = [];
  const add = (
    kind: OpportunityRow["kind"],
    name: string,
    status: OpportunityRow["status"],
    stage: string,
    amount: number,
    probability: number,
    close: number,
    created: number,
  ) => {
    const n = String(rows.length + 1).padStart(2, "0");
    rows.push({
      id: `opp_${ctx.slug}_${p.ordinal}_${n}`,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      external_id: `crm-opp-${p.ordinal}-${n}`,
      name,
      kind,
      stage,
      status,
      amount: Math.round(amount),
      probability,
      close_date: ctx.cal.day(close),
      product_id: null,
      source: "crm",
      score: null,
      source_updated_at: null,
      created_at: workInstant(ctx, rng, created, p.region),
    });
  };
  for (const term of p.terms) {
    const year = ctx.cal.year(term.end);
    const created = Math.max(term.start, term.end - 120);
    if (term.status === "ended" && term.outcomeDay !== null) {
      const next = p.terms[term.index + 1];
      if (term.outcome === "churned") {
        add("renewal", `${p.name} renewal ${year}`, "lost", "closed_lost", term.arr, 0, term.outcomeDay, created);
      } else if (next) {
        add("renewal", `${p.name} renewal ${year}`, "won", "closed_won", next.arr, 1, term.outcomeDay, created);
        if (term.outcome === "expanded") {
          const kind = term.outcomeReason === "more_seats" ? "upsell" : "cross_sell";
          const label = kind === "upsell" ? `${next.seats - term.seats} additional seats` : "add-on";
          add(kind, `${p.name} ${label}`, "won", "closed_won", next.arr - term.arr, 1, term.outcomeDay, created);
        }
      }
      continue;
    }
    if (term.status !== "active") continue;
    const daysLeft = term.end;
    if (daysLeft <= 150) {
      const stage =
        daysLeft > 90 ? "identified" : daysLeft > 60 ? "qualified" : daysLeft > 30 ? "proposal" : "negotiation";
      const probability =
        p.trajectory === "declining"
          ? 0.35
          : p.trajectory === "growing"
            ? 0.9
            : p.trajectory === "seasonal"
              ? 0.75
              : 0.85;
      add(
        "renewal",
        `${p.name} renewal ${year}`,
        "open",
        stage,
        term.arr,
        probability,
        term.end,
        Math.min(-1, term.end - 150),
      );
    }
    const current = demand(p, ctx.cal, -1);
    if (p.trajectory === "growing" && current > 0.85 * term.seats) {
      const extra = Math.max(1, Math.ceil(current / 0.8) - term.seats);
      const close = Math.min(term.end, rng.int(30, 90));
      add(
        "upsell",
        `${p.name} +${extra} seats`,
        "open",
        "qualified",
        extra * p.plan.price * (1 - p.discount),
        0.55,
        close,
        -rng.int(5, 40),
      );
    }
    const owned = new Set(term.items.map((i) => i.product.key));
    const candidates = ["automation", "ai", "connectors"].filter((k) => !owned.has(k));
    if ((p.trajectory === "healthy" || p.trajectory === "growing") && candidates.length > 0 && rng.chance(0.15)) {
      const addOn = productByKey(rng.pick(candidates));
      add(
        "cross_sell",
        `${p.name} ${addOn.name}`,
        "open",
        "identified",
        term.seats * 0.5 * addOn.price * (1 - p.discount),
        0.3,
        rng.int(30, 150),
        -rng.int(3, 60),
      );
    }
  }
  return rows;
}

/** The onboarding plan and its milestones (accounts that started within ~18 months). */
export function onboardingRows(
  ctx: SeedContext,
  p: AccountProfile,
): { plans: OnboardingPlanRow[]; milestones: OnboardingMilestoneRow[] } {
  if (!p.onboarding) return { plans: [], milestones: [] };
  const rng = new Rng(`${ctx.seed}:account:${p.index}:onboarding`);
  const planId = `obp_${ctx.slug}_${p.ordinal}`;
  const steps = p.onboarding.milestones;
  const goLive = steps.at(-1)!;
  const finished = goLive.done !== null && goLive.done < 0;
  const milestones = steps.map(
    (m, i): OnboardingMilestoneRow => ({
      id: `obm_${ctx.slug}_${p.ordinal}_${i + 1}`,
      workspace_id: ctx.workspaceId,
      plan_id: planId,
      name: m.name,
      position: i + 1,
      due_date: ctx.cal.day(m.due),
      completed_at: m.done !== null && m.done < 0 ? workInstant(ctx, rng, m.done, p.region) : null,
      status: m.skipped ? "skipped" : m.done !== null && m.done < 0 ? "done" : "pending",
    }),
  );
  const plan: OnboardingPlanRow = {
    id: planId,
    workspace_id: ctx.workspaceId,
    account_id: p.id,
    name: `${p.name} onboarding`,
    template: p.onboarding.template,
    start_date: ctx.cal.day(p.customerSince),
    target_date: ctx.cal.day(goLive.due),
    status: finished ? "completed" : "active",
    completed_at: finished ? milestones.at(-1)!.completed_at : null,
    ttv_target_days: p.onboarding.ttvTargetDays,
    created_at: workInstant(ctx, rng, p.customerSince - rng.int(1, 5), p.region),
  };
  return { plans: [plan], milestones };
}

/** Licensed seats (core plan seats) on a day; 0 outside any contract. */
export function seatsOn(p: AccountProfile, day: number): number {
  return termOn(p, day)?.seats ?? 0;
}
