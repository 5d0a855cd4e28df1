import { describe, expect, it } from "vitest";
import { CsvError, parseCsvRecords, parseCsvTable } from "./csv";
import { checkCsvHeader, recordsFromCsv, validateRecords } from "./import-rows";
import { parseDay, parseInstant } from "./import-values";

function csvError(run: () => unknown): CsvError {
  try {
    run();
  } catch (error) {
    if (error instanceof CsvError) return error;
    throw error;
  }
  throw new Error("expected a CsvError");
}

describe("parseCsvRecords", () => {
  it("reads plain fields with LF and CRLF line ends", () => {
    expect(parseCsvRecords("a,b\n1,2\r\n3,4")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", "2"] },
      { line: 3, fields: ["3", "4"] },
    ]);
  });

  it("keeps commas, escaped quotes and line breaks inside quoted fields", () => {
    const text = 'id,note\r\n1,"Smith, John"\r\n2,"She said ""hi"""\r\n3,"line one\r\nline two"\r\n4,""\r\n';
    expect(parseCsvRecords(text)).toEqual([
      { line: 1, fields: ["id", "note"] },
      { line: 2, fields: ["1", "Smith, John"] },
      { line: 3, fields: ["2", 'She said "hi"'] },
      { line: 4, fields: ["3", "line one\r\nline two"] },
      { line: 6, fields: ["4", ""] },
    ]);
  });

  it("ignores a byte-order mark and blank lines, and keeps empty fields", () => {
    expect(parseCsvRecords("\uFEFFa,b,c\n\n,,\n\n")).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 3, fields: ["", "", ""] },
    ]);
  });

  it("accepts a lone CR as a line end", () => {
    expect(parseCsvRecords("a\r1\r2")).toEqual([
      { line: 1, fields: ["a"] },
      { line: 2, fields: ["1"] },
      { line: 3, fields: ["2"] },
    ]);
  });

  it("keeps spaces around unquoted values", () => {
    expect(parseCsvRecords(" a , b ")).toEqual([{ line: 1, fields: [" a ", " b "] }]);
  });

  it("refuses an unterminated quoted field, naming the line it opened on", () => {
    const error = csvError(() => parseCsvRecords('a,b\n1,"open\n2,3\n'));
    expect(error.line).toBe(2);
    expect(error.message).toBe("Unterminated quoted field starting on line 2: add the closing double quote.");
  });

  it("refuses text after a closing quote and a quote inside an unquoted field", () => {
    expect(csvError(() => parseCsvRecords('a\n"x"y\n')).line).toBe(2);
    const inside = csvError(() => parseCsvRecords('a\n5" screen\n'));
    expect(inside.line).toBe(2);
    expect(inside.message).toContain("Double quote inside an unquoted field on line 2");
  });
});

describe("parseCsvTable", () => {
  it("maps rows to lower-cased, trimmed header names with row and line numbers", () => {
    expect(parseCsvTable(' External_ID ,Name\nacc-1,"Acme, Inc."\n"acc-2","Beta\nLabs"\n')).toEqual({
      header: ["external_id", "name"],
      rows: [
        { row: 1, line: 2, values: { external_id: "acc-1", name: "Acme, Inc." } },
        { row: 2, line: 3, values: { external_id: "acc-2", name: "Beta\nLabs" } },
      ],
    });
  });

  it("refuses a row whose field count differs from the header", () => {
    const error = csvError(() => parseCsvTable("a,b\n1,2\n3,4,5\n"));
    expect(error.line).toBe(3);
    expect(error.message).toBe(
      "Row 2 (line 3) has 3 fields but the header has 2: wrap values that contain commas in double quotes.",
    );
  });

  it("refuses empty text, empty and repeated header names", () => {
    expect(csvError(() => parseCsvTable("")).message).toBe(
      "The CSV is empty: the first line must be a header row naming the columns.",
    );
    expect(csvError(() => parseCsvTable("a,,c\n")).message).toBe("Header column 2 on line 1 has no name.");
    expect(csvError(() => parseCsvTable("a,A\n")).message).toBe('Header column "a" appears twice on line 1.');
  });
});

