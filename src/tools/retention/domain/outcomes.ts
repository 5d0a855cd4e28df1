import { median, round } from "../../../platform/lib/stats";
import { daysBetween } from "../../../platform/lib/time";
import type { Outcome } from "./playbooks";

/** One intervention as the outcome statistics read it. */
export interface InterventionFacts {
  playbook: string;
  /** True when it was opened inside the window. */
  opened_in_window: boolean;
  /** Set when it was closed inside the window. */
  outcome: Outcome | null;
  arr_at_open: number;
  arr_at_close: number | null;
  /** Whole days from opened to closed, when closed in the window. */
  days_to_close: number | null;
}

/** Outcome statistics of one playbook (or of all, as `playbook: "all"`). */
export interface PlaybookOutcomes {
  playbook: string;
  opened: number;
  closed: number;
  saved: number;
  downsized: number;
  churned: number;
  /** saved / closed; downsized does not count as saved. Null when none closed. */
  save_rate: number | null;
  /** (saved + downsized) / closed: the account stayed, at any ARR. Null when none closed. */
  retention_rate: number | null;
  /** Sum of ARR at open of the closed interventions. */
  arr_at_open_closed: number;
  /** Sum of ARR at close of the saved and downsized interventions. */
  arr_saved: number;
  /** Sum of ARR at open of the churned interventions. */
  arr_lost: number;
  median_days_to_close: number | null;
}

const rate = (part: number, whole: number) => (whole > 0 ? round(part / whole, 4) : null);

function summarize(playbook: string, rows: readonly InterventionFacts[]): PlaybookOutcomes {
  const closed = rows.filter((r) => r.outcome !== null);
  const count = (outcome: Outcome) => closed.filter((r) => r.outcome === outcome).length;
  const saved = count("saved");
  const downsized = count("downsized");
  return {
    playbook,
    opened: rows.filter((r) => r.opened_in_window).length,
    closed: closed.length,
    saved,
    downsized,
    churned: count("churned"),
    save_rate: rate(saved, closed.length),
    retention_rate: rate(saved + downsized, closed.length),
    arr_at_open_closed: closed.reduce((s, r) => s + r.arr_at_open, 0),
    arr_saved: closed
      .filter((r) => r.outcome === "saved" || r.outcome === "downsized")
      .reduce((s, r) => s + (r.arr_at_close ?? 0), 0),
    arr_lost: closed.filter((r) => r.outcome === "churned").reduce((s, r) => s + r.arr_at_open, 0),
    median_days_to_close: median(closed.flatMap((r) => (r.days_to_close === null ? [] : [r.days_to_close]))),
  };
}

/**
 * Outcome statistics per playbook, sorted by playbook name, and for all playbooks together.
 * Rows are interventions opened or closed in the window; only those closed in it count as closed.
 */
export function outcomesByPlaybook(rows: readonly InterventionFacts[]): {
  playbooks: PlaybookOutcomes[];
  total: PlaybookOutcomes;
} {
  const names = [...new Set(rows.map((r) => r.playbook))].sort();
  return {
    playbooks: names.map((name) =>
      summarize(
        name,
        rows.filter((r) => r.playbook === name),
      ),
    ),
    total: summarize("all", rows),
  };
}

/**
 * The outcome facts of interventions read for the window starting `from` (YYYY-MM-DD): only those
 * closed on or after it count as closed, with their whole days from opening to closing.
 */
export function interventionFacts(
  rows: readonly {
    playbook: string;
    opened_at: string;
    closed_at: string | null;
    outcome: Outcome | null;
    arr_at_open: number;
    arr_at_close: number | null;
  }[],
  from: string,
): InterventionFacts[] {
  return rows.map((r) => {
    const closedInWindow = r.closed_at !== null && r.closed_at >= from;
    return {
      playbook: r.playbook,
      opened_in_window: r.opened_at >= from,
      outcome: closedInWindow ? r.outcome : null,
      arr_at_open: r.arr_at_open,
      arr_at_close: r.arr_at_close,
      days_to_close: closedInWindow && r.closed_at ? daysBetween(r.opened_at, r.closed_at) : null,
    };
  });
}
