import { addDays, isoDay } from "../../../platform/lib/time";

/** A window of whole UTC days, both ends included. */
export interface DayWindow {
  from: string;
  to: string;
  window_days: number;
  /** First instant after the window, the exclusive upper bound for timestamps. */
  end_exclusive: string;
}

/**
 * The days `from`..`to` (inclusive). Without `from`, the `days` days ending on `to`; without
 * `to`, ending today (UTC). Returns an error message when the window is reversed.
 */
export function dayWindow(
  now: Date,
  days: number,
  from: string | undefined,
  to: string | undefined,
): DayWindow | { error: string } {
  const last = to ?? isoDay(now);
  const first = from ?? addDays(last, -(days - 1));
  if (first > last) return { error: `from (${first}) is after to (${last}); give from on or before to.` };
  const windowDays = Math.round((Date.parse(last) - Date.parse(first)) / 86_400_000) + 1;
  return { from: first, to: last, window_days: windowDays, end_exclusive: `${addDays(last, 1)}T00:00:00.000Z` };
}
