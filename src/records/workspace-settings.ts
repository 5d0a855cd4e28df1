import { readSettings, type WorkspaceSettings } from "./settings";

/** A workspace's settings document, completed with defaults (defaults alone for an unknown workspace). */
export async function loadWorkspaceSettings(env: Pick<Env, "DB">, workspaceId: string): Promise<WorkspaceSettings> {
  const row = await env.DB.prepare("SELECT settings FROM workspaces WHERE id = ?1")
    .bind(workspaceId)
    .first<{ settings: string | null }>();
  return readSettings(row?.settings ? JSON.parse(row.settings) : {});
}

/** The caller's workspace settings. */
export function workspaceSettings(ctx: {
  env: Pick<Env, "DB">;
  principal: { workspaceId: string };
}): Promise<WorkspaceSettings> {
  return loadWorkspaceSettings(ctx.env, ctx.principal.workspaceId);
}
