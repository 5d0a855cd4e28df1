import { describe, expect, it } from "vitest";
import { grantedScopes, missingScopes, scopesForCall, scopesNamed, scopesOfRole } from "./scopes";

describe("scopes", () => {
  it("gives each role the scopes it can hold", () => {
    expect(scopesOfRole("viewer")).toEqual(["read"]);
    expect(scopesOfRole("csm")).toEqual(["read", "write", "send"]);
    expect(scopesOfRole("admin")).toEqual(["read", "write", "send", "admin"]);
  });

  it("reads role names as their scopes, a lone admin as a grant made before scopes, and ignores unknown tokens", () => {
    expect(scopesNamed(["csm"])).toEqual(["read", "write", "send"]);
    expect(scopesNamed(["viewer", "offline_access"])).toEqual(["read"]);
    expect(scopesNamed(["admin"])).toEqual(["read", "write", "send", "admin"]);
    expect(scopesNamed(["read", "admin"])).toEqual(["read", "admin"]);
    expect(scopesNamed(["send", "read", "send"])).toEqual(["read", "send"]);
    expect(scopesNamed([])).toEqual([]);
  });

  it("grants the smaller of the consented scopes and the role", () => {
    expect(grantedScopes("viewer", ["read", "write", "admin"])).toEqual(["read"]);
    expect(grantedScopes("admin", ["read", "send"])).toEqual(["read", "send"]);
    expect(grantedScopes("csm", null)).toEqual(["read", "write", "send"]);
  });

  it("asks write for a write, send besides for a send, and admin for an admin call", () => {
    expect(scopesForCall({ writes: false, sends: false, role: "viewer" })).toEqual(["read"]);
    expect(scopesForCall({ writes: true, sends: true, role: "csm" })).toEqual(["write", "send"]);
    expect(scopesForCall({ writes: false, sends: false, role: "admin" })).toEqual(["read", "admin"]);
    expect(missingScopes(["read", "write"], ["write", "send"])).toEqual(["send"]);
  });
});
