import { jsonChunks } from "../../../platform/db/json-chunks";
import { newId } from "../../../platform/lib/ids";
import { addDays } from "../../../platform/lib/time";
import type { Outcome, PlaybookStep } from "../domain/playbooks";

/** One intervention to open: its account, playbook and steps, and who owns it. */
export interface InterventionOpening {
  accountId: string;
  playbook: string;
  steps: readonly PlaybookStep[];
  /** The owner; null = the account's owner. */
  ownerUserId: string | null;
  reason: string | null;
  /**
   * Opens only if this stage-history row exists once the batch has run: a lifecycle move that
   * lost a race (the stage changed meanwhile) opens nothing.
   */
  ifHistoryId?: string;
}

/**
 * Statements that open interventions set-based, to run in one batch (after any statements the
 * guard depends on): the interventions with ARR at open = the account's ARR, their steps, and one
 * task per task step (source `intervention`, due the opening day + the step's offset). Email
 * steps are never sent here. Returns the statements, the new intervention ids in order, and how
 * many leading statements insert interventions (their changes count the ones opened).
 */
export function openInterventionStatements(
  db: D1Database,
  context: { workspaceId: string; createdBy: string | null; now: Date; today: string },
  openings: readonly InterventionOpening[],
): { statements: D1PreparedStatement[]; ids: string[]; interventionInserts: number } {
  const ids = openings.map(() => newId("int"));
  const interventions = openings.map((o, i) => ({
    id: ids[i],
    account: o.accountId,
    playbook: o.playbook,
    owner: o.ownerUserId,
    reason: o.reason,
    guard: o.ifHistoryId ?? null,
  }));
  const steps = openings.flatMap((o, i) =>
    o.steps.map((step, s) => ({
      id: `${ids[i]}_${s + 1}`,
      intervention: ids[i],
      position: s + 1,
      kind: step.kind,
      title: step.title,
      due: addDays(context.today, step.due_offset_days),
      task: step.kind === "task" ? `tsk_${ids[i]}_${s + 1}` : null,
    })),
  );
  const tasks = steps.filter((s) => s.task !== null);
  const { workspaceId: ws, createdBy } = context;
  const openedAt = context.now.toISOString();
  const statements: D1PreparedStatement[] = [];
  for (const chunk of jsonChunks(interventions)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO interventions (id, workspace_id, account_id, playbook, owner_user_id, status, reason, arr_at_open,
                                      opened_at, created_by)
           SELECT j.value ->> '$.id', ?1, a.id, j.value ->> '$.playbook', coalesce(j.value ->> '$.owner', a.owner_user_id),
                  'open', j.value ->> '$.reason', a.arr, ?2, ?3
             FROM json_each(?4) j JOIN accounts a ON +a.workspace_id = ?1 AND a.id = j.value ->> '$.account'
            WHERE j.value ->> '$.guard' IS NULL
               OR EXISTS (SELECT 1 FROM account_stage_history h WHERE h.id = j.value ->> '$.guard')`,
        )
        .bind(ws, openedAt, createdBy, chunk),
    );
  }
  const interventionInserts = statements.length;
  for (const chunk of jsonChunks(steps)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO intervention_steps (id, workspace_id, intervention_id, position, kind, title, status, task_id, due_date)
           SELECT j.value ->> '$.id', ?1, i.id, j.value ->> '$.position', j.value ->> '$.kind', j.value ->> '$.title',
                  'pending', j.value ->> '$.task', j.value ->> '$.due'
             FROM json_each(?2) j JOIN interventions i ON i.id = j.value ->> '$.intervention' AND i.workspace_id = ?1`,
        )
        .bind(ws, chunk),
    );
  }
  for (const chunk of jsonChunks(tasks)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO tasks (id, workspace_id, account_id, title, description, owner_user_id, due_date, priority, status,
                              source, created_by, created_at)
           SELECT j.value ->> '$.task', ?1, i.account_id, j.value ->> '$.title',
                  'Retention intervention ' || i.id || ' (' || i.playbook || '), step ' || (j.value ->> '$.position'),
                  i.owner_user_id, j.value ->> '$.due', 'high', 'open', 'intervention', ?2, ?4
             FROM json_each(?3) j JOIN interventions i ON i.id = j.value ->> '$.intervention' AND i.workspace_id = ?1`,
        )
        .bind(ws, createdBy, chunk, openedAt),
    );
  }
  return { statements, ids, interventionInserts };
}

/** An intervention as stored, with its account's name. */
export interface InterventionRow {
  id: string;
  account_id: string;
  account_name: string | null;
  playbook: string;
  owner_user_id: string | null;
  status: "open" | "closed";
  outcome: Outcome | null;
  reason: string | null;
  arr_at_open: number;
  arr_at_close: number | null;
  campaign_id: string | null;
  opened_at: string;
  closed_at: string | null;
  created_by: string | null;
}

/** One step of an intervention as stored. */
export interface InterventionStepRow {
  position: number;
  kind: "task" | "email";
  title: string;
  status: "pending" | "done" | "skipped";
  due_date: string | null;
  task_id: string | null;
  outbox_id: string | null;
  completed_at: string | null;
}

const interventionColumns = `i.id, i.account_id, a.name AS account_name, i.playbook, i.owner_user_id, i.status, i.outcome,
  i.reason, i.arr_at_open, i.arr_at_close, i.campaign_id, i.opened_at, i.closed_at, i.created_by`;

/** One intervention of the workspace with its steps in order, or null. */
export async function findIntervention(
  db: D1Database,
  workspaceId: string,
  interventionId: string,
): Promise<(InterventionRow & { steps: InterventionStepRow[] }) | null> {
  const [row, steps] = await db.batch([
    db
      .prepare(
        `SELECT ${interventionColumns} FROM interventions i
         LEFT JOIN accounts a ON a.workspace_id = i.workspace_id AND a.id = i.account_id
        WHERE i.workspace_id = ?1 AND i.id = ?2`,
      )
      .bind(workspaceId, interventionId),
    db
      .prepare(
        `SELECT position, kind, title, status, due_date, task_id, outbox_id, completed_at FROM intervention_steps
        WHERE workspace_id = ?1 AND intervention_id = ?2 ORDER BY position`,
      )
      .bind(workspaceId, interventionId),
  ]);
  const intervention = row?.results[0] as InterventionRow | undefined;
  if (!intervention) return null;
  return { ...intervention, steps: (steps?.results ?? []) as InterventionStepRow[] };
}

/** The workspace's user whose id is `reference` or whose email is it (case-insensitive), or null. */
export async function findUserByIdOrEmail(
  db: D1Database,
  workspaceId: string,
  reference: string | null,
): Promise<{ id: string; disabled_at: string | null } | null> {
  return db
    .prepare(`SELECT id, disabled_at FROM users WHERE workspace_id = ?1 AND (id = ?2 OR lower(email) = lower(?2))`)
    .bind(workspaceId, reference)
    .first<{ id: string; disabled_at: string | null }>();
}

/** What an intervention email reads: the contact (when it is one of the workspace's), the account, its CSM and the workspace settings. */
export interface EmailContextRow {
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  contact_title: string | null;
  contact_account_id: string | null;
  left_at: string | null;
  /** 1 when the contact unsubscribed, bounced or reported spam. */
  blocked: number | null;
  account_name: string | null;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
  /** The workspace's stored settings (JSON). */
  settings: string;
}

/** The facts an email of the account to the contact is rendered from; null when the account is not the workspace's. */
export async function emailContext(
  db: D1Database,
  workspaceId: string,
  accountId: string,
  contactId: string,
): Promise<EmailContextRow | null> {
  return db
    .prepare(
      `SELECT c.id AS contact_id, c.name AS contact_name, c.email AS contact_email, c.title AS contact_title,
            c.account_id AS contact_account_id, c.left_at,
            (c.unsubscribed = 1 OR c.bounced = 1 OR c.spam_reported = 1) AS blocked,
            a.name AS account_name, a.domain AS account_domain, u.name AS csm_name, u.email AS csm_email, w.settings
       FROM workspaces w
       JOIN accounts a ON a.workspace_id = w.id AND a.id = ?2
       LEFT JOIN contacts c ON c.workspace_id = w.id AND c.id = ?3
       LEFT JOIN users u ON u.workspace_id = w.id AND u.id = a.owner_user_id
      WHERE w.id = ?1`,
    )
    .bind(workspaceId, accountId, contactId)
    .first<EmailContextRow>();
}

/** Marks a pending email step done with the outbox message that sent it. */
export async function markEmailStepSent(
  db: D1Database,
  workspaceId: string,
  step: { interventionId: string; position: number; outboxId: string; at: string },
): Promise<void> {
  await db
    .prepare(
      `UPDATE intervention_steps SET status = 'done', outbox_id = ?4, completed_at = ?5
      WHERE workspace_id = ?1 AND intervention_id = ?2 AND position = ?3 AND status = 'pending'`,
    )
    .bind(workspaceId, step.interventionId, step.position, step.outboxId, step.at)
    .run();
}

/**
 * The statements that mark a pending step done or skipped at `at` and, for a task step, complete
 * (done) or cancel (skipped) its open task; to run in one batch.
 */
export function markStepStatements(
  db: D1Database,
  workspaceId: string,
  step: { interventionId: string; position: number; status: "done" | "skipped"; at: string; taskId: string | null },
): D1PreparedStatement[] {
  const statements = [
    db
      .prepare(
        `UPDATE intervention_steps SET status = ?4, completed_at = ?5
        WHERE workspace_id = ?1 AND intervention_id = ?2 AND position = ?3 AND status = 'pending'`,
      )
      .bind(workspaceId, step.interventionId, step.position, step.status, step.at),
  ];
  if (step.taskId) {
    statements.push(
      db
        .prepare(
          "UPDATE tasks SET status = ?3, completed_at = ?4 WHERE workspace_id = ?1 AND id = ?2 AND status = 'open'",
        )
        .bind(
          workspaceId,
          step.taskId,
          step.status === "done" ? "done" : "cancelled",
          step.status === "done" ? step.at : null,
        ),
    );
  }
  return statements;
}

/**
 * The statements that close an open intervention, to run in one batch in this order: its pending
 * steps' open tasks cancelled, its pending steps skipped, and the intervention closed with the
 * outcome, reason and ARR at close = the account's ARR now (0 changes when it was not open).
 */
export function closeInterventionStatements(
  db: D1Database,
  workspaceId: string,
  interventionId: string,
  close: { outcome: Outcome; reason: string; at: string },
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE tasks SET status = 'cancelled' WHERE workspace_id = ?1 AND status = 'open'
          AND id IN (SELECT task_id FROM intervention_steps WHERE workspace_id = ?1 AND intervention_id = ?2
                        AND status = 'pending' AND task_id IS NOT NULL)`,
      )
      .bind(workspaceId, interventionId),
    db
      .prepare(
        `UPDATE intervention_steps SET status = 'skipped', completed_at = ?3
        WHERE workspace_id = ?1 AND intervention_id = ?2 AND status = 'pending'`,
      )
      .bind(workspaceId, interventionId, close.at),
    db
      .prepare(
        `UPDATE interventions SET status = 'closed', outcome = ?3, reason = ?4, closed_at = ?5,
              arr_at_close = (SELECT a.arr FROM accounts a WHERE a.workspace_id = ?1 AND a.id = interventions.account_id)
        WHERE workspace_id = ?1 AND id = ?2 AND status = 'open'`,
      )
      .bind(workspaceId, interventionId, close.outcome, close.reason, close.at),
  ];
}

