import type { DocumentKind } from "../domain/documents";

/** BM25 column weights: a hit in the title (name, subject) counts four times a hit in the body. */
const TITLE_WEIGHT = 4.0;
const BODY_WEIGHT = 1.0;
/** Tokens of context in each snippet. */
const SNIPPET_TOKENS = 12;

/** One full-text hit: the document's kind and id, its title and a snippet of the match. */
export interface SearchRow {
  kind: DocumentKind;
  ref_id: string;
  title: string;
  snippet: string;
}

/**
 * The best `limit` documents of the workspace matching an FTS5 expression among `kinds`, by BM25
 * (title hits weigh 4× body hits) then kind and id; knowledge-base articles only while published.
 */
export async function searchDocuments(
  db: D1Database,
  workspaceId: string,
  search: { expression: string; kinds: readonly DocumentKind[]; limit: number },
): Promise<SearchRow[]> {
  const kindPlaceholders = search.kinds.map((_, i) => `?${i + 4}`).join(", ");
  // The MATCH drives the plan (the unary + stops SQLite from scanning search_docs by kind instead);
  // the join keeps the caller's workspace only, and knowledge-base hits count only while published.
  const statement = db
    .prepare(
      `SELECT d.kind AS kind, d.ref_id AS ref_id, search_fts.title AS title,
              snippet(search_fts, -1, '**', '**', '…', ${SNIPPET_TOKENS}) AS snippet
         FROM search_fts
         JOIN search_docs d ON d.doc_id = search_fts.rowid
         LEFT JOIN kb_articles k ON d.kind = 'kb_article' AND k.workspace_id = d.workspace_id AND k.id = d.ref_id
        WHERE search_fts MATCH ?1
          AND d.workspace_id = ?2
          AND +d.kind IN (${kindPlaceholders})
          AND (d.kind <> 'kb_article' OR k.status = 'published')
        ORDER BY bm25(search_fts, ${TITLE_WEIGHT}, ${BODY_WEIGHT}), d.kind, d.ref_id
        LIMIT ?3`,
    )
    .bind(search.expression, workspaceId, search.limit, ...search.kinds);
  return (await statement.all<SearchRow>()).results;
}

/** An account as `fetch` shows it. */
export interface AccountDocumentRow {
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
  status: string;
  owner_user_id: string | null;
  arr: number;
  health_score: number | null;
  health_band: string | null;
  renewal_date: string | null;
  customer_since: string | null;
  churned_at: string | null;
  created_at: string;
}

/** A contact as `fetch` shows it, with its account's name. */
export interface ContactDocumentRow {
  id: string;
  external_id: string | null;
  account_id: string | null;
  account_name: string | null;
  name: string;
  email: string | null;
  title: string | null;
  role: string | null;
  is_champion: number;
  is_decision_maker: number;
  unsubscribed: number;
  bounced: number;
  last_seen_at: string | null;
  left_at: string | null;
  created_at: string;
}

/** A support ticket as `fetch` shows it, with its account's name. */
export interface TicketDocumentRow {
  id: string;
  external_id: string | null;
  account_id: string | null;
  account_name: string | null;
  contact_id: string | null;
  source: string;
  subject: string;
  body: string;
  status: string;
  priority: string;
  category: string | null;
  assignee: string | null;
  csat_score: number | null;
  created_at: string;
  first_response_at: string | null;
  solved_at: string | null;
  updated_at: string;
}

/** A knowledge-base article as `fetch` shows it. */
export interface KbArticleDocumentRow {
  id: string;
  external_id: string | null;
  title: string;
  body: string;
  category: string | null;
  status: string;
  review_by: string | null;
  created_at: string;
}

/** A feedback item as `fetch` shows it, with its account's name. */
export interface FeedbackDocumentRow {
  id: string;
  external_id: string | null;
  account_id: string | null;
  account_name: string | null;
  contact_id: string | null;
  source: string;
  kind: string;
  title: string;
  body: string;
  feature: string | null;
  status: string;
  created_at: string;
}

/** One account of the workspace by id with its stored rollups (ARR, health, renewal), or null. */
export async function findAccountDocument(
  db: D1Database,
  workspaceId: string,
  id: string,
): Promise<AccountDocumentRow | null> {
  return db
    .prepare(
      `SELECT id, external_id, name, domain, industry, employees, region, plan, segment, tier, lifecycle_stage, status,
              owner_user_id, arr, health_score, health_band, renewal_date, customer_since, churned_at, created_at
         FROM accounts WHERE workspace_id = ?1 AND id = ?2`,
    )
    .bind(workspaceId, id)
    .first<AccountDocumentRow>();
}

/** One contact of the workspace by id with its account's name, or null. */
export async function findContactDocument(
  db: D1Database,
  workspaceId: string,
  id: string,
): Promise<ContactDocumentRow | null> {
  return db
    .prepare(
      `SELECT c.id, c.external_id, c.account_id, a.name AS account_name, c.name, c.email, c.title, c.role, c.is_champion,
              c.is_decision_maker, c.unsubscribed, c.bounced, c.last_seen_at, c.left_at, c.created_at
         FROM contacts c
         LEFT JOIN accounts a ON a.workspace_id = c.workspace_id AND a.id = c.account_id
        WHERE c.workspace_id = ?1 AND c.id = ?2`,
    )
    .bind(workspaceId, id)
    .first<ContactDocumentRow>();
}

/** One support ticket of the workspace by id with its account's name, or null. */
export async function findTicketDocument(
  db: D1Database,
  workspaceId: string,
  id: string,
): Promise<TicketDocumentRow | null> {
  return db
    .prepare(
      `SELECT t.id, t.external_id, t.account_id, a.name AS account_name, t.contact_id, t.source, t.subject, t.body,
              t.status, t.priority, t.category, t.assignee, t.csat_score, t.created_at, t.first_response_at,
              t.solved_at, t.updated_at
         FROM tickets t
         LEFT JOIN accounts a ON a.workspace_id = t.workspace_id AND a.id = t.account_id
        WHERE t.workspace_id = ?1 AND t.id = ?2`,
    )
    .bind(workspaceId, id)
    .first<TicketDocumentRow>();
}

/** One knowledge-base article of the workspace by id (any status), or null. */
export async function findKbArticleDocument(
  db: D1Database,
  workspaceId: string,
  id: string,
): Promise<KbArticleDocumentRow | null> {
  return db
    .prepare(
      `SELECT id, external_id, title, body, category, status, review_by, created_at
         FROM kb_articles WHERE workspace_id = ?1 AND id = ?2`,
    )
    .bind(workspaceId, id)
    .first<KbArticleDocumentRow>();
}

/** One feedback item of the workspace by id with its account's name, or null. */
export async function findFeedbackDocument(
  db: D1Database,
  workspaceId: string,
  id: string,
): Promise<FeedbackDocumentRow | null> {
  return db
    .prepare(
      `SELECT f.id, f.external_id, f.account_id, a.name AS account_name, f.contact_id, f.source, f.kind, f.title, f.body,
              f.feature, f.status, f.created_at
         FROM feedback_items f
         LEFT JOIN accounts a ON a.workspace_id = f.workspace_id AND a.id = f.account_id
        WHERE f.workspace_id = ?1 AND f.id = ?2`,
    )
    .bind(workspaceId, id)
    .first<FeedbackDocumentRow>();
}
