import { clock } from "../lib/clock";
import type { AuthProps, Principal, Role } from "./principal";
import { roleAtLeast } from "./principal";

interface PrincipalRow {
  slug: string;
  user_role: Role | null;
  user_disabled: string | null;
  key_role: Role | null;
  key_revoked: string | null;
  key_expires: string | null;
}

/**
 * Re-reads the caller from D1 for this request: the workspace must exist, the user must be
 * active, and a key must be neither revoked nor expired. The role is the user's current role,
 * capped by the key's own role. Returns null when the credential no longer stands.
 */
export async function loadPrincipal(
  env: Pick<Env, "DB">,
  props: AuthProps,
  now = clock.now(),
): Promise<Principal | null> {
  const row = await env.DB.prepare(
    `SELECT w.slug AS slug, u.role AS user_role, u.disabled_at AS user_disabled,
            k.role AS key_role, k.revoked_at AS key_revoked, k.expires_at AS key_expires
       FROM workspaces w
       LEFT JOIN users u ON u.id = ?2 AND u.workspace_id = w.id
       LEFT JOIN api_keys k ON k.id = ?3 AND k.workspace_id = w.id
      WHERE w.id = ?1`,
  )
    .bind(props.workspaceId, props.userId, props.keyId)
    .first<PrincipalRow>();
  if (!row) return null;
  if (props.userId && (!row.user_role || row.user_disabled)) return null;
  if (props.keyId && (!row.key_role || row.key_revoked || (row.key_expires && row.key_expires <= now.toISOString()))) {
    return null;
  }
  const role = effectiveRole(row.user_role, row.key_role);
  if (!role) return null;
  return { ...props, role, workspaceSlug: row.slug };
}

function effectiveRole(userRole: Role | null, keyRole: Role | null): Role | null {
  if (userRole && keyRole) return roleAtLeast(userRole, keyRole) ? keyRole : userRole;
  return userRole ?? keyRole;
}
