import { SqlParams } from "../../../platform/db/sql-params";
import { addDays } from "../../../platform/lib/time";
import { LICENSED_SEATS_SQL } from "../../../records/contracts";
import type { HealthBand } from "../domain/risk-flags";

// ---------------------------------------------------------------------------------------------
// list_accounts: one page of accounts, filtered and sorted on the stored rollup columns.

/** Sortable columns; nullable ones list accounts without a value after all others, in either direction. */
export const ACCOUNT_SORTS = {
  name: { column: "name", nullable: false, type: "string" },
  arr: { column: "arr", nullable: false, type: "number" },
  renewal_date: { column: "renewal_date", nullable: true, type: "string" },
  health_score: { column: "health_score", nullable: true, type: "number" },
} as const;

/** A sort key of account listings. */
export type AccountSortKey = keyof typeof ACCOUNT_SORTS;

/** Where a page ended: in the run of accounts with a sort value, or in the trailing run without one. */
export interface AccountListPosition {
  withoutValue: boolean;
  value: string | number | null;
  id: string;
}

/** One account as listed, with its owner's email. */
export interface AccountListRow {
  id: string;
  name: string;
  segment: string | null;
  tier: string | null;
  lifecycle_stage: string;
  status: "active" | "churned" | "prospect";
  owner_user_id: string | null;
  owner_email: string | null;
  arr: number;
  health_score: number | null;
  health_band: HealthBand | null;
  renewal_date: string | null;
}

/** Filters of an account listing, combined with AND; each one given narrows it. */
export interface AccountListFilters {
  segment?: string;
  tier?: string;
  /** A user id, or an email (case-insensitive). */
  owner?: string;
  lifecycle_stage?: string;
  status?: string;
  /** A band, or "unscored" for accounts without a health score. */
  health_band?: string;
  /** Renewal date between today and today + N days. */
  renewal_within_days?: number;
  renewal_from?: string;
  renewal_to?: string;
  arr_min?: number;
  arr_max?: number;
  /** A LIKE pattern (see {@link likeContains}) on the name or domain. */
  pattern?: string;
}

/** Escapes LIKE wildcards so the text matches literally (ESCAPE '\'). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Up to `limit + 1` accounts of the workspace matching the filters (the extra row tells whether
 * another page exists), by the sort column then id, after `position`; accounts without a value of
 * a nullable sort column come after all others. `today` anchors renewal_within_days.
 */
export async function listAccountsPage(
  db: D1Database,
  workspaceId: string,
  filters: AccountListFilters,
  page: {
    sort: AccountSortKey;
    order: "asc" | "desc";
    limit: number;
    position: AccountListPosition | null;
    today: string;
  },
): Promise<AccountListRow[]> {
  const { sort, limit, position } = page;
  const spec = ACCOUNT_SORTS[sort];
  const bound = (withoutValue: boolean, from: AccountListPosition | null) => {
    const p = new SqlParams();
    const sql = listAccountsSql(workspaceId, filters, page, withoutValue, from, p);
    return db.prepare(sql).bind(...p.values);
  };
  // One extra row tells whether another page exists. While still among accounts that have a sort
  // value, the first accounts without one are fetched in the same round trip in case this page reaches them.
  if (position?.withoutValue) return (await bound(true, position).all<AccountListRow>()).results;
  if (spec.nullable) {
    const [withValue, withoutValue] = await db.batch<AccountListRow>([bound(false, position), bound(true, null)]);
    return [...withValue!.results, ...withoutValue!.results].slice(0, limit + 1);
  }
  return (await bound(false, position).all<AccountListRow>()).results;
}

/** The SQL of one run of an account listing (with a sort value, or without one), its values added to `p`. */
function listAccountsSql(
  workspaceId: string,
  filters: AccountListFilters,
  page: { sort: AccountSortKey; order: "asc" | "desc"; limit: number; today: string },
  withoutValue: boolean,
  from: AccountListPosition | null,
  p: SqlParams,
): string {
  const spec = ACCOUNT_SORTS[page.sort];
  const direction = page.order === "asc" ? "ASC" : "DESC";
  const after = page.order === "asc" ? ">" : "<";
  const where = [`a.workspace_id = ${p.add(workspaceId)}`, ...filterConditions(filters, page.today, p)];
  const column = `a.${spec.column}`;
  let orderBy: string;
  if (withoutValue) {
    where.push(`${column} IS NULL`);
    if (from) where.push(`a.id ${after} ${p.add(from.id)}`);
    orderBy = `a.id ${direction}`;
  } else {
    if (spec.nullable) where.push(`${column} IS NOT NULL`);
    if (from && from.value !== null) {
      const value = p.add(from.value);
      where.push(`(${column} ${after} ${value} OR (${column} = ${value} AND a.id ${after} ${p.add(from.id)}))`);
    }
    orderBy = `${column} ${direction}, a.id ${direction}`;
  }
  return `SELECT a.id, a.name, a.segment, a.tier, a.lifecycle_stage, a.status, a.owner_user_id, u.email AS owner_email,
                a.arr, a.health_score, a.health_band, a.renewal_date
           FROM accounts a
           LEFT JOIN users u ON u.id = a.owner_user_id AND u.workspace_id = a.workspace_id
          WHERE ${where.join(" AND ")}
          ORDER BY ${orderBy}
          LIMIT ${p.add(page.limit + 1)}`;
}

