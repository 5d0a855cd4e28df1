import { jsonChunks } from "../../../platform/db/json-chunks";
import { clock } from "../../../platform/lib/clock";
import { type RuleSql, triggerFactsCte } from "./triggers";

/** The contact a retention email goes to. */
export interface RetentionRecipient {
  account_id: string;
  contact_id: string;
  name: string;
  email: string;
}

/**
 * For each account, the contact retention emails go to: a champion (else a decision maker) who
 * has not left, has an email address and never unsubscribed, bounced or reported spam; ties by id.
 */
export async function recipientsFor(
  db: D1Database,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<Map<string, RetentionRecipient>> {
  const recipients = new Map<string, RetentionRecipient>();
  for (const chunk of jsonChunks([...accountIds])) {
    const { results } = await db
      .prepare(
        `SELECT account_id, contact_id, name, email FROM (
         SELECT c.account_id, c.id AS contact_id, c.name, c.email,
                row_number() OVER (PARTITION BY c.account_id ORDER BY c.is_champion DESC, c.is_decision_maker DESC, c.id) AS rn
           FROM contacts c
          WHERE c.workspace_id = ?1 AND c.account_id IN (SELECT value FROM json_each(?2))
            AND (c.is_champion = 1 OR c.is_decision_maker = 1) AND c.left_at IS NULL
            AND c.unsubscribed = 0 AND c.bounced = 0 AND c.spam_reported = 0 AND coalesce(c.email, '') <> '')
        WHERE rn = 1`,
      )
      .bind(workspaceId, chunk)
      .all<RetentionRecipient>();
    for (const r of results) recipients.set(r.account_id, r);
  }
  return recipients;
}

/** SQL: 1 when the account `f.account_id` has a contact campaign emails can go to (see `recipientsFor`). */
const HAS_RECIPIENT = `EXISTS (SELECT 1 FROM contacts c WHERE c.workspace_id = ?1 AND c.account_id = f.account_id
    AND (c.is_champion = 1 OR c.is_decision_maker = 1) AND c.left_at IS NULL
    AND c.unsubscribed = 0 AND c.bounced = 0 AND c.spam_reported = 0 AND coalesce(c.email, '') <> '')`;

/** A retention campaign as stored; trigger and steps are JSON. */
export interface CampaignRow {
  id: string;
  name: string;
  status: "active" | "paused" | "archived";
  trigger: string;
  steps: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  last_evaluated_at: string | null;
}

/** One campaign of the workspace by id, or null. */
export async function findCampaign(
  db: D1Database,
  workspaceId: string,
  campaignId: string,
): Promise<CampaignRow | null> {
  return db
    .prepare(
      `SELECT id, name, status, trigger, steps, created_by, created_at, updated_at, last_evaluated_at
       FROM retention_campaigns WHERE workspace_id = ?1 AND id = ?2`,
    )
    .bind(workspaceId, campaignId)
    .first<CampaignRow>();
}

/** Stores a new paused campaign (trigger and steps as JSON), created and updated at `at`. */
export async function insertCampaign(
  db: D1Database,
  workspaceId: string,
  campaign: { id: string; name: string; trigger: string; steps: string; createdBy: string | null; at: string },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO retention_campaigns (id, workspace_id, name, status, trigger, steps, created_by, created_at, updated_at)
     VALUES (?1, ?2, ?3, 'paused', ?4, ?5, ?6, ?7, ?7)`,
    )
    .bind(campaign.id, workspaceId, campaign.name, campaign.trigger, campaign.steps, campaign.createdBy, campaign.at)
    .run();
}

/** Sets the given name, trigger and steps (JSON) of a campaign (null keeps one), pausing it when `pause`. */
export async function updateCampaignDefinition(
  db: D1Database,
  workspaceId: string,
  campaignId: string,
  change: { name: string | null; trigger: string | null; steps: string | null; pause: boolean; at: string },
): Promise<void> {
  await db
    .prepare(
      `UPDATE retention_campaigns SET name = coalesce(?3, name), trigger = coalesce(?4, trigger), steps = coalesce(?5, steps),
            status = CASE WHEN ?6 THEN 'paused' ELSE status END, updated_at = ?7
      WHERE workspace_id = ?1 AND id = ?2`,
    )
    .bind(workspaceId, campaignId, change.name, change.trigger, change.steps, change.pause ? 1 : 0, change.at)
    .run();
}

/** Up to `limit` campaigns, newest created first (created_at, id), after the position when given. */
export async function campaignPage(
  db: D1Database,
  workspaceId: string,
  page: { after: { createdAt: string | null; id: string }; limit: number },
): Promise<CampaignRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, name, status, trigger, steps, created_by, created_at, updated_at, last_evaluated_at
       FROM retention_campaigns WHERE workspace_id = ?1
        AND (?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id < ?3))
      ORDER BY created_at DESC, id DESC LIMIT ?4`,
    )
    .bind(workspaceId, page.after.createdAt, page.after.id, page.limit)
    .all<CampaignRow>();
  return results;
}

