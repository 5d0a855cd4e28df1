/** Compact markdown tables for tool text summaries. */

/**
 * One table cell: newlines and pipes removed so a value can never break out of its cell,
 * shortened to `maxLength` characters with an ellipsis.
 */
export function tableCell(value: string | number | boolean | null | undefined, maxLength = 60): string {
  if (value === null || value === undefined || value === "") return "–";
  const flat = String(value)
    .replace(/[\r\n\t]+/g, " ")
    .replace(/\|/g, "/")
    .replace(/`/g, "'")
    .trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

/** A markdown table with a header row; every value goes through {@link tableCell}. */
export function markdownTable(
  header: string[],
  rows: (string | number | boolean | null | undefined)[][],
  maxCellLength = 60,
): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map((row) => line(row.map((cell) => tableCell(cell, maxCellLength)))),
  ].join("\n");
}
