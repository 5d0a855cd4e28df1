import { z } from "zod";
import type { ReminderRow } from "./reminders";
import { remindersOfContractsStatement } from "./reminders";

/** An open renewal: the contract is active without an outcome and its account has not churned. */
const OPEN_RENEWAL = "c.status = 'active' AND c.outcome IS NULL AND a.status <> 'churned'";

/** The account filters of the renewal tools (applied by {@link FILTER_SQL}). */
export const renewalFilterArgs = {
  owner: z.string().min(1).max(100).optional().describe("Only accounts owned by this user id."),
  tier: z.string().min(1).max(50).optional().describe("Only accounts of this value tier (accounts.tier)."),
  segment: z.string().min(1).max(50).optional().describe("Only accounts of this segment (accounts.segment)."),
  health_band: z
    .enum(["red", "yellow", "green"])
    .optional()
    .describe("Only accounts whose stored health band is this."),
};

/** The renewal tools' account filters; an absent one matches every account. */
export type RenewalFilters = {
  owner?: string | undefined;
  tier?: string | undefined;
  segment?: string | undefined;
  health_band?: string | undefined;
};

/** SQL for the account filters, binding ?3..?6; a null parameter matches every account. */
const FILTER_SQL = `(?3 IS NULL OR a.owner_user_id = ?3) AND (?4 IS NULL OR a.tier = ?4)
  AND (?5 IS NULL OR a.segment = ?5) AND (?6 IS NULL OR a.health_band = ?6)`;

const filterParams = (f: RenewalFilters) => [f.owner ?? null, f.tier ?? null, f.segment ?? null, f.health_band ?? null];

/** An open renewal with its account, owner and stored health and churn figures. */
export interface RenewalRow {
  id: string;
  account_id: string;
  end_date: string;
  arr: number;
  auto_renew: number;
  name: string;
  tier: string | null;
  segment: string | null;
  owner_user_id: string | null;
  owner_name: string | null;
  health_score: number | null;
  health_band: string | null;
  churn_probability: number | null;
}

/**
 * One page of the open renewals renewing from `today` to `until` (both included) after the
 * filters, by renewal date then contract id after the keyset position `after` (up to `limit` + 1
 * rows, the extra one telling a next page exists), and the count and summed ARR of all of them.
 */
export async function openRenewalsPage(
  db: D1Database,
  workspaceId: string,
  query: {
    today: string;
    until: string;
    filters: RenewalFilters;
    after: { endDate: string; id: string };
    limit: number;
  },
): Promise<{ rows: RenewalRow[]; totals: { contracts: number; arr: number } }> {
  const from = `FROM contracts c
      JOIN accounts a ON +a.workspace_id = ?1 AND a.id = c.account_id
      LEFT JOIN users u ON +u.workspace_id = ?1 AND u.id = a.owner_user_id
     WHERE c.workspace_id = ?1 AND c.end_date >= ?2 AND c.end_date <= ?7 AND ${OPEN_RENEWAL} AND ${FILTER_SQL}`;
  const params = [workspaceId, query.today, ...filterParams(query.filters), query.until];
  const [pageRes, totalsRes] = await db.batch([
    db
      .prepare(
        `SELECT c.id, c.account_id, c.end_date, c.arr, c.auto_renew, a.name, a.tier, a.segment, a.owner_user_id,
              u.name AS owner_name, a.health_score, a.health_band, a.churn_probability
         ${from}
         AND (c.end_date, c.id) > (?8, ?9)
       ORDER BY c.end_date, c.id
       LIMIT ?10`,
      )
      .bind(...params, query.after.endDate, query.after.id, query.limit + 1),
    db.prepare(`SELECT count(*) AS contracts, coalesce(sum(c.arr), 0) AS arr ${from}`).bind(...params),
  ]);
  return {
    rows: (pageRes?.results ?? []) as RenewalRow[],
    totals: (totalsRes?.results[0] ?? { contracts: 0, arr: 0 }) as { contracts: number; arr: number },
  };
}

/** An account's open renewal opportunity. */
export interface RenewalOpportunityRow {
  account_id: string;
  id: string;
  stage: string;
  amount: number;
  close_date: string | null;
}

