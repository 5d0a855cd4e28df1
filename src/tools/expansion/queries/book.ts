import { z } from "zod";
import { type ActiveItem, type CatalogProduct, compareText, type OwnedItem, ownedByAccount } from "../domain/book";

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

/**
 * Every active account of the workspace with its products and licensed seats, and the catalog,
 * in one batch of three set-based statements (no per-account query). The items are read once,
 * from the active contracts (contracts_ws_end) along each contract's items, and both the owned
 * products and the licensed seats are summed from them; only the active accounts' are kept.
 * Nothing is sorted in the database, where a sort would count every row again as read.
 */
export async function loadBook(db: D1Database, workspaceId: string): Promise<Book> {
  const ws = workspaceId;
  const [accounts, items, products] = await db.batch([
    db
      .prepare(
        `SELECT id, name, segment, industry, employees, owner_user_id, health_band, health_score, arr
         FROM accounts WHERE workspace_id = ?1 AND status = 'active'`,
      )
      .bind(ws),
    db
      .prepare(
        `SELECT c.account_id, c.id AS contract_id, ci.product_id, ci.seats, ci.arr
         FROM contracts c
         CROSS JOIN contract_items ci ON ci.workspace_id = ?1 AND ci.contract_id = c.id
        WHERE c.workspace_id = ?1 AND c.status = 'active'`,
      )
      .bind(ws),
    db.prepare("SELECT id, name, family, kind, price FROM products WHERE workspace_id = ?1").bind(ws),
  ]);
  const catalog = new Map(
    ((products?.results ?? []) as CatalogProduct[]).sort((a, b) => compareText(a.id, b.id)).map((p) => [p.id, p]),
  );
  const owned = ownedByAccount((items?.results ?? []) as ActiveItem[], catalog);
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

/** Filters shared by the list actions (applied to the book with `matchesFilters`). */
export const accountFilters = {
  segment: z.string().min(1).max(100).optional().describe("Only accounts of this segment (accounts.segment)."),
  owner: z.string().min(1).max(100).optional().describe("Only accounts owned by this user id."),
};
