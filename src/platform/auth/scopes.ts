import { ROLES, type Role, roleAtLeast, SCOPES, type Scope } from "./principal";

/** What each scope lets an app do, as the consent page says it. */
export const SCOPE_ACCESS: Record<Scope, string> = {
  read: "read accounts, health, usage, support and reports",
  write: "record activities, tasks, surveys and other changes",
  send: "send emails and start campaigns (each after a confirmation step)",
  admin: "change workspace settings and integrations, export or erase personal data, and review the audit log",
};

/** The least role each scope needs: a token never grants more than the user's role. */
const SCOPE_ROLE: Record<Scope, Role> = { read: "viewer", write: "csm", send: "csm", admin: "admin" };

/** The scopes a role can hold. */
export function scopesOfRole(role: Role): Scope[] {
  return SCOPES.filter((scope) => roleAtLeast(role, SCOPE_ROLE[scope]));
}

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * The scopes a list of scope tokens names. Role names read as their role's scopes: apps asked
 * for a role before scopes existed, and grants made then name one (`["csm"]`, or `["admin"]`
 * with no `read`). Unknown tokens are ignored.
 */
export function scopesNamed(tokens: readonly string[]): Scope[] {
  const legacyAdmin = tokens.length === 1 && tokens[0] === "admin";
  const named = new Set<Scope>();
  for (const token of tokens) {
    if ((ROLES as readonly string[]).includes(token) && (token !== "admin" || legacyAdmin)) {
      for (const scope of scopesOfRole(token as Role)) named.add(scope);
    } else if (isScope(token)) named.add(token);
  }
  return SCOPES.filter((scope) => named.has(scope));
}

/** What a credential may do now: the consented scopes within the user's current role (all of them for an API key). */
export function grantedScopes(role: Role, consented: readonly Scope[] | null): Scope[] {
  const allowed = scopesOfRole(role);
  return consented === null ? allowed : allowed.filter((scope) => consented.includes(scope));
}

/** The scopes one call needs: `read` or `write`, `send` for a send, and `admin` for a call that needs the admin role. */
export function scopesForCall(call: { writes: boolean; sends: boolean; role: Role }): Scope[] {
  const needed: Scope[] = [call.writes ? "write" : "read"];
  if (call.sends) needed.push("send");
  if (call.role === "admin") needed.push("admin");
  return needed;
}

/** The scopes of `needed` that `granted` lacks. */
export function missingScopes(granted: readonly Scope[], needed: readonly Scope[]): Scope[] {
  return needed.filter((scope) => !granted.includes(scope));
}

/** Why a call outside the token's scopes is refused, and how to get them. */
export function scopeRefusal(tool: string, granted: readonly Scope[], missing: readonly Scope[]): string {
  return `${tool} needs the ${missing.join(" and ")} scope${missing.length > 1 ? "s" : ""}; this token was granted ${granted.join(", ") || "none"}. Sign in again from your app and allow ${missing.join(" and ")} (your role must permit it).`;
}
