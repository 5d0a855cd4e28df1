import { z } from "zod";
import { SqlParams } from "../../platform/db/sql-params";
import { markdownTable } from "../../platform/lib/markdown-table";
import { addDays, isoDay } from "../../platform/lib/time";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { notFound, ToolError } from "../../platform/mcp/errors";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { FEATURES_USED_SQL, fillSql } from "../../records/usage";
import {
  type AdopterTotals,
  adopterTotals,
  adoptionFromTotals,
  featureGaps,
  type GroupTotals,
} from "./domain/adoption";
import { round, usageWindows } from "./domain/usage-metrics";

/** Packs an account-feature's events and days to date in one integer: events × PACK + days. */
const PACK = 65536;

const dayArg = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "use YYYY-MM-DD");

const groupSchema = z.object({
  accounts: z.number().int().describe("Accounts in the group."),
  scored_accounts: z.number().int().describe("Accounts with a stored health score."),
  mean_health_score: z.number().nullable().describe("Mean latest health score of scored accounts."),
  churned: z.number().int().describe("Accounts with status churned."),
  churned_share: z.number().nullable().describe("churned / accounts."),
});

const r = (v: number | null, digits: number) => (v === null ? null : round(v, digits));

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

    let gapsAccount: { id: string; segment: string | null } | null = null;
    if (args.account_id) {
      gapsAccount = await env.DB.prepare("SELECT id, segment FROM accounts WHERE workspace_id = ?1 AND id = ?2")
        .bind(ws, args.account_id)
        .first<{ id: string; segment: string | null }>();
      if (!gapsAccount) throw notFound("account", args.account_id);
    }

    // Active accounts: an account-day usage rollup in the window, optionally one segment.
    const p = new SqlParams();
    p.add(ws);
    const from = p.add(current.from);
    const to = p.add(current.to);
    const segmentParam = args.segment ? p.add(args.segment) : null;
    const rollupInSegment = segmentParam
      ? ` AND f.account_id IN (SELECT id FROM accounts WHERE workspace_id = ?1 AND segment = ${segmentParam})`
      : "";
    const accountInSegment = segmentParam ? ` AND a.segment = ${segmentParam}` : "";
    // Feature rollups come from the same events as account-day rollups, so the latter name every active account.
    // Probing each account's primary-key range reads one row per account, not every account-day of the window.
    const activeSql = `SELECT a.id AS account_id FROM accounts a WHERE a.workspace_id = ?1${accountInSegment}
        AND EXISTS (SELECT 1 FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id AND u.day BETWEEN ${from} AND ${to})`;
    const baseValues = [...p.values];
    const fingerprint = queryFingerprint([
      "adoption",
      current.from,
      current.to,
      args.segment ?? null,
      args.feature ?? null,
    ]);
    const after = args.cursor ? decodeCursor(args.cursor, fingerprint).id : "";
    const q = new SqlParams();
    for (const v of baseValues) q.add(v);
    const featureFilter = args.feature ? ` AND f.feature = ${q.add(args.feature)}` : "";
    const afterParam = q.add(after);
    const limitParam = q.add(args.limit + 1);

    const [totalsResult, featuresResult] = await env.DB.batch([
      env.DB.prepare(
        `SELECT count(*) AS accounts, count(a.health_score) AS scored, coalesce(sum(a.health_score), 0) AS score_sum,
                coalesce(sum(a.status = 'churned'), 0) AS churned
           FROM (${activeSql}) act JOIN accounts a ON a.workspace_id = ?1 AND a.id = act.account_id`,
      ).bind(...baseValues),
      env.DB.prepare(
        `${fillSql(FEATURES_USED_SQL, { from, to, after: afterParam, scope: `${rollupInSegment}${featureFilter}` })}
          ORDER BY feature LIMIT ${limitParam}`,
      ).bind(...q.values),
    ]);
    const active = totalsResult!.results[0] as unknown as GroupTotals;
    const featureNames = (featuresResult!.results as { feature: string }[]).map((f) => f.feature);
    const hasMore = featureNames.length > args.limit;
    const page = featureNames.slice(0, args.limit);

    // Adopters of each feature of this page, summed per feature in SQL (tens of thousands of adopters
    // at scale). An account's events and active days in the window are the difference of the running
    // totals at its last day with events up to the window's end and just before its first day with
    // events in the window: two seeks, not a read of every day. Each seek yields both totals packed
    // in one integer (events × 65536 + days; days to date stay far below 65536), so the difference
    // unpacks into events and days. The account's feature first uses are read along its primary-key
    // range (the `+` keeps the page's names a filter, not one probe each). Days to adopt: whole days
    // from the start to the first use, 0 when the use came first, none without a start day.
    const fp = new SqlParams();
    for (const v of baseValues) fp.add(v);
    const names = fp.add(JSON.stringify(page));
    const adopterRows = page.length
      ? ((
          await env.DB.prepare(
            `WITH adopters AS MATERIALIZED (
               SELECT p.feature, p.first_day, a.health_score, a.status,
                      coalesce(substr(a.customer_since, 1, 10),
                        (SELECT min(u.day) FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id)) AS start_day,
                      (SELECT r.events_to_date * ${PACK} + r.days_to_date FROM usage_feature_running r
                        WHERE r.workspace_id = ?1 AND r.account_id = a.id AND r.feature = p.feature AND r.day <= ${to}
                        ORDER BY r.day DESC LIMIT 1)
                      - (SELECT (r.events_to_date - r.events) * ${PACK} + r.days_to_date - 1 FROM usage_feature_running r
                        WHERE r.workspace_id = ?1 AND r.account_id = a.id AND r.feature = p.feature
                          AND r.day BETWEEN ${from} AND ${to}
                        ORDER BY r.day LIMIT 1) AS in_window
                 FROM accounts a
                 CROSS JOIN feature_first_use p
                   ON p.workspace_id = ?1 AND p.account_id = a.id AND +p.feature IN (SELECT value FROM json_each(${names}))
                  AND p.first_day <= ${to}
                WHERE a.workspace_id = ?1${accountInSegment})
             SELECT feature, count(*) AS accounts, count(health_score) AS scored,
                    coalesce(sum(health_score), 0) AS score_sum, coalesce(sum(status = 'churned'), 0) AS churned,
                    coalesce(sum(CASE WHEN in_window % ${PACK} > 0
                                      THEN (in_window / ${PACK}) * 1.0 / (in_window % ${PACK}) END), 0) AS depth_sum,
                    coalesce(sum(in_window % ${PACK} > 0), 0) AS depth_counted,
                    group_concat(max(0, CAST(round(julianday(first_day) - julianday(start_day)) AS INTEGER))) AS days_to_adopt
               FROM adopters WHERE in_window IS NOT NULL
              GROUP BY feature`,
          )
            .bind(...fp.values)
            .all<Omit<AdopterTotals, "days_to_adopt"> & { feature: string; days_to_adopt: string | null }>()
        ).results ?? [])
      : [];
    const totalsByFeature = new Map(
      adopterRows.map(({ feature, days_to_adopt, ...sums }) => [
        feature,
        { ...sums, days_to_adopt: days_to_adopt ? days_to_adopt.split(",").map(Number) : [] },
      ]),
    );
    const noAdopters = adopterTotals([]);

    const features = page.map((feature) => {
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

    let accountGaps = null;
    if (gapsAccount) {
      const g = new SqlParams();
      g.add(ws);
      const gFrom = g.add(current.from);
      const gTo = g.add(current.to);
      const self = g.add(gapsAccount.id);
      const peerFilter = gapsAccount.segment === null ? "" : ` AND a.segment = ${g.add(gapsAccount.segment)}`;
      const peersSql = `SELECT a.id AS account_id FROM accounts a WHERE a.workspace_id = ?1 AND a.id <> ${self}${peerFilter}
          AND EXISTS (SELECT 1 FROM usage_daily u WHERE u.workspace_id = ?1 AND u.account_id = a.id AND u.day BETWEEN ${gFrom} AND ${gTo})`;
      const [peerCount, peerUse] = await env.DB.batch([
        env.DB.prepare(`SELECT count(*) AS n FROM (${peersSql})`).bind(...g.values),
        env.DB.prepare(
          // A peer used a feature in the window when one of its running-total rows falls in it (one seek).
          `SELECT p.feature, count(*) AS peers_using
             FROM (${peersSql}) peer
             CROSS JOIN feature_first_use p ON p.workspace_id = ?1 AND p.account_id = peer.account_id AND p.first_day <= ${gTo}
            WHERE EXISTS (SELECT 1 FROM usage_feature_running r WHERE r.workspace_id = ?1 AND r.account_id = p.account_id
                    AND r.feature = p.feature AND r.day BETWEEN ${gFrom} AND ${gTo})
              AND p.feature NOT IN (SELECT feature FROM usage_feature_daily
                    WHERE workspace_id = ?1 AND account_id = ${self} AND day BETWEEN ${gFrom} AND ${gTo} AND events > 0)
            GROUP BY p.feature`,
        ).bind(...g.values),
      ]);
      const peers = (peerCount!.results[0] as { n: number }).n;
      accountGaps = {
        account_id: gapsAccount.id,
        segment: gapsAccount.segment,
        peers_active: peers,
        threshold_pct: args.threshold_pct,
        features: featureGaps(
          peerUse!.results as { feature: string; peers_using: number }[],
          peers,
          args.threshold_pct,
        ).map((gap) => ({ ...gap, peer_share: round(gap.peer_share, 4) })),
      };
    }

    const last = page.at(-1);
    const nextCursor = hasMore && last ? encodeCursor({ k: [], id: last, q: fingerprint }) : null;
    const basis =
      "Account-feature daily rollups with events > 0; first use = the first day with feature events, kept after the rollups are purged; active accounts = accounts with an account-day usage rollup in the window; health = accounts.health_score (latest stored); churned = accounts.status.";
    const pctText = (v: number | null) => (v === null ? "n/a" : `${round(v * 100, 1)}%`);
    const text = [
      `Feature adoption ${current.from}..${current.to} (${current.days} days${args.segment ? `, segment ${args.segment}` : ""}): ${active.accounts} active account(s), ${features.length} feature(s) on this page. Feature rollups kept ${retention} days (from ${earliest}).`,
      features.length
        ? markdownTable(
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
          )
        : "No feature usage in the window.",
      accountGaps
        ? `Account ${accountGaps.account_id}: ${accountGaps.features.length} feature(s) not adopted that ≥ ${args.threshold_pct}% of ${accountGaps.peers_active} active peer(s) use${accountGaps.features.length ? `: ${accountGaps.features.map((f) => `${f.feature} (${pctText(f.peer_share)})`).join(", ")}` : ""}.`
        : "",
      nextCursor ? "More features: pass next_cursor." : "",
    ]
      .filter(Boolean)
      .join("\n");

    return {
      data: {
        window: current,
        basis,
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
