/**
 * Account profiles: who each demo customer is, which trajectory it follows, and the contract
 * history that follows from its usage. Everything else about an account (usage, tickets,
 * surveys…) is derived from its profile, so the data tells one consistent story per account.
 *
 * Days are integer offsets from the anchor day (0 = anchor, negative = past).
 */
import type { Calendar } from "./calendar";
import { PRODUCTS, type Product, productByKey, TEAM } from "./catalog";
import { Rng } from "./random";
import { asciiSlug, INDUSTRIES, type Industry, NAME_HEADS, NAME_TAILS, PLACES, REGIONS } from "./vocabulary";

/** How an account's story unfolds. */
export type Trajectory = "healthy" | "growing" | "declining" | "seasonal" | "churned" | "onboarding";

/** Share of accounts per trajectory (applied as exact quotas, then shuffled). */
export const TRAJECTORY_SHARES: readonly (readonly [Trajectory, number])[] = [
  ["healthy", 0.4],
  ["growing", 0.16],
  ["declining", 0.13],
  ["seasonal", 0.08],
  ["churned", 0.15],
  ["onboarding", 0.08],
];

/** Why a churned account left (`contracts.outcome_reason` of its last term). */
export type ChurnReason = "low_adoption" | "budget" | "competitor" | "champion_left" | "acquired";

/** How far back the demo history reaches. */
export const HISTORY_DAYS = 1095;

/** One product line on a contract term. */
export interface TermItem {
  product: Product;
  seats: number;
  arr: number;
}

/** One annual contract term. Terms of an account are contiguous: each starts on the previous end. */
export interface ContractTerm {
  index: number;
  start: number;
  /** Exclusive end, which is also the renewal date and the next term's start. */
  end: number;
  items: TermItem[];
  arr: number;
  /** Seats of the core plan: the licensed seats. */
  seats: number;
  status: "active" | "ended";
  outcome: "renewed" | "churned" | "expanded" | "contracted" | null;
  outcomeReason: string | null;
  outcomeDay: number | null;
}

/** One step of an onboarding plan as scheduled and (if reached) completed. */
export interface MilestoneSchedule {
  name: string;
  due: number;
  /** Completion day; null when skipped. A day ≥ 0 is a projection: not yet done. */
  done: number | null;
  skipped: boolean;
}

/** The onboarding plan of an account that started within the last ~18 months. */
export interface OnboardingSchedule {
  template: string;
  ttvTargetDays: number;
  milestones: MilestoneSchedule[];
}

/** Name of the onboarding milestone that marks first value (the `report_shared` value event). */
export const VALUE_MILESTONE = "First report shared";

/** Everything the generator decides about one account before writing its rows. */
export interface AccountProfile {
  index: number;
  /** Zero-padded account number used in ids and external ids. */
  ordinal: string;
  id: string;
  name: string;
  domain: string;
  industry: Industry;
  employees: number;
  region: string;
  country: string;
  segment: "Enterprise" | "Mid-Market" | "SMB";
  plan: Product;
  tier: string;
  ownerUserKey: string;
  trajectory: Trajectory;
  customerSince: number;
  churnDay: number | null;
  churnReason: ChurnReason | null;
  /** Start of the usage decline (declining accounts, and churned ones before they left). */
  declineStart: number | null;
  declineDays: number;
  declineFloor: number;
  seats0: number;
  utilization: number;
  growthPerYear: number;
  eventsPerUser: number;
  sessionsPerUser: number;
  seasonalAmplitude: number;
  seasonalPeak: number;
  discount: number;
  autoRenew: boolean;
  /** Days from customer start until usage reaches its normal level. */
  rampDays: number;
  /** Day of the first value event (first report shared); null if not reached yet. */
  valueDay: number | null;
  onboarding: OnboardingSchedule | null;
  terms: ContractTerm[];
  lifecycleStage: string;
}

/** Options that shape the account list. */
export interface PlanOptions {
  seed: number;
  accounts: number;
  slug: string;
}

const CHURN_REASONS: readonly (readonly [ChurnReason, number])[] = [
  ["low_adoption", 30],
  ["budget", 20],
  ["competitor", 20],
  ["champion_left", 18],
  ["acquired", 12],
];

