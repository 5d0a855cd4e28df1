/**
 * Satisfaction scoring over score histograms (pure, no bindings).
 *
 * - NPS (0–10): % promoters (9–10) − % detractors (0–6), from −100 to 100; 7–8 are passives.
 * - CSAT (1–5): mean rating, and the share of 4–5 ("satisfied"); 1–2 are dissatisfied.
 * - CES (1–7, "how easy was it": 7 = very easy, higher is better): mean score, and the share of
 *   5–7 ("easy"); 1–3 are "difficult".
 *
 * Every kind splits its scale into positive / neutral / negative bands; a negative answer
 * (NPS detractor, CSAT 1–2, CES 1–3) is one that needs a follow-up.
 */

import { round } from "../../../platform/lib/stats";

/** The three survey kinds. */
export const SURVEY_KINDS = ["nps", "csat", "ces"] as const;
export type SurveyKind = (typeof SURVEY_KINDS)[number];

/** Each kind's scale and its bands (inclusive bounds). */
export const SCALES: Record<
  SurveyKind,
  { min: number; max: number; negativeMax: number; positiveMin: number; positiveLabel: string }
> = {
  nps: { min: 0, max: 10, negativeMax: 6, positiveMin: 9, positiveLabel: "promoters (9–10)" },
  csat: { min: 1, max: 5, negativeMax: 2, positiveMin: 4, positiveLabel: "satisfied (4–5)" },
  ces: { min: 1, max: 7, negativeMax: 3, positiveMin: 5, positiveLabel: "easy (5–7)" },
};

/** The question asked when a survey is created without one. */
export const DEFAULT_QUESTIONS: Record<SurveyKind, string> = {
  nps: "How likely are you to recommend us to a friend or colleague? (0 = not at all likely, 10 = extremely likely)",
  csat: "How satisfied are you with our service? (1 = very dissatisfied, 5 = very satisfied)",
  ces: "How easy was it to get what you needed from us? (1 = very difficult, 7 = very easy)",
};

/** Longest respondent comment kept, by tool or by the response page. */
export const MAX_COMMENT_CHARS = 2000;

/** How many answers gave one score. */
export interface ScoreCount {
  score: number;
  count: number;
}

/** A kind's score over a set of answers, with its band counts. */
export interface ScoreSummary {
  kind: SurveyKind;
  /** Answers counted. */
  n: number;
  /** NPS for nps, the mean for csat and ces; null without answers. */
  score: number | null;
  /** Promoters / satisfied / easy. */
  positive: number;
  /** Passives / CSAT 3 / CES 4. */
  neutral: number;
  /** Detractors / CSAT 1–2 / CES 1–3. */
  negative: number;
  /** Positive share in percent (CSAT's "% 4–5"); null without answers. */
  positive_pct: number | null;
  /** Negative share in percent; null without answers. */
  negative_pct: number | null;
}

/** True when `score` is a whole number on the kind's scale. */
export function inRange(kind: SurveyKind, score: number): boolean {
  const scale = SCALES[kind];
  return Number.isInteger(score) && score >= scale.min && score <= scale.max;
}

/** The band of one answer. */
export function bandOf(kind: SurveyKind, score: number): "positive" | "neutral" | "negative" {
  const scale = SCALES[kind];
  if (score <= scale.negativeMax) return "negative";
  if (score >= scale.positiveMin) return "positive";
  return "neutral";
}

/** Summarizes a histogram of one kind's answers (scores outside the scale are ignored). */
export function summarize(kind: SurveyKind, counts: readonly ScoreCount[]): ScoreSummary {
  let n = 0;
  let sum = 0;
  const bands = { positive: 0, neutral: 0, negative: 0 };
  for (const { score, count } of counts) {
    if (!inRange(kind, score) || count <= 0) continue;
    n += count;
    sum += score * count;
    bands[bandOf(kind, score)] += count;
  }
  const pct = (part: number) => (n === 0 ? null : round((part / n) * 100));
  const score = n === 0 ? null : kind === "nps" ? round(((bands.positive - bands.negative) / n) * 100) : round(sum / n);
  return { kind, n, score, ...bands, positive_pct: pct(bands.positive), negative_pct: pct(bands.negative) };
}

/** One row of a grouped histogram: a group key (month, segment, …), a kind, a score and its count. */
export interface GroupedCount extends ScoreCount {
  key: string | null;
  kind: SurveyKind;
}

/** Summaries per (group, kind), groups in ascending key order (null last), kinds in {@link SURVEY_KINDS} order. */
export function summarizeGroups(rows: readonly GroupedCount[]): { key: string | null; summary: ScoreSummary }[] {
  const groups = new Map<string | null, Map<SurveyKind, ScoreCount[]>>();
  for (const row of rows) {
    const byKind = groups.get(row.key) ?? new Map<SurveyKind, ScoreCount[]>();
    const list = byKind.get(row.kind) ?? [];
    list.push({ score: row.score, count: row.count });
    byKind.set(row.kind, list);
    groups.set(row.key, byKind);
  }
  const keys = [...groups.keys()].sort((a, b) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1));
  return keys.flatMap((key) => {
    const byKind = groups.get(key) ?? new Map<SurveyKind, ScoreCount[]>();
    return SURVEY_KINDS.filter((kind) => byKind.has(kind)).map((kind) => ({
      key,
      summary: summarize(kind, byKind.get(kind) ?? []),
    }));
  });
}

/** Responses / invitations sent, in percent (null when nothing was sent). */
export function responseRate(responded: number, sent: number): number | null {
  return sent === 0 ? null : round((responded / sent) * 100);
}
