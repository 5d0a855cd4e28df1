import { clock } from "../lib/clock";
import type { AuthProps, Principal, Role } from "./principal";
import { roleAtLeast } from "./principal";
import { findPrincipalRow } from "./queries";
import { grantedScopes, scopesNamed } from "./scopes";

/**
 * Re-reads the caller from D1 for this request: the workspace must exist, the user must be
 * active, and a key must be neither revoked nor expired. The role is the user's current role,
 * capped by the key's own role; the scopes are the token's consented ones within that role.
 * Returns null when the credential no longer stands.
 */
export async function loadPrincipal(
  env: Pick<Env, "DB">,
  props: AuthProps,
  now = clock.now(),
): Promise<Principal | null> {
  const row = await findPrincipalRow(env.DB, props);
  if (!row) return null;
  if (props.userId && (!row.user_role || row.user_disabled)) return null;
  if (props.keyId && (!row.key_role || row.key_revoked || (row.key_expires && row.key_expires <= now.toISOString()))) {
    return null;
  }
  const role = effectiveRole(row.user_role, row.key_role);
  if (!role) return null;
  const { scopes: consented, ...rest } = props;
  return {
    ...rest,
    role,
    scopes: grantedScopes(role, consented ? scopesNamed(consented) : null),
    workspaceSlug: row.slug,
  };
}

function effectiveRole(userRole: Role | null, keyRole: Role | null): Role | null {
  if (userRole && keyRole) return roleAtLeast(userRole, keyRole) ? keyRole : userRole;
  return userRole ?? keyRole;
}
