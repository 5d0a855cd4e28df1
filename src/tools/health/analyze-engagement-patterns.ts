import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { bestChannel, channelRates, isQuiet, meanGapDays, WEEKDAYS, weekdayShares } from "./domain/engagement";
import { round, usageWindows } from "./domain/usage-metrics";

const dayArg = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "use YYYY-MM-DD");
const rate = z.number().nullable();

/** Outbox statuses of a message that went out (counted as sent). */
const SENT_STATUSES = "('sent', 'delivered', 'opened', 'clicked')";

interface ActivityGroup {
  kind: "call" | "meeting" | "note" | "email";
  direction: string;
  n: number;
  first_at: string;
  last_at: string;
}

interface QuietRow {
  id: string;
  name: string;
  email: string | null;
  is_champion: number;
  is_decision_maker: number;
  last_seen_at: string | null;
  last_activity_at: string | null;
}

const r = (v: number | null, digits: number) => (v === null ? null : round(v, digits));

/** Email, reply, meeting and usage patterns of an account or contact; best channel; quiet champions. */
export const analyzeEngagementPatterns = defineTool({
  name: "analyze_engagement_patterns",
  title: "Engagement patterns",
  toolset: "health",
  description:
    "Engagement of one account (or one contact) over a window of whole UTC days (default the 90 days ending yesterday): " +
    "email open and click rates of outbox messages that went out (status sent/delivered/opened/clicked; a click counts as an open), with the weekday and UTC hour when most opens happened; " +
    "replies = inbound email activities; meeting/call cadence = mean days between consecutive meetings and calls ((last − first) / (count − 1)); " +
    "usage by weekday = each weekday's share of the account's events in the daily rollups (rollups are daily, so there is no usage hour of day; for a contact this is still the account's usage); " +
    "best channel = the highest response rate among email (inbound email activities / sent outbox messages plus logged outbound emails) and call (inbound calls / outbound calls). " +
    "Champions and decision makers gone quiet: current contacts flagged champion or decision maker with no logged activity with them and no product visit (last_seen_at) in the last quiet_days days.",
  input: {
    account_id: z.string().min(1).max(100).optional().describe("Account id. Give this or contact_id."),
    contact_id: z.string().min(1).max(100).optional().describe("Contact id: only that person's emails and activities."),
    days: z.number().int().min(1).max(365).default(90).describe("Window length in days, 1–365 (default 90)."),
    to: dayArg.optional().describe("Last day of the window, YYYY-MM-DD (default yesterday)."),
    quiet_days: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(30)
      .describe("A champion or decision maker is quiet after this many days without activity or visit (default 30)."),
  },
  output: {
    account_id: z.string().describe("The account measured."),
    contact_id: z.string().nullable().describe("The contact measured, when one was given."),
    window: z.object({ from: z.string(), to: z.string(), days: z.number().int() }).describe("The window measured."),
    basis: z.string().describe("How the figures are computed."),
    email: z
      .object({
        messages: z.number().int().describe("Outbox messages created in the window."),
        sent: z.number().int(),
        opened: z.number().int(),
        clicked: z.number().int(),
        bounced: z.number().int(),
        open_rate: rate.describe("opened / sent."),
        click_rate: rate.describe("clicked / sent."),
        replies: z.number().int().describe("Inbound email activities in the window."),
        logged_outbound: z.number().int().describe("Outbound email activities logged in the window."),
        reply_rate: rate.describe("replies / (sent + logged_outbound)."),
        opens_with_time: z.number().int().describe("Opens in the window with an open time."),
        top_open_weekday: z.string().nullable().describe("Weekday with the most opens (UTC)."),
        top_open_hour_utc: z.number().int().nullable().describe("Hour of day (UTC) with the most opens."),
      })
      .describe("Email engagement."),
    meetings: z
      .object({
        meetings: z.number().int(),
        calls: z.number().int(),
        first_at: z.string().nullable(),
        last_at: z.string().nullable(),
        mean_days_between: rate.describe("Mean days between consecutive meetings/calls."),
      })
      .describe("Meeting and call cadence."),
    channels: z
      .array(
        z.object({ channel: z.string(), outbound: z.number().int(), responses: z.number().int(), response_rate: rate }),
      )
      .describe("Response rate per channel."),
    best_channel: z
      .object({
        channel: z.string(),
        outbound: z.number().int(),
        responses: z.number().int(),
        response_rate: z.number(),
      })
      .nullable()
      .describe("Channel with the highest response rate; null when none drew a response."),
    usage_weekdays: z
      .array(z.object({ weekday: z.string(), events: z.number(), days_with_data: z.number().int(), share: rate }))
      .describe("The account's usage events per weekday (Monday first)."),
    usage_events: z.number().describe("The account's usage events in the window."),
    quiet: z
      .object({
        quiet_days: z.number().int(),
        since: z.string().describe("Activity or visits on or after this day count as not quiet."),
        checked: z.number().int().describe("Current champions/decision makers checked."),
        contacts: z.array(
          z.object({
            contact_id: z.string(),
            name: z.string(),
            email: z.string().nullable(),
            champion: z.boolean(),
            decision_maker: z.boolean(),
            last_activity_at: z.string().nullable(),
            last_seen_at: z.string().nullable(),
          }),
        ),
      })
      .describe("Champions and decision makers gone quiet."),
  },
  examples: [
    { title: "An account's engagement pattern", args: (ids) => ({ account_id: ids.accountId }) },
    { title: "A contact's engagement pattern", args: (ids) => ({ contact_id: ids.contactId }) },
  ],
  annotations: READ_ONLY,
  async handler(args, { env, principal, now }) {
    const ws = principal.workspaceId;
    if (!args.account_id && !args.contact_id) throw new ToolError("Give account_id or contact_id.");
    let accountId = args.account_id ?? "";
    const contactId = args.contact_id ?? null;
    if (contactId) {
      const contact = await env.DB.prepare("SELECT account_id FROM contacts WHERE workspace_id = ?1 AND id = ?2")
        .bind(ws, contactId)
        .first<{ account_id: string | null }>();
      if (!contact) throw notFound("contact", contactId);
      if (!contact.account_id) throw new ToolError(`Contact "${contactId}" belongs to no account.`);
      if (args.account_id && args.account_id !== contact.account_id) {
        throw new ToolError(`Contact "${contactId}" is not a contact of account "${args.account_id}".`);
      }
      accountId = contact.account_id;
    }
    const account = await env.DB.prepare("SELECT id FROM accounts WHERE workspace_id = ?1 AND id = ?2")
      .bind(ws, accountId)
      .first<{ id: string }>();
    if (!account) throw notFound("account", accountId);

    const today = isoDay(now);
    const { current } = usageWindows(today, args.days, args.to);
    const end = addDays(current.to, 1); // timestamps before the day after the window
    const since = addDays(today, -args.quiet_days);
    // ?1 ws, ?2 account, ?3 from, ?4 end (exclusive), then ?5 contact when given.
    const byContact = contactId ? " AND contact_id = ?5" : "";
    const window = [ws, accountId, current.from, end, ...(contactId ? [contactId] : [])];
    const opened = "(opened_at IS NOT NULL OR clicked_at IS NOT NULL OR status IN ('opened', 'clicked'))";

    const [emailResult, openTimes, activityResult, weekdayResult, quietResult] = await env.DB.batch([
      env.DB.prepare(
        `SELECT count(*) AS messages,
                coalesce(sum(status IN ${SENT_STATUSES}), 0) AS sent,
                coalesce(sum(status IN ${SENT_STATUSES} AND ${opened}), 0) AS opened,
                coalesce(sum(status IN ${SENT_STATUSES} AND (clicked_at IS NOT NULL OR status = 'clicked')), 0) AS clicked,
                coalesce(sum(status = 'bounced'), 0) AS bounced
           FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 AND created_at >= ?3 AND created_at < ?4${byContact}`,
      ).bind(...window),
      env.DB.prepare(
        `SELECT CAST(strftime('%w', opened_at) AS INTEGER) AS weekday, CAST(strftime('%H', opened_at) AS INTEGER) AS hour,
                count(*) AS n
           FROM outbox_messages
          WHERE workspace_id = ?1 AND account_id = ?2 AND created_at >= ?3 AND created_at < ?4${byContact}
            AND opened_at IS NOT NULL
          GROUP BY weekday, hour`,
      ).bind(...window),
      env.DB.prepare(
        `SELECT kind, coalesce(direction, '') AS direction, count(*) AS n, min(occurred_at) AS first_at, max(occurred_at) AS last_at
           FROM activities
          WHERE workspace_id = ?1 AND account_id = ?2 AND occurred_at >= ?3 AND occurred_at < ?4${byContact}
          GROUP BY kind, direction`,
      ).bind(...window),
      env.DB.prepare(
        `SELECT CAST(strftime('%w', day) AS INTEGER) AS weekday, sum(events) AS events, count(*) AS days
           FROM usage_daily WHERE workspace_id = ?1 AND account_id = ?2 AND day BETWEEN ?3 AND ?4
          GROUP BY weekday`,
      ).bind(ws, accountId, current.from, current.to),
      env.DB.prepare(
        `SELECT c.id, c.name, c.email, c.is_champion, c.is_decision_maker, c.last_seen_at,
                (SELECT max(a.occurred_at) FROM activities a
                  WHERE a.workspace_id = ?1 AND a.account_id = ?2 AND a.contact_id = c.id) AS last_activity_at
           FROM contacts c
          WHERE c.workspace_id = ?1 AND c.account_id = ?2 AND c.left_at IS NULL
            AND (c.is_champion = 1 OR c.is_decision_maker = 1 OR c.role IN ('champion', 'decision_maker'))${contactId ? " AND c.id = ?3" : ""}
          ORDER BY c.name, c.id`,
      ).bind(ws, accountId, ...(contactId ? [contactId] : [])),
    ]);

    const mail = emailResult!.results[0] as {
      messages: number;
      sent: number;
      opened: number;
      clicked: number;
      bounced: number;
    };
    const activities = activityResult!.results as unknown as ActivityGroup[];
    const count = (kind: string, direction?: string) =>
      activities
        .filter((a) => a.kind === kind && (direction === undefined || a.direction === direction))
        .reduce((sum, a) => sum + a.n, 0);
    const replies = count("email", "inbound");
    const loggedOutbound = count("email", "outbound");

    // Opens by weekday and by hour: the busiest of each.
    const opens = openTimes!.results as { weekday: number; hour: number; n: number }[];
    const top = (key: "weekday" | "hour") => {
      const totals = new Map<number, number>();
      for (const o of opens) totals.set(o[key], (totals.get(o[key]) ?? 0) + o.n);
      let best: [number, number] | null = null;
      for (const entry of totals)
        if (!best || entry[1] > best[1] || (entry[1] === best[1] && entry[0] < best[0])) best = entry;
      return best ? best[0] : null;
    };
    const topWeekday = top("weekday");

    const touches = activities.filter((a) => a.kind === "meeting" || a.kind === "call");
    const touchCount = touches.reduce((sum, a) => sum + a.n, 0);
    const firstAt = touches.reduce<string | null>((m, a) => (m === null || a.first_at < m ? a.first_at : m), null);
    const lastAt = touches.reduce<string | null>((m, a) => (m === null || a.last_at > m ? a.last_at : m), null);

    const channelInput = [
      { channel: "email", outbound: mail.sent + loggedOutbound, responses: replies },
      { channel: "call", outbound: count("call", "outbound"), responses: count("call", "inbound") },
    ];
    const channels = channelRates(channelInput).map((c) => ({ ...c, response_rate: r(c.response_rate, 4) }));
    const best = bestChannel(channelInput);

    const weekdays = weekdayShares(weekdayResult!.results as { weekday: number; events: number; days: number }[]).map(
      (w) => ({ ...w, share: r(w.share, 4) }),
    );
    const usageEvents = weekdays.reduce((sum, w) => sum + w.events, 0);

    const candidates = quietResult!.results as unknown as QuietRow[];
    const quietContacts = candidates
      .filter((c) => isQuiet(c.last_activity_at, c.last_seen_at, since))
      .map((c) => ({
        contact_id: c.id,
        name: c.name,
        email: c.email,
        champion: c.is_champion === 1,
        decision_maker: c.is_decision_maker === 1,
        last_activity_at: c.last_activity_at,
        last_seen_at: c.last_seen_at,
      }));

    const email = {
      messages: mail.messages,
      sent: mail.sent,
      opened: mail.opened,
      clicked: mail.clicked,
      bounced: mail.bounced,
      open_rate: r(mail.sent > 0 ? mail.opened / mail.sent : null, 4),
      click_rate: r(mail.sent > 0 ? mail.clicked / mail.sent : null, 4),
      replies,
      logged_outbound: loggedOutbound,
      reply_rate: r(mail.sent + loggedOutbound > 0 ? replies / (mail.sent + loggedOutbound) : null, 4),
      opens_with_time: opens.reduce((sum, o) => sum + o.n, 0),
      top_open_weekday: topWeekday === null ? null : (WEEKDAYS[topWeekday] ?? null),
      top_open_hour_utc: top("hour"),
    };
    const meetings = {
      meetings: count("meeting"),
      calls: count("call"),
      first_at: firstAt,
      last_at: lastAt,
      mean_days_between: r(meanGapDays(touchCount, firstAt, lastAt), 2),
    };
    const pct = (v: number | null) => (v === null ? "n/a" : `${round(v * 100, 1)}%`);
    const basis =
      "Outbox messages and activities created/occurring in the window; usage_daily rollups (daily, so no hour of day for usage); quiet = no activity with the contact and no last_seen_at on or after `since`.";
    const text = [
      `Engagement of ${contactId ? `contact ${contactId} (account ${accountId})` : `account ${accountId}`}, ${current.from}..${current.to} (${current.days} days).`,
      `Email: ${email.sent} sent, open ${pct(email.open_rate)}, click ${pct(email.click_rate)}, ${replies} repl(ies) (${pct(email.reply_rate)}); ${email.top_open_weekday === null ? "no opens to time" : `most opens ${email.top_open_weekday} at ${email.top_open_hour_utc}h UTC`}.`,
      `Meetings ${meetings.meetings}, calls ${meetings.calls}; mean ${meetings.mean_days_between ?? "n/a"} days between them.`,
      `Best channel: ${best ? `${best.channel} (${best.responses}/${best.outbound} = ${pct(best.response_rate)})` : "none drew a response"}.`,
      markdownTable(
        ["weekday", ...weekdays.map((w) => w.weekday)],
        [["usage share", ...weekdays.map((w) => pct(w.share))]],
      ),
      `Quiet champions/decision makers (nothing since ${since}): ${quietContacts.length ? quietContacts.map((c) => c.name).join(", ") : "none"} of ${candidates.length} checked.`,
    ].join("\n");

    return {
      data: {
        account_id: accountId,
        contact_id: contactId,
        window: current,
        basis,
        email,
        meetings,
        channels,
        best_channel: best ? { ...best, response_rate: round(best.response_rate, 4) } : null,
        usage_weekdays: weekdays,
        usage_events: usageEvents,
        quiet: { quiet_days: args.quiet_days, since, checked: candidates.length, contacts: quietContacts },
      },
      text,
    };
  },
});
