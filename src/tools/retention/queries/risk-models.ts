import { newId } from "../../../platform/lib/ids";
import { RISK_FACTORS, type RiskFactorName } from "../domain/risk-factor-names";
import type { ModelFeature, ModelMetrics, RiskModelSpec, StoredRiskModel } from "../domain/risk-model";

/** The stored churn-risk models (`risk_models`) and the workspaces the risk crons work on. */

/** A `risk_models` row as stored (JSON columns as text). */
interface ModelRow {
  id: string;
  version: number;
  kind: "logistic" | "prior";
  calibrated: number;
  horizon_days: number;
  features: string;
  coefficients: string;
  intercept: number;
  metrics: string;
  trained_at: string;
  trained_by: string | null;
}

function parseModel(row: ModelRow): StoredRiskModel {
  const coefficients = JSON.parse(row.coefficients) as Partial<Record<RiskFactorName, number>>;
  return {
    id: row.id,
    version: row.version,
    kind: row.kind,
    calibrated: Boolean(row.calibrated),
    horizon_days: row.horizon_days,
    features: JSON.parse(row.features) as ModelFeature[],
    coefficients: Object.fromEntries(RISK_FACTORS.map((f) => [f, coefficients[f] ?? 0])) as Record<
      RiskFactorName,
      number
    >,
    intercept: row.intercept,
    metrics: JSON.parse(row.metrics) as ModelMetrics,
    trained_at: row.trained_at,
    trained_by: row.trained_by,
  };
}

/** The workspace's latest stored model (highest version), or null before the first. */
export async function findLatestRiskModel(db: D1Database, workspaceId: string): Promise<StoredRiskModel | null> {
  const row = await db
    .prepare("SELECT * FROM risk_models WHERE workspace_id = ?1 ORDER BY version DESC LIMIT 1")
    .bind(workspaceId)
    .first<ModelRow>();
  return row ? parseModel(row) : null;
}

/**
 * Stores a model as the next version (latest + 1); with `onlyIfNone`, only when the workspace has
 * none yet. Returns false when nothing was stored (a model exists, or a concurrent training took
 * the version number).
 */
export async function insertNextRiskModel(
  db: D1Database,
  workspaceId: string,
  model: { spec: RiskModelSpec; trainedAt: string; trainedBy: string | null; onlyIfNone: boolean },
): Promise<boolean> {
  const { spec } = model;
  const inserted = await db
    .prepare(
      `INSERT INTO risk_models (id, workspace_id, version, kind, calibrated, horizon_days, features, coefficients,
                              intercept, metrics, trained_at, trained_by)
     SELECT ?2, ?1, latest + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11
       FROM (SELECT coalesce(max(version), 0) AS latest FROM risk_models WHERE workspace_id = ?1)
      WHERE ?12 = 0 OR latest = 0
     ON CONFLICT (workspace_id, version) DO NOTHING RETURNING version`,
    )
    .bind(
      workspaceId,
      newId("rsm"),
      spec.kind,
      spec.calibrated ? 1 : 0,
      spec.horizon_days,
      JSON.stringify(spec.features),
      JSON.stringify(spec.coefficients),
      spec.intercept,
      JSON.stringify(spec.metrics),
      model.trainedAt,
      model.trainedBy,
      model.onlyIfNone ? 1 : 0,
    )
    .first<{ version: number }>();
  return inserted !== null;
}

/** Whether the workspace has a model trained by this trainer (e.g. one weekly cron fire). */
export async function hasModelTrainedBy(db: D1Database, workspaceId: string, trainedBy: string): Promise<boolean> {
  const done = await db
    .prepare("SELECT 1 AS done FROM risk_models WHERE workspace_id = ?1 AND trained_by = ?2")
    .bind(workspaceId, trainedBy)
    .first();
  return Boolean(done);
}

/** Ids of every workspace that has accounts (any status), in id order. */
export async function workspacesWithAccounts(db: D1Database): Promise<string[]> {
  const workspaces = await db
    .prepare(
      "SELECT w.id FROM workspaces w WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.workspace_id = w.id) ORDER BY w.id",
    )
    .all<{ id: string }>();
  return workspaces.results.map((w) => w.id);
}

/** Ids of the workspaces with active accounts and no stored risk model yet, in id order. */
export async function workspacesWithoutRiskModel(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT w.id FROM workspaces w
        WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.workspace_id = w.id AND a.status = 'active')
          AND NOT EXISTS (SELECT 1 FROM risk_models r WHERE r.workspace_id = w.id)
        ORDER BY w.id`,
    )
    .all<{ id: string }>();
  return results.map((w) => w.id);
}
