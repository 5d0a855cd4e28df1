import { daysBetween } from "../../../platform/lib/time";
import { usageChange } from "../../../records/risk-signals";
import { emptyValues, type FactorValues } from "./risk-library";

/** One account (or past example) at a cut-off day: its factors use records dated strictly before it. */
export interface FactorPoint {
  /** Key of the point in the answer (an example id, or the account id). */
  id: string;
  account_id: string;
  /** `YYYY-MM-DD`; nothing dated on or after this day enters. */
  cutoff: string;
}

/** Usage of the 180 days before a point, summed per window. */
export interface UsageFacts {
  events_30: number;
  events_prior_30: number;
  events_90: number;
  events_prior_90: number;
  active_user_days_30: number;
  days_30: number;
}

/** The contracts in force at a point: their ARR, earliest end and licensed seats. */
export interface ContractFacts {
  arr: number;
  renewal: string | null;
  seats: number;
}

/** An account's state at a point: tenure starts, health now and 30 days before, latest NPS and CSAT. */
export interface StateFacts {
  customer_since: string | null;
  first_start: string | null;
  health_now: number | null;
  health_30: number | null;
  nps: number | null;
  csat: number | null;
  champions_gone: number;
}

/** Tickets of the 90 days before a point, and how many of them were urgent or high. */
export interface TicketFacts {
  n: number;
  urgent?: number;
}

/** Everything stored about one point that its factors are computed from; absent = no records. */
export interface PointFacts {
  usage?: UsageFacts;
  contracts?: ContractFacts;
  state?: StateFacts;
  tickets?: TicketFacts;
  /** Escalations opened in the 90 days before the point. */
  escalations?: number;
  /** Payments failed in the 90 days before the point. */
  paymentFailures?: number;
}

/** The raw factor values of one point from its stored facts, as the factor library defines them. */
export function factorValuesAt(cutoff: string, facts: PointFacts): FactorValues {
  const { usage: u, contracts: c, state: s, tickets: t } = facts;
  const values = emptyValues();
  const trend30 = u ? usageChange(u.events_30, u.events_prior_30) : null;
  const trend90 = u ? usageChange(u.events_90, u.events_prior_90) : null;
  if (trend30 !== null) values.usage_trend_30d = trend30;
  if (trend90 !== null) values.usage_trend_90d = trend90;
  if (u && u.days_30 > 0 && c && c.seats > 0) values.license_utilization = u.active_user_days_30 / u.days_30 / c.seats;
  values.health_score = s?.health_now ?? null;
  if (s && s.health_now !== null && s.health_30 !== null) values.health_trend_30d = s.health_now - s.health_30;
  values.tickets_90d = t?.n ?? 0;
  values.escalations_90d = (t?.urgent ?? 0) + (facts.escalations ?? 0);
  values.latest_nps = s?.nps ?? null;
  values.latest_csat = s?.csat ?? null;
  values.champion_gone = (s?.champions_gone ?? 0) > 0 ? 1 : 0;
  values.payment_failures_90d = facts.paymentFailures ?? 0;
  const starts = [s?.customer_since, s?.first_start].filter((d): d is string => Boolean(d)).sort();
  if (starts[0]) values.tenure_days = daysBetween(starts[0], cutoff);
  if (c?.renewal) values.days_to_renewal = daysBetween(cutoff, c.renewal);
  if (c && c.arr > 0) values.arr_band = Math.log10(c.arr);
  return values;
}