/** Add-on purchase probability per segment and the share of plan seats it covers. */
const ADD_ONS: readonly {
  key: string;
  p: Readonly<Record<AccountProfile["segment"], number>>;
  share: readonly [number, number];
}[] = [
  { key: "automation", p: { SMB: 0.12, "Mid-Market": 0.3, Enterprise: 0.45 }, share: [0.3, 0.7] },
  { key: "ai", p: { SMB: 0.1, "Mid-Market": 0.22, Enterprise: 0.35 }, share: [0.3, 0.8] },
  { key: "connectors", p: { SMB: 0.15, "Mid-Market": 0.4, Enterprise: 0.6 }, share: [1, 1] },
  { key: "api", p: { SMB: 0.03, "Mid-Market": 0.15, Enterprise: 0.35 }, share: [0.03, 0.06] },
  { key: "sso", p: { SMB: 0.05, "Mid-Market": 0.25, Enterprise: 0.5 }, share: [1, 1] },
  { key: "support", p: { SMB: 0.05, "Mid-Market": 0.2, Enterprise: 0.55 }, share: [1, 1] },
];

/**
 * Plans every account in order. Names and domains are unique across the workspace, which is why
 * planning is sequential; each account still draws from its own random stream.
 */
export function* planAccounts(options: PlanOptions, cal: Calendar): Generator<AccountProfile> {
  const trajectories = new Rng(`${options.seed}:trajectories`).shuffle(trajectoryQuota(options.accounts));
  const usedNames = new Set<string>();
  const usedDomains = new Set<string>();
  const width = Math.max(6, String(options.accounts).length);
  for (let index = 0; index < options.accounts; index++) {
    const rng = new Rng(`${options.seed}:account:${index}:profile`);
    const ordinal = String(index + 1).padStart(width, "0");
    const trajectory = trajectories[index]!;
    const industry = rng.pick(INDUSTRIES);
    const { name, domain } = companyName(rng, industry, usedNames, usedDomains);
    yield planAccount(rng, cal, {
      index,
      ordinal,
      id: `acc_${options.slug}_${ordinal}`,
      trajectory,
      industry,
      name,
      domain,
    });
  }
}

/** Exact trajectory counts for `n` accounts (largest remainder), in a fixed order. */
export function trajectoryQuota(n: number): Trajectory[] {
  const counts = TRAJECTORY_SHARES.map(([t, share]) => ({ t, exact: n * share, count: Math.floor(n * share) }));
  let missing = n - counts.reduce((sum, c) => sum + c.count, 0);
  const byRemainder = [...counts].sort((a, b) => b.exact - b.count - (a.exact - a.count));
  for (const c of byRemainder) {
    if (missing <= 0) break;
    c.count++;
    missing--;
  }
  return counts.flatMap((c) => Array.from({ length: c.count }, () => c.t));
}

function companyName(
  rng: Rng,
  industry: Industry,
  usedNames: Set<string>,
  usedDomains: Set<string>,
): { name: string; domain: string } {
  for (let attempt = 0; ; attempt++) {
    const noun = rng.pick(industry.nouns);
    const style = rng.next();
    let name: string;
    if (style < 0.6) name = `${rng.pick(NAME_HEADS)}${rng.pick(NAME_TAILS)} ${noun}`;
    else if (style < 0.8) name = `${rng.pick(PLACES)} ${noun}`;
    else name = `${rng.pick(NAME_HEADS)}${rng.pick(NAME_TAILS)}`;
    // After many collisions (very large workspaces), a number keeps names unique.
    if (attempt > 20) name = `${name} ${attempt}`;
    const tld = rng.chance(0.85) ? industry.tld : rng.pick(["co", "net", "com"]);
    const domain = `${asciiSlug(name)}.${tld}`;
    if (usedNames.has(name) || usedDomains.has(domain)) continue;
    usedNames.add(name);
    usedDomains.add(domain);
    return { name, domain };
  }
}

interface Identity {
  index: number;
  ordinal: string;
  id: string;
  trajectory: Trajectory;
  industry: Industry;
  name: string;
  domain: string;
}

