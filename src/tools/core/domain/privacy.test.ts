import { describe, expect, it } from "vitest";
import { exportTables, mentionName } from "./privacy";

describe("mentionName", () => {
  it("searches free text for a full name of five characters or more, never for a placeholder", () => {
    expect(mentionName({ name: " Ana Lima ", email: "ana@x.io", external_id: "c-1" })).toBe("Ana Lima");
    expect(mentionName({ name: "Bo", email: null, external_id: null })).toBe("");
    expect(mentionName({ name: "ANA@X.IO", email: "ana@x.io", external_id: null })).toBe("");
    expect(mentionName({ name: "hub-12345", email: null, external_id: "HUB-12345" })).toBe("");
  });
});

describe("exportTables", () => {
  const spec = {
    order: ["contacts", "tickets", "activities"],
    limit: 2,
    customerText: new Map([["tickets", ["subject", "body"]]]),
    cursorOf: (table: string, key: number | string) => `${table}@${key}`,
  };

  it("groups rows by table in order, pages each by its key and sets customer text apart", () => {
    const tables = exportTables(
      [
        { source: "tickets", total: 3, rid: null, record: null },
        { source: "tickets", total: null, rid: 9, record: '{"id":"t9","subject":"S9","body":"B9","status":"open"}' },
        { source: "tickets", total: null, rid: 2, record: '{"id":"t2","subject":"S2","body":"B2","status":"solved"}' },
        { source: "tickets", total: null, rid: 5, record: '{"id":"t5","subject":"S5","body":"B5","status":"open"}' },
        { source: "contacts", total: 1, rid: null, record: null },
        { source: "contacts", total: null, rid: "con_1", record: '{"id":"con_1","name":"Ana"}' },
      ],
      spec,
    );
    expect(tables.map((t) => t.table)).toEqual(["contacts", "tickets"]);
    expect(tables[0]).toEqual({
      table: "contacts",
      total: 1,
      returned: 1,
      rows: [{ id: "con_1", name: "Ana" }],
      next_cursor: null,
    });
    expect(tables[1]).toEqual({
      table: "tickets",
      total: 3,
      returned: 2,
      rows: [
        { id: "t2", status: "solved", customer_text: { subject: "S2", body: "B2" } },
        { id: "t5", status: "open", customer_text: { subject: "S5", body: "B5" } },
      ],
      next_cursor: "tickets@5",
    });
  });

  it("orders numeric keys before text keys, as SQLite does", () => {
    const [table] = exportTables(
      [
        { source: "activities", total: 3, rid: null, record: null },
        { source: "activities", total: null, rid: "b", record: '{"id":"b"}' },
        { source: "activities", total: null, rid: 10, record: '{"id":"10"}' },
        { source: "activities", total: null, rid: "a", record: '{"id":"a"}' },
      ],
      { ...spec, limit: 5 },
    );
    expect(table?.rows.map((row) => row.id)).toEqual(["10", "a", "b"]);
  });
});