/** The filters' conditions on `accounts a`, in a fixed order, their values added to `p`. */
function filterConditions(filters: AccountListFilters, today: string, p: SqlParams): string[] {
  const where: string[] = [];
  if (filters.segment) where.push(`a.segment = ${p.add(filters.segment)}`);
  if (filters.tier) where.push(`a.tier = ${p.add(filters.tier)}`);
  if (filters.owner) {
    where.push(
      filters.owner.includes("@")
        ? `a.owner_user_id IN (SELECT id FROM users WHERE workspace_id = a.workspace_id AND email = ${p.add(filters.owner)} COLLATE NOCASE)`
        : `a.owner_user_id = ${p.add(filters.owner)}`,
    );
  }
  if (filters.lifecycle_stage) where.push(`a.lifecycle_stage = ${p.add(filters.lifecycle_stage)}`);
  if (filters.status) where.push(`a.status = ${p.add(filters.status)}`);
  if (filters.health_band === "unscored") where.push("a.health_band IS NULL");
  else if (filters.health_band) where.push(`a.health_band = ${p.add(filters.health_band)}`);
  if (filters.renewal_within_days !== undefined) {
    where.push(`a.renewal_date >= ${p.add(today)}`);
    where.push(`a.renewal_date <= ${p.add(addDays(today, filters.renewal_within_days))}`);
  }
  if (filters.renewal_from) where.push(`a.renewal_date >= ${p.add(filters.renewal_from)}`);
  if (filters.renewal_to) where.push(`a.renewal_date <= ${p.add(filters.renewal_to)}`);
  if (filters.arr_min !== undefined) where.push(`a.arr >= ${p.add(filters.arr_min)}`);
  if (filters.arr_max !== undefined) where.push(`a.arr <= ${p.add(filters.arr_max)}`);
  if (filters.pattern !== undefined) {
    const like = p.add(filters.pattern);
    where.push(`(a.name LIKE ${like} ESCAPE '\\' OR a.domain LIKE ${like} ESCAPE '\\')`);
  }
  return where;
}

// ---------------------------------------------------------------------------------------------
// get_account_overview: one account and everything stored about it.

/** Longest lists in the overview; totals are always reported in full. */
const MAX_CONTRACTS = 50;
const MAX_TOUCHPOINTS = 5;
const MAX_OPPORTUNITIES = 20;
const MAX_STAKEHOLDERS = 50;

/** An account's firmographics with its owner's name and email. */
export interface AccountDetailRow {
  id: string;
  external_id: string | null;
  name: string;
  domain: string | null;
  industry: string | null;
  employees: number | null;
  region: string | null;
  plan: string | null;
  segment: string | null;
  tier: string | null;
  lifecycle_stage: string;
  status: "active" | "churned" | "prospect";
  owner_user_id: string | null;
  owner_name: string | null;
  owner_email: string | null;
  customer_since: string | null;
  churned_at: string | null;
}

/** An account of the workspace by id or by its id in the source CRM, with its owner; null when none. */
export async function findAccountDetail(
  db: D1Database,
  workspaceId: string,
  ref: { accountId: string } | { externalId: string },
): Promise<AccountDetailRow | null> {
  const byId = "accountId" in ref;
  return db
    .prepare(
      `SELECT a.id, a.external_id, a.name, a.domain, a.industry, a.employees, a.region, a.plan, a.segment, a.tier,
              a.lifecycle_stage, a.status, a.owner_user_id, u.name AS owner_name, u.email AS owner_email,
              a.customer_since, a.churned_at
         FROM accounts a
         LEFT JOIN users u ON u.id = a.owner_user_id AND u.workspace_id = a.workspace_id
        WHERE a.workspace_id = ?1 AND ${byId ? "a.id" : "a.external_id"} = ?2`,
    )
    .bind(workspaceId, byId ? ref.accountId : ref.externalId)
    .first<AccountDetailRow>();
}

/** An active contract, with the count and ARR of all of the account's active contracts. */
export interface ContractRow {
  id: string;
  external_id: string | null;
  start_date: string;
  end_date: string;
  auto_renew: number;
  arr: number;
  total_count: number;
  total_arr: number;
}

/** A line item of an active contract, with its product. */
export interface ContractItemRow {
  contract_id: string;
  product_id: string;
  product_name: string | null;
  family: string | null;
  seats: number;
  arr: number;
}

