import type { Band } from "../domain/negotiate";

/** A contract term with its account's name, tier, segment and stored health. */
export interface ContractTermRow {
  id: string;
  account_id: string;
  account_name: string;
  tier: string | null;
  segment: string | null;
  health_score: number | null;
  health_band: Band | null;
  start_date: string;
  end_date: string;
  status: "active" | "ended" | "cancelled";
  outcome: string | null;
  arr: number;
  auto_renew: number;
}

const CONTRACT_COLUMNS = `c.id, c.account_id, a.name AS account_name, a.tier, a.segment, a.health_score, a.health_band,
  c.start_date, c.end_date, c.status, c.outcome, c.arr, c.auto_renew`;

/** The workspace's contract term by id, or null. */
export async function contractTerm(
  db: D1Database,
  workspaceId: string,
  contractId: string,
): Promise<ContractTermRow | null> {
  return db
    .prepare(
      `SELECT ${CONTRACT_COLUMNS} FROM contracts c
         JOIN accounts a ON a.workspace_id = c.workspace_id AND a.id = c.account_id
        WHERE c.workspace_id = ?1 AND c.id = ?2`,
    )
    .bind(workspaceId, contractId)
    .first<ContractTermRow>();
}

/** The account's current term: its active term without an outcome that ends first (then by id), or null. */
export async function currentTermOfAccount(
  db: D1Database,
  workspaceId: string,
  accountId: string,
): Promise<ContractTermRow | null> {
  return db
    .prepare(
      `SELECT ${CONTRACT_COLUMNS} FROM contracts c
       JOIN accounts a ON a.workspace_id = c.workspace_id AND a.id = c.account_id
      WHERE c.workspace_id = ?1 AND c.account_id = ?2 AND c.status = 'active' AND c.outcome IS NULL
      ORDER BY c.end_date, c.id LIMIT 1`,
    )
    .bind(workspaceId, accountId)
    .first<ContractTermRow>();
}

/** Usage of the recent, year-earlier and term-opening windows (events and active-user days summed over each). */
export interface TermUsageRow {
  recent_events: number;
  recent_users: number;
  year_events: number;
  year_users: number;
  opening_events: number;
  opening_users: number;
}

/** The facts of the value delivered on a term that the database sums. */
export interface TermValueFacts {
  usage: TermUsageRow;
  tickets: { created: number; solved: number };
  /** The account's latest NPS answer, or null. */
  latest: { score: number; responded_at: string } | null;
  nps: { n: number; promoters: number; detractors: number };
}

/**
 * Value delivered on a term, in one batch: the account's usage days split into the three windows
 * (one primary-key range from `first`), tickets created since the term start and how many are
 * solved or closed, the latest NPS answer, and NPS answers since `since365` by group.
 */
export async function termValueFacts(
  db: D1Database,
  workspaceId: string,
  term: {
    accountId: string;
    startDate: string;
    recent: { from: string; to: string };
    yearEarlier: { from: string; to: string };
    opening: { from: string; to: string };
    first: string;
    since365: string;
  },
): Promise<TermValueFacts> {
  const ws = workspaceId;
  const [usage, tickets, latest, nps] = await db.batch<Record<string, number | string | null>>([
    db
      .prepare(
        `SELECT coalesce(sum(CASE WHEN day BETWEEN ?3 AND ?4 THEN events END), 0) AS recent_events,
              coalesce(sum(CASE WHEN day BETWEEN ?3 AND ?4 THEN active_users END), 0) AS recent_users,
              coalesce(sum(CASE WHEN day BETWEEN ?5 AND ?6 THEN events END), 0) AS year_events,
              coalesce(sum(CASE WHEN day BETWEEN ?5 AND ?6 THEN active_users END), 0) AS year_users,
              coalesce(sum(CASE WHEN day BETWEEN ?7 AND ?8 THEN events END), 0) AS opening_events,
              coalesce(sum(CASE WHEN day BETWEEN ?7 AND ?8 THEN active_users END), 0) AS opening_users
         FROM usage_daily WHERE workspace_id = ?1 AND account_id = ?2 AND day BETWEEN ?9 AND ?4`,
      )
      .bind(
        ws,
        term.accountId,
        term.recent.from,
        term.recent.to,
        term.yearEarlier.from,
        term.yearEarlier.to,
        term.opening.from,
        term.opening.to,
        term.first,
      ),
    db
      .prepare(
        `SELECT count(*) AS created, count(CASE WHEN status IN ('solved', 'closed') THEN 1 END) AS solved
         FROM tickets WHERE workspace_id = ?1 AND account_id = ?2 AND created_at >= ?3`,
      )
      .bind(ws, term.accountId, term.startDate),
    db
      .prepare(
        // +kind: walk the account's answers (survey_responses_ws_account), not every NPS answer of the workspace.
        `SELECT score, responded_at FROM survey_responses
        WHERE workspace_id = ?1 AND account_id = ?2 AND +kind = 'nps' ORDER BY responded_at DESC LIMIT 1`,
      )
      .bind(ws, term.accountId),
    db
      .prepare(
        `SELECT count(*) AS n, count(CASE WHEN score >= 9 THEN 1 END) AS promoters,
              count(CASE WHEN score <= 6 THEN 1 END) AS detractors
         FROM survey_responses WHERE workspace_id = ?1 AND account_id = ?2 AND +kind = 'nps' AND responded_at >= ?3`,
      )
      .bind(ws, term.accountId, term.since365),
  ]);
  return {
    usage: usage!.results[0] as unknown as TermUsageRow,
    tickets: tickets!.results[0] as { created: number; solved: number },
    latest: (latest!.results[0] as { score: number; responded_at: string } | undefined) ?? null,
    nps: nps!.results[0] as { n: number; promoters: number; detractors: number },
  };
}

