/**
 * The records analyze_engagement_patterns reads for one account (or one contact of it): outbox
 * messages, activities, daily usage rollups and the current champions and decision makers.
 */

import type { Touch } from "../domain/engagement";

/** Outbox statuses of a message that went out (counted as sent). */
const SENT_STATUSES = "('sent', 'delivered', 'opened', 'clicked')";

/** Outbox messages created in the window, by outcome. */
export interface EmailCounts {
  messages: number;
  sent: number;
  opened: number;
  clicked: number;
  bounced: number;
}

/** Opens of messages created in the window, per UTC weekday (strftime %w) and hour. */
export interface OpenTime {
  weekday: number;
  hour: number;
  n: number;
}

/** Activities in the window of one kind and direction ('' when none is stored), with the first and last. */
export interface ActivityGroup {
  kind: "call" | "meeting" | "note" | "email";
  direction: string;
  n: number;
  first_at: string;
  last_at: string;
}

/** Usage events and days with data per weekday (strftime %w: Sunday = 0). */
export interface WeekdayUsage {
  weekday: number;
  events: number;
  days: number;
}

/** A current champion or decision maker with their latest visit and latest logged activity. */
export interface QuietCandidate {
  id: string;
  name: string;
  email: string | null;
  is_champion: number;
  is_decision_maker: number;
  last_seen_at: string | null;
  last_activity_at: string | null;
}

/** Everything the engagement answer is computed from. */
export interface EngagementRecords {
  email: EmailCounts;
  /** Sent outbox messages and logged email and call activities with a direction, in time order. */
  touches: Touch[];
  openTimes: OpenTime[];
  activities: ActivityGroup[];
  weekdays: WeekdayUsage[];
  candidates: QuietCandidate[];
}

/**
 * One account's (or, with `contactId`, one contact's) engagement records: outbox messages and
 * activities created/occurring from `from` to before `end` (the day after the window), usage
 * rollups per weekday over `from`..`to`, and the current champions and decision makers (only the
 * contact, when given), in one batch.
 */
export async function engagementRecords(
  db: D1Database,
  workspaceId: string,
  options: { accountId: string; contactId: string | null; from: string; to: string; end: string },
): Promise<EngagementRecords> {
  const ws = workspaceId;
  const { accountId, contactId } = options;
  // ?1 ws, ?2 account, ?3 from, ?4 end (exclusive), then ?5 contact when given.
  const byContact = contactId ? " AND contact_id = ?5" : "";
  const window = [ws, accountId, options.from, options.end, ...(contactId ? [contactId] : [])];
  const opened = "(opened_at IS NOT NULL OR clicked_at IS NOT NULL OR status IN ('opened', 'clicked'))";

  const [emailResult, touchResult, openTimes, activityResult, weekdayResult, quietResult] = await db.batch([
    db
      .prepare(
        `SELECT count(*) AS messages,
                coalesce(sum(status IN ${SENT_STATUSES}), 0) AS sent,
                coalesce(sum(status IN ${SENT_STATUSES} AND ${opened}), 0) AS opened,
                coalesce(sum(status IN ${SENT_STATUSES} AND (clicked_at IS NOT NULL OR status = 'clicked')), 0) AS clicked,
                coalesce(sum(status = 'bounced'), 0) AS bounced
           FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 AND created_at >= ?3 AND created_at < ?4${byContact}`,
      )
      .bind(...window),
    db
      .prepare(
        `SELECT 'email' AS channel, 'outbound' AS direction, created_at AS at
           FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 AND created_at >= ?3 AND created_at < ?4${byContact}
            AND status IN ${SENT_STATUSES}
         UNION ALL
         SELECT kind, direction, occurred_at
           FROM activities
          WHERE workspace_id = ?1 AND account_id = ?2 AND occurred_at >= ?3 AND occurred_at < ?4${byContact}
            AND kind IN ('email', 'call') AND direction IN ('inbound', 'outbound')
          ORDER BY 3`,
      )
      .bind(...window),
    db
      .prepare(
        `SELECT CAST(strftime('%w', opened_at) AS INTEGER) AS weekday, CAST(strftime('%H', opened_at) AS INTEGER) AS hour,
                count(*) AS n
           FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 AND created_at >= ?3 AND created_at < ?4${byContact}
            AND opened_at IS NOT NULL
          GROUP BY weekday, hour`,
      )
      .bind(...window),
    db
      .prepare(
        `SELECT kind, coalesce(direction, '') AS direction, count(*) AS n, min(occurred_at) AS first_at, max(occurred_at) AS last_at
           FROM activities
          WHERE workspace_id = ?1 AND account_id = ?2 AND occurred_at >= ?3 AND occurred_at < ?4${byContact}
          GROUP BY kind, direction`,
      )
      .bind(...window),
    db
      .prepare(
        `SELECT CAST(strftime('%w', day) AS INTEGER) AS weekday, sum(events) AS events, count(*) AS days
           FROM usage_daily WHERE workspace_id = ?1 AND account_id = ?2 AND day BETWEEN ?3 AND ?4
          GROUP BY weekday`,
      )
      .bind(ws, accountId, options.from, options.to),
    db
      .prepare(
        `SELECT c.id, c.name, c.email, c.is_champion, c.is_decision_maker, c.last_seen_at,
                (SELECT max(a.occurred_at) FROM activities a
                  WHERE a.workspace_id = ?1 AND a.account_id = ?2 AND a.contact_id = c.id) AS last_activity_at
           FROM contacts c
          WHERE c.workspace_id = ?1 AND c.account_id = ?2 AND c.left_at IS NULL
            AND (c.is_champion = 1 OR c.is_decision_maker = 1 OR c.role IN ('champion', 'decision_maker'))${contactId ? " AND c.id = ?3" : ""}
          ORDER BY c.name, c.id`,
      )
      .bind(ws, accountId, ...(contactId ? [contactId] : [])),
  ]);
  return {
    email: emailResult!.results[0] as unknown as EmailCounts,
    touches: touchResult!.results as unknown as Touch[],
    openTimes: openTimes!.results as unknown as OpenTime[],
    activities: activityResult!.results as unknown as ActivityGroup[],
    weekdays: weekdayResult!.results as unknown as WeekdayUsage[],
    candidates: quietResult!.results as unknown as QuietCandidate[],
  };
}
