import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { loadWorkspaceSettings } from "../../records/workspace-settings";
import { milestoneStatus } from "./domain/milestones";
import { milestoneAccounts, milestoneBests } from "./queries/milestones";

/** Per-account adoption milestones from usage rollups: date achieved, progress, newly achieved, stalled. */
export const trackAdoptionMilestones = defineTool({
  name: "track_adoption_milestones",
  title: "Adoption milestones",
  toolset: "health",
  description:
    "Milestones from settings adoption_milestones, each reached on the first UTC day of usage meeting its criterion: active_users_at_least / events_in_day_at_least read the account-day rollups (a day with ≥ value active users / events); " +
    "feature_used reads the account-feature-day rollups (a day with ≥ value events of the feature); integration_connected can only be seen as a day with an event of a feature named integration_* in those rollups. " +
    "Feature rollups are kept USAGE_FEATURE_RETENTION_DAYS days, so a feature milestone reached earlier reads as the earliest retained day, or as not reached once all its rows are gone. " +
    "Per milestone: achieved_on, progress = best single-day value so far ÷ target (capped at 1), newly_achieved = achieved at most newly_days days ago, stalled = not achieved although customer_since is more than stalled_after_days days ago. " +
    "One account, or all accounts paginated by id.",
  input: {
    account_id: z.string().min(1).max(100).optional().describe("Only this account (default all, paginated)."),
    newly_days: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(7)
      .describe("Achieved at most this many days ago counts as newly achieved (default 7)."),
    stalled_after_days: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(60)
      .describe("Not achieved after this many days as a customer counts as stalled (default 60)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    today: z.string().describe("The UTC day the windows end on."),
    retention_days: z.number().int().describe("Days of feature rollups kept."),
    earliest_feature_day: z.string().describe("Feature use before this day is no longer stored."),
    milestones: z
      .array(z.object({ name: z.string(), kind: z.string(), value: z.number(), feature: z.string().nullable() }))
      .describe("The milestones evaluated, from settings."),
    accounts: z
      .array(
        z.object({
          account_id: z.string(),
          name: z.string(),
          customer_since: z.string().nullable(),
          milestones: z.array(
            z.object({
              name: z.string(),
              achieved_on: z.string().nullable(),
              best: z.number().describe("Best single-day value so far (0 without data)."),
              target: z.number(),
              progress: z.number().describe("best / target, capped at 1."),
              newly_achieved: z.boolean(),
              stalled: z.boolean().nullable().describe("null when customer_since is unknown."),
            }),
          ),
          achieved: z.number().int(),
        }),
      )
      .describe("This page of accounts, by id."),
    accounts_counted: z.number().int(),
    newly_days: z.number().int(),
    stalled_after_days: z.number().int(),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "Milestones reached and stalled", args: () => ({}) },
    { title: "One account's milestones", args: (ids) => ({ account_id: ids.accountId }) },
  ],
  annotations: READ_ONLY,
  async handler(args, { env, principal, now }) {
    const ws = principal.workspaceId;
    const today = isoDay(now);
    const retention = Number(env.USAGE_FEATURE_RETENTION_DAYS || 400);
    const milestones = (await loadWorkspaceSettings(env, ws)).adoption_milestones;

    const fingerprint = queryFingerprint(["milestones", args.account_id ?? null]);
    const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
    const results = await milestoneAccounts(env.DB, ws, { accountId: args.account_id, after, limit: args.limit });
    if (args.account_id && results.length === 0) throw notFound("account", args.account_id);
    const page = results.slice(0, args.limit);
    const answers = await milestoneBests(env.DB, ws, { milestones, accountIds: page.map((a) => a.id) });
    const byMilestone = answers.map((rows) => new Map(rows.map((r) => [r.account_id, r])));
    const options = { today, newlyFrom: addDays(today, -args.newly_days), stalledAfterDays: args.stalled_after_days };

    const accounts = page.map((a) => {
      const list = milestones.map((m, i) => {
        const row = byMilestone[i]?.get(a.id);
        return milestoneStatus(
          { name: m.name, achievedOn: row?.achieved_on ?? null, best: row?.best ?? 0, target: m.value },
          a.customer_since,
          options,
        );
      });
      return {
        account_id: a.id,
        name: a.name,
        customer_since: a.customer_since,
        milestones: list,
        achieved: list.filter((m) => m.achieved_on !== null).length,
      };
    });
    const last = page.at(-1);
    const next =
      !args.account_id && results.length > args.limit && last
        ? encodeCursor({ k: [], id: last.id, q: fingerprint })
        : null;
    const table = markdownTable(
      ["account", ...milestones.map((m) => m.name)],
      accounts.map((a) => [
        a.account_id,
        ...a.milestones.map((m) =>
          m.achieved_on
            ? `${m.achieved_on}${m.newly_achieved ? " (new)" : ""}`
            : `${Math.round(m.progress * 100)}%${m.stalled ? " stalled" : ""}`,
        ),
      ]),
    );
    return {
      data: {
        today,
        retention_days: retention,
        earliest_feature_day: addDays(today, -retention),
        milestones: milestones.map((m) => ({ name: m.name, kind: m.kind, value: m.value, feature: m.feature ?? null })),
        accounts,
        accounts_counted: accounts.length,
        newly_days: args.newly_days,
        stalled_after_days: args.stalled_after_days,
        next_cursor: next,
      },
      text: `${milestones.length} milestones for ${accounts.length} accounts (feature milestones only see the last ${retention} days of feature rollups).\n${table}`,
    };
  },
});
