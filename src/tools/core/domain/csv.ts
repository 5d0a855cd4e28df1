/**
 * CSV reading per RFC 4180: comma-separated fields, records ended by CRLF or LF (a lone CR is
 * accepted too), fields optionally wrapped in double quotes, a doubled quote inside a quoted
 * field standing for one quote, and commas and line breaks allowed inside quoted fields. A
 * leading byte-order mark is ignored; completely empty lines are skipped.
 */

/** A CSV syntax problem, pointing at the 1-based physical line where it was found. */
export class CsvError extends Error {
  override readonly name = "CsvError";
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** One record as read: its fields and the physical line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** One data row of a table: 1-based row number (the header is not counted) and values by column. */
export interface CsvRow {
  row: number;
  line: number;
  values: Record<string, string>;
}

/** A CSV file read as a header row plus data rows. */
export interface CsvTable {
  header: string[];
  rows: CsvRow[];
}

const QUOTE = '"';

/** Splits CSV text into records; throws {@link CsvError} on malformed quoting. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  const length = source.length;
  let position = 0;
  let line = 1;

  /** Consumes a line break at the cursor, if any; returns whether one was there. */
  const consumeLineBreak = (): boolean => {
    const char = source[position];
    if (char === "\r") {
      position += source[position + 1] === "\n" ? 2 : 1;
    } else if (char === "\n") {
      position += 1;
    } else {
      return false;
    }
    line += 1;
    return true;
  };

  while (position < length) {
    const recordLine = line;
    const fields: string[] = [];
    let sawQuotedField = false;
    for (;;) {
      let value = "";
      if (source[position] === QUOTE) {
        sawQuotedField = true;
        const openedOn = line;
        position += 1;
        for (;;) {
          if (position >= length) {
            throw new CsvError(
              `Unterminated quoted field starting on line ${openedOn}: add the closing double quote.`,
              openedOn,
            );
          }
          const char = source[position]!;
          if (char === QUOTE) {
            if (source[position + 1] === QUOTE) {
              value += QUOTE;
              position += 2;
              continue;
            }
            position += 1;
            break;
          }
          if (char === "\n" || (char === "\r" && source[position + 1] !== "\n")) line += 1;
          value += char;
          position += 1;
        }
        const next = source[position];
        if (position < length && next !== "," && next !== "\r" && next !== "\n") {
          throw new CsvError(
            `Unexpected text after a closing double quote on line ${line}: a quoted field must end at a comma or line end (write a quote inside a quoted field as "").`,
            line,
          );
        }
      } else {
        const start = position;
        while (position < length) {
          const char = source[position];
          if (char === "," || char === "\r" || char === "\n") break;
          if (char === QUOTE) {
            throw new CsvError(
              `Double quote inside an unquoted field on line ${line}: wrap the field in double quotes and write the quote as "".`,
              line,
            );
          }
          position += 1;
        }
        value = source.slice(start, position);
      }
      fields.push(value);
      if (source[position] === ",") {
        position += 1;
        continue;
      }
      consumeLineBreak();
      break;
    }
    const blankLine = fields.length === 1 && fields[0] === "" && !sawQuotedField;
    if (!blankLine) records.push({ line: recordLine, fields });
  }
  return records;
}

/**
 * Reads CSV text with a header row. Column names are trimmed and lower-cased; every data row
 * must have exactly as many fields as the header. Throws {@link CsvError} naming the line.
 */
export function parseCsvTable(text: string): CsvTable {
  const records = parseCsvRecords(text);
  const [headerRecord, ...dataRecords] = records;
  if (!headerRecord) {
    throw new CsvError("The CSV is empty: the first line must be a header row naming the columns.", 1);
  }
  const header = headerRecord.fields.map((name) => name.trim().toLowerCase());
  const seen = new Set<string>();
  header.forEach((name, index) => {
    if (name === "") {
      throw new CsvError(`Header column ${index + 1} on line ${headerRecord.line} has no name.`, headerRecord.line);
    }
    if (seen.has(name)) {
      throw new CsvError(`Header column "${name}" appears twice on line ${headerRecord.line}.`, headerRecord.line);
    }
    seen.add(name);
  });
  const rows = dataRecords.map((record, index): CsvRow => {
    if (record.fields.length !== header.length) {
      throw new CsvError(
        `Row ${index + 1} (line ${record.line}) has ${record.fields.length} fields but the header has ${header.length}: wrap values that contain commas in double quotes.`,
        record.line,
      );
    }
    const values: Record<string, string> = {};
    header.forEach((name, column) => {
      values[name] = record.fields[column]!;
    });
    return { row: index + 1, line: record.line, values };
  });
  return { header, rows };
}
