import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { round } from "../../platform/lib/stats";
import { addDays, isoDay } from "../../platform/lib/time";
import { dayArg } from "../../platform/mcp/args";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { requireAccount } from "../../records/accounts";
import { adopterTotals, adoptionFromTotals, featureGaps, type GroupTotals } from "./domain/adoption";
import { usageWindows } from "./domain/usage-metrics";
import { type AdopterSumsRow, activeTotalsAndFeatures, adopterSums, peerFeatureUse } from "./queries/adoption";

const groupSchema = z.object({
  accounts: z.number().int().describe("Accounts in the group."),
  scored_accounts: z.number().int().describe("Accounts with a stored health score."),
  mean_health_score: z.number().nullable().describe("Mean latest health score of scored accounts."),
  churned: z.number().int().describe("Accounts with status churned."),
  churned_share: z.number().nullable().describe("churned / accounts."),
});

const r = (v: number | null, digits: number) => (v === null ? null : round(v, digits));
const pctText = (v: number | null) => (v === null ? "n/a" : `${round(v * 100, 1)}%`);

const BASIS =
  "Account-feature daily rollups with events > 0; first use = the first day with feature events, kept after the rollups are purged; active accounts = accounts with an account-day usage rollup in the window; health = accounts.health_score (latest stored); churned = accounts.status.";

