/**
 * Pure logic of privacy exports and erasure: which name free text is searched for, how an
 * export's rows are grouped into tables with their counts and page cursors, and how customer
 * text is set apart in each row.
 */

/** Shortest name searched for in free text: a shorter one would match ordinary words. */
const MIN_MENTION_NAME = 5;

/**
 * The contact's name as free text is searched for it: its full name when it has at least
 * {@link MIN_MENTION_NAME} characters and is not a placeholder (its email or external id, as
 * providers name a person they know nothing more of); else '' (no name search).
 */
export function mentionName(contact: { name: string; email: string | null; external_id: string | null }): string {
  const name = contact.name.trim();
  if (name.length < MIN_MENTION_NAME) return "";
  const lower = name.toLowerCase();
  if (lower === contact.email?.toLowerCase() || lower === contact.external_id?.toLowerCase()) return "";
  return name;
}

/** One row of an export statement (see `exportRows`). */
export interface ExportedRow {
  source: string;
  total: number | null;
  rid: number | string | null;
  record: string | null;
}

/** One table of an export: its count, one page of its rows and the cursor of the next page. */
export interface ExportTable {
  table: string;
  total: number;
  returned: number;
  rows: Record<string, unknown>[];
  next_cursor: string | null;
}

/** A stored row as exported: its columns, with the ones customers wrote under `customer_text`. */
function exportRecord(record: string, customerText: readonly string[] = []): Record<string, unknown> {
  const row = JSON.parse(record) as Record<string, unknown>;
  if (customerText.length === 0) return row;
  const text: Record<string, unknown> = {};
  for (const column of customerText) {
    text[column] = row[column] ?? null;
    delete row[column];
  }
  return { ...row, customer_text: text };
}

/** SQLite's order of page keys: numbers before text, text by code point. */
function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Groups an export statement's rows by table, in `order`, each with at most `limit` rows (the
 * statement reads one more, which says whether a next page exists).
 */
export function exportTables(
  rows: readonly ExportedRow[],
  spec: {
    order: readonly string[];
    limit: number;
    customerText: ReadonlyMap<string, readonly string[]>;
    cursorOf: (table: string, lastKey: number | string) => string;
  },
): ExportTable[] {
  const totals = new Map<string, number>();
  const pages = new Map<string, { rid: number | string; record: string }[]>();
  for (const row of rows) {
    if (row.total !== null) totals.set(row.source, row.total);
    else if (row.rid !== null && row.record !== null) {
      const page = pages.get(row.source) ?? [];
      page.push({ rid: row.rid, record: row.record });
      pages.set(row.source, page);
    }
  }
  return spec.order
    .filter((table) => totals.has(table))
    .map((table) => {
      const page = (pages.get(table) ?? []).sort((a, b) => compareKeys(a.rid, b.rid));
      const shown = page.slice(0, spec.limit);
      const last = shown.at(-1);
      return {
        table,
        total: totals.get(table) ?? 0,
        returned: shown.length,
        rows: shown.map((row) => exportRecord(row.record, spec.customerText.get(table))),
        next_cursor: page.length > spec.limit && last ? spec.cursorOf(table, last.rid) : null,
      };
    });
}
