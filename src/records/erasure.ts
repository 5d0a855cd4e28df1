/**
 * Erased contacts, as every writer sees them: the hashes a tombstone (`erased_contacts`) keeps of
 * the email and the external id a person was known by, and the erasure of their usage from the
 * AccountAgent storage of each account, done by `manage_privacy` at once and finished by the daily
 * cron for erasures that could not reach the agents then (the admin command, a failed call).
 */
import { accountAgentStub } from "../agents/account-agent-stub";
import { sha256Hex } from "../platform/lib/crypto";
import type { CronJob } from "../platform/queue/cron";

/** What a tombstone hash is of. */
export type ErasureKind = "email" | "external_id";

/** Tombstones finished per cron run: each costs a call to each of its accounts' agents. */
const PENDING_PER_RUN = 50;

/** A value in the form it is hashed: an email trimmed and lower-cased (as stored), an external id trimmed. */
export function erasureValue(kind: ErasureKind, value: string): string {
  const trimmed = value.trim();
  return kind === "email" ? trimmed.toLowerCase() : trimmed;
}

/**
 * The hash a tombstone keeps of one value: SHA-256 of the workspace, the kind and the value, so
 * equal emails hash apart in two workspaces and an external id never matches an email.
 */
export function erasureHash(workspaceId: string, kind: ErasureKind, value: string): Promise<string> {
  return sha256Hex(`${workspaceId}\u0000${kind}\u0000${erasureValue(kind, value)}`);
}

/** The hashes a reference of unknown kind (a provider's user id, which may be an email) could match. */
export function referenceHashes(workspaceId: string, reference: string): Promise<string[]> {
  return Promise.all([
    erasureHash(workspaceId, "external_id", reference),
    erasureHash(workspaceId, "email", reference),
  ]);
}

/** A tombstone's hashes (null for a value the person did not have). */
export async function tombstoneHashes(
  workspaceId: string,
  person: { email: string | null; externalId: string | null },
): Promise<{ emailHash: string | null; externalIdHash: string | null }> {
  const [emailHash, externalIdHash] = await Promise.all([
    person.email ? erasureHash(workspaceId, "email", person.email) : null,
    person.externalId ? erasureHash(workspaceId, "external_id", person.externalId) : null,
  ]);
  return { emailHash, externalIdHash };
}

/**
 * Erases a person from the AccountAgent storage of each account (their user references become a
 * pseudonym, so the agents' distinct-user counts stay as they were). Returns the accounts whose
 * agent could not be reached, which stay pending.
 */
export async function eraseFromAgents(
  env: Env,
  workspaceId: string,
  accountIds: readonly string[],
  hashes: readonly string[],
): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    accountIds.map(async (accountId) => {
      try {
        const agent = await accountAgentStub(env, `${workspaceId}:${accountId}`);
        await agent.eraseUsers([...hashes]);
      } catch (error) {
        console.error(JSON.stringify({ erasure: "agent", workspaceId, accountId, error: String(error) }));
        failed.push(accountId);
      }
    }),
  );
  return failed.sort();
}

/** Sets the accounts whose agents still have to be erased for a tombstone (`[]` when none). */
export async function setPendingAgents(
  db: D1Database,
  workspaceId: string,
  tombstoneId: string,
  accountIds: readonly string[],
): Promise<void> {
  await db
    .prepare("UPDATE erased_contacts SET pending_agents = ?3 WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, tombstoneId, JSON.stringify(accountIds))
    .run();
}

interface PendingTombstone {
  id: string;
  workspace_id: string;
  email_hash: string | null;
  external_id_hash: string | null;
  pending_agents: string;
}

/**
 * Finishes erasures whose agent storage was not erased yet: the admin command's (it reaches D1
 * only) and any whose agent call failed. Oldest first, {@link PENDING_PER_RUN} a run.
 */
export const finishAgentErasures: CronJob = {
  name: "finish_agent_erasures",
  async run(env) {
    // erased_contacts holds one row per erasure ever made: small, so no index serves this filter.
    const { results } = await env.DB.prepare(
      `SELECT id, workspace_id, email_hash, external_id_hash, pending_agents FROM erased_contacts
        WHERE pending_agents <> '[]' ORDER BY erased_at, id LIMIT ?1`,
    )
      .bind(PENDING_PER_RUN)
      .all<PendingTombstone>();
    let agents = 0;
    let failed = 0;
    for (const row of results) {
      const accounts = JSON.parse(row.pending_agents) as string[];
      const hashes = [row.email_hash, row.external_id_hash].filter((hash): hash is string => hash !== null);
      const left = await eraseFromAgents(env, row.workspace_id, accounts, hashes);
      await setPendingAgents(env.DB, row.workspace_id, row.id, left);
      agents += accounts.length - left.length;
      failed += left.length;
    }
    return { tombstones: results.length, agents_erased: agents, agents_failed: failed };
  },
};
