import { z } from "zod";
import { markdownTable } from "../../platform/lib/markdown-table";
import { daysBetween, isoDay } from "../../platform/lib/time";
import { dayArg } from "../../platform/mcp/args";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { ToolError } from "../../platform/mcp/errors";
import { matchStoredValue } from "../../platform/mcp/filters";
import {
  cursorArg,
  decodeCursor,
  encodeCursor,
  limitArg,
  nextCursorField,
  queryFingerprint,
} from "../../platform/mcp/pagination";
import { storedAccountValues } from "../../records/accounts";
import {
  ACCOUNT_SORTS,
  type AccountListPosition,
  type AccountListRow,
  type AccountSortKey,
  likeContains,
  listAccountsPage,
} from "./queries/accounts";

const accountRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  segment: z.string().nullable(),
  tier: z.string().nullable(),
  lifecycle_stage: z.string(),
  status: z.enum(["active", "churned", "prospect"]),
  owner_user_id: z.string().nullable(),
  owner_email: z.string().nullable(),
  arr: z.number().describe("Sum of the account's active contracts."),
  health_score: z.number().nullable().describe("Latest stored health score (0–100); null if none computed."),
  health_band: z.enum(["red", "yellow", "green"]).nullable(),
  renewal_date: z.string().nullable().describe("End of the earliest active contract."),
  days_to_renewal: z.number().nullable().describe("Days from today to renewal_date (negative when past)."),
});

export const listAccounts = defineTool({
  name: "list_accounts",
  title: "List accounts",
  toolset: "core",
  description:
    "Accounts of this workspace, filtered and sorted, one page at a time. Filters combine with AND: segment, tier, owner (user id or email), lifecycle stage, status, health band (or 'unscored'), renewal window (within N days from today, or from/to dates), ARR range, and text contained in the name or domain. " +
    "Sort by name, arr, renewal_date or health_score (asc/desc, id breaks ties); accounts without a renewal date or health score come last. " +
    "Each row: id, name, segment, tier, stage, owner, ARR (sum of active contracts), latest health score/band, renewal date and days to renewal (from today, UTC).",
  input: {
    segment: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Segment, in any case or spacing (e.g. enterprise for Enterprise); an unknown one is refused naming those that exist.",
      ),
    tier: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Tier, in any case or spacing (e.g. tier1 for Tier 1); an unknown one is refused naming those that exist.",
      ),
    owner: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("Owner as a user id, or the owner's email (case-insensitive)."),
    lifecycle_stage: z.string().min(1).max(50).optional().describe("Exact lifecycle stage, e.g. adoption."),
    status: z.enum(["active", "churned", "prospect"]).optional().describe("Account status."),
    health_band: z
      .enum(["red", "yellow", "green", "unscored"])
      .optional()
      .describe("Latest health band; 'unscored' = no health score computed yet."),
    renewal_within_days: z
      .number()
      .int()
      .min(0)
      .max(3650)
      .optional()
      .describe("Renewal date between today and today + N days (inclusive). Not combinable with renewal_from/to."),
    renewal_from: dayArg.optional().describe("Renewal date on or after this day (YYYY-MM-DD)."),
    renewal_to: dayArg.optional().describe("Renewal date on or before this day (YYYY-MM-DD)."),
    arr_min: z.number().min(0).optional().describe("ARR at least this amount."),
    arr_max: z.number().min(0).optional().describe("ARR at most this amount."),
    text: z
      .string()
      .min(1)
      .max(48)
      .optional()
      .describe("Text contained in the account name or domain (case-insensitive, at most 48 bytes)."),
    sort: z
      .enum(["name", "arr", "renewal_date", "health_score"])
      .default("name")
      .describe("Sort column (default name)."),
    order: z.enum(["asc", "desc"]).default("asc").describe("Sort direction (default asc)."),
    limit: limitArg,
    cursor: cursorArg,
  },
  output: {
    as_of: z.string().describe("Today (UTC), the reference day for renewal windows and days_to_renewal."),
    sort: z.string().describe("Applied sort, e.g. arr desc."),
    accounts: z.array(accountRowSchema),
    returned: z.number().describe("Rows on this page."),
    next_cursor: nextCursorField,
  },
  examples: [
    { title: "First page of accounts", args: () => ({}) },
    {
      title: "A segment by health score, best first",
      args: (ids) => ({ segment: ids.segment, sort: "health_score", order: "desc" }),
    },
    { title: "Accounts in the red band", args: () => ({ health_band: "red" }) },
    {
      title: "Renewals in the next 120 days, soonest first",
      args: () => ({ renewal_within_days: 120, sort: "renewal_date" }),
    },
    { title: "One owner's book by ARR", args: (ids) => ({ owner: ids.ownerId, text: "a", sort: "arr" }) },
  ],
  annotations: READ_ONLY,
  async handler(args, { env, principal, now }) {
    const { sort, order, limit, cursor, ...filters } = args;
    const today = isoDay(now);
    if (args.renewal_within_days !== undefined && (args.renewal_from || args.renewal_to)) {
      throw new ToolError("Use either renewal_within_days or renewal_from/renewal_to, not both.");
    }
    if (args.renewal_from && args.renewal_to && args.renewal_from > args.renewal_to) {
      throw new ToolError("renewal_from is after renewal_to; swap them.");
    }
    if (args.arr_min !== undefined && args.arr_max !== undefined && args.arr_min > args.arr_max) {
      throw new ToolError("arr_min is above arr_max; swap them.");
    }
    const pattern = args.text === undefined ? undefined : likeContains(args.text);
    if (pattern !== undefined && new TextEncoder().encode(pattern).length > 50) {
      throw new ToolError(
        "`text` is too long once encoded: use at most 48 bytes (fewer for accented or non-Latin text).",
      );
    }
    const fingerprint = queryFingerprint(["list_accounts", filters, sort, order]);
    const position = cursor ? readPosition(cursor, fingerprint, sort) : null;
    const spec = ACCOUNT_SORTS[sort];
    const page0 = { sort, order, limit, position, today };
    let rows = await listAccountsPage(env.DB, principal.workspaceId, { ...filters, pattern }, page0);
    if (rows.length === 0 && (filters.segment || filters.tier)) {
      // Only an empty answer pays for the lookup: the stored spelling, or an error naming the values.
      const spelled = await storedSpelling(env.DB, principal.workspaceId, filters);
      if (spelled.segment !== filters.segment || spelled.tier !== filters.tier) {
        rows = await listAccountsPage(env.DB, principal.workspaceId, { ...filters, ...spelled, pattern }, page0);
      }
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > limit && last) {
      const value = last[spec.column];
      nextCursor = encodeCursor({ k: [value === null ? 1 : 0, value], id: last.id, q: fingerprint });
    }
    const accounts = page.map((row) => ({
      ...row,
      days_to_renewal: row.renewal_date ? daysBetween(today, row.renewal_date) : null,
    }));
    return {
      data: { as_of: today, sort: `${sort} ${order}`, accounts, returned: accounts.length, next_cursor: nextCursor },
      text: listText(accounts, `${sort} ${order}`, nextCursor),
    };
  },
});

