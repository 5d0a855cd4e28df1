import { round } from "../../../platform/lib/stats";
import { emptyTotals, type MovementTotals } from "../domain/movements";

/** Two days whose in-force ARR is compared. */
export interface Span {
  start: string;
  end: string;
}

/** Movement totals of one segment over one span (segment as stored on the account now). */
export interface SegmentMovements {
  segment: string | null;
  totals: MovementTotals;
}

/** The movement figures as SQL aggregates over per-account ARR on the start day `s` and the end day `e`. */
const MOVEMENT_AGGREGATES: Record<keyof MovementTotals, (s: string, e: string) => string> = {
  starting_arr: (s) => `coalesce(sum(CASE WHEN ${s} > 0 THEN ${s} END), 0)`,
  accounts_at_start: (s) => `count(CASE WHEN ${s} > 0 THEN 1 END)`,
  expansion_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} > 0 AND ${e} > ${s} THEN ${e} - ${s} END), 0)`,
  accounts_expanded: (s, e) => `count(CASE WHEN ${s} > 0 AND ${e} > ${s} THEN 1 END)`,
  contraction_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} > 0 AND ${e} > 0 AND ${e} < ${s} THEN ${s} - ${e} END), 0)`,
  accounts_contracted: (s, e) => `count(CASE WHEN ${s} > 0 AND ${e} > 0 AND ${e} < ${s} THEN 1 END)`,
  churned_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} > 0 AND ${e} <= 0 THEN ${s} END), 0)`,
  accounts_churned: (s, e) => `count(CASE WHEN ${s} > 0 AND ${e} <= 0 THEN 1 END)`,
  new_arr: (s, e) => `coalesce(sum(CASE WHEN ${s} <= 0 AND ${e} > 0 THEN ${e} END), 0)`,
  new_accounts: (s, e) => `count(CASE WHEN ${s} <= 0 AND ${e} > 0 THEN 1 END)`,
};
const FIGURES = Object.keys(MOVEMENT_AGGREGATES) as (keyof MovementTotals)[];

/** Spans measured by one statement: each adds 11 result columns, and D1 returns at most 100. */
const SPANS_PER_STATEMENT = 8;

/**
 * ARR movements per segment for several spans in one statement that reads the contracts once.
 * An account's ARR on a day is the sum of its contract terms in force that day: start_date ≤ day
 * < until, where until is the end date, cut short by the start of a successor term
 * (previous_contract_id pointing at it, for renewals that replace a term early) and, for a
 * cancelled term, by its outcome date (a cancelled term without one never counts). Each
 * account's ARR is taken on every distinct start or end day of the spans (`?3`… in order); one
 * row per segment then carries each span's figures (suffix = the span's position) over the
 * accounts with ARR on either of its days (`n…`), the cohort being those with ARR > 0 on its
 * start day.
 */
function movementsSql(dayCount: number, spans: readonly { start: number; end: number }[]): string {
  const dayParam = (i: number) => `?${i + 3}`;
  const arrOn = Array.from(
    { length: dayCount },
    (_, i) =>
      `round(coalesce(sum(CASE WHEN start_date <= ${dayParam(i)} AND until > ${dayParam(i)} THEN arr END), 0), 2) AS d${i}`,
  );
  const figures = spans.flatMap((span, i) => {
    const [s, e] = [`p.d${span.start}`, `p.d${span.end}`];
    return [
      `count(CASE WHEN ${s} > 0 OR ${e} > 0 THEN 1 END) AS n${i}`,
      ...FIGURES.map((f) => `${MOVEMENT_AGGREGATES[f](s, e)} AS ${f}${i}`),
    ];
  });
  return `WITH successors AS (
    SELECT previous_contract_id AS id, min(start_date) AS next_start FROM contracts
     WHERE workspace_id = ?1 AND previous_contract_id IS NOT NULL AND status <> 'cancelled'
     GROUP BY previous_contract_id),
  terms AS (
    SELECT c.account_id, c.arr, c.start_date,
           min(c.end_date, coalesce(s.next_start, c.end_date),
               CASE WHEN c.status = 'cancelled' THEN coalesce(substr(c.outcome_date, 1, 10), c.start_date)
                    ELSE c.end_date END) AS until
      FROM contracts c LEFT JOIN successors s ON s.id = c.id
     WHERE c.workspace_id = ?1 AND c.start_date <= ${dayParam(dayCount - 1)} AND c.end_date > ${dayParam(0)}),
  per_account AS (SELECT account_id, ${arrOn.join(", ")} FROM terms GROUP BY account_id)
SELECT a.segment AS segment, ${figures.join(",\n       ")}
  FROM per_account p JOIN accounts a ON a.id = p.account_id AND a.workspace_id = ?1
 WHERE (?2 IS NULL OR a.segment = ?2)
 GROUP BY a.segment
 ORDER BY a.segment`;
}

/**
 * Movements per segment for each span, in span order: one statement per eight spans (the
 * default five spans of a report take one), in one batch.
 */
export async function loadMovements(
  db: D1Database,
  workspaceId: string,
  spans: readonly Span[],
  segment: string | null,
): Promise<SegmentMovements[][]> {
  if (spans.length === 0) return [];
  const chunks: Span[][] = [];
  for (let i = 0; i < spans.length; i += SPANS_PER_STATEMENT) chunks.push(spans.slice(i, i + SPANS_PER_STATEMENT));
  const statements = chunks.map((chunk) => {
    const days = [...new Set(chunk.flatMap((span) => [span.start, span.end]))].sort();
    const index = new Map(days.map((day, i) => [day, i]));
    const columns = chunk.map((span) => ({ start: index.get(span.start) ?? 0, end: index.get(span.end) ?? 0 }));
    return db.prepare(movementsSql(days.length, columns)).bind(workspaceId, segment, ...days);
  });
  const results = await db.batch<Record<string, number | string | null>>(statements);
  return chunks.flatMap((chunk, c) => {
    const rows = results[c]?.results ?? [];
    return chunk.map((_, i) =>
      rows
        // A segment counts in a span only with an account holding ARR on one of its days.
        .filter((row) => Number(row[`n${i}`]) > 0)
        .map((row) => {
          const totals = emptyTotals();
          for (const f of FIGURES) totals[f] = Number(row[`${f}${i}`]);
          return { segment: row.segment as string | null, totals: roundTotals(totals) };
        }),
    );
  });
}

/** The totals with every figure rounded to cents. */
function roundTotals(t: MovementTotals): MovementTotals {
  const out = { ...t };
  for (const key of Object.keys(out) as (keyof MovementTotals)[]) out[key] = round(out[key]);
  return out;
}
