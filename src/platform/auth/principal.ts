/** Workspace roles, weakest first. */
export const ROLES = ["viewer", "csm", "admin"] as const;
export type Role = (typeof ROLES)[number];

/**
 * OAuth scopes, each a kind of call: `read` (every read), `write` (records and settings),
 * `send` (emails and campaigns, which also write), `admin` (workspace settings, integrations,
 * keys, privacy and the audit log).
 */
export const SCOPES = ["read", "write", "send", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** True when `role` has at least the rights of `required`. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** What an access token or API key proves, as carried in the request's props. */
export interface AuthProps {
  workspaceId: string;
  userId: string | null;
  /** Set for personal API keys, so the key's own role and revocation are re-checked per call. */
  keyId: string | null;
  /**
   * The scope tokens an OAuth access token was granted (it may be narrower than its grant after
   * a refresh); absent for API keys, which hold every scope of their role.
   */
  scopes?: readonly string[];
}

/** The verified caller of one MCP request, with the role re-read from D1 for this call. */
export interface Principal extends Omit<AuthProps, "scopes"> {
  role: Role;
  /** What this credential may do now: its consented scopes within the role (see `grantedScopes`). */
  scopes: readonly Scope[];
  workspaceSlug: string;
}
