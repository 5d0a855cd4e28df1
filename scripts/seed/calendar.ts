/**
 * Days as integer offsets from the anchor day (0 = anchor, negative = past), turned into ISO text
 * only when a row is written. Integer days keep the generator fast and its arithmetic exact.
 */
const DAY_MS = 86_400_000;

/** Converts day offsets relative to one anchor day into ISO days and instants. */
export class Calendar {
  /** Days since 1970-01-01 of the anchor. */
  private readonly anchorEpochDay: number;
  private readonly cache = new Map<number, string>();

  constructor(readonly anchorDay: string) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(anchorDay) || Number.isNaN(Date.parse(`${anchorDay}T00:00:00Z`))) {
      throw new Error(`anchor day must be YYYY-MM-DD, got ${anchorDay}`);
    }
    this.anchorEpochDay = Math.round(Date.parse(`${anchorDay}T00:00:00Z`) / DAY_MS);
  }

  /** `YYYY-MM-DD` of a day offset. */
  day(offset: number): string {
    let text = this.cache.get(offset);
    if (text === undefined) {
      text = new Date((this.anchorEpochDay + offset) * DAY_MS).toISOString().slice(0, 10);
      this.cache.set(offset, text);
    }
    return text;
  }

  /** Full ISO instant of a day offset plus seconds into that (UTC) day. */
  instant(offset: number, secondOfDay: number): string {
    const s = Math.max(0, Math.min(86_399, Math.floor(secondOfDay)));
    const hh = Math.floor(s / 3600);
    const mm = Math.floor((s % 3600) / 60);
    const ss = s % 60;
    return `${this.day(offset)}T${pad2(hh)}:${pad2(mm)}:${pad2(ss)}.000Z`;
  }

  /** Full ISO instant of a fractional day offset (e.g. -3.25 = 18:00 four days ago). */
  instantAt(fractionalOffset: number): string {
    const offset = Math.floor(fractionalOffset);
    return this.instant(offset, (fractionalOffset - offset) * 86_400);
  }

  /** 0 = Sunday … 6 = Saturday. */
  weekday(offset: number): number {
    // 1970-01-01 was a Thursday (4).
    return (((this.anchorEpochDay + offset + 4) % 7) + 7) % 7;
  }

  /** Day of the year, 0-based. */
  dayOfYear(offset: number): number {
    const date = new Date((this.anchorEpochDay + offset) * DAY_MS);
    return Math.round((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS);
  }

  /** Calendar year of a day offset. */
  year(offset: number): number {
    return new Date((this.anchorEpochDay + offset) * DAY_MS).getUTCFullYear();
  }

  /** Calendar month (1–12) of a day offset. */
  month(offset: number): number {
    return new Date((this.anchorEpochDay + offset) * DAY_MS).getUTCMonth() + 1;
  }

  /** The same calendar date `years` later (29 February rolls to 1 March), as an offset. */
  addYears(offset: number, years: number): number {
    const date = new Date((this.anchorEpochDay + offset) * DAY_MS);
    const moved = Date.UTC(date.getUTCFullYear() + years, date.getUTCMonth(), date.getUTCDate());
    return Math.round(moved / DAY_MS) - this.anchorEpochDay;
  }

  /** The next weekday (Monday–Friday) on or after an offset. */
  weekdayOnOrAfter(offset: number): number {
    let day = offset;
    while (this.weekday(day) === 0 || this.weekday(day) === 6) day++;
    return day;
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
