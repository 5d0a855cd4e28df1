/** Workspace roles, weakest first. */
export const ROLES = ["viewer", "csm", "admin"] as const;
export type Role = (typeof ROLES)[number];

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
}

/** The verified caller of one MCP request, with the role re-read from D1 for this call. */
export interface Principal extends AuthProps {
  role: Role;
  workspaceSlug: string;
}