/** A campaign's enrollments: all, active and completed. */
export interface EnrollmentCounts {
  enrolled: number;
  active: number;
  completed: number;
}

/** How many accounts a campaign enrolled, and how many of those enrollments are active and completed. */
export async function enrollmentCounts(
  db: D1Database,
  workspaceId: string,
  campaignId: string,
): Promise<EnrollmentCounts | null> {
  return db
    .prepare(
      `SELECT count(*) AS enrolled, coalesce(sum(status = 'active'), 0) AS active, coalesce(sum(status = 'completed'), 0) AS completed
       FROM campaign_enrollments WHERE workspace_id = ?1 AND campaign_id = ?2`,
    )
    .bind(workspaceId, campaignId)
    .first<EnrollmentCounts>();
}

/** An active account that matches a campaign's trigger now and is not enrolled yet. */
export interface ActivationMatchRow {
  account_id: string;
  account_name: string;
  /** JSON of the first matching rule and the values it saw. */
  matched: string;
  /** All matching accounts, and those with an email recipient (the same on every row). */
  total: number;
  total_reachable: number;
}

/**
 * The first `limit` active accounts by id that match the rules on `day` (facts of
 * `triggerFactsCte`) and are not enrolled in the campaign, each with the counts of all matching
 * accounts and of those with a recipient. `rules` is `liveTriggerSql(trigger, 6)`.
 */
export async function activationMatches(
  db: D1Database,
  workspaceId: string,
  query: { campaignId: string; day: string; weekBefore: string; rules: RuleSql; limit: number },
): Promise<ActivationMatchRow[]> {
  const { rules } = query;
  const { results } = await db
    .prepare(
      `${triggerFactsCte(null)}
       SELECT f.account_id, f.account_name, ${rules.snapshot} AS matched, ${HAS_RECIPIENT} AS reachable,
              count(*) OVER () AS total, sum(${HAS_RECIPIENT}) OVER () AS total_reachable
         FROM f WHERE ${rules.condition}
          AND NOT EXISTS (SELECT 1 FROM campaign_enrollments e WHERE e.workspace_id = ?1 AND e.campaign_id = ?4
                            AND e.account_id = f.account_id)
        ORDER BY f.account_id LIMIT ?5`,
    )
    .bind(workspaceId, query.day, query.weekBefore, query.campaignId, query.limit, ...rules.params)
    .all<ActivationMatchRow>();
  return results;
}

/**
 * Activates a campaign that is not active and still has the trigger and steps (JSON) the
 * confirmation covered; returns the rows changed (0 when it changed meanwhile).
 */
export async function activateUnchangedCampaign(
  db: D1Database,
  workspaceId: string,
  campaign: { id: string; trigger: string; steps: string; at: string },
): Promise<number> {
  const activated = await db
    .prepare(
      `UPDATE retention_campaigns SET status = 'active', updated_at = ?3
      WHERE workspace_id = ?1 AND id = ?2 AND status <> 'active' AND trigger = ?4 AND steps = ?5`,
    )
    .bind(workspaceId, campaign.id, campaign.at, campaign.trigger, campaign.steps)
    .run();
  return activated.meta.changes;
}

/** Records that the campaigns were evaluated at `at`. */
export async function markCampaignsEvaluated(
  db: D1Database,
  workspaceId: string,
  campaignIds: readonly string[],
  at: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE retention_campaigns SET last_evaluated_at = ?2 WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?3))",
    )
    .bind(workspaceId, at, JSON.stringify(campaignIds))
    .run();
}

