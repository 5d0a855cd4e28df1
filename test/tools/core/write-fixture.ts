/** The shared fixture of the core write tools' tests: workspaces, keys and helpers reading the rows they wrote. */
import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { workspaceSettingsSchema } from "../../../src/records/settings";
import { callOk, connectClient, createWorkspace } from "../../helpers/mcp";

export const SLUG = "core-write";
export type Member = Awaited<ReturnType<typeof createWorkspace>>;

export let admin: Member;
export let csm: Member;
export let viewer: Member;
export let other: Member;
export let adminClient: Client;

export interface ImportResult {
  entity: string;
  format: "rows" | "csv";
  records_received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  failed: number;
  error_count: number;
  errors: { row: number; field: string; message: string }[];
}

export interface SettingsChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface ConfigureResult {
  action: string;
  version?: number;
  current_version: number;
  settings?: ReturnType<typeof workspaceSettingsSchema.parse>;
  changes?: SettingsChange[];
  versions?: { version: number; changed_by: string | null; created_at: string; changes: SettingsChange[] | null }[];
  next_cursor?: string | null;
}

export interface Task {
  id: string;
  title: string;
  description: string | null;
  account_id: string | null;
  account_name: string | null;
  owner_user_id: string | null;
  owner_email: string | null;
  due_date: string | null;
  priority: string;
  status: string;
  source: string;
  created_by: string | null;
  created_at: string;
  completed_at: string | null;
  overdue: boolean;
}

export interface TasksResult {
  action: string;
  task?: Task;
  tasks?: Task[];
  totals?: { matching: number; overdue: number };
  next_cursor?: string | null;
  today: string;
}

export async function query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> {
  return (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
}

/** Every row of a table in a workspace, in a fixed order: for before/after comparisons. */
export function snapshot(table: string, workspaceId: string, orderBy: string): Promise<Record<string, unknown>[]> {
  return query(`SELECT * FROM ${table} WHERE workspace_id = ?1 ORDER BY ${orderBy}`, workspaceId);
}

export async function auditMark(workspaceId: string): Promise<number> {
  const [row] = await query<{ mark: number }>(
    "SELECT coalesce(max(rowid), 0) AS mark FROM audit_log WHERE workspace_id = ?1",
    workspaceId,
  );
  return row!.mark;
}

export function auditSince(workspaceId: string, mark: number) {
  return query<{ tool: string; action: string; target_type: string | null; target_id: string | null }>(
    "SELECT tool, action, target_type, target_id FROM audit_log WHERE workspace_id = ?1 AND rowid > ?2 ORDER BY rowid",
    workspaceId,
    mark,
  );
}

export async function idOf(table: string, externalId: string): Promise<string> {
  const [row] = await query<{ id: string }>(
    `SELECT id FROM ${table} WHERE workspace_id = ?1 AND external_id = ?2`,
    admin.workspaceId,
    externalId,
  );
  if (!row) throw new Error(`${table} ${externalId} missing`);
  return row.id;
}

export function importRows(entity: string, rows: Record<string, unknown>[]): Promise<ImportResult> {
  return callOk<ImportResult>(adminClient, "import_records", { entity, rows });
}

export function importCsv(entity: string, csv: string): Promise<ImportResult> {
  return callOk<ImportResult>(adminClient, "import_records", { entity, csv });
}

export const WRITE_TOOLS = ["configure_workspace", "import_records", "log_activity", "manage_tasks"];

/**
 * Creates the workspace (admin, csm and viewer keys) and another workspace with an account and a
 * task of its own, and connects the admin client.
 */
export async function setUpWorkspaces(): Promise<void> {
  admin = await createWorkspace(SLUG, "admin");
  csm = await createWorkspace(SLUG, "csm");
  viewer = await createWorkspace(SLUG, "viewer");
  other = await createWorkspace(`${SLUG}-other`, "admin");
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO accounts (id, workspace_id, external_id, name) VALUES ('acc_other_1', ?1, 'acc-other', 'Other Co')",
    ).bind(other.workspaceId),
    env.DB.prepare(
      "INSERT INTO tasks (id, workspace_id, title, status) VALUES ('tsk_other_1', ?1, 'Not yours', 'open')",
    ).bind(other.workspaceId),
  ]);
  adminClient = await connectClient(admin.key);
}

/**
 * Imports the accounts and contacts the log_activity and manage_tasks tests name, as the
 * import_records tests do: acc-1 "Acme Corp" (owned by the csm) with contact con-1, and acc-2 with
 * contact con-3.
 */
export async function importAccountsAndContacts(): Promise<void> {
  await importRows("accounts", [
    { external_id: "acc-1", name: "Acme Corp", owner_email: `CSM@${SLUG}.test`, lifecycle_stage: "adoption" },
    { external_id: "acc-2", name: "Beta Labs" },
  ]);
  await importRows("contacts", [
    { external_id: "con-1", account_external_id: "acc-1", name: "Ana Ruiz", email: "Ana@Acme.test", role: "champion" },
    { external_id: "con-3", account_external_id: "acc-2", name: "Ben Ode", is_decision_maker: "yes" },
  ]);
}
