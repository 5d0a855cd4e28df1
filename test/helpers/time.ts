/** Fixture dates relative to the suite's pinned clock (see test/setup.ts). */
import { clock } from "../../src/platform/lib/clock";
import { addDays, isoDay } from "../../src/platform/lib/time";

/** The instant `days` days before the suite's pinned clock (after it for negative days), as ISO 8601. */
export function daysAgo(days: number): string {
  return new Date(clock.now().getTime() - days * 86_400_000).toISOString();
}

/** The UTC day (YYYY-MM-DD) `days` days before the suite's pinned clock. */
export function dayAgo(days: number): string {
  return addDays(isoDay(clock.now()), -days);
}

/**
 * For fixtures written with literal dates: moves a date or instant written for a suite running
 * at `writtenAt` onto the pinned clock, by the whole number of weeks nearest to the difference,
 * so weekdays and times of day stay as written. Strings keep their form (day or instant).
 */
export function fixtureDates(writtenAt: string): (written: string) => string {
  const weekMs = 7 * 86_400_000;
  const shiftMs = Math.round((clock.now().getTime() - Date.parse(`${writtenAt}T12:00:00.000Z`)) / weekMs) * weekMs;
  return (written) => {
    const moved = new Date(Date.parse(written.length === 10 ? `${written}T00:00:00.000Z` : written) + shiftMs);
    if (written.length === 10) return moved.toISOString().slice(0, 10);
    return moved.toISOString();
  };
}
