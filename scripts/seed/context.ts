/** Shared state of one generation run: ids, calendar and workspace-wide counters. */
import type { Calendar } from "./calendar";
import type { Rng } from "./random";
import { REGION_HOURS } from "./vocabulary";

/** What every part of the generator needs to know about the run. */
export interface SeedContext {
  seed: number;
  slug: string;
  workspaceId: string;
  cal: Calendar;
  /** Quarterly NPS survey waves (day offsets) across the history. */
  npsWaves: number[];
  /** Running numbers for external ids that look like a helpdesk's or survey tool's. */
  counters: { ticket: number; survey: number; feedback: number };
}

/** Id of a team member (see `TEAM`). */
export function userId(ctx: SeedContext, key: string): string {
  return `usr_${ctx.slug}_${key.replace(/\./g, "_")}`;
}

/** Id of a catalog product. */
export function productId(ctx: SeedContext, key: string): string {
  return `prd_${ctx.slug}_${key}`;
}

/** A timestamp on `day` inside the region's working hours. */
export function workInstant(ctx: SeedContext, rng: Rng, day: number, region: string): string {
  const [from, to] = REGION_HOURS[region] ?? [9, 17];
  return ctx.cal.instant(day, (from + rng.real(0, to - from)) * 3600);
}

/** Fractional day offset of a timestamp inside the region's working hours. */
export function workTime(rng: Rng, day: number, region: string): number {
  const [from, to] = REGION_HOURS[region] ?? [9, 17];
  return day + (from + rng.real(0, to - from)) / 24;
}
