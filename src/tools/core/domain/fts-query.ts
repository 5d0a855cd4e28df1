/**
 * Turns free text typed by a person into a safe FTS5 MATCH expression. Every word becomes a
 * double-quoted string, so FTS5 operators and syntax (AND, OR, NOT, NEAR, column filters,
 * parentheses, stray quotes) are read as plain words and can never cause a syntax error.
 */

/** At most this many words are used, which keeps the expression small. */
export const MAX_QUERY_WORDS = 12;

/** Runs of letters, digits and combining marks: the characters FTS5's unicode61 tokenizer keeps. */
const WORD_PART = /[\p{L}\p{N}\p{M}]+/gu;

/** A safe MATCH expression and the words it searches for. */
export interface FtsQuery {
  expression: string;
  words: string[];
}

/**
 * Each whitespace-separated chunk becomes a quoted phrase of its letter/digit runs (`acme.io` →
 * `"acme io"`, which matches the adjacent tokens), all phrases required (implicit AND). A chunk
 * ending in `*` is a prefix search (`"acm"*`). Returns null when no searchable word is left.
 */
export function buildFtsQuery(text: string): FtsQuery | null {
  const phrases: string[] = [];
  const words: string[] = [];
  const seen = new Set<string>();
  for (const chunk of text.split(/\s+/)) {
    const parts = chunk.match(WORD_PART);
    if (!parts) continue;
    const phrase = parts.join(" ").toLowerCase();
    const prefix = chunk.endsWith("*");
    const key = `${phrase}${prefix ? "*" : ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    phrases.push(`"${phrase}"${prefix ? "*" : ""}`);
    words.push(phrase);
    if (phrases.length === MAX_QUERY_WORDS) break;
  }
  if (phrases.length === 0) return null;
  return { expression: phrases.join(" "), words };
}
