import type { DemoIds } from "../../src/platform/mcp/examples";
import type { SeedData } from "./rows";

function pick<T>(rows: readonly T[], test: (row: T) => boolean, what: string): T {
  const row = rows.find(test);
  if (!row) throw new Error(`fixture has no ${what}`);
  return row;
}

/**
 * The ids a workspace's sample calls use: the active account with the most tickets, its contact,
 * contract, segment, tier, owner, ticket and a feature it uses, and the first escalation,
 * intervention and campaign. Pure, so scripts pick the same ids from the same generated data.
 */
export function demoIdsOf(data: SeedData): DemoIds {
  const ticketCount = new Map<string, number>();
  for (const t of data.tickets) ticketCount.set(t.account_id, (ticketCount.get(t.account_id) ?? 0) + 1);
  const account = pick(
    [...data.accounts].sort((a, b) => (ticketCount.get(b.id) ?? 0) - (ticketCount.get(a.id) ?? 0)),
    (a) => a.status === "active",
    "active account",
  );
  return {
    accountId: account.id,
    contactId: pick(data.contacts, (c) => c.account_id === account.id, "contact").id,
    contractId: pick(data.contracts, (c) => c.account_id === account.id && c.status === "active", "contract").id,
    segment: account.segment,
    tier: account.tier,
    ownerId: account.owner_user_id,
    ticketId: pick(data.tickets, (t) => t.account_id === account.id, "ticket").id,
    feature: pick(data.usage_feature_daily, (u) => u.account_id === account.id, "feature day").feature,
    escalationId: pick(data.escalations, () => true, "escalation").id,
    interventionId: pick(data.interventions, () => true, "intervention").id,
    campaignId: pick(data.retention_campaigns, () => true, "campaign").id,
  };
}