/** A stored health score with its components (JSON text). */
export interface HealthRow {
  day: string;
  score: number;
  band: HealthBand;
  components: string;
  model_version: number;
}

/** Usage totals of one window: days with a rollup row, events, and the sum of daily active users. */
export interface UsageWindowRow {
  usage_window: "current" | "prior";
  days: number;
  events: number;
  active_user_days: number;
}

/** A logged activity (calls, meetings, notes, emails). */
export interface RecentActivityRow {
  id: string;
  kind: "call" | "meeting" | "note" | "email";
  direction: "inbound" | "outbound" | null;
  subject: string;
  occurred_at: string;
  user_id: string | null;
  contact_id: string | null;
}

/** An outbound email of the account. */
export interface RecentEmailRow {
  id: string;
  to_email: string;
  subject: string;
  status: string;
  created_at: string;
  sent_at: string | null;
}

/** An open opportunity, with the count and amount of all open ones. */
export interface OpportunityRow {
  id: string;
  name: string;
  kind: string;
  stage: string;
  amount: number;
  probability: number | null;
  close_date: string | null;
  total_count: number;
  total_amount: number;
}

/** A contact of the account, with the count of all its contacts. */
export interface StakeholderRow {
  id: string;
  name: string;
  email: string | null;
  title: string | null;
  role: string | null;
  is_champion: number;
  is_decision_maker: number;
  left_at: string | null;
  last_seen_at: string | null;
  total_count: number;
}

/** Everything stored about one account that its overview shows. */
export interface AccountOverviewRows {
  /** Active contracts by end date (at most 50). */
  contracts: ContractRow[];
  /** Items of those contracts, by contract then product name. */
  items: ContractItemRow[];
  /** Licensed seats (LICENSED_SEATS_SQL). */
  licensedSeats: number;
  latestHealth: HealthRow | null;
  /** Per trend horizon: the latest score on or before the latest score's day minus the horizon. */
  trend: ({ day: string; score: number } | null)[];
  /** Usage totals of the current and prior windows that have rows. */
  usage: UsageWindowRow[];
  /** Open (new, open, pending) tickets per priority. */
  openTicketsByPriority: { priority: "urgent" | "high" | "normal" | "low"; n: number }[];
  oldestOpenTicket: { id: string; created_at: string } | null;
  /** Latest activities (at most 5). */
  activities: RecentActivityRow[];
  /** Latest outbound emails (at most 5). */
  emails: RecentEmailRow[];
  latestNps: { response_id: string; score: number; responded_at: string } | null;
  /** Champions who left on or after `championSince`. */
  championsLeft: { contactId: string; leftAt: string }[];
  /** Open opportunities by close date (at most 20). */
  opportunities: OpportunityRow[];
  /** Contacts, current first, champions and decision makers first (at most 50). */
  stakeholders: StakeholderRow[];
}

/**
 * Everything stored about one account for its overview, in one batch: active contracts and their
 * items, licensed seats, the latest health score and the one before each trend horizon, usage
 * totals of the current and prior windows (days, inclusive), open tickets, latest activities and
 * emails, latest NPS, champions who left since `championSince`, open opportunities and contacts.
 */
