import { z } from "zod";
import { jsonChunks } from "../../../platform/db/json-chunks";
import { newId } from "../../../platform/lib/ids";
import type { ToolContext } from "../../../platform/mcp/define-tool";
import { decodeCursor, encodeCursor } from "../../../platform/mcp/pagination";

/** A catalog product. */
export interface CatalogProduct {
  id: string;
  name: string;
  family: string | null;
  kind: "plan" | "add_on" | "service";
  /** List price per seat per year. */
  price: number;
}

/** One product an account holds on its active contracts (summed over them). */
export interface OwnedItem {
  product_id: string;
  seats: number;
  arr: number;
}

/** An active account with what it owns. */
export interface BookAccount {
  id: string;
  name: string;
  segment: string | null;
  industry: string | null;
  employees: number | null;
  owner_user_id: string | null;
  health_band: string | null;
  health_score: number | null;
  arr: number;
  /** Licensed seats: plan items of active contracts (a contract without one: its largest item). */
  seats: number;
  items: OwnedItem[];
}

/** The active accounts of the workspace and the catalog. */
export interface Book {
  accounts: BookAccount[];
  products: Map<string, CatalogProduct>;
}

/** One item of an active contract. */
interface ActiveItemRow {
  account_id: string;
  contract_id: string;
  product_id: string;
  seats: number;
  arr: number;
}

/**
 * Every active account of the workspace with its products and licensed seats, and the catalog,
 * in one batch of three set-based statements (no per-account query). The items are read once,
 * from the active contracts (contracts_ws_end) along each contract's items, and both the owned
 * products and the licensed seats are summed from them; only the active accounts' are kept.
 * Nothing is sorted in the database, where a sort would count every row again as read.
 */
export async function loadBook(ctx: ToolContext): Promise<Book> {
  const ws = ctx.principal.workspaceId;
  const [accounts, items, products] = await ctx.env.DB.batch([
    ctx.env.DB.prepare(
      `SELECT id, name, segment, industry, employees, owner_user_id, health_band, health_score, arr
         FROM accounts WHERE workspace_id = ?1 AND status = 'active'`,
    ).bind(ws),
    ctx.env.DB.prepare(
      `SELECT c.account_id, c.id AS contract_id, ci.product_id, ci.seats, ci.arr
         FROM contracts c
         CROSS JOIN contract_items ci ON ci.workspace_id = ?1 AND ci.contract_id = c.id
        WHERE c.workspace_id = ?1 AND c.status = 'active'`,
    ).bind(ws),
    ctx.env.DB.prepare("SELECT id, name, family, kind, price FROM products WHERE workspace_id = ?1").bind(ws),
  ]);
  const catalog = new Map(
    ((products?.results ?? []) as CatalogProduct[]).sort((a, b) => compareText(a.id, b.id)).map((p) => [p.id, p]),
  );
  const owned = ownedByAccount((items?.results ?? []) as ActiveItemRow[], catalog);
  return {
    accounts: ((accounts?.results ?? []) as Omit<BookAccount, "seats" | "items">[])
      .sort((a, b) => compareText(a.id, b.id))
      .map((a) => {
        const own = owned.get(a.id);
        // Completes each row in place rather than copying every one.
        return Object.assign(a, { seats: own?.seats ?? 0, items: own?.items ?? [] });
      }),
    products: catalog,
  };
}

/**
 * Per account: its products summed over its active contracts (in product id order) and its
 * licensed seats, per contract the seats on its plan items, or its largest item when it has no
 * plan item (the rule of the usage tools' licensed seats). The rows come unordered (a sort in
 * the database would count every row again as read); each account has only a few.
 */
function ownedByAccount(
  rows: readonly ActiveItemRow[],
  catalog: ReadonlyMap<string, CatalogProduct>,
): Map<string, { seats: number; items: OwnedItem[] }> {
  const rowsByAccount = new Map<string, ActiveItemRow[]>();
  const contracts = new Map<string, { account_id: string; plan: number; hasPlan: boolean; largest: number }>();
  for (const r of rows) {
    const list = rowsByAccount.get(r.account_id);
    if (list) list.push(r);
    else rowsByAccount.set(r.account_id, [r]);
    let contract = contracts.get(r.contract_id);
    if (!contract) {
      contract = { account_id: r.account_id, plan: 0, hasPlan: false, largest: r.seats };
      contracts.set(r.contract_id, contract);
    }
    if (catalog.get(r.product_id)?.kind === "plan") {
      contract.hasPlan = true;
      contract.plan += r.seats;
    }
    if (r.seats > contract.largest) contract.largest = r.seats;
  }
  const owned = new Map<string, { seats: number; items: OwnedItem[] }>();
  for (const [accountId, list] of rowsByAccount) {
    if (list.length > 1) list.sort(byProduct);
    const items: OwnedItem[] = [];
    for (const r of list) {
      const last = items[items.length - 1];
      if (last?.product_id === r.product_id) {
        last.seats += r.seats;
        last.arr += r.arr;
      } else items.push({ product_id: r.product_id, seats: r.seats, arr: r.arr });
    }
    owned.set(accountId, { seats: 0, items });
  }
  for (const c of contracts.values()) {
    const account = owned.get(c.account_id);
    if (account) account.seats += c.hasPlan ? c.plan : c.largest;
  }
  return owned;
}

