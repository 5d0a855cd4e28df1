import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { meteredD1, newMeter } from "../../src/platform/db/metered";
import { debugD1Mode } from "../../src/platform/mcp/handler";
import { D1_META_KEY } from "../../src/platform/mcp/server";
import { connectClient, createWorkspace } from "../helpers/mcp";

const WS = "ws_meter";

beforeAll(async () => {
  await createWorkspace("meter", "viewer");
  await env.DB.batch(
    ["a", "b", "c"].map((n) =>
      env.DB.prepare("INSERT INTO accounts (id, workspace_id, name) VALUES (?1, ?2, ?3)").bind(`acc_meter_${n}`, WS, n),
    ),
  );
});

describe("metered D1", () => {
  it("counts statements and rows read through all, first and batch, and records them when asked", async () => {
    const meter = newMeter(true);
    const db = meteredD1(env.DB, meter);
    const all = await db.prepare("SELECT id FROM accounts WHERE workspace_id = ?1 ORDER BY id").bind(WS).all();
    expect(all.results).toHaveLength(3);
    expect(await db.prepare("SELECT name FROM accounts WHERE id = ?1").bind("acc_meter_b").first("name")).toBe("b");
    await db.batch([db.prepare("SELECT count(*) FROM accounts WHERE workspace_id = ?1").bind(WS)]);
    expect(meter.statements).toBe(3);
    expect(meter.rows_read).toBeGreaterThanOrEqual(3 + 1 + 3);
    expect(meter.sql).toEqual([
      { sql: "SELECT id FROM accounts WHERE workspace_id = ?1 ORDER BY id", params: [WS] },
      { sql: "SELECT name FROM accounts WHERE id = ?1", params: ["acc_meter_b"] },
      { sql: "SELECT count(*) FROM accounts WHERE workspace_id = ?1", params: [WS] },
    ]);
  });

  it("returns a call's D1 cost in _meta only when the request asks for it", async () => {
    const { key } = await createWorkspace("meter2", "viewer");
    const plain = await connectClient(key);
    const without = await plain.callTool({ name: "list_accounts", arguments: {} });
    expect(without._meta?.[D1_META_KEY]).toBeUndefined();
    const debug = await connectClient(key, "", { "X-Debug-D1": "1" });
    const counted = await debug.callTool({ name: "list_accounts", arguments: {} });
    const meter = counted._meta?.[D1_META_KEY] as { statements: number; rows_read: number; sql?: unknown };
    expect(meter.statements).toBeGreaterThan(0);
    expect(meter.rows_read).toBeGreaterThan(0);
    expect(meter.sql).toBeUndefined();
    const withSql = await connectClient(key, "", { "X-Debug-D1": "sql" });
    const recorded = await withSql.callTool({ name: "list_accounts", arguments: {} });
    const statements = (recorded._meta?.[D1_META_KEY] as { sql: { sql: string }[] } | undefined)?.sql ?? [];
    expect(statements.some((s) => s.sql.includes("FROM accounts"))).toBe(true);
  });

  it("honours the header only where the deployment enables it", () => {
    const asking = (value: string | null) =>
      new Request("http://localhost/mcp", value === null ? {} : { headers: { "X-Debug-D1": value } });
    expect(debugD1Mode(asking("sql"), { DEBUG_D1: undefined })).toBe("off");
    expect(debugD1Mode(asking("1"), { DEBUG_D1: "0" })).toBe("off");
    expect(debugD1Mode(asking(null), { DEBUG_D1: "1" })).toBe("off");
    expect(debugD1Mode(asking("1"), { DEBUG_D1: "1" })).toBe("counts");
    expect(debugD1Mode(asking("sql"), { DEBUG_D1: "1" })).toBe("sql");
  });
});
