import { z } from "zod";
import { jsonChunks } from "../../../platform/db/json-chunks";
import { newId } from "../../../platform/lib/ids";
import { compareText } from "../domain/book";
import type { SameDealRule } from "../domain/opportunities";

/** An opportunity the identifying tools propose. */
export interface ProposedOpportunity {
  account_id: string;
  product_id: string;
  name: string;
  amount: number;
  score: number;
}

/** An opportunity a `create` action opened. */
export interface CreatedOpportunity {
  id: string;
  account_id: string;
  product_id: string;
}

/**
 * Inserts the proposals as open opportunities at stage `identified`, skipping any account that
 * already has the same deal open (see {@link SameDealRule}) or earlier in the list. Returns the
 * created rows' ids by account and product.
 */
export async function createOpportunities(
  db: D1Database,
  workspaceId: string,
  opening: { rule: SameDealRule; source: string; proposals: readonly ProposedOpportunity[]; now: Date },
): Promise<CreatedOpportunity[]> {
  const { rule, source, proposals } = opening;
  const seen = new Set<string>();
  const rows = proposals
    .filter((p) => {
      const key = `${p.account_id}|${p.product_id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((p) => ({ ...p, id: newId("opp") }));
  const created: CreatedOpportunity[] = [];
  for (const chunk of jsonChunks(rows)) {
    // Repeats within the list were dropped above; NOT EXISTS skips what is already open.
    const result = await db
      .prepare(
        `INSERT INTO opportunities (id, workspace_id, account_id, name, kind, stage, status, amount, product_id, source, score, created_at)
       SELECT j.id, ?1, j.account_id, j.name, ?2, 'identified', 'open', j.amount, j.product_id, ?3, j.score, ?4
         FROM (SELECT value ->> '$.id' AS id, value ->> '$.account_id' AS account_id, value ->> '$.name' AS name,
                      value ->> '$.amount' AS amount, value ->> '$.product_id' AS product_id, value ->> '$.score' AS score
                 FROM json_each(?5)) AS j
        WHERE j.account_id IN (SELECT id FROM accounts WHERE workspace_id = ?1)
          AND NOT EXISTS (SELECT 1 FROM opportunities o
                           WHERE o.workspace_id = ?1 AND o.account_id = j.account_id AND o.status = 'open'
                             AND o.kind = ?2 AND (o.product_id = j.product_id OR (?6 = 1 AND o.product_id IS NULL)))
       RETURNING id, account_id, product_id`,
      )
      .bind(workspaceId, rule.kind, source, opening.now.toISOString(), chunk, rule.unknownProductBlocks ? 1 : 0)
      .all<CreatedOpportunity>();
    created.push(...result.results);
  }
  return created;
}

/** An open opportunity of one kind, as the same-deal index needs it. */
export interface OpenOpportunityRow {
  id: string;
  account_id: string;
  product_id: string | null;
}

/** The workspace's open opportunities of one kind, oldest first (created_at, then id). */
export async function openOpportunitiesOfKind(
  db: D1Database,
  workspaceId: string,
  kind: SameDealRule["kind"],
): Promise<OpenOpportunityRow[]> {
  const result = await db
    .prepare(
      `SELECT id, account_id, product_id FROM opportunities
      WHERE workspace_id = ?1 AND kind = ?2 AND status = 'open'
      ORDER BY created_at, id`,
    )
    .bind(workspaceId, kind)
    .all<OpenOpportunityRow>();
  return result.results;
}

/** Opportunity kinds that make up the expansion pipeline. */
const PIPELINE_KINDS = ["expansion", "upsell", "cross_sell"] as const;

/** An open opportunity of the expansion pipeline with its account's name, segment and owner. */
export interface PipelineOpportunityRow {
  id: string;
  account_id: string;
  account_name: string;
  segment: string | null;
  owner_user_id: string | null;
  name: string;
  kind: string;
  stage: string;
  amount: number;
  probability: number | null;
  close_date: string | null;
  product_id: string | null;
  source: string;
}

/**
 * Open expansion, upsell and cross-sell opportunities of active accounts (opportunities_ws_kind),
 * or only those of `accountIds`, by id.
 */
export async function expansionPipeline(
  db: D1Database,
  workspaceId: string,
  accountIds?: readonly string[],
): Promise<PipelineOpportunityRow[]> {
  // With account ids the rows come by account (opportunities_ws_account), not by kind over the workspace.
  const scope = accountIds ? "AND o.account_id IN (SELECT value FROM json_each(?3)) AND +o.kind" : "AND o.kind";
  const result = await db
    .prepare(
      `SELECT o.id, o.account_id, a.name AS account_name, a.segment, a.owner_user_id, o.name, o.kind, o.stage,
            o.amount, o.probability, o.close_date, o.product_id, o.source
       FROM opportunities o
       JOIN accounts a ON a.workspace_id = o.workspace_id AND a.id = o.account_id
      WHERE o.workspace_id = ?1 ${scope} IN (SELECT value FROM json_each(?2)) AND o.status = 'open'
        AND a.status = 'active'`,
    )
    .bind(workspaceId, JSON.stringify(PIPELINE_KINDS), ...(accountIds ? [JSON.stringify(accountIds)] : []))
    .all<PipelineOpportunityRow>();
  // By id (the order sums are taken in), sorted here: a sort in the database would count every row again as read.
  return result.results.sort((a, b) => compareText(a.id, b.id));
}

/** Common input of the `create` actions: explicit accounts or the top N qualified candidates. */
export const createArgs = {
  account_ids: z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(200)
    .optional()
    .describe("create: the accounts to open opportunities for (their qualified candidates); omit to take the top N."),
  top: z
    .number()
    .int()
    .min(1)
    .max(200)
    .default(10)
    .describe("create without account_ids: open opportunities for the N best qualified candidates (default 10)."),
};

/** The `created` output of an identifying tool's create action. */
export const createdOpportunitiesField = z
  .array(
    z.object({
      opportunity_id: z.string(),
      account_id: z.string(),
      product_id: z.string(),
      amount: z.number(),
      score: z.number(),
    }),
  )
  .optional()
  .describe("create: opportunities opened.");