/** Per-feature adoption rate, depth, time to adopt and adopters vs non-adopters; an account's feature gaps. */
export const trackFeatureAdoption = defineTool({
  name: "track_feature_adoption",
  title: "Feature adoption",
  toolset: "health",
  description:
    "Per feature over a window of whole UTC days (default the 90 days ending yesterday), from the account-feature daily rollups: " +
    "adoption rate = accounts with events of the feature / active accounts (accounts with an account-day usage rollup in the window); depth = mean over adopting accounts of feature events per day the feature was used; " +
    "time to adopt = median days from the account's customer_since (else its first usage day) to its first use of the feature (the first day with feature events; first-use days outlive the feature rollups, which are purged after USAGE_FEATURE_RETENTION_DAYS days, except for use already purged when first uses began to be recorded, which reads as the earliest day then kept; use before customer_since counts as 0); " +
    "adopters vs non-adopters among active accounts: mean latest health score (scored accounts only) and the share with status churned, with exact counts. " +
    "With account_id: the features that account has not used in the window that at least threshold_pct% of active accounts of its segment use (all active accounts when it has no segment). " +
    "To enroll non-adopters in an adoption campaign, create one with automate_retention_campaigns and the trigger rule feature_not_adopted (feature, days): it enrolls every active account that used the product but not the feature, once.",
  input: {
    days: z
      .number()
      .int()
      .min(1)
      .max(400)
      .default(90)
      .describe("Window length in days (default 90, at most the feature retention)."),
    to: dayArg.optional().describe("Last day of the window, YYYY-MM-DD (default yesterday)."),
    segment: z.string().min(1).max(100).optional().describe("Only accounts of this segment count."),
    feature: z.string().min(1).max(200).optional().describe("Only this feature."),
    account_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("Also list features this account has not adopted that its segment peers use."),
    threshold_pct: z
      .number()
      .min(1)
      .max(100)
      .default(50)
      .describe("With account_id: least % of segment peers using a feature for it to be listed (default 50)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    window: z.object({ from: z.string(), to: z.string(), days: z.number().int() }).describe("The window measured."),
    basis: z.string().describe("How the figures are computed."),
    retention_days: z.number().int().describe("Days of feature rollups kept."),
    earliest_retained_day: z.string().describe("Feature rollups before this day are purged (first-use days are kept)."),
    active_accounts: z.number().int().describe("Accounts with usage in the window (the adoption denominator)."),
    features: z
      .array(
        z.object({
          feature: z.string(),
          adopters: z.number().int(),
          active_accounts: z.number().int(),
          adoption_rate: z.number().nullable(),
          depth: z.number().nullable(),
          time_to_adopt_median_days: z.number().nullable(),
          time_to_adopt_counted: z.number().int().describe("Adopters with a known start day."),
          adopter_stats: groupSchema,
          non_adopter_stats: groupSchema,
        }),
      )
      .describe("Features used in the window (this page, by name)."),
    next_cursor: nextCursorField,
    account_gaps: z
      .object({
        account_id: z.string(),
        segment: z.string().nullable(),
        peers_active: z.number().int().describe("Active peer accounts (the account itself excluded)."),
        threshold_pct: z.number(),
        features: z.array(z.object({ feature: z.string(), peers_using: z.number().int(), peer_share: z.number() })),
      })
      .nullable()
      .describe("With account_id: features not adopted that peers use."),
  },
  examples: [
    { title: "Feature adoption across the workspace", args: () => ({}) },
    { title: "One account's adoption", args: (ids) => ({ account_id: ids.accountId }) },
    { title: "One feature in a segment", args: (ids) => ({ segment: ids.segment, feature: ids.feature }) },
  ],
  annotations: READ_ONLY,
  async handler(args, { env, principal, now }) {
    const ws = principal.workspaceId;
    const retention = Number(env.USAGE_FEATURE_RETENTION_DAYS || 400);
    if (args.days > retention) throw new ToolError(`days must be at most ${retention}, the feature rollup retention.`);
    const today = isoDay(now);
    const { current } = usageWindows(today, args.days, args.to);
    const earliest = addDays(today, -retention);
    const gapsAccount = args.account_id ? await requireAccount(env.DB, ws, args.account_id) : null;

    const window = { from: current.from, to: current.to, segment: args.segment };
    const fingerprint = queryFingerprint([
      "adoption",
      current.from,
      current.to,
      args.segment ?? null,
      args.feature ?? null,
    ]);
    const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
    const { active, features: featureNames } = await activeTotalsAndFeatures(env.DB, ws, {
      ...window,
      feature: args.feature,
      after,
      limit: args.limit,
    });
    const hasMore = featureNames.length > args.limit;
    const page = featureNames.slice(0, args.limit);
    const sums = await adopterSums(env.DB, ws, { ...window, features: page });
    const features = featureRows(page, sums, active);

    let accountGaps: AccountGaps | null = null;
    if (gapsAccount) {
      const peers = await peerFeatureUse(env.DB, ws, {
        from: current.from,
        to: current.to,
        accountId: gapsAccount.id,
        segment: gapsAccount.segment,
      });
      accountGaps = {
        account_id: gapsAccount.id,
        segment: gapsAccount.segment,
        peers_active: peers.peers,
        threshold_pct: args.threshold_pct,
        features: featureGaps(peers.use, peers.peers, args.threshold_pct).map((gap) => ({
          ...gap,
          peer_share: round(gap.peer_share, 4),
        })),
      };
    }

    const last = page.at(-1);
    const nextCursor = hasMore && last ? encodeCursor({ k: [], id: last, q: fingerprint }) : null;
    const text = [
      `Feature adoption ${current.from}..${current.to} (${current.days} days${args.segment ? `, segment ${args.segment}` : ""}): ${active.accounts} active account(s), ${features.length} feature(s) on this page. Feature rollups kept ${retention} days (from ${earliest}).`,
      features.length ? featureTable(features) : "No feature usage in the window.",
      accountGaps ? gapsText(accountGaps, args.threshold_pct) : "",
      nextCursor ? "More features: pass next_cursor." : "",
    ]
      .filter(Boolean)
      .join("\n");

    return {
      data: {
        window: current,
        basis: BASIS,
        retention_days: retention,
        earliest_retained_day: earliest,
        active_accounts: active.accounts,
        features,
        next_cursor: nextCursor,
        account_gaps: accountGaps,
      },
      text,
    };
  },
});

/** Features not adopted by one account that its peers use, as answered. */
interface AccountGaps {
  account_id: string;
  segment: string | null;
  peers_active: number;
  threshold_pct: number;
  features: { feature: string; peers_using: number; peer_share: number }[];
}

type FeatureRow = ReturnType<typeof featureRows>[number];

/** Each feature of the page with its adoption figures, rounded as answered (no adopters: zeros). */
function featureRows(page: readonly string[], sums: readonly AdopterSumsRow[], active: GroupTotals) {
  const totalsByFeature = new Map(
    sums.map(({ feature, days_to_adopt, ...rest }) => [
      feature,
      { ...rest, days_to_adopt: days_to_adopt ? days_to_adopt.split(",").map(Number) : [] },
    ]),
  );
  const noAdopters = adopterTotals([]);
  return page.map((feature) => {
    const f = adoptionFromTotals(totalsByFeature.get(feature) ?? noAdopters, active);
    const group = (g: typeof f.adopter_stats) => ({
      ...g,
      mean_health_score: r(g.mean_health_score, 1),
      churned_share: r(g.churned_share, 4),
    });
    return {
      feature,
      ...f,
      adoption_rate: r(f.adoption_rate, 4),
      depth: r(f.depth, 2),
      adopter_stats: group(f.adopter_stats),
      non_adopter_stats: group(f.non_adopter_stats),
    };
  });
}

/** The features table of the text. */
function featureTable(features: readonly FeatureRow[]): string {
  return markdownTable(
    [
      "feature",
      "adopters",
      "rate",
      "depth/day",
      "median days to adopt",
      "health adopters / others",
      "churned adopters / others",
    ],
    features.map((f) => [
      f.feature,
      f.adopters,
      pctText(f.adoption_rate),
      f.depth,
      f.time_to_adopt_median_days,
      `${f.adopter_stats.mean_health_score ?? "n/a"} / ${f.non_adopter_stats.mean_health_score ?? "n/a"}`,
      `${pctText(f.adopter_stats.churned_share)} / ${pctText(f.non_adopter_stats.churned_share)}`,
    ]),
  );
}

/** The account-gaps line of the text. */
function gapsText(gaps: AccountGaps, thresholdPct: number): string {
  return `Account ${gaps.account_id}: ${gaps.features.length} feature(s) not adopted that ≥ ${thresholdPct}% of ${gaps.peers_active} active peer(s) use${gaps.features.length ? `: ${gaps.features.map((f) => `${f.feature} (${pctText(f.peer_share)})`).join(", ")}` : ""}.`;
}
