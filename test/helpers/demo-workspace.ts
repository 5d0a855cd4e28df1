import { env } from "cloudflare:workers";
import { demoIdsOf } from "../../scripts/seed/demo-ids";
import { collectWorkspace, type GenerateOptions, generateWorkspace } from "../../scripts/seed/generate";
import type { SeedData } from "../../scripts/seed/rows";
import { insertStatements } from "../../scripts/seed/sql";
import { sealSecrets } from "../../src/integrations/secrets";
import { generateApiKey } from "../../src/platform/auth/api-keys";
import { clock } from "../../src/platform/lib/clock";
import { sha256Hex } from "../../src/platform/lib/crypto";
import { addDays, isoDay } from "../../src/platform/lib/time";
import type { DemoIds } from "../../src/platform/mcp/examples";
import { REFRESH_ACCOUNT_ROLLUPS_SQL } from "../../src/records/rollups";
import { afterHealthChunk } from "../../src/tools/health/after-health";
import { computeHealth, HEALTH_CHUNK_SIZE } from "../../src/tools/health/jobs";

/** A generated demo workspace in local D1, the ids its sample calls use, and an admin key. */
export interface DemoWorkspace {
  workspaceId: string;
  slug: string;
  ids: DemoIds;
  /** An API key of the demo's admin user. */
  adminKey: string;
  data: SeedData;
}

/**
 * Loads a generated demo workspace anchored on today (so every default window holds data), its
 * nightly health and risk scores of today, a week and a month back (so trends have history), and
 * rows the demo does not generate: raw events, audit rows, an integration, a dead letter and an
 * email.
 */
export async function loadDemoWorkspace(
  slug: string,
  options: Partial<Pick<GenerateOptions, "seed" | "accounts">> = {},
): Promise<DemoWorkspace> {
  const today = isoDay(clock.now());
  const workspaceId = `ws_${slug}`;
  const generate: GenerateOptions = {
    seed: options.seed ?? 11,
    accounts: options.accounts ?? 50,
    anchorDay: today,
    workspaceId,
    slug,
  };
  for (const statement of insertStatements(generateWorkspace(generate))) await env.DB.prepare(statement).run();
  await env.DB.prepare(REFRESH_ACCOUNT_ROLLUPS_SQL).bind(workspaceId, clock.now().toISOString()).run();
  const data = collectWorkspace(generate);

  const active = data.accounts.filter((a) => a.status === "active").map((a) => a.id);
  for (const day of [addDays(today, -30), addDays(today, -7), today]) {
    for (let i = 0; i < active.length; i += HEALTH_CHUNK_SIZE) {
      const chunk = active.slice(i, i + HEALTH_CHUNK_SIZE);
      await computeHealth(env, workspaceId, chunk, day);
      await afterHealthChunk(env, workspaceId, chunk, day);
    }
  }

  const ids = demoIdsOf(data);
  const contact = data.contacts.find((c) => c.id === ids.contactId);
  if (!contact) throw new Error("fixture has no contact");
  const events = Array.from({ length: 60 }, (_, i) =>
    env.DB.prepare(
      `INSERT INTO usage_events (id, workspace_id, account_id, contact_id, user_ref, event, feature, occurred_at, message_id)
       VALUES (?1, ?2, ?3, ?4, ?5, 'feature_used', ?6, ?7, ?8)`,
    ).bind(
      `uev_${slug}_${i}`,
      workspaceId,
      ids.accountId,
      contact.id,
      contact.email,
      ids.feature,
      `${addDays(today, -(i % 20) - 1)}T10:00:00Z`,
      `msg_${slug}_${i}`,
    ),
  );
  const audits = Array.from({ length: 10 }, (_, i) =>
    env.DB.prepare(
      `INSERT INTO audit_log (id, workspace_id, tool, action, target_type, target_id, details, request_id, created_at)
       VALUES (?1, ?2, 'manage_lifecycle_stages', 'move', 'account', ?3, '{}', ?4, ?5)`,
    ).bind(`aud_${slug}_${i}`, workspaceId, ids.accountId, `req_${slug}_${i}`, `${addDays(today, -i)}T09:00:00Z`),
  );
  const key = generateApiKey();
  const stamp = clock.now().toISOString();
  await env.DB.batch([
    ...events,
    ...audits,
    env.DB.prepare(
      "INSERT INTO integrations (id, workspace_id, provider, name, secret_ciphertext, created_at) VALUES (?1, ?2, 'segment', 'Product events', ?3, ?4)",
    ).bind(
      `int_${slug}`,
      workspaceId,
      await sealSecrets({ current: `whsec_${slug}`, previous: null }, env.ENCRYPTION_KEY),
      stamp,
    ),
    env.DB.prepare(
      "INSERT INTO dead_letters (id, workspace_id, queue, message_id, body, error, attempts, created_at, updated_at) VALUES (?1, ?2, 'cs-jobs', ?3, '{}', 'boom', 3, ?4, ?4)",
    ).bind(`dlq_${slug}`, workspaceId, `qmsg_${slug}`, stamp),
    env.DB.prepare(
      `INSERT INTO outbox_messages (id, workspace_id, idempotency_key, account_id, contact_id, to_email, subject, body_text, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'Check-in', 'Hello', ?7)`,
    ).bind(`eml_${slug}`, workspaceId, `${slug}-1`, ids.accountId, contact.id, contact.email, stamp),
    // The demo's own admin user, so every action is allowed.
    env.DB.prepare(
      "INSERT INTO api_keys (id, workspace_id, user_id, name, role, prefix, key_hash, created_at) VALUES (?1, ?2, ?3, 'samples', 'admin', ?4, ?5, ?6)",
    ).bind(`key_${slug}`, workspaceId, `usr_${slug}_admin`, key.slice(0, 8), await sha256Hex(key), stamp),
  ]);
  return {
    workspaceId,
    slug,
    ids: { ...ids, integrationId: `int_${slug}`, deadLetterId: `dlq_${slug}`, outboxMessageId: `eml_${slug}` },
    adminKey: key,
    data,
  };
}
