import { runCampaignsForChunk } from "../retention/campaign-runs";
import { scoreAndStoreRisk } from "../retention/risk-scoring";

/**
 * Work that runs for a chunk of accounts right after their health for `day` is stored, in the
 * same queue message: churn-risk scoring reads the new health, and retention-campaign triggers
 * read both. Each step is idempotent for the same day, so a redelivered chunk changes nothing.
 */
export async function afterHealthChunk(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  day: string,
): Promise<{ risk_ms: number; campaigns_ms: number }> {
  const started = performance.now();
  await scoreAndStoreRisk(env, workspaceId, accountIds, day);
  const scored = performance.now();
  await runCampaignsForChunk(env, workspaceId, accountIds, day);
  return { risk_ms: Math.round(scored - started), campaigns_ms: Math.round(performance.now() - scored) };
}
