/**
 * The book of active accounts as the identifying tools read it: what each account owns and its
 * licensed seats from its active contract items, its plan, the shared filters and ranked pages.
 * Pure functions, no bindings.
 */
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

/** One item of an active contract. */
export interface ActiveItem {
  account_id: string;
  contract_id: string;
  product_id: string;
  seats: number;
  arr: number;
}

/**
 * Per account: its products summed over its active contracts (in product id order) and its
 * licensed seats, per contract the seats on its plan items, or its largest item when it has no
 * plan item (the rule of the usage tools' licensed seats). The rows come unordered (a sort in
 * the database would count every row again as read); each account has only a few.
 */
export function ownedByAccount(
  rows: readonly ActiveItem[],
  catalog: ReadonlyMap<string, CatalogProduct>,
): Map<string, { seats: number; items: OwnedItem[] }> {
  const rowsByAccount = new Map<string, ActiveItem[]>();
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

const byProduct = (x: ActiveItem, y: ActiveItem) => compareText(x.product_id, y.product_id);

/** Orders ids as SQLite's BINARY collation does (they are ASCII). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The account's plan: the plan product with the most seats on its active contracts (ties: higher price). */
export function planOf(account: { items: readonly OwnedItem[] }, products: ReadonlyMap<string, CatalogProduct>) {
  let best: { product: CatalogProduct; item: OwnedItem } | null = null;
  for (const item of account.items) {
    const product = products.get(item.product_id);
    if (product?.kind !== "plan") continue;
    if (!best || item.seats > best.item.seats || (item.seats === best.item.seats && product.price > best.product.price))
      best = { product, item };
  }
  return best;
}

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
