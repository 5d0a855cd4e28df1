import fc from "fast-check";

/**
 * What no answer may contain: a stack frame, SQL or storage errors, a source path, or a value
 * printed from `undefined` or `NaN`. Word-bounded where ids could hold the letters by chance.
 */
export const LEAKS: readonly { what: string; pattern: RegExp }[] = [
  { what: "a stack frame", pattern: / {4}at |\n\s*at \S+ \(/ },
  { what: "SQL or storage text", pattern: /SQLITE|SELECT |D1_ERROR/ },
  { what: "a source path", pattern: /\/src\/|\.ts:/ },
  { what: "undefined", pattern: /\bundefined\b/ },
  { what: "NaN", pattern: /\bNaN\b/ },
];

/**
 * Breaks any leak marker inside a generated string, so a value the server stores and shows back
 * (a task title, a search term) is never mistaken for a leak.
 */
export function defuse(text: string): string {
  return text
    .replace(/ {4}at /g, "   at ")
    .replace(/SQLITE/g, "SQLlTE")
    .replace(/SELECT /g, "SELECT_")
    .replace(/D1_ERROR/g, "D1-ERROR")
    .replace(/\/src\//g, "/srс/")
    .replace(/\.ts:/g, ".ts;")
    .replace(/undefined/g, "undef1ned")
    .replace(/NaN/g, "NaM");
}

/** Strings that trip SQL quoting, LIKE patterns, FTS5 query syntax and escape handling. */
export const SQL_AND_FTS = [
  "' OR 1=1 --",
  "' OR '1'='1",
  "'; DROP TABLE accounts; --",
  "' union select name from sqlite_master --",
  '"',
  '""',
  '"unterminated',
  "'",
  "*",
  "a*",
  "NEAR(",
  "NEAR(a b, 2)",
  "^",
  "^start",
  "-",
  "-term",
  ":",
  "name:acme",
  "%",
  "%%",
  "_",
  "%_%",
  "\\",
  "\\%",
  "\\'",
  "AND",
  "OR",
  "NOT",
  "a AND",
  "(",
  ")",
  "{a b}",
  "+",
  "?1",
  "$1",
  ":name",
  "@p",
  "[x]",
  "`x`",
  ";",
  "/* c */",
  "-- c",
];

/** Unicode that breaks naive handling: emoji, RTL, zero-width, NUL, lone surrogates, combining marks. */
export const UNICODE = [
  "😀",
  "👩‍👩‍👧‍👦",
  "🇺🇦",
  "\u202Eevil\u202C",
  "مرحبا بالعالم",
  "שלום",
  "\u200B",
  "a\u200Bb\u200C\u200D\uFEFF",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "x\uDC00y",
  "\uDBFF",
  "e\u0301\u0301\u0301",
  "İıß",
  "ＡＢＣ",
  "\u2028\u2029",
  "\r\n\t",
  "\uFFFF",
  "\u{10FFFF}",
  "Ω≈ç√∫",
  "中文字符",
  " ",
  "   ",
];

/** Strings of 10k+ UTF-16 units, over every field's limit. */
export const HUGE = ["a".repeat(10_001), "é".repeat(12_000), "😀".repeat(5_001), "' OR 1=1 --".repeat(1_000)];

/** Any of the hostile strings above, alone or joined to a plain or known value. */
export function hostileString(known: readonly string[]): fc.Arbitrary<string> {
  const token = fc.constantFrom(...SQL_AND_FTS, ...UNICODE);
  const plain = known.length > 0 ? fc.constantFrom(...known) : fc.constant("acme");
  return fc.oneof(
    { weight: 4, arbitrary: token },
    { weight: 3, arbitrary: fc.tuple(plain, token).map(([a, b]) => `${a}${b}`) },
    { weight: 2, arbitrary: fc.tuple(token, plain, token).map(([a, b, c]) => `${a}${b}${c}`) },
    { weight: 2, arbitrary: fc.array(token, { minLength: 2, maxLength: 6 }).map((parts) => parts.join(" ")) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
  );
}
