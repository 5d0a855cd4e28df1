/**
 * Renewal reminder schedule: which offsets (days before the renewal date) apply to an account,
 * which reminder is due on a day, and which is next. Pure functions, no bindings.
 */

/** The `renewal_reminders` settings the schedule reads. */
export interface ReminderSettings {
  offsets_days: readonly number[];
  by_tier: Readonly<Record<string, readonly number[]>>;
}

/** Offsets sorted from the largest (earliest reminder) to the smallest, without repeats. */
export function normalizeOffsets(offsets: readonly number[]): number[] {
  return [...new Set(offsets)].sort((a, b) => b - a);
}

/** The offsets for an account of `tier`: its tier's list when settings name the tier, else the default list. */
export function offsetsForTier(settings: ReminderSettings, tier: string | null): number[] {
  const own = tier !== null ? settings.by_tier[tier] : undefined;
  return normalizeOffsets(own ?? settings.offsets_days);
}

/** The schedule each tier follows, the default first (tier null). */
export function effectiveSchedules(settings: ReminderSettings): { tier: string | null; offsets_days: number[] }[] {
  return [
    { tier: null, offsets_days: normalizeOffsets(settings.offsets_days) },
    ...Object.keys(settings.by_tier)
      .sort()
      .map((tier) => ({ tier, offsets_days: offsetsForTier(settings, tier) })),
  ];
}

/** What one scan decides for one contract. */
export interface ReminderPlan {
  /** The offset to send now, or null when nothing is due. */
  send: number | null;
  /** Crossed offsets never to send, each with the reason. */
  skip: { offset: number; note: string }[];
}

/**
 * Decides a contract's reminders on a day `daysLeft` days before its renewal. An offset is
 * crossed when its due day (renewal − offset) is today or earlier, i.e. offset ≥ daysLeft.
 * Only the nearest crossed offset not yet reminded is sent, so a contract first seen 20 days
 * out gets the 30-day reminder alone; the larger crossed offsets are skipped for good. When a
 * nearer reminder already exists (an offset added to the schedule later), nothing older is sent.
 */
export function planReminders(offsets: readonly number[], daysLeft: number, reminded: readonly number[]): ReminderPlan {
  const done = new Set(reminded);
  const open = normalizeOffsets(offsets).filter((offset) => offset >= daysLeft && !done.has(offset));
  if (open.length === 0) return { send: null, skip: [] };
  const nearest = open[open.length - 1] as number;
  const nearestReminded = reminded.length > 0 ? Math.min(...reminded) : null;
  if (nearestReminded !== null && nearestReminded < nearest) {
    return {
      send: null,
      skip: open.map((offset) => ({
        offset,
        note: `due before the ${nearestReminded}-day reminder already made; not sent`,
      })),
    };
  }
  return {
    send: nearest,
    skip: open
      .filter((offset) => offset !== nearest)
      .map((offset) => ({
        offset,
        note: `passed before the first scan; the ${nearest}-day reminder was sent instead`,
      })),
  };
}

/**
 * The next reminder of a contract: a crossed offset still waiting for the daily scan (`pending`),
 * else the largest offset whose due day is still ahead; null when none is left.
 */
export function nextReminder(
  offsets: readonly number[],
  daysLeft: number,
  reminded: readonly number[],
): { offset: number; days_until_due: number; pending: boolean } | null {
  const plan = planReminders(offsets, daysLeft, reminded);
  if (plan.send !== null) return { offset: plan.send, days_until_due: 0, pending: true };
  const ahead = normalizeOffsets(offsets).find((offset) => offset < daysLeft);
  return ahead === undefined ? null : { offset: ahead, days_until_due: daysLeft - ahead, pending: false };
}

/** What decides whether a queued reminder's renewal is still open. */
export interface RenewalState {
  contract_status: string | null;
  outcome: string | null;
  account_status: string | null;
  renewal_date: string;
}

/**
 * Why a queued reminder's renewal is closed on `day` (contract not active or gone, outcome set,
 * account churned, renewal date reached), or null while it is open.
 */
export function closedRenewalReason(r: RenewalState, day: string): string | null {
  return r.contract_status !== "active"
    ? `contract is ${r.contract_status ?? "gone"}`
    : r.outcome !== null
      ? `renewal already closed (${r.outcome})`
      : r.account_status === "churned"
        ? "account churned"
        : r.renewal_date <= day
          ? "renewal date passed before it went out"
          : null;
}
