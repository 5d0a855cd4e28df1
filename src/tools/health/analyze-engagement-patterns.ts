import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { addDays, isoDay } from "../../platform/lib/time";
import { dayArg } from "../../platform/mcp/args";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import { findAccountByRef } from "../../records/accounts";
import { findContactAccount } from "../../records/contacts";
import {
  ANSWER_WITHIN_DAYS,
  activityCount,
  answeredTouches,
  bestChannel,
  busiestOpen,
  type ChannelStats,
  channelRates,
  isQuiet,
  meanGapDays,
  meetingSpan,
  WEEKDAYS,
  weekdayShares,
} from "./domain/engagement";
import { usageWindows } from "./domain/usage-metrics";
import {
  type ActivityGroup,
  type EngagementRecords,
  engagementRecords,
  type QuietCandidate,
} from "./queries/engagement";

const rate = z.number().nullable();

const r = (v: number | null, digits: number) => (v === null ? null : round(v, digits));
const pct = (v: number | null) => (v === null ? "n/a" : `${round(v * 100, 1)}%`);

const BASIS =
  "Outbox messages and activities created/occurring in the window; usage_daily rollups (daily, so no hour of day for usage); quiet = no activity with the contact and no last_seen_at on or after `since`.";

/** Email, reply, meeting and usage patterns of an account or contact; best channel; quiet champions. */
export const analyzeEngagementPatterns = defineTool({
  name: "analyze_engagement_patterns",
  title: "Engagement patterns",
  toolset: "health",
  description:
    "Engagement of one account (or one contact) over a window of whole UTC days (default the 90 days ending yesterday): " +
    "email open and click rates of outbox messages that went out (status sent/delivered/opened/clicked; a click counts as an open), with the weekday and UTC hour when most opens happened; " +
    `replies = outbound emails (sent outbox messages and logged outbound emails) answered by an inbound email activity within ${ANSWER_WITHIN_DAYS} days, each inbound answering at most the latest unanswered one, so the reply rate is at most 100%; inbound emails are counted apart; meeting/call cadence = mean days between consecutive meetings and calls ((last − first) / (count − 1)); ` +
    "usage by weekday = each weekday's share of the account's events in the daily rollups (rollups are daily, so there is no usage hour of day; for a contact this is still the account's usage); " +
    "best channel = the highest response rate (answered outbound touches / outbound touches, answered as for replies) among email and call. " +
    "Champions and decision makers gone quiet: current contacts flagged champion or decision maker with no logged activity with them and no product visit (last_seen_at) in the last quiet_days days.",
  input: {
    account_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("Account id or its id in the source CRM (external_id). Give this or contact_id."),
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
        inbound: z.number().int().describe("Inbound email activities in the window, replies or not."),
        replies: z
          .number()
          .int()
          .describe(`Outbound emails (sent or logged) answered by an inbound email within ${ANSWER_WITHIN_DAYS} days.`),
        logged_outbound: z.number().int().describe("Outbound email activities logged in the window."),
        reply_rate: rate.describe("replies / (sent + logged_outbound), at most 1."),
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
        z.object({
          channel: z.string(),
          outbound: z.number().int(),
          inbound: z.number().int(),
          responses: z
            .number()
            .int()
            .describe(`Outbound touches answered by an inbound one within ${ANSWER_WITHIN_DAYS} days.`),
          response_rate: rate.describe("responses / outbound, at most 1."),
        }),
      )
      .describe("Response rate per channel."),
    best_channel: z
      .object({
        channel: z.string(),
        outbound: z.number().int(),
        inbound: z.number().int(),
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
    const contactId = args.contact_id ?? null;
    const account = args.account_id ? await findAccountByRef(env.DB, ws, args.account_id) : null;
    if (args.account_id && !account) throw notFound("account", args.account_id);
    const accountId = contactId ? await contactAccount(env.DB, ws, contactId, account?.id) : (account?.id ?? "");

    const today = isoDay(now);
    const { current } = usageWindows(today, args.days, args.to);
    const end = addDays(current.to, 1); // timestamps before the day after the window
    const since = addDays(today, -args.quiet_days);
    const records = await engagementRecords(env.DB, ws, {
      accountId,
      contactId,
      from: current.from,
      to: current.to,
      end,
    });

    const channelInput = answeredTouches(records.touches, ["email", "call"]);
    const email = emailFigures(records, channelInput[0]!);
    const meetings = meetingFigures(records.activities);
    const channels = channelRates(channelInput).map((c) => ({ ...c, response_rate: r(c.response_rate, 4) }));
    const best = bestChannel(channelInput);
    const weekdays = weekdayShares(records.weekdays).map((w) => ({ ...w, share: r(w.share, 4) }));
    const usageEvents = weekdays.reduce((sum, w) => sum + w.events, 0);
    const candidates = records.candidates;
    const quietContacts = candidates.filter((c) => isQuiet(c.last_activity_at, c.last_seen_at, since)).map(quietOut);
    const text = [
      `Engagement of ${contactId ? `contact ${contactId} (account ${accountId})` : `account ${accountId}`}, ${current.from}..${current.to} (${current.days} days).`,
      `Email: ${email.sent} sent, open ${pct(email.open_rate)}, click ${pct(email.click_rate)}; ${email.replies} of ${email.sent + email.logged_outbound} outbound answered within ${ANSWER_WITHIN_DAYS} days (${pct(email.reply_rate)}), ${email.inbound} inbound in all; ${email.top_open_weekday === null ? "no opens to time" : `most opens ${email.top_open_weekday} at ${email.top_open_hour_utc}h UTC`}.`,
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
        basis: BASIS,
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

/** The account of a contact, refusing a missing contact, one without an account, or one of another given account. */
async function contactAccount(
  db: D1Database,
  workspaceId: string,
  contactId: string,
  accountId: string | undefined,
): Promise<string> {
  const contact = await findContactAccount(db, workspaceId, contactId);
  if (!contact) throw notFound("contact", contactId);
  if (!contact.account_id) throw new ToolError(`Contact "${contactId}" belongs to no account.`);
  if (accountId && accountId !== contact.account_id) {
    throw new ToolError(`Contact "${contactId}" is not a contact of account "${accountId}".`);
  }
  return contact.account_id;
}

/** Email rates of the messages that went out, replies and logged outbound emails, and the busiest open time. */
function emailFigures(records: EngagementRecords, channel: ChannelStats) {
  const mail = records.email;
  const replies = channel.responses;
  const loggedOutbound = activityCount(records.activities, "email", "outbound");
  const topWeekday = busiestOpen(records.openTimes, "weekday");
  return {
    messages: mail.messages,
    sent: mail.sent,
    opened: mail.opened,
    clicked: mail.clicked,
    bounced: mail.bounced,
    open_rate: r(mail.sent > 0 ? mail.opened / mail.sent : null, 4),
    click_rate: r(mail.sent > 0 ? mail.clicked / mail.sent : null, 4),
    inbound: channel.inbound,
    replies,
    logged_outbound: loggedOutbound,
    reply_rate: r(mail.sent + loggedOutbound > 0 ? replies / (mail.sent + loggedOutbound) : null, 4),
    opens_with_time: records.openTimes.reduce((sum, o) => sum + o.n, 0),
    top_open_weekday: topWeekday === null ? null : (WEEKDAYS[topWeekday] ?? null),
    top_open_hour_utc: busiestOpen(records.openTimes, "hour"),
  };
}

/** Meeting and call counts and the mean days between consecutive ones. */
function meetingFigures(activities: readonly ActivityGroup[]) {
  const span = meetingSpan(activities);
  return {
    meetings: activityCount(activities, "meeting"),
    calls: activityCount(activities, "call"),
    first_at: span.first_at,
    last_at: span.last_at,
    mean_days_between: r(meanGapDays(span.count, span.first_at, span.last_at), 2),
  };
}

/** A quiet champion or decision maker as answered. */
function quietOut(c: QuietCandidate) {
  return {
    contact_id: c.id,
    name: c.name,
    email: c.email,
    champion: c.is_champion === 1,
    decision_maker: c.is_decision_maker === 1,
    last_activity_at: c.last_activity_at,
    last_seen_at: c.last_seen_at,
  };
}