/** Filters and position of one page of interventions. */
export interface InterventionPageQuery {
  status: "open" | "closed" | "all";
  playbook: string | null;
  accountId: string | null;
  ownerUserId: string | null;
  /** The last row of the previous page, when this is a later page. */
  after: { openedAt: string | null; id: string };
  /** Rows to read (the page size + 1 to know whether more follow). */
  limit: number;
}

/** Up to `limit` interventions matching the filters, newest opened first (opened_at, id), after the position. */
export async function interventionPage(
  db: D1Database,
  workspaceId: string,
  query: InterventionPageQuery,
): Promise<InterventionRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${interventionColumns} FROM interventions i
       LEFT JOIN accounts a ON a.workspace_id = i.workspace_id AND a.id = i.account_id
      WHERE i.workspace_id = ?1 AND (?2 = 'all' OR i.status = ?2) AND (?3 IS NULL OR i.playbook = ?3)
        AND (?4 IS NULL OR i.account_id = ?4) AND (?5 IS NULL OR i.owner_user_id = ?5)
        AND (?6 IS NULL OR i.opened_at < ?6 OR (i.opened_at = ?6 AND i.id < ?7))
      ORDER BY i.opened_at DESC, i.id DESC LIMIT ?8`,
    )
    .bind(
      workspaceId,
      query.status,
      query.playbook,
      query.accountId,
      query.ownerUserId,
      query.after.openedAt,
      query.after.id,
      query.limit,
    )
    .all<InterventionRow>();
  return results;
}

/** An intervention as the outcome statistics read it. */
export interface InterventionOutcomeRow {
  playbook: string;
  opened_at: string;
  closed_at: string | null;
  outcome: Outcome | null;
  arr_at_open: number;
  arr_at_close: number | null;
}

/** The interventions open and opened since `from`, and the closed ones opened or closed since `from` (YYYY-MM-DD). */
export async function interventionsSince(
  db: D1Database,
  workspaceId: string,
  from: string,
): Promise<InterventionOutcomeRow[]> {
  const { results } = await db
    .prepare(
      `SELECT playbook, opened_at, closed_at, outcome, arr_at_open, arr_at_close FROM interventions
      WHERE workspace_id = ?1 AND status = 'open' AND opened_at >= ?2
     UNION ALL
     SELECT playbook, opened_at, closed_at, outcome, arr_at_open, arr_at_close FROM interventions
      WHERE workspace_id = ?1 AND status = 'closed' AND (opened_at >= ?2 OR closed_at >= ?2)`,
    )
    .bind(workspaceId, from)
    .all<InterventionOutcomeRow>();
  return results;
}
