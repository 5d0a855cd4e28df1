import { notFound } from "../platform/mcp/errors";

/** The facts about one account that most tools name or filter on. */
export interface AccountRef {
  id: string;
  external_id: string | null;
  name: string;
  segment: string | null;
  tier: string | null;
  lifecycle_stage: string;
  owner_user_id: string | null;
  status: "active" | "churned" | "prospect";
  arr: number;
  renewal_date: string | null;
}

const ACCOUNT_REF_COLUMNS =
  "id, external_id, name, segment, tier, lifecycle_stage, owner_user_id, status, arr, renewal_date";

/** An account of this workspace by id, or null: another workspace's id reads as absent. */
export async function findAccount(db: D1Database, workspaceId: string, accountId: string): Promise<AccountRef | null> {
  return db
    .prepare(`SELECT ${ACCOUNT_REF_COLUMNS} FROM accounts WHERE workspace_id = ?1 AND id = ?2`)
    .bind(workspaceId, accountId)
    .first<AccountRef>();
}

/**
 * An account of this workspace named by its id or its id in the source CRM (the id wins when a
 * value is both), or null.
 */
export async function findAccountByRef(
  db: D1Database,
  workspaceId: string,
  ref: string,
): Promise<{ id: string; name: string } | null> {
  return db
    .prepare(
      "SELECT id, name FROM accounts WHERE workspace_id = ?1 AND (id = ?2 OR external_id = ?2) ORDER BY id = ?2 DESC LIMIT 1",
    )
    .bind(workspaceId, ref)
    .first<{ id: string; name: string }>();
}

/** An account of this workspace by id; a missing one is the tools' usual not-found error. */
export async function requireAccount(db: D1Database, workspaceId: string, accountId: string): Promise<AccountRef> {
  const account = await findAccount(db, workspaceId, accountId);
  if (!account) throw notFound("account", accountId);
  return account;
}

/** Of these ids, those that name no account of this workspace (another workspace's read as absent), in the given order. */
export async function missingAccountIds(
  db: D1Database,
  workspaceId: string,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT e.value AS id FROM json_each(?2) e
        WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.workspace_id = ?1 AND a.id = e.value)
        ORDER BY e.key`,
    )
    .bind(workspaceId, JSON.stringify(ids))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** The distinct values of an account field people filter on, sorted (at most 200). */
export async function storedAccountValues(
  db: D1Database,
  workspaceId: string,
  field: "segment" | "tier",
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT ${field} AS value FROM accounts WHERE workspace_id = ?1 AND ${field} IS NOT NULL ORDER BY 1 LIMIT 200`,
    )
    .bind(workspaceId)
    .all<{ value: string }>();
  return results.map((row) => row.value);
}