/**
 * For a page of renewals, in one batch: the reminders made for `contractIds` (by contract, largest
 * offset first) and the open renewal opportunities of `accountIds` (by account, then close date
 * and id); nothing is read for an empty page.
 */
export async function renewalPageDetails(
  db: D1Database,
  workspaceId: string,
  contractIds: readonly string[],
  accountIds: readonly string[],
): Promise<{ reminders: ReminderRow[]; opportunities: RenewalOpportunityRow[] }> {
  if (contractIds.length === 0) return { reminders: [], opportunities: [] };
  const [remindersRes, opportunitiesRes] = await db.batch([
    remindersOfContractsStatement(db, workspaceId, contractIds),
    db
      .prepare(
        `SELECT account_id, id, stage, amount, close_date FROM opportunities
              WHERE workspace_id = ?1 AND account_id IN (SELECT value FROM json_each(?2)) AND status = 'open'
                AND +kind = 'renewal'
              ORDER BY account_id, close_date, id`,
      )
      .bind(workspaceId, JSON.stringify(accountIds)),
  ]);
  return {
    reminders: (remindersRes?.results ?? []) as ReminderRow[],
    opportunities: (opportunitiesRes?.results ?? []) as RenewalOpportunityRow[],
  };
}

/**
 * Active accounts per stored tier (null: none) and the number of active Slack integrations of
 * the workspace, in one batch.
 */
export async function reminderAudience(
  db: D1Database,
  workspaceId: string,
): Promise<{ tiers: { tier: string | null; accounts: number }[]; slackIntegrations: number }> {
  const [tiersRes, destinationRes] = await db.batch([
    db
      .prepare(
        "SELECT tier, count(*) AS accounts FROM accounts WHERE workspace_id = ?1 AND status = 'active' GROUP BY tier",
      )
      .bind(workspaceId),
    db
      .prepare(
        "SELECT count(*) AS n FROM integrations WHERE workspace_id = ?1 AND provider = 'slack' AND status = 'active'",
      )
      .bind(workspaceId),
  ]);
  return {
    tiers: (tiersRes?.results ?? []) as { tier: string | null; accounts: number }[],
    slackIntegrations: (destinationRes?.results[0] as { n: number } | undefined)?.n ?? 0,
  };
}

/** An open renewal of the forecast with its account's latest stored risk score (JSON), unordered. */
export interface ForecastRow {
  id: string;
  account_id: string;
  end_date: string;
  arr: number;
  name: string;
  /** `{"p": churn probability, "m": model id, "d": day}` of the account's latest risk score, or null. */
  score: string | null;
}

/**
 * Every open renewal renewing from `today` up to (not including) `until` after the filters, one
 * narrow row each with the account's latest risk score, unordered (a sort in the database would
 * count every row again as read).
 */
export async function forecastContracts(
  db: D1Database,
  workspaceId: string,
  query: { today: string; until: string; filters: RenewalFilters },
): Promise<ForecastRow[]> {
  const result = await db
    .prepare(
      `SELECT c.id, c.account_id, c.end_date, c.arr, a.name,
                (SELECT json_object('p', s.probability, 'm', s.model_id, 'd', s.day) FROM risk_scores s
                  WHERE s.workspace_id = ?1 AND s.account_id = c.account_id ORDER BY s.day DESC LIMIT 1) AS score
           FROM contracts c
           JOIN accounts a ON +a.workspace_id = ?1 AND a.id = c.account_id
          WHERE c.workspace_id = ?1 AND c.end_date >= ?2 AND c.end_date < ?7 AND ${OPEN_RENEWAL} AND ${FILTER_SQL}`,
    )
    .bind(workspaceId, query.today, ...filterParams(query.filters), query.until)
    .all<ForecastRow>();
  return result.results;
}

/**
 * The workspace's contract outcomes over all time: how many there are and how many renewed
 * (renewed, expanded or contracted).
 */
export async function renewalOutcomeCounts(
  db: D1Database,
  workspaceId: string,
): Promise<{ n: number; renewed: number } | null> {
  return db
    .prepare(
      `SELECT count(*) AS n, coalesce(sum(outcome IN ('renewed', 'expanded', 'contracted')), 0) AS renewed
           FROM contracts WHERE workspace_id = ?1 AND outcome IS NOT NULL`,
    )
    .bind(workspaceId)
    .first<{ n: number; renewed: number }>();
}
