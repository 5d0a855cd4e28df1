import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { canonicalJson, issueConfirmation, verifyConfirmation } from "../../src/platform/mcp/confirmation";

const scope = { workspaceId: "ws_a", callerId: "usr_1", tool: "monitor_satisfaction" };
const payload = { survey_id: "srv_1", contacts: ["con_1", "con_2"] };
const now = new Date("2026-03-01T10:00:00Z");

describe("confirmation tokens", () => {
  it("canonical JSON ignores key order and undefined fields", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}',
    );
  });

  it("accepts the token for the same payload in another key order, within ten minutes", async () => {
    const { token, expires_at } = await issueConfirmation(env, scope, payload, now);
    expect(expires_at).toBe("2026-03-01T10:10:00.000Z");
    await expect(
      verifyConfirmation(
        env,
        scope,
        { contacts: ["con_1", "con_2"], survey_id: "srv_1" },
        token,
        new Date(now.getTime() + 599_000),
      ),
    ).resolves.toBeUndefined();
  });

  it("refuses another payload, another caller, another tool, an expired or a tampered token", async () => {
    const { token } = await issueConfirmation(env, scope, payload, now);
    const other = { ...payload, contacts: ["con_1", "con_3"] };
    await expect(verifyConfirmation(env, scope, other, token, now)).rejects.toThrow(/different request/);
    await expect(verifyConfirmation(env, { ...scope, callerId: "usr_2" }, payload, token, now)).rejects.toThrow(
      /different request/,
    );
    await expect(verifyConfirmation(env, { ...scope, tool: "x" }, payload, token, now)).rejects.toThrow(/different/);
    await expect(verifyConfirmation(env, scope, payload, token, new Date(now.getTime() + 601_000))).rejects.toThrow(
      /expired/,
    );
    const tampered = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    await expect(verifyConfirmation(env, scope, payload, tampered, now)).rejects.toThrow(/different request/);
    await expect(verifyConfirmation(env, scope, payload, "nope", now)).rejects.toThrow(/malformed/);
  });
});
