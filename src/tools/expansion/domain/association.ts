/**
 * Product affinity over the customer base: single-product association rules A → B computed from
 * the set of products each account owns (market-basket analysis).
 */

/** One rule A → B with its counts and the three standard measures. */
export interface AssociationRule {
  antecedent: string;
  consequent: string;
  /** Accounts owning both A and B. */
  accounts_with_both: number;
  /** Accounts owning A. */
  accounts_with_antecedent: number;
  /** Accounts owning B. */
  accounts_with_consequent: number;
  /** Accounts owning A and B / all accounts counted. */
  support: number;
  /** support(A ∪ B) / support(A): the share of A's owners that also own B. */
  confidence: number;
  /** confidence / support(B): how much more often A's owners own B than accounts in general. */
  lift: number;
}

/** Thresholds a rule must meet to be kept. */
export interface RuleThresholds {
  minSupport: number;
  minConfidence: number;
}

/** Support of an itemset: accounts holding it / all accounts (0 when there are none). */
export function support(accountsWithItems: number, accountsCounted: number): number {
  return accountsCounted > 0 ? accountsWithItems / accountsCounted : 0;
}

/**
 * Confidence of A → B = support(A ∪ B) / support(A), computed from the account counts (the
 * common denominator cancels) so the result is the exact ratio.
 */
export function confidence(accountsWithBoth: number, accountsWithAntecedent: number): number {
  return accountsWithAntecedent > 0 ? accountsWithBoth / accountsWithAntecedent : 0;
}

/**
 * Lift of A → B = confidence(A → B) / support(B) = both × all / (with A × with B), from the
 * account counts.
 */
export function lift(
  accountsWithBoth: number,
  accountsWithAntecedent: number,
  accountsWithConsequent: number,
  accountsCounted: number,
): number {
  const denominator = accountsWithAntecedent * accountsWithConsequent;
  return denominator > 0 ? (accountsWithBoth * accountsCounted) / denominator : 0;
}

/**
 * Every rule A → B (A ≠ B) over the baskets that meets both thresholds, where B is one of
 * `consequents` (all products when omitted). Every basket counts in the denominator, an empty
 * one included; a product repeated within a basket counts once. Sorted by lift, then
 * confidence (both descending), then antecedent and consequent.
 */
export function associationRules(
  baskets: readonly (readonly string[])[],
  thresholds: RuleThresholds,
  consequents?: ReadonlySet<string>,
): AssociationRule[] {
  const single = new Map<string, number>();
  // pair.get(a).get(b) = baskets holding both a and b.
  const pair = new Map<string, Map<string, number>>();
  for (const basket of baskets) {
    const items = [...new Set(basket)];
    for (const a of items) {
      single.set(a, (single.get(a) ?? 0) + 1);
      let withA = pair.get(a);
      if (!withA) {
        withA = new Map<string, number>();
        pair.set(a, withA);
      }
      for (const b of items) if (a !== b) withA.set(b, (withA.get(b) ?? 0) + 1);
    }
  }
  const accounts = baskets.length;
  const rules: AssociationRule[] = [];
  for (const [antecedent, withAntecedent] of pair)
    for (const [consequent, both] of withAntecedent) {
      if (consequents && !consequents.has(consequent)) continue;
      const withA = single.get(antecedent) ?? 0;
      const withB = single.get(consequent) ?? 0;
      const ruleSupport = support(both, accounts);
      const ruleConfidence = confidence(both, withA);
      if (ruleSupport < thresholds.minSupport || ruleConfidence < thresholds.minConfidence) continue;
      rules.push({
        antecedent,
        consequent,
        accounts_with_both: both,
        accounts_with_antecedent: withA,
        accounts_with_consequent: withB,
        support: ruleSupport,
        confidence: ruleConfidence,
        lift: lift(both, withA, withB, accounts),
      });
    }
  return rules.sort(
    (x, y) =>
      y.lift - x.lift ||
      y.confidence - x.confidence ||
      x.antecedent.localeCompare(y.antecedent) ||
      x.consequent.localeCompare(y.consequent),
  );
}
