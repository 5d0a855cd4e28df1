import { jsonChunks } from "../../../platform/db/json-chunks";
import { newId } from "../../../platform/lib/ids";
import { addDays } from "../../../platform/lib/time";
import type { PlaybookStep } from "../domain/playbooks";

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
                              source, created_by)
           SELECT j.value ->> '$.task', ?1, i.account_id, j.value ->> '$.title',
                  'Retention intervention ' || i.id || ' (' || i.playbook || '), step ' || (j.value ->> '$.position'),
                  i.owner_user_id, j.value ->> '$.due', 'high', 'open', 'intervention', ?2
             FROM json_each(?3) j JOIN interventions i ON i.id = j.value ->> '$.intervention' AND i.workspace_id = ?1`,
        )
        .bind(ws, createdBy, chunk),
    );
  }
  return { statements, ids, interventionInserts };
}
