import { eq } from "drizzle-orm";
import type { Db } from "../../../platform/db/client";
import { clock } from "../../../platform/lib/clock";
import { workspaces } from "../../../schema";

/** The workspace's identity and stored settings document. */
export interface WorkspaceRow {
  id: string;
  slug: string;
  name: string;
  settings: string;
  settings_version: number;
}

/** Record counts of the workspace, and the ARR of its active accounts (null without any). */
export interface WorkspaceCountsRow {
  accounts: number;
  active_accounts: number;
  churned_accounts: number;
  total_arr: number | null;
  contacts: number;
  active_contracts: number;
  open_tickets: number;
  tickets: number;
  survey_responses: number;
  feedback_items: number;
  users: number;
  open_tasks: number;
}

/** The latest day or time stored per data source; null for a source with no rows. */
export interface WorkspaceFreshnessRow {
  last_usage_day: string | null;
  last_ticket_at: string | null;
  last_survey_at: string | null;
  last_feedback_at: string | null;
  last_activity_at: string | null;
  last_webhook_at: string | null;
  last_health_day: string | null;
}

/** One integration with its delivery counters. */
export interface IntegrationCountsRow {
  id: string;
  provider: string;
  name: string;
  status: string;
  last_received_at: string | null;
  accepted_count: number;
  rejected_count: number;
  failed_count: number;
}

/** The latest run of one cron trigger (deployment-wide). */
export interface JobRunRow {
  cron: string;
  scheduled_time: string;
  status: string;
  finished_at: string | null;
  detail: string | null;
}

/** Everything the workspace overview shows, as stored. */
export interface WorkspaceOverviewRows {
  /** Null only when the workspace row is missing. */
  workspace: WorkspaceRow | null;
  counts: WorkspaceCountsRow;
  freshness: WorkspaceFreshnessRow;
  integrations: IntegrationCountsRow[];
  jobRuns: JobRunRow[];
}

/**
 * The workspace overview in one round trip: the workspace row, its record counts and active ARR,
 * the latest time per source, its integrations (by provider, name) and the latest run of each
 * cron trigger (all workspaces).
 */
export async function readWorkspaceOverview(db: D1Database, workspaceId: string): Promise<WorkspaceOverviewRows> {
  const ws = workspaceId;
  const [workspaceResult, countsResult, freshnessResult, integrationsResult, runsResult] = await db.batch([
    db.prepare("SELECT id, slug, name, settings, settings_version FROM workspaces WHERE id = ?1").bind(ws),
    db
      .prepare(
        `SELECT
          a.accounts, a.active_accounts, a.churned_accounts, a.total_arr,
          (SELECT count(*) FROM contacts WHERE workspace_id = ?1) AS contacts,
          (SELECT count(*) FROM contracts WHERE workspace_id = ?1 AND status = 'active') AS active_contracts,
          (SELECT count(*) FROM tickets WHERE workspace_id = ?1) AS tickets,
          (SELECT count(*) FROM tickets WHERE workspace_id = ?1 AND status IN ('new','open','pending')) AS open_tickets,
          (SELECT count(*) FROM survey_responses WHERE workspace_id = ?1) AS survey_responses,
          (SELECT count(*) FROM feedback_items WHERE workspace_id = ?1) AS feedback_items,
          (SELECT count(*) FROM users WHERE workspace_id = ?1 AND disabled_at IS NULL) AS users,
          (SELECT count(*) FROM tasks WHERE workspace_id = ?1 AND status = 'open') AS open_tasks
         FROM (SELECT count(*) AS accounts, coalesce(sum(status = 'active'), 0) AS active_accounts,
                      coalesce(sum(status = 'churned'), 0) AS churned_accounts,
                      sum(CASE WHEN status = 'active' THEN arr END) AS total_arr
                 FROM accounts WHERE workspace_id = ?1) a`,
      )
      .bind(ws),
    // Each latest time is one seek at the end of a (workspace, time) index.
    db
      .prepare(
        `SELECT
          (SELECT max(day) FROM usage_daily WHERE workspace_id = ?1) AS last_usage_day,
          (SELECT max(created_at) FROM tickets WHERE workspace_id = ?1) AS last_ticket_at,
          (SELECT max(responded_at) FROM survey_responses WHERE workspace_id = ?1) AS last_survey_at,
          (SELECT max(created_at) FROM feedback_items WHERE workspace_id = ?1) AS last_feedback_at,
          (SELECT max(occurred_at) FROM activities WHERE workspace_id = ?1) AS last_activity_at,
          (SELECT max(received_at) FROM webhook_receipts WHERE workspace_id = ?1) AS last_webhook_at,
          (SELECT max(day) FROM health_scores WHERE workspace_id = ?1) AS last_health_day`,
      )
      .bind(ws),
    db
      .prepare(
        `SELECT id, provider, name, status, last_received_at, accepted_count, rejected_count, failed_count
           FROM integrations WHERE workspace_id = ?1 ORDER BY provider, name`,
      )
      .bind(ws),
    // Scheduled jobs are deployment-wide; the latest run of each cron expression.
    db.prepare(
      `SELECT r.cron, r.scheduled_time, r.status, r.finished_at, r.detail
           FROM (SELECT cron, max(scheduled_time) AS latest FROM job_runs GROUP BY cron) m
           JOIN job_runs r ON r.cron = m.cron AND r.scheduled_time = m.latest
          ORDER BY r.cron`,
    ),
  ]);
  return {
    workspace: (workspaceResult!.results[0] as WorkspaceRow | undefined) ?? null,
    counts: countsResult!.results[0] as WorkspaceCountsRow,
    freshness: freshnessResult!.results[0] as WorkspaceFreshnessRow,
    integrations: integrationsResult!.results as IntegrationCountsRow[],
    jobRuns: runsResult!.results as JobRunRow[],
  };
}