const byProduct = (x: ActiveItemRow, y: ActiveItemRow) => compareText(x.product_id, y.product_id);

/** Orders ids as SQLite's BINARY collation does (they are ASCII). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The account's plan: the plan product with the most seats on its active contracts (ties: higher price). */
export function planOf(account: BookAccount, products: Map<string, CatalogProduct>) {
  let best: { product: CatalogProduct; item: OwnedItem } | null = null;
  for (const item of account.items) {
    const product = products.get(item.product_id);
    if (product?.kind !== "plan") continue;
    if (!best || item.seats > best.item.seats || (item.seats === best.item.seats && product.price > best.product.price))
      best = { product, item };
  }
  return best;
}

/** Filters shared by the list actions. */
export const accountFilters = {
  segment: z.string().min(1).max(100).optional().describe("Only accounts of this segment (accounts.segment)."),
  owner: z.string().min(1).max(100).optional().describe("Only accounts owned by this user id."),
};

/** Applies the segment and owner filters. */
export function matchesFilters(
  a: { segment: string | null; owner_user_id: string | null },
  filters: { segment?: string | undefined; owner?: string | undefined },
): boolean {
  return (
    (filters.segment === undefined || a.segment === filters.segment) &&
    (filters.owner === undefined || a.owner_user_id === filters.owner)
  );
}

/**
 * One page of rows already sorted by `value` descending then id ascending; the cursor keeps the
 * last row's value and id.
 */
export function rankedPage<T>(
  rows: readonly T[],
  key: (row: T) => { value: number; id: string },
  fingerprint: string,
  limit: number,
  cursor: string | undefined,
): { page: T[]; next: string | null } {
  let rest = rows;
  if (cursor) {
    const position = decodeCursor(cursor, fingerprint);
    const last = Number(position.k[0]);
    rest = rows.filter((r) => {
      const k = key(r);
      return k.value < last || (k.value === last && k.id > position.id);
    });
  }
  const page = rest.slice(0, limit);
  const tail = page[page.length - 1];
  const next =
    rest.length > limit && tail !== undefined
      ? encodeCursor({ k: [key(tail).value], id: key(tail).id, q: fingerprint })
      : null;
  return { page, next };
}

/** An opportunity the identifying tools propose. */
export interface ProposedOpportunity {
  account_id: string;
  product_id: string;
  name: string;
  amount: number;
  score: number;
}

/**
 * Which open opportunities count as the same deal: one of the same kind for the same product,
 * and, when `unknownProductBlocks`, also one of the same kind with no product recorded (as
 * deals imported from a CRM have), since it may already cover the need.
 */
export interface SameDealRule {
  kind: "upsell" | "cross_sell";
  unknownProductBlocks: boolean;
}

/**
 * Inserts the proposals as open opportunities at stage `identified`, skipping any account that
 * already has the same deal open (see {@link SameDealRule}) or earlier in the list. Returns the
 * created rows' ids by account and product.
 */
export async function createOpportunities(
  ctx: ToolContext,
  rule: SameDealRule,
  source: string,
  proposals: readonly ProposedOpportunity[],
): Promise<{ id: string; account_id: string; product_id: string }[]> {
  const seen = new Set<string>();
  const rows = proposals
    .filter((p) => {
      const key = `${p.account_id}|${p.product_id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((p) => ({ ...p, id: newId("opp") }));
  const created: { id: string; account_id: string; product_id: string }[] = [];
  for (const chunk of jsonChunks(rows)) {
    // Repeats within the list were dropped above; NOT EXISTS skips what is already open.
    const result = await ctx.env.DB.prepare(
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
      .bind(
        ctx.principal.workspaceId,
        rule.kind,
        source,
        ctx.now.toISOString(),
        chunk,
        rule.unknownProductBlocks ? 1 : 0,
      )
      .all<{ id: string; account_id: string; product_id: string }>();
    created.push(...result.results);
  }
  return created;
}

/**
 * The open opportunities of one kind, to mark proposals already in the pipeline: `find` gives the
 * oldest open same deal (see {@link SameDealRule}) for an account and product, or null.
 */
export async function openOpportunityIndex(
  ctx: ToolContext,
  rule: SameDealRule,
): Promise<{ find(accountId: string, productId: string): string | null }> {
  const result = await ctx.env.DB.prepare(
    `SELECT id, account_id, product_id FROM opportunities
      WHERE workspace_id = ?1 AND kind = ?2 AND status = 'open'
      ORDER BY created_at, id`,
  )
    .bind(ctx.principal.workspaceId, rule.kind)
    .all<{ id: string; account_id: string; product_id: string | null }>();
  const index = new Map<string, string>();
  for (const r of result.results) {
    const key = JSON.stringify([r.account_id, r.product_id]);
    if (!index.has(key)) index.set(key, r.id);
  }
  return {
    find: (accountId, productId) =>
      index.get(JSON.stringify([accountId, productId])) ??
      (rule.unknownProductBlocks ? (index.get(JSON.stringify([accountId, null])) ?? null) : null),
  };
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
