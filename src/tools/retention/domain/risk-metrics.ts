/** Evaluation of predicted probabilities against observed 0/1 outcomes. */

/** One prediction with its observed outcome (1 = churned). */
export interface Scored {
  predicted: number;
  outcome: 0 | 1;
}

/**
 * Area under the ROC curve by the Mann–Whitney statistic: the share of (churned, renewed) pairs
 * in which the churned example has the higher prediction, ties counting ½. Null when either
 * class is absent.
 */
export function auc(scored: readonly Scored[]): number | null {
  const positives = scored.filter((s) => s.outcome === 1).length;
  const negatives = scored.length - positives;
  if (positives === 0 || negatives === 0) return null;
  // Average ranks (ties share their mean rank), then U = R₊ − n₊(n₊+1)/2.
  const sorted = [...scored].sort((a, b) => a.predicted - b.predicted);
  let rankSumPositives = 0;
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as Scored).predicted === (sorted[i] as Scored).predicted) j++;
    const meanRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if ((sorted[k] as Scored).outcome === 1) rankSumPositives += meanRank;
    i = j + 1;
  }
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Brier score: the mean of (predicted − outcome)²; 0 is perfect. Null without examples. */
export function brier(scored: readonly Scored[]): number | null {
  if (scored.length === 0) return null;
  return scored.reduce((sum, s) => sum + (s.predicted - s.outcome) ** 2, 0) / scored.length;
}

/** One decile of predictions: how many, their mean prediction and the observed churn rate. */
export interface CalibrationBin {
  decile: number;
  n: number;
  mean_predicted: number;
  observed_rate: number;
}

/**
 * Calibration by decile: examples sorted by prediction (ties by input order) and cut into ten
 * groups of nearly equal size (example i of n goes to decile ⌊10·i / n⌋ + 1); empty deciles are
 * left out.
 */
export function calibrationByDecile(scored: readonly Scored[]): CalibrationBin[] {
  const sorted = scored
    .map((s, index) => ({ s, index }))
    .sort((a, b) => a.s.predicted - b.s.predicted || a.index - b.index);
  const bins: { n: number; predicted: number; observed: number }[] = Array.from({ length: 10 }, () => ({
    n: 0,
    predicted: 0,
    observed: 0,
  }));
  sorted.forEach(({ s }, i) => {
    const bin = bins[Math.floor((10 * i) / sorted.length)] as { n: number; predicted: number; observed: number };
    bin.n++;
    bin.predicted += s.predicted;
    bin.observed += s.outcome;
  });
  return bins.flatMap((bin, index) =>
    bin.n === 0
      ? []
      : [{ decile: index + 1, n: bin.n, mean_predicted: bin.predicted / bin.n, observed_rate: bin.observed / bin.n }],
  );
}