/** The workspace's stored settings document and its version number; null when the row is missing. */
export async function findWorkspaceSettings(
  db: Db,
  workspaceId: string,
): Promise<{ settings: unknown; version: number } | null> {
  const [workspace] = await db
    .select({ settings: workspaces.settings, version: workspaces.settingsVersion })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return workspace ?? null;
}

/** The stored settings document (JSON text) of one past version, or null when it is not recorded. */
export async function findSettingsVersion(
  db: D1Database,
  workspaceId: string,
  version: number,
): Promise<string | null> {
  const past = await db
    .prepare("SELECT settings FROM workspace_settings_versions WHERE workspace_id = ?1 AND version = ?2")
    .bind(workspaceId, version)
    .first<{ settings: string }>();
  return past?.settings ?? null;
}

/** One recorded settings version: the document saved and who saved it when. */
export interface SettingsVersionRow {
  version: number;
  settings: string;
  changed_by: string | null;
  created_at: string;
}

/** Up to `limit` recorded settings versions below `before`, newest first. */
export async function listSettingsVersions(
  db: D1Database,
  workspaceId: string,
  page: { before: number; limit: number },
): Promise<SettingsVersionRow[]> {
  const { results } = await db
    .prepare(
      `SELECT version, settings, changed_by, created_at FROM workspace_settings_versions
      WHERE workspace_id = ?1 AND version < ?2 ORDER BY version DESC LIMIT ?3`,
    )
    .bind(workspaceId, page.before, page.limit)
    .all<SettingsVersionRow>();
  return results;
}

/**
 * The two statements that save a settings document as version `currentVersion + 1`, to run in one
 * batch: the version row, then the workspace row. Both apply only while the version is still
 * `currentVersion` (the update then changes one row); the version row's primary key also refuses a
 * concurrent writer that got there first (a UNIQUE constraint error).
 */
export function saveSettingsStatements(
  db: D1Database,
  workspaceId: string,
  save: { document: string; changedBy: string | null; currentVersion: number },
): [D1PreparedStatement, D1PreparedStatement] {
  const newVersion = save.currentVersion + 1;
  return [
    db
      .prepare(
        `INSERT INTO workspace_settings_versions (workspace_id, version, settings, changed_by, created_at)
         SELECT ?1, ?2, ?3, ?4, ?6 WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = ?1 AND settings_version = ?5)`,
      )
      .bind(workspaceId, newVersion, save.document, save.changedBy, save.currentVersion, clock.now().toISOString()),
    db
      .prepare("UPDATE workspaces SET settings = ?2, settings_version = ?3 WHERE id = ?1 AND settings_version = ?4")
      .bind(workspaceId, save.document, newVersion, save.currentVersion),
  ];
}