/** Pauses a campaign at `at`. */
export async function pauseCampaignRow(db: D1Database, workspaceId: string, campaignId: string, at: string) {
  await db
    .prepare("UPDATE retention_campaigns SET status = 'paused', updated_at = ?3 WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, campaignId, at)
    .run();
}

/** A campaign as the report lists it. */
export interface ReportCampaignRow {
  id: string;
  name: string;
  status: string;
}

/** Up to `limit` campaigns (or only `campaignId`) by id after `afterId`. */
export async function reportCampaignPage(
  db: D1Database,
  workspaceId: string,
  page: { campaignId: string | null; afterId: string; limit: number },
): Promise<ReportCampaignRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, name, status FROM retention_campaigns WHERE workspace_id = ?1 AND (?2 IS NULL OR id = ?2) AND id > ?3
      ORDER BY id LIMIT ?4`,
    )
    .bind(workspaceId, page.campaignId, page.afterId, page.limit)
    .all<ReportCampaignRow>();
  return results;
}

/** One campaign's report figures as read. */
export interface CampaignReportRows {
  counts: EnrollmentCounts & { responses: number };
  emails: { total: number; queued: number; sent: number; opened: number; clicked: number; not_delivered: number };
  /** Observations and those retained, per group (enrolled, comparison); a group without any is absent. */
  groups: { grp: string; n: number; retained: number }[];
}

/**
 * Per campaign, in one batch: its enrollment counts and responses (an opened or clicked campaign
 * email, or an inbound activity, the customer's own, on or after enrollment), its emails by status (outbox origin
 * campaign:<id>), and the retention of enrolled and comparable never-enrolled accounts: those
 * not churned `retentionDays` after the reference day, over enrollments on or before `cutoff`.
 */
export async function campaignReports(
  db: D1Database,
  workspaceId: string,
  campaignIds: readonly string[],
  window: { cutoff: string; retentionDays: number },
): Promise<CampaignReportRows[]> {
  const ws = workspaceId;
  const statements = campaignIds.flatMap((id) => [
    db
      .prepare(
        `SELECT count(*) AS enrolled, coalesce(sum(e.status = 'active'), 0) AS active,
              coalesce(sum(e.status = 'completed'), 0) AS completed,
              coalesce(sum(EXISTS (SELECT 1 FROM outbox_messages o WHERE o.workspace_id = ?1 AND o.account_id = e.account_id
                             AND o.origin = ?3 AND (o.opened_at IS NOT NULL OR o.clicked_at IS NOT NULL OR o.status IN ('opened', 'clicked')))
                      OR EXISTS (SELECT 1 FROM activities v WHERE v.workspace_id = ?1 AND v.account_id = e.account_id
                             AND v.direction = 'inbound' AND v.occurred_at >= e.enrolled_at)), 0) AS responses
         FROM campaign_enrollments e WHERE e.workspace_id = ?1 AND e.campaign_id = ?2`,
      )
      .bind(ws, id, `campaign:${id}`),
    db
      .prepare(
        `SELECT count(o.id) AS total, coalesce(sum(o.status = 'queued'), 0) AS queued,
              coalesce(sum(o.status IN ('sent', 'delivered', 'opened', 'clicked')), 0) AS sent,
              coalesce(sum(o.opened_at IS NOT NULL OR o.status IN ('opened', 'clicked')), 0) AS opened,
              coalesce(sum(o.clicked_at IS NOT NULL OR o.status = 'clicked'), 0) AS clicked,
              coalesce(sum(o.status IN ('bounced', 'failed', 'suppressed')), 0) AS not_delivered
         FROM campaign_enrollments e
         JOIN outbox_messages o ON o.workspace_id = ?1 AND o.account_id = e.account_id AND o.origin = ?3
        WHERE e.workspace_id = ?1 AND e.campaign_id = ?2`,
      )
      .bind(ws, id, `campaign:${id}`),
    db
      .prepare(
        `WITH enr AS (
         SELECT e.account_id, substr(e.enrolled_at, 1, 10) AS d,
                (SELECT h.band FROM health_scores h WHERE h.workspace_id = ?1 AND h.account_id = e.account_id
                    AND h.day = substr(e.enrolled_at, 1, 10)) AS band
           FROM campaign_enrollments e
          WHERE e.workspace_id = ?1 AND e.campaign_id = ?2 AND e.enrolled_at < date(?3, '+1 day')),
       ref AS (SELECT DISTINCT d, band FROM enr WHERE band IS NOT NULL),
       comp AS (
         SELECT DISTINCT a.id AS account_id, ref.d FROM ref
           JOIN accounts a ON a.workspace_id = ?1
           JOIN health_scores h ON h.workspace_id = ?1 AND h.account_id = a.id AND h.day = ref.d AND h.band = ref.band
          WHERE (a.churned_at IS NULL OR substr(a.churned_at, 1, 10) > ref.d)
            AND NOT EXISTS (SELECT 1 FROM campaign_enrollments x WHERE x.workspace_id = ?1 AND x.campaign_id = ?2
                              AND x.account_id = a.id)),
       obs AS (SELECT 'enrolled' AS grp, account_id, d FROM enr UNION ALL SELECT 'comparison', account_id, d FROM comp)
       SELECT obs.grp, count(*) AS n,
              coalesce(sum(NOT (a.churned_at IS NOT NULL AND substr(a.churned_at, 1, 10) <= date(obs.d, '+' || ?4 || ' days'))), 0) AS retained
         FROM obs CROSS JOIN accounts a ON a.workspace_id = ?1 AND a.id = obs.account_id
        GROUP BY obs.grp`,
      )
      .bind(ws, id, window.cutoff, window.retentionDays),
  ]);
  const results = statements.length > 0 ? await db.batch(statements) : [];
  return campaignIds.map((_, i) => ({
    counts: results[i * 3]?.results[0] as CampaignReportRows["counts"],
    emails: results[i * 3 + 1]?.results[0] as CampaignReportRows["emails"],
    groups: (results[i * 3 + 2]?.results ?? []) as CampaignReportRows["groups"],
  }));
}

/** A stored campaign's id, trigger and steps (JSON). */
export interface StoredCampaignRow {
  id: string;
  trigger: string;
  steps: string;
}

/** Every active campaign of the workspace, by id. */
export async function activeCampaignRows(db: D1Database, workspaceId: string): Promise<StoredCampaignRow[]> {
  const { results } = await db
    .prepare(
      "SELECT id, trigger, steps FROM retention_campaigns WHERE workspace_id = ?1 AND status = 'active' ORDER BY id",
    )
    .bind(workspaceId)
    .all<StoredCampaignRow>();
  return results;
}

/**
 * The statement that enrolls the accounts matching a campaign's rules on `day` (all active
 * accounts, or those of the JSON id list `idList`) once per account and campaign ever, with the
 * first matching rule and its values as the snapshot. `rules` is `liveTriggerSql(trigger, idList ? 7 : 6)`.
 */
export function enrollStatement(
  db: D1Database,
  workspaceId: string,
  enrollment: {
    campaignId: string;
    day: string;
    weekBefore: string;
    enrolledAt: string;
    idList: string | null;
    rules: RuleSql;
  },
): D1PreparedStatement {
  const { idList, rules } = enrollment;
  return db
    .prepare(
      `${triggerFactsCte(idList ? "?6" : null)}
       INSERT INTO campaign_enrollments (id, workspace_id, campaign_id, account_id, enrolled_at, trigger_snapshot, status, next_step)
       SELECT 'enr_' || ?4 || '_' || f.account_id, ?1, ?4, f.account_id, ?5, json_set(${rules.snapshot}, '$.day', ?2), 'active', 0
         FROM f WHERE ${rules.condition}
       ON CONFLICT DO NOTHING`,
    )
    .bind(
      workspaceId,
      enrollment.day,
      enrollment.weekBefore,
      enrollment.campaignId,
      enrollment.enrolledAt,
      ...(idList ? [idList] : []),
      ...rules.params,
    );
}

/** An active enrollment whose next step is due, with its campaign's steps (JSON) and its account's owner. */
export interface DueEnrollmentRow {
  id: string;
  campaign_id: string;
  account_id: string;
  enrolled_at: string;
  next_step: number;
  steps: string;
  owner_user_id: string | null;
  /** The account's and its owner's values for task titles' template variables. */
  account_name: string;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
}

/**
 * The active enrollments of active campaigns whose next step is due on `day` (its day offset from
 * the enrollment day reached), by id: of the given accounts, or the first `limit` of one campaign.
 */
export async function dueEnrollments(
  db: D1Database,
  workspaceId: string,
  day: string,
  scope: { accountIds: readonly string[] } | { campaignId: string; limit: number },
): Promise<DueEnrollmentRow[]> {
  // Only enrollments whose next step is due: its day offset from the enrollment day has been reached.
  const base = `SELECT e.id, e.campaign_id, e.account_id, e.enrolled_at, e.next_step, c.steps, a.owner_user_id,
           a.name AS account_name, a.domain AS account_domain, u.name AS csm_name, u.email AS csm_email
      FROM campaign_enrollments e
      JOIN retention_campaigns c ON c.workspace_id = e.workspace_id AND c.id = e.campaign_id AND c.status = 'active'
      JOIN accounts a ON a.workspace_id = e.workspace_id AND a.id = e.account_id
      LEFT JOIN users u ON u.workspace_id = e.workspace_id AND u.id = a.owner_user_id
     WHERE e.workspace_id = ?1 AND e.status = 'active'
       AND date(substr(e.enrolled_at, 1, 10), '+' || (c.steps ->> ('$[' || e.next_step || '].day_offset')) || ' days') <= ?2`;
  const { results } = await ("accountIds" in scope
    ? db
        .prepare(`${base} AND e.account_id IN (SELECT value FROM json_each(?3)) ORDER BY e.id`)
        .bind(workspaceId, day, JSON.stringify(scope.accountIds))
    : db
        .prepare(`${base} AND e.campaign_id = ?3 ORDER BY e.id LIMIT ?4`)
        .bind(workspaceId, day, scope.campaignId, scope.limit)
  ).all<DueEnrollmentRow>();
  return results;
}

/** A campaign task step's task: its fixed id, account, title, owner and source. */
export interface CampaignTask {
  id: string;
  account: string;
  title: string;
  owner: string | null;
  source: string;
}

/** The statements that create campaign step tasks due `day` (an existing id is left as it is), one per JSON chunk. */
export function campaignTaskStatements(
  db: D1Database,
  workspaceId: string,
  day: string,
  tasks: readonly CampaignTask[],
): D1PreparedStatement[] {
  const createdAt = clock.now().toISOString();
  return jsonChunks([...tasks]).map((chunk) =>
    db
      .prepare(
        `INSERT INTO tasks (id, workspace_id, account_id, title, description, owner_user_id, priority, status, source, due_date,
                            created_at)
         SELECT value ->> '$.id', ?1, value ->> '$.account', value ->> '$.title', 'Retention campaign step',
                value ->> '$.owner', 'high', 'open', value ->> '$.source', ?2, ?4
           FROM json_each(?3) WHERE true
         ON CONFLICT (id) DO NOTHING`,
      )
      .bind(workspaceId, day, chunk, createdAt),
  );
}

/** An enrollment's move from step `from` to `next`, completed when `done`. */
export interface EnrollmentAdvance {
  id: string;
  from: number;
  next: number;
  done: boolean;
}

/**
 * The statements that advance enrollments still at the step they were read at (completed at
 * `completedAt` when done), one per JSON chunk.
 */
export function advanceEnrollmentStatements(
  db: D1Database,
  workspaceId: string,
  completedAt: string,
  advances: readonly EnrollmentAdvance[],
): D1PreparedStatement[] {
  return jsonChunks([...advances]).map((chunk) =>
    db
      .prepare(
        `UPDATE campaign_enrollments
            SET next_step = j.next,
                status = CASE WHEN j.done THEN 'completed' ELSE status END,
                completed_at = CASE WHEN j.done THEN ?2 ELSE completed_at END
           FROM (SELECT value ->> '$.id' AS id, value ->> '$.from' AS from_step, value ->> '$.next' AS next,
                        value ->> '$.done' AS done FROM json_each(?3)) AS j
          WHERE campaign_enrollments.workspace_id = ?1 AND campaign_enrollments.id = j.id
            AND campaign_enrollments.next_step = j.from_step`,
      )
      .bind(workspaceId, completedAt, chunk),
  );
}