function planAccount(rng: Rng, cal: Calendar, who: Identity): AccountProfile {
  const segment = rng.weighted<AccountProfile["segment"]>([
    ["SMB", 50],
    ["Mid-Market", 32],
    ["Enterprise", 18],
  ]);
  const [region, countries] = rng.weighted(REGIONS.map(([r, c, w]) => [[r, c] as const, w] as const));
  const country = rng.pick(countries);
  let employees: number;
  let seats0: number;
  let plan: Product;
  if (segment === "SMB") {
    employees = clamp(Math.round(rng.logNormal(45, 0.6)), 8, 199);
    seats0 = clamp(Math.round(employees * rng.real(0.15, 0.45)), 3, 60);
    plan = productByKey(rng.chance(0.65) ? "starter" : "professional");
  } else if (segment === "Mid-Market") {
    employees = clamp(Math.round(rng.logNormal(450, 0.5)), 200, 1999);
    seats0 = clamp(Math.round(employees * rng.real(0.05, 0.2)), 15, 300);
    plan = productByKey(rng.chance(0.7) ? "professional" : "enterprise");
  } else {
    employees = clamp(Math.round(rng.logNormal(6000, 0.9)), 2000, 120_000);
    seats0 = clamp(Math.round(employees * rng.real(0.015, 0.06)), 80, 2500);
    plan = productByKey(rng.chance(0.85) ? "enterprise" : "professional");
  }
  const discount =
    Math.round(
      (segment === "SMB" ? rng.real(0, 0.1) : segment === "Mid-Market" ? rng.real(0.05, 0.2) : rng.real(0.12, 0.3)) *
        100,
    ) / 100;
  const autoRenew = rng.chance(segment === "SMB" ? 0.7 : segment === "Mid-Market" ? 0.4 : 0.15);
  const owners = TEAM.filter((m) => m.role === "csm" && m.segments.includes(segment));
  const ownerUserKey = rng.pick(owners).key;

  const t = who.trajectory;
  const ageTail = (min: number) => min + Math.floor((HISTORY_DAYS - min) * (1 - Math.sqrt(1 - rng.next())));
  let customerSince: number;
  let churnDay: number | null = null;
  let churnReason: ChurnReason | null = null;
  if (t === "onboarding") customerSince = -rng.int(12, 110);
  else if (t === "churned") {
    const target = -rng.int(7, 700);
    const maxTerms = Math.max(1, Math.floor((target + HISTORY_DAYS) / 365));
    const terms = rng.int(1, maxTerms);
    customerSince = cal.addYears(target, -terms);
    churnDay = cal.addYears(customerSince, terms);
    churnReason = rng.weighted(CHURN_REASONS);
  } else if (t === "declining") customerSince = -ageTail(240);
  else if (t === "growing") customerSince = -ageTail(200);
  else customerSince = -ageTail(120);

  let declineStart: number | null = null;
  if (t === "declining") declineStart = -rng.int(60, 120);
  else if (t === "churned" && churnReason !== "acquired" && churnDay !== null)
    declineStart = churnDay - rng.int(90, 150);

  const byTrajectory: Record<Trajectory, { u: [number, number]; g: [number, number] }> = {
    healthy: { u: [0.62, 0.82], g: [0.02, 0.15] },
    growing: { u: [0.78, 0.88], g: [0.45, 0.85] },
    declining: { u: [0.6, 0.78], g: [0, 0.08] },
    seasonal: { u: [0.6, 0.78], g: [0, 0.08] },
    churned: { u: [0.5, 0.72], g: [-0.05, 0.04] },
    onboarding: { u: [0.6, 0.8], g: [0, 0.2] },
  };
  const profile: AccountProfile = {
    ...who,
    employees,
    region,
    country,
    segment,
    plan,
    tier: "",
    ownerUserKey,
    customerSince,
    churnDay,
    churnReason,
    declineStart,
    declineDays: rng.int(40, 75),
    declineFloor: t === "churned" ? rng.real(0.15, 0.35) : rng.real(0.18, 0.38),
    seats0,
    utilization: rng.real(...byTrajectory[t].u),
    growthPerYear: rng.real(...byTrajectory[t].g),
    eventsPerUser: clamp(rng.logNormal(24, 0.3), 8, 60),
    sessionsPerUser: rng.real(1.2, 2.2),
    seasonalAmplitude: t === "seasonal" ? rng.real(0.3, 0.45) : 0,
    seasonalPeak: who.industry.peakDay + rng.int(-20, 20),
    discount,
    autoRenew,
    rampDays: rng.int(25, 60),
    valueDay: customerSince + rng.int(7, 40),
    onboarding: null,
    terms: [],
    lifecycleStage: "",
  };
  if (customerSince >= -548) {
    profile.onboarding = scheduleOnboarding(rng, cal, profile);
    const goLive = profile.onboarding.milestones.at(-1)!;
    profile.rampDays = Math.max(10, (goLive.done ?? goLive.due) - customerSince);
    const value = profile.onboarding.milestones.find((m) => m.name === VALUE_MILESTONE)!;
    profile.valueDay = value.done !== null && value.done < 0 ? value.done : null;
  }
  profile.terms = planTerms(rng, cal, profile);
  const lastTerm = profile.terms.at(-1)!;
  profile.tier = lastTerm.arr >= 150_000 ? "Tier 1" : lastTerm.arr >= 30_000 ? "Tier 2" : "Tier 3";
  profile.lifecycleStage = stageAt(profile, 0).stage;
  return profile;
}

