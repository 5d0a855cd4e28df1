/**
 * ISO-8601 weeks (Monday to Sunday; week 1 holds the year's first Thursday), used to label
 * weekly usage rollups.
 */

const DAY_MS = 86_400_000;

/** The Monday (`YYYY-MM-DD`) of the ISO week that contains `day`. */
export function isoWeekMonday(day: string): string {
  const date = new Date(`${day.slice(0, 10)}T00:00:00Z`);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}

/** The ISO week label of `day`, e.g. `2026-W48`; the year is the ISO week-numbering year. */
export function isoWeekLabel(day: string): string {
  const monday = Date.parse(`${isoWeekMonday(day)}T00:00:00Z`);
  // The Thursday of a week decides which year the week belongs to.
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}