/** The segment and tier filters as stored, matched in any case and spacing. */
async function storedSpelling(
  db: D1Database,
  workspaceId: string,
  filters: { segment?: string; tier?: string },
): Promise<{ segment?: string; tier?: string }> {
  const spelled: { segment?: string; tier?: string } = {};
  for (const field of ["segment", "tier"] as const) {
    const given = filters[field];
    if (given) spelled[field] = matchStoredValue(field, given, await storedAccountValues(db, workspaceId, field));
  }
  return spelled;
}

/** The page as a summary line and a compact table. */
function listText(
  accounts: (AccountListRow & { days_to_renewal: number | null })[],
  sort: string,
  nextCursor: string | null,
): string {
  const summary = `${accounts.length} account${accounts.length === 1 ? "" : "s"} sorted by ${sort}${nextCursor ? "; more on the next page (pass next_cursor)" : ""}.`;
  const table = accounts.length
    ? `\n${markdownTable(
        ["id", "name", "segment", "tier", "stage", "owner", "ARR", "health", "renewal (days)"],
        accounts.map((a) => [
          a.id,
          a.name,
          a.segment,
          a.tier,
          a.lifecycle_stage,
          a.owner_email ?? a.owner_user_id,
          Math.round(a.arr),
          a.health_score === null ? "unscored" : `${a.health_score} ${a.health_band ?? ""}`,
          a.renewal_date ? `${a.renewal_date} (${a.days_to_renewal})` : null,
        ]),
        40,
      )}`
    : "";
  return `${summary}${table}`;
}

/** The position a cursor of this listing names; refused when it does not fit the sort. */
function readPosition(cursor: string, fingerprint: string, sort: AccountSortKey): AccountListPosition {
  const { k, id } = decodeCursor(cursor, fingerprint);
  const [segment, value] = k;
  const spec = ACCOUNT_SORTS[sort];
  const valid =
    k.length === 2 &&
    ((segment === 0 && typeof value === spec.type) || (segment === 1 && spec.nullable && value === null));
  if (!valid) {
    throw new ToolError(
      "Malformed `cursor`: pass the `next_cursor` value from the previous page unchanged, or omit it.",
    );
  }
  return { withoutValue: segment === 1, value: value ?? null, id };
}
