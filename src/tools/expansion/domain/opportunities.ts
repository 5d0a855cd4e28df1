/**
 * Which open opportunities count as the same deal as a proposal, so the identifying tools never
 * open a second one. Pure functions, no bindings.
 */

/**
 * Which open opportunities count as the same deal: one of the same kind for the same product,
 * and, when `unknownProductBlocks`, also one of the same kind with no product recorded (as
 * deals imported from a CRM have), since it may already cover the need.
 */
export interface SameDealRule {
  kind: "upsell" | "cross_sell";
  unknownProductBlocks: boolean;
}

/** Finds the oldest open same deal (see {@link SameDealRule}) for an account and product, or null. */
export interface OpenDealIndex {
  find(accountId: string, productId: string): string | null;
}

/**
 * The index of open opportunities of the rule's kind, given oldest first, to mark proposals
 * already in the pipeline.
 */
export function openDealIndex(
  open: readonly { id: string; account_id: string; product_id: string | null }[],
  rule: SameDealRule,
): OpenDealIndex {
  const index = new Map<string, string>();
  for (const r of open) {
    const key = JSON.stringify([r.account_id, r.product_id]);
    if (!index.has(key)) index.set(key, r.id);
  }
  return {
    find: (accountId, productId) =>
      index.get(JSON.stringify([accountId, productId])) ??
      (rule.unknownProductBlocks ? (index.get(JSON.stringify([accountId, null])) ?? null) : null),
  };
}
