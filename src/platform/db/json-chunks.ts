/** Longest JSON text bound to one statement (D1 allows 2 MB per value; this leaves room). */
export const JSON_PAYLOAD_CHARS = 200_000;

/**
 * Splits values into JSON array texts of at most {@link JSON_PAYLOAD_CHARS} characters, each to
 * be bound as the one parameter of a multi-row statement reading it with `json_each`: D1 binds
 * at most 100 parameters, and one JSON parameter carries any number of rows.
 */
export function jsonChunks(values: unknown[], maxChars = JSON_PAYLOAD_CHARS): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const value of values) {
    const text = JSON.stringify(value);
    if (current.length > 0 && size + text.length + 1 > maxChars) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}