export async function readAccountOverview(
  db: D1Database,
  workspaceId: string,
  accountId: string,
  windows: {
    current: { from: string; to: string };
    prior: { from: string; to: string };
    championSince: string;
    trendDays: readonly number[];
  },
): Promise<AccountOverviewRows> {
  const { current, prior, championSince } = windows;
  const bind = (sql: string, ...extra: (string | number)[]) => db.prepare(sql).bind(workspaceId, accountId, ...extra);
  // A unary + on status or kind keeps SQLite on the per-account indexes rather than a workspace-wide status index.
  const [contractsResult, itemsResult, seatsResult, healthResult, ...rest] = await db.batch([
    bind(
      `SELECT id, external_id, start_date, end_date, auto_renew, arr,
                count(*) OVER () AS total_count, sum(arr) OVER () AS total_arr
           FROM contracts WHERE workspace_id = ?1 AND account_id = ?2 AND +status = 'active'
          ORDER BY end_date, id LIMIT ?3`,
      MAX_CONTRACTS,
    ),
    bind(
      `SELECT ci.contract_id, ci.product_id, p.name AS product_name, p.family, ci.seats, ci.arr
           FROM contract_items ci
           LEFT JOIN products p ON p.workspace_id = ci.workspace_id AND p.id = ci.product_id
          WHERE ci.workspace_id = ?1 AND ci.contract_id IN (
                SELECT id FROM contracts WHERE workspace_id = ?1 AND account_id = ?2 AND +status = 'active'
                 ORDER BY end_date, id LIMIT ?3)
          ORDER BY ci.contract_id, p.name, ci.id`,
      MAX_CONTRACTS,
    ),
    bind(LICENSED_SEATS_SQL),
    bind(
      `SELECT day, score, band, components, model_version FROM health_scores
          WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY day DESC LIMIT 1`,
    ),
    ...windows.trendDays.map((days) =>
      bind(
        `SELECT day, score FROM health_scores
            WHERE workspace_id = ?1 AND account_id = ?2
              AND day <= date((SELECT max(day) FROM health_scores WHERE workspace_id = ?1 AND account_id = ?2), ?3)
            ORDER BY day DESC LIMIT 1`,
        `-${days} days`,
      ),
    ),
    bind(
      `SELECT CASE WHEN day >= ?3 THEN 'current' ELSE 'prior' END AS usage_window, count(*) AS days,
                coalesce(sum(events), 0) AS events, coalesce(sum(active_users), 0) AS active_user_days
           FROM usage_daily WHERE workspace_id = ?1 AND account_id = ?2 AND day >= ?4 AND day <= ?5
          GROUP BY 1`,
      current.from,
      prior.from,
      current.to,
    ),
    bind(
      `SELECT priority, count(*) AS n FROM tickets
          WHERE workspace_id = ?1 AND account_id = ?2 AND +status IN ('new', 'open', 'pending') GROUP BY priority`,
    ),
    bind(
      `SELECT id, created_at FROM tickets
          WHERE workspace_id = ?1 AND account_id = ?2 AND +status IN ('new', 'open', 'pending')
          ORDER BY created_at, id LIMIT 1`,
    ),
    bind(
      `SELECT id, kind, direction, subject, occurred_at, user_id, contact_id FROM activities
          WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY occurred_at DESC, id DESC LIMIT ?3`,
      MAX_TOUCHPOINTS,
    ),
    bind(
      `SELECT id, to_email, subject, status, created_at, sent_at FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 ORDER BY created_at DESC, id DESC LIMIT ?3`,
      MAX_TOUCHPOINTS,
    ),
    bind(
      `SELECT id AS response_id, score, responded_at FROM survey_responses
          WHERE workspace_id = ?1 AND account_id = ?2 AND +kind = 'nps' ORDER BY responded_at DESC, id DESC LIMIT 1`,
    ),
    bind(
      `SELECT id AS contactId, left_at AS leftAt FROM contacts
          WHERE workspace_id = ?1 AND account_id = ?2 AND left_at >= ?3 AND (is_champion = 1 OR role = 'champion')`,
      championSince,
    ),
    bind(
      `SELECT id, name, kind, stage, amount, probability, close_date,
                count(*) OVER () AS total_count, sum(amount) OVER () AS total_amount
           FROM opportunities WHERE workspace_id = ?1 AND account_id = ?2 AND status = 'open'
          ORDER BY close_date IS NULL, close_date, id LIMIT ?3`,
      MAX_OPPORTUNITIES,
    ),
    bind(
      `SELECT id, name, email, title, role, is_champion, is_decision_maker, left_at, last_seen_at,
                count(*) OVER () AS total_count
           FROM contacts WHERE workspace_id = ?1 AND account_id = ?2
          ORDER BY left_at IS NOT NULL, is_champion DESC, is_decision_maker DESC, name, id LIMIT ?3`,
      MAX_STAKEHOLDERS,
    ),
  ]);
  const trendResults = rest.slice(0, windows.trendDays.length);
  const [
    usageResult,
    ticketsResult,
    oldestTicketResult,
    activitiesResult,
    emailsResult,
    npsResult,
    championsResult,
    opportunitiesResult,
    stakeholdersResult,
  ] = rest.slice(windows.trendDays.length);
  const first = <T>(result: D1Result | undefined) => (result!.results[0] as T | undefined) ?? null;
  return {
    contracts: contractsResult!.results as ContractRow[],
    items: itemsResult!.results as ContractItemRow[],
    licensedSeats: (seatsResult!.results[0] as { seats: number }).seats,
    latestHealth: first<HealthRow>(healthResult),
    trend: trendResults.map((result) => first<{ day: string; score: number }>(result)),
    usage: usageResult!.results as UsageWindowRow[],
    openTicketsByPriority: ticketsResult!.results as AccountOverviewRows["openTicketsByPriority"],
    oldestOpenTicket: first<{ id: string; created_at: string }>(oldestTicketResult),
    activities: activitiesResult!.results as RecentActivityRow[],
    emails: emailsResult!.results as RecentEmailRow[],
    latestNps: first<{ response_id: string; score: number; responded_at: string }>(npsResult),
    championsLeft: championsResult!.results as { contactId: string; leftAt: string }[],
    opportunities: opportunitiesResult!.results as OpportunityRow[],
    stakeholders: stakeholdersResult!.results as StakeholderRow[],
  };
}