/** Standard onboarding steps: name, due day (mid-market scale) and typical slip in days. */
const MILESTONES: readonly (readonly [string, number, number])[] = [
  ["Kickoff", 3, 1],
  ["Technical setup", 10, 2],
  ["Integration", 20, 6],
  ["Training", 26, 2],
  [VALUE_MILESTONE, 30, 3],
  ["Go-live", 40, 3],
];

function scheduleOnboarding(rng: Rng, cal: Calendar, p: AccountProfile): OnboardingSchedule {
  const scale = p.segment === "SMB" ? 0.7 : p.segment === "Mid-Market" ? 1 : 1.6;
  const troubled = p.trajectory === "declining" || p.trajectory === "churned";
  const slipFactor = (troubled ? 1.8 : 1) * (p.segment === "Enterprise" ? 1.5 : 1);
  const skipIntegration = p.segment === "SMB" && rng.chance(0.6);
  let previous = p.customerSince;
  const milestones = MILESTONES.map(([name, dueDays, slip]): MilestoneSchedule => {
    const due = p.customerSince + Math.round(dueDays * scale);
    if (name === "Integration" && skipIntegration) return { name, due, done: null, skipped: true };
    const overrun = Math.round(rng.exponential(slip * slipFactor)) - rng.int(0, 2);
    const done = cal.weekdayOnOrAfter(Math.max(previous, due + overrun));
    previous = done;
    return { name, due, done, skipped: false };
  });
  const template = p.segment === "SMB" ? "smb-standard" : p.segment === "Mid-Market" ? "mid-market" : "enterprise";
  return { template, ttvTargetDays: Math.round(30 * scale), milestones };
}

function itemsFor(p: AccountProfile, seats: number, addOns: ReadonlyMap<string, number>): TermItem[] {
  const items: TermItem[] = [{ product: p.plan, seats, arr: Math.round(seats * p.plan.price * (1 - p.discount)) }];
  for (const product of PRODUCTS) {
    const share = addOns.get(product.key);
    if (share === undefined) continue;
    const addOnSeats = Math.max(product.key === "api" ? 2 : 1, Math.round(seats * share));
    items.push({ product, seats: addOnSeats, arr: Math.round(addOnSeats * product.price * (1 - p.discount)) });
  }
  return items;
}

function planTerms(rng: Rng, cal: Calendar, p: AccountProfile): ContractTerm[] {
  const addOns = new Map<string, number>();
  for (const a of ADD_ONS) {
    if (a.key === "sso" && p.plan.key === "enterprise") continue;
    if (rng.chance(a.p[p.segment])) addOns.set(a.key, rng.real(a.share[0], a.share[1]));
  }
  const terms: ContractTerm[] = [];
  let seats = p.seats0;
  let start = p.customerSince;
  for (let index = 0; ; index++) {
    const end = cal.addYears(p.customerSince, index + 1);
    const items = itemsFor(p, seats, addOns);
    const term: ContractTerm = {
      index,
      start,
      end,
      items,
      arr: items.reduce((sum, i) => sum + i.arr, 0),
      seats,
      status: end > 0 ? "active" : "ended",
      outcome: null,
      outcomeReason: null,
      outcomeDay: null,
    };
    terms.push(term);
    if (end > 0) return terms;
    if (p.churnDay === end) {
      term.outcome = "churned";
      term.outcomeReason = p.churnReason;
      term.outcomeDay = end;
      return terms;
    }
    // Renewal: size the next term from the demand seen at the end of this one.
    const demandAtEnd = demand(p, cal, end - 1);
    let nextSeats = seats;
    if (demandAtEnd > 0.88 * seats) nextSeats = Math.ceil(demandAtEnd / 0.8);
    else if (demandAtEnd < 0.5 * seats) nextSeats = Math.max(3, Math.ceil(demandAtEnd / 0.7));
    let addOnChange: "added" | "removed" | null = null;
    const missing = ADD_ONS.filter((a) => !addOns.has(a.key) && !(a.key === "sso" && p.plan.key === "enterprise"));
    const crossSellChance = p.trajectory === "growing" ? 0.35 : p.trajectory === "healthy" ? 0.18 : 0.05;
    if (missing.length > 0 && demandAtEnd >= 0.5 * seats && rng.chance(crossSellChance)) {
      const added = rng.pick(missing);
      addOns.set(added.key, rng.real(added.share[0], added.share[1]));
      addOnChange = "added";
    } else if (demandAtEnd < 0.5 * seats && addOns.size > 0 && rng.chance(0.4)) {
      addOns.delete(rng.pick([...addOns.keys()]));
      addOnChange = "removed";
    }
    const nextArr = itemsFor(p, nextSeats, addOns).reduce((sum, i) => sum + i.arr, 0);
    if (nextArr > term.arr) {
      term.outcome = "expanded";
      term.outcomeReason = nextSeats > seats ? "more_seats" : "add_on";
    } else if (nextArr < term.arr) {
      term.outcome = "contracted";
      term.outcomeReason = nextSeats < seats ? "fewer_seats" : "removed_add_on";
    } else term.outcome = "renewed";
    if (addOnChange === null && term.outcome === "renewed") term.outcomeReason = null;
    term.outcomeDay = end - rng.int(0, 30);
    seats = nextSeats;
    start = end;
  }
}