/** A renewal offer as stored. */
export interface OfferRow {
  id: string;
  contract_id: string;
  account_id: string;
  term_years: number;
  price_change_pct: number;
  discount_pct: number;
  arr: number;
  npv: number | null;
  status: "proposed" | "accepted" | "rejected" | "withdrawn";
  notes: string | null;
  next_contract_id: string | null;
  created_by: string | null;
  created_at: string;
  decided_at: string | null;
}

const OFFER_COLUMNS = `id, contract_id, account_id, term_years, price_change_pct, discount_pct, arr, npv, status, notes,
  next_contract_id, created_by, created_at, decided_at`;

/** Records a proposed offer on a contract term. */
export async function insertOffer(
  db: D1Database,
  workspaceId: string,
  offer: Omit<OfferRow, "status" | "next_contract_id" | "decided_at">,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO renewal_offers (id, workspace_id, contract_id, account_id, term_years, arr, price_change_pct,
       discount_pct, npv, status, notes, created_by, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'proposed', ?10, ?11, ?12)`,
    )
    .bind(
      offer.id,
      workspaceId,
      offer.contract_id,
      offer.account_id,
      offer.term_years,
      offer.arr,
      offer.price_change_pct,
      offer.discount_pct,
      offer.npv,
      offer.notes,
      offer.created_by,
      offer.created_at,
    )
    .run();
}

/** The workspace's renewal offer by id, or null. */
export async function offerById(db: D1Database, workspaceId: string, offerId: string): Promise<OfferRow | null> {
  return db
    .prepare(`SELECT ${OFFER_COLUMNS} FROM renewal_offers WHERE workspace_id = ?1 AND id = ?2`)
    .bind(workspaceId, offerId)
    .first<OfferRow>();
}

/** A contract term's line items, by product id. */
export async function contractItems(
  db: D1Database,
  workspaceId: string,
  contractId: string,
): Promise<{ product_id: string; seats: number; arr: number }[]> {
  const items = await db
    .prepare(
      "SELECT product_id, seats, arr FROM contract_items WHERE workspace_id = ?1 AND contract_id = ?2 ORDER BY product_id",
    )
    .bind(workspaceId, contractId)
    .all<{ product_id: string; seats: number; arr: number }>();
  return items.results;
}

/** What accepting an offer writes: the next term, its items and the current term's outcome. */
export interface Acceptance {
  offerId: string;
  nextContractId: string;
  decidedAt: string;
  notes: string | null;
  contract: { id: string; account_id: string; auto_renew: number };
  start: string;
  end: string;
  arr: number;
  items: readonly { id: string; product_id: string; seats: number; arr: number }[];
  outcome: string;
  outcomeReason: string;
  outcomeDate: string;
}

/**
 * The statements of an acceptance, to run in one batch: the first claims the proposed offer for
 * the next term while the term is open (0 changes: nothing happens); then the next term and its
 * items are created, the current term ends with its outcome, and the term's other proposed
 * offers are withdrawn (the last statement's changes).
 */
export function acceptOfferStatements(db: D1Database, workspaceId: string, a: Acceptance): D1PreparedStatement[] {
  const ws = workspaceId;
  const { offerId, nextContractId: nextId, decidedAt: decided, contract } = a;
  // Every statement after the first acts only if that first one claimed the offer for this new
  // term, so a concurrent accept (or a term closed meanwhile) changes nothing.
  const claimed = `EXISTS (SELECT 1 FROM renewal_offers WHERE workspace_id = ?1 AND id = ?2 AND next_contract_id = ?3)`;
  return [
    db
      .prepare(
        `UPDATE renewal_offers SET status = 'accepted', decided_at = ?4, next_contract_id = ?3,
              notes = CASE WHEN ?5 IS NULL THEN notes ELSE coalesce(notes || char(10), '') || ?5 END
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'proposed'
          AND EXISTS (SELECT 1 FROM contracts c WHERE c.workspace_id = ?1 AND c.id = ?6
                        AND c.status = 'active' AND c.outcome IS NULL)`,
      )
      .bind(ws, offerId, nextId, decided, a.notes, contract.id),
    db
      .prepare(
        `INSERT INTO contracts (id, workspace_id, account_id, start_date, end_date, status, auto_renew, arr,
         previous_contract_id, created_at)
       SELECT ?3, ?1, ?4, ?5, ?6, 'active', ?7, ?8, ?9, ?10 WHERE ${claimed}`,
      )
      .bind(ws, offerId, nextId, contract.account_id, a.start, a.end, contract.auto_renew, a.arr, contract.id, decided),
    db
      .prepare(
        `INSERT INTO contract_items (id, workspace_id, contract_id, product_id, seats, arr)
       SELECT value ->> '$.id', ?1, ?3, value ->> '$.product_id', value ->> '$.seats', value ->> '$.arr'
         FROM json_each(?4) WHERE ${claimed}`,
      )
      .bind(ws, offerId, nextId, JSON.stringify(a.items)),
    db
      .prepare(
        `UPDATE contracts SET status = 'ended', outcome = ?4, outcome_reason = ?5, outcome_date = ?6
        WHERE workspace_id = ?1 AND id = ?7 AND ${claimed}`,
      )
      .bind(ws, offerId, nextId, a.outcome, a.outcomeReason, a.outcomeDate, contract.id),
    db
      .prepare(
        `UPDATE renewal_offers SET status = 'withdrawn', decided_at = ?4
        WHERE workspace_id = ?1 AND contract_id = ?5 AND status = 'proposed' AND id <> ?2 AND ${claimed}`,
      )
      .bind(ws, offerId, nextId, decided, contract.id),
  ];
}

/**
 * Closes a proposed offer as rejected or withdrawn at `decidedAt`, adding the note to its notes:
 * the rows changed (0 when it is no longer proposed).
 */
export async function closeOffer(
  db: D1Database,
  workspaceId: string,
  closing: { offerId: string; status: "rejected" | "withdrawn"; decidedAt: string; notes: string | null },
): Promise<number> {
  const result = await db
    .prepare(
      `UPDATE renewal_offers SET status = ?3, decided_at = ?4,
            notes = CASE WHEN ?5 IS NULL THEN notes ELSE coalesce(notes || char(10), '') || ?5 END
      WHERE workspace_id = ?1 AND id = ?2 AND status = 'proposed'`,
    )
    .bind(workspaceId, closing.offerId, closing.status, closing.decidedAt, closing.notes)
    .run();
  return result.meta.changes;
}

/**
 * One page of the offers of a contract term and/or an account's terms, optionally of one status,
 * newest first (created_at, then id) after the keyset position `after`, up to `limit` rows.
 */
export async function listOffers(
  db: D1Database,
  workspaceId: string,
  query: {
    contractId: string | null;
    accountId: string | null;
    status: string | null;
    after: { createdAt: string; id: string } | null;
    limit: number;
  },
): Promise<OfferRow[]> {
  const rows = await db
    .prepare(
      `SELECT ${OFFER_COLUMNS} FROM renewal_offers
      WHERE workspace_id = ?1 AND (?2 IS NULL OR contract_id = ?2)
        AND (?3 IS NULL OR contract_id IN (SELECT id FROM contracts WHERE workspace_id = ?1 AND account_id = ?3))
        AND (?4 IS NULL OR status = ?4)
        AND (?5 IS NULL OR created_at < ?5 OR (created_at = ?5 AND id < ?6))
      ORDER BY created_at DESC, id DESC LIMIT ?7`,
    )
    .bind(
      workspaceId,
      query.contractId,
      query.accountId,
      query.status,
      query.after?.createdAt ?? null,
      query.after?.id ?? null,
      query.limit,
    )
    .all<OfferRow>();
  return rows.results;
}
