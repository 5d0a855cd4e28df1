/** Engagement pattern figures over plain rows: cadence, weekday shares, best channel, quiet contacts. */

const DAY_MS = 86_400_000;

/** Weekday names indexed like SQLite's strftime('%w') (Sunday = 0). */
export const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/**
 * Mean days between consecutive touches: with `count` touches from `first` to `last` the gaps
 * sum to last − first, so the mean gap is (last − first) / (count − 1). Null below two touches.
 */
export function meanGapDays(count: number, first: string | null, last: string | null): number | null {
  if (count < 2 || !first || !last) return null;
  return (Date.parse(last) - Date.parse(first)) / DAY_MS / (count - 1);
}

/** Events per weekday (Monday first) with each weekday's share of all events. */
export function weekdayShares(
  rows: readonly { weekday: number; events: number; days: number }[],
): { weekday: string; events: number; days_with_data: number; share: number | null }[] {
  const total = rows.reduce((sum, r) => sum + r.events, 0);
  return [1, 2, 3, 4, 5, 6, 0].map((wd) => {
    const row = rows.find((r) => r.weekday === wd);
    const events = row?.events ?? 0;
    return {
      weekday: WEEKDAYS[wd] ?? String(wd),
      events,
      days_with_data: row?.days ?? 0,
      share: total > 0 ? events / total : null,
    };
  });
}

/** A channel's outbound touches, its inbound ones, and the outbound ones answered (responses). */
export interface ChannelStats {
  channel: string;
  outbound: number;
  inbound: number;
  responses: number;
}

/** One touch on a channel: by the team (outbound) or by the customer (inbound), at an instant. */
export interface Touch {
  channel: string;
  direction: "outbound" | "inbound";
  at: string;
}

/** Days within which an inbound touch answers the outbound one before it. */
export const ANSWER_WITHIN_DAYS = 7;

/**
 * Per channel (in `channels` order): outbound and inbound touches, and the outbound touches
 * answered, that is followed on the same channel by an inbound one within
 * {@link ANSWER_WITHIN_DAYS}. Each inbound touch answers at most one outbound (the latest one not
 * yet answered), so responses never exceed outbound and a response rate never exceeds 100%;
 * an inbound touch with no outbound before it is the customer's own initiative.
 */
export function answeredTouches(touches: readonly Touch[], channels: readonly string[]): ChannelStats[] {
  return channels.map((channel) => {
    const ordered = touches
      .filter((t) => t.channel === channel)
      // At the same instant the team's touch comes first.
      .sort((a, b) => a.at.localeCompare(b.at) || (a.direction === "outbound" ? -1 : 1));
    const waiting: number[] = [];
    const stats: ChannelStats = { channel, outbound: 0, inbound: 0, responses: 0 };
    for (const touch of ordered) {
      const at = Date.parse(touch.at);
      if (touch.direction === "outbound") {
        stats.outbound += 1;
        waiting.push(at);
        continue;
      }
      stats.inbound += 1;
      const latest = waiting.pop();
      if (latest === undefined) continue;
      if (at - latest <= ANSWER_WITHIN_DAYS * DAY_MS) stats.responses += 1;
      // Older outbound touches are further back still: none of them can be answered any more.
      else waiting.length = 0;
    }
    return stats;
  });
}

/** Response rate per channel (responses / outbound; null without outbound touches). */
export function channelRates(channels: readonly ChannelStats[]): (ChannelStats & { response_rate: number | null })[] {
  return channels.map((c) => ({ ...c, response_rate: c.outbound > 0 ? c.responses / c.outbound : null }));
}

/**
 * The channel with the highest response rate among those with outbound touches and at least one
 * response; ties go to more responses. Null when no channel drew a response.
 */
export function bestChannel(channels: readonly ChannelStats[]): (ChannelStats & { response_rate: number }) | null {
  let best: (ChannelStats & { response_rate: number }) | null = null;
  for (const c of channelRates(channels)) {
    if (c.response_rate === null || c.responses === 0) continue;
    if (
      !best ||
      c.response_rate > best.response_rate ||
      (c.response_rate === best.response_rate && c.responses > best.responses)
    ) {
      best = { ...c, response_rate: c.response_rate };
    }
  }
  return best;
}

/** True when neither the last activity nor the last product visit falls on or after `sinceDay`. */
export function isQuiet(lastActivityAt: string | null, lastSeenAt: string | null, sinceDay: string): boolean {
  const recent = (at: string | null) => at !== null && at.slice(0, 10) >= sinceDay;
  return !recent(lastActivityAt) && !recent(lastSeenAt);
}

/** Activities in a window grouped by kind and direction ('' when none is stored). */
export interface ActivityCounts {
  kind: string;
  direction: string;
  n: number;
  first_at: string;
  last_at: string;
}

/** Activities of one kind, and of one direction when given, summed over the groups. */
export function activityCount(groups: readonly ActivityCounts[], kind: string, direction?: string): number {
  return groups
    .filter((a) => a.kind === kind && (direction === undefined || a.direction === direction))
    .reduce((sum, a) => sum + a.n, 0);
}

/** The weekday or hour with the most opens, the smaller one on a tie; null without opens. */
export function busiestOpen(
  opens: readonly { weekday: number; hour: number; n: number }[],
  key: "weekday" | "hour",
): number | null {
  const totals = new Map<number, number>();
  for (const o of opens) totals.set(o[key], (totals.get(o[key]) ?? 0) + o.n);
  let best: [number, number] | null = null;
  for (const entry of totals)
    if (!best || entry[1] > best[1] || (entry[1] === best[1] && entry[0] < best[0])) best = entry;
  return best ? best[0] : null;
}

/** Meetings and calls together: how many, and the first and last of them (null without any). */
export function meetingSpan(groups: readonly ActivityCounts[]): {
  count: number;
  first_at: string | null;
  last_at: string | null;
} {
  const touches = groups.filter((a) => a.kind === "meeting" || a.kind === "call");
  return {
    count: touches.reduce((sum, a) => sum + a.n, 0),
    first_at: touches.reduce<string | null>((m, a) => (m === null || a.first_at < m ? a.first_at : m), null),
    last_at: touches.reduce<string | null>((m, a) => (m === null || a.last_at > m ? a.last_at : m), null),
  };
}