/**
 * Expected weekday active users on a day, before the seat cap, weekly rhythm and noise:
 * initial seats × utilization × growth × season × decline × onboarding ramp.
 */
export function demand(p: AccountProfile, cal: Calendar, day: number): number {
  const age = day - p.customerSince;
  const growth = Math.exp((p.growthPerYear * age) / 365);
  const season =
    p.seasonalAmplitude === 0
      ? 1
      : 1 + p.seasonalAmplitude * Math.cos((2 * Math.PI * (cal.dayOfYear(day) - p.seasonalPeak)) / 365.25);
  return p.seats0 * p.utilization * growth * season * declineFactor(p, day) * rampFactor(p, day);
}

/** 1 before the decline starts, then falling linearly to the floor over `declineDays`. */
export function declineFactor(p: AccountProfile, day: number): number {
  if (p.declineStart === null || day < p.declineStart) return 1;
  const progress = Math.min(1, (day - p.declineStart) / p.declineDays);
  return 1 - (1 - p.declineFloor) * progress;
}

function rampFactor(p: AccountProfile, day: number): number {
  const x = Math.min(1, Math.max(0, (day - p.customerSince) / p.rampDays));
  return 0.15 + 0.85 * x * x * (3 - 2 * x);
}

/** The contract term covering a day, if any. */
export function termOn(p: AccountProfile, day: number): ContractTerm | undefined {
  for (const term of p.terms) if (day >= term.start && day < term.end) return term;
  return undefined;
}

/** Last day with activity: the day before churn, or the day before the anchor. */
export function lastActiveDay(p: AccountProfile): number {
  return p.churnDay === null ? -1 : p.churnDay - 1;
}

/** True while the account is visibly at risk (30 days into its decline, before it churned). */
export function atRisk(p: AccountProfile, day: number): boolean {
  return p.declineStart !== null && day >= p.declineStart + 30;
}

/** How satisfied the account's people are on a day, 0–1 (drives NPS, CSAT and CES). */
export function mood(p: AccountProfile, day: number): number {
  const base: Record<Trajectory, number> = {
    healthy: 0.84,
    growing: 0.88,
    seasonal: 0.76,
    onboarding: 0.78,
    declining: 0.76,
    churned: 0.72,
  };
  const m = base[p.trajectory];
  return m - ((m - 0.3) * (1 - declineFactor(p, day))) / (1 - p.declineFloor);
}

/** The lifecycle stage on a day, by the default workspace stage rules (first match wins). */
export function stageAt(p: AccountProfile, day: number): { stage: string; reason: string } {
  if (p.churnDay !== null && day >= p.churnDay) return { stage: "churned", reason: "status is churned" };
  const age = day - p.customerSince;
  if (age < 90) return { stage: "onboarding", reason: "contract age below 90 days" };
  const term = termOn(p, day);
  if (term && term.end - day <= 90) return { stage: "renewal", reason: "renewal within 90 days" };
  if (atRisk(p, day)) return { stage: "at_risk", reason: "health band is red" };
  if (age < 365) return { stage: "adoption", reason: "contract age below 365 days" };
  return { stage: "mature", reason: "status is active" };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