describe("dates", () => {
  it("reads days and zoned instants, refusing impossible dates and zoneless times", () => {
    expect(parseInstant("2026-02-28")).toBe("2026-02-28T00:00:00.000Z");
    expect(parseInstant("2026-03-01T09:30:00+02:00")).toBe("2026-03-01T07:30:00.000Z");
    expect(parseInstant("2026-03-01T09:30Z")).toBe("2026-03-01T09:30:00.000Z");
    expect(parseInstant("2026-02-30")).toBeNull();
    expect(parseInstant("2026-03-01T09:30:00")).toBeNull();
    expect(parseDay("2026-03-01T23:30:00-02:00")).toBe("2026-03-02");
    expect(parseDay("03/01/2026")).toBeNull();
  });
});

describe("import rows", () => {
  it("checks a CSV header against the entity's fields", () => {
    expect(checkCsvHeader("products", ["external_id", "name", "price"])).toBeNull();
    expect(checkCsvHeader("products", ["p-1", "widget"])).toBe(
      'The CSV header row (line 1) for products has unknown column(s) "p-1", "widget" and missing required column(s) external_id, name. The first line must name the columns; valid columns: external_id, name, family, kind, price.',
    );
  });

  it("coerces CSV text and reports each bad field of a row separately", () => {
    const { valid, errors } = validateRecords("contacts", [
      { row: 1, fields: { external_id: " c-1 ", name: "Ana", is_champion: "yes", email: "Ana@Example.COM " } },
      { row: 2, fields: { external_id: "c-2", name: "", is_champion: "maybe", role: "boss", colour: "red" } },
    ]);
    expect(valid).toHaveLength(1);
    expect(valid[0]!.value).toEqual({ external_id: "c-1", name: "Ana", is_champion: true, email: "ana@example.com" });
    expect(errors).toEqual([
      { row: 2, field: "name", message: "required" },
      {
        row: 2,
        field: "role",
        message: "must be one of: champion, decision_maker, economic_buyer, admin, user, executive_sponsor",
      },
      { row: 2, field: "is_champion", message: "must be true or false (or yes/no, 1/0)" },
      { row: 2, field: "colour", message: "is not a field of this entity" },
    ]);
  });

  it("keeps customer-written text verbatim and checks survey scores per kind", () => {
    const { valid, errors } = validateRecords("survey_responses", [
      {
        row: 1,
        fields: {
          external_id: "s-1",
          kind: "NPS",
          score: "9",
          comment: "  Great,\n thanks ",
          responded_at: "2026-01-05",
        },
      },
      { row: 2, fields: { external_id: "s-2", kind: "csat", score: 9, responded_at: "2026-01-05" } },
      { row: 3, fields: { external_id: "s-1", kind: "ces", score: 2, responded_at: "2026-01-06" } },
    ]);
    expect(valid.map((record) => record.value)).toEqual([
      {
        external_id: "s-1",
        kind: "nps",
        score: 9,
        comment: "  Great,\n thanks ",
        responded_at: "2026-01-05T00:00:00.000Z",
      },
    ]);
    expect(errors).toEqual([
      { row: 2, field: "score", message: "must be 1–5 for csat" },
      { row: 3, field: "external_id", message: "repeats the record of row 1 in this import; send each record once" },
    ]);
  });

  it("groups CSV contract lines into contracts with items, pointing item errors at their own line", () => {
    const table = parseCsvTable(
      [
        "external_id,account_external_id,start_date,end_date,product_external_id,seats,arr",
        "ctr-1,acc-1,2026-01-01,2026-12-31,prd-a,10,1000",
        "ctr-1,acc-1,2026-01-01,2026-12-31,prd-b,x,500",
        "ctr-2,acc-2,2026-02-01,2027-01-31,prd-a,5,700",
        "ctr-2,acc-9,2026-02-01,2027-01-31,prd-b,5,300",
      ].join("\n"),
    );
    const { records, errors, rejected } = recordsFromCsv("contracts", table);
    expect(rejected).toBe(1);
    expect(errors).toEqual([
      {
        row: 4,
        field: "account_external_id",
        message: "differs from row 3 of the same contract; repeat the contract columns unchanged on every item line",
      },
    ]);
    expect(records).toEqual([
      {
        row: 1,
        fields: {
          external_id: "ctr-1",
          account_external_id: "acc-1",
          start_date: "2026-01-01",
          end_date: "2026-12-31",
          items: [
            { product_external_id: "prd-a", seats: "10", arr: "1000" },
            { product_external_id: "prd-b", seats: "x", arr: "500" },
          ],
        },
        itemRows: [1, 2],
      },
    ]);
    expect(validateRecords("contracts", records).errors).toEqual([
      { row: 2, field: "seats", message: "must be a whole number" },
    ]);
  });
});
