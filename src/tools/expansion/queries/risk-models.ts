/** A stored risk model as the renewal forecast states it. */
export interface RiskModelRow {
  id: string;
  version: number;
  kind: string;
  /** 1 when fitted on this workspace's renewal history. */
  calibrated: number;
  trained_at: string;
}

/** The workspace's stored risk models among `modelIds` (any order). */
export async function riskModelsByIds(
  db: D1Database,
  workspaceId: string,
  modelIds: readonly string[],
): Promise<RiskModelRow[]> {
  const used = await db
    .prepare(
      `SELECT id, version, kind, calibrated, trained_at FROM risk_models
          WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(workspaceId, JSON.stringify(modelIds))
    .all<RiskModelRow>();
  return used.results;
}

/** The version of the workspace's latest stored risk model and whether it is calibrated (1), or null without one. */
export async function latestRiskModelVersion(
  db: D1Database,
  workspaceId: string,
): Promise<{ version: number; calibrated: number } | null> {
  return db
    .prepare("SELECT version, calibrated FROM risk_models WHERE workspace_id = ?1 ORDER BY version DESC LIMIT 1")
    .bind(workspaceId)
    .first<{ version: number; calibrated: number }>();
}
