import { z } from "zod";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { kpiTargetsSchema, readSettings } from "../../records/settings";

// Read at call time only, so the import cycle with the registry is harmless.

interface WorkspaceRow {
  id: string;
  slug: string;
  name: string;
  settings: string;
  settings_version: number;
}

interface CountsRow {
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

interface FreshnessRow {
  last_usage_day: string | null;
  last_ticket_at: string | null;
  last_survey_at: string | null;
  last_feedback_at: string | null;
  last_activity_at: string | null;
  last_webhook_at: string | null;
  last_health_day: string | null;
}

export const getWorkspaceOverview = defineTool({
  name: "get_workspace_overview",
  title: "Workspace overview",
  toolset: "core",
  description:
    "Start here. The workspace's record counts and ARR, data freshness per source (latest usage day, ticket, survey, feedback, activity, webhook, health score), KPI targets, integrations with their delivery counts (accepted, rejected, failed), which toolsets are enabled in this session, and the latest run of each scheduled job.",
  input: {},
  output: {
    workspace: z.object({ id: z.string(), slug: z.string(), name: z.string(), settings_version: z.number() }),
    counts: z.object({
      accounts: z.number(),
      active_accounts: z.number(),
      churned_accounts: z.number(),
      contacts: z.number(),
      active_contracts: z.number(),
      tickets: z.number(),
      open_tickets: z.number(),
      survey_responses: z.number(),
      feedback_items: z.number(),
      users: z.number(),
      open_tasks: z.number(),
    }),
    total_arr: z.number().describe("Sum of ARR over active accounts (current active contracts)."),
    freshness: z.array(z.object({ source: z.string(), latest: z.string().nullable() })),
    kpi_targets: kpiTargetsSchema,
    integrations: z.array(
      z.object({
        id: z.string(),
        provider: z.string(),
        name: z.string(),
        status: z.string(),
        last_received_at: z.string().nullable(),
        accepted: z.number(),
        rejected: z.number(),
        failed: z.number(),
      }),
    ),
    toolsets: z.array(z.object({ name: z.string(), enabled: z.boolean(), tools: z.array(z.string()) })),
    scheduled_jobs: z
      .array(
        z.object({
          cron: z.string(),
          last_scheduled_time: z.string(),
          status: z.string().describe("running, succeeded or failed."),
          finished_at: z.string().nullable(),
          detail: z.record(z.string(), z.unknown()).nullable().describe("What each job of the run did (counts)."),
        }),
      )
      .describe("Latest run of each cron trigger (deployment-wide maintenance, not workspace data)."),
  },
  examples: [{ title: "What this workspace holds and how fresh it is", args: () => ({}) }],
  annotations: READ_ONLY,
  async handler(_args, { env, principal, session, catalog }) {
    const ws = principal.workspaceId;
    // Everything in one round trip.
    const [workspaceResult, countsResult, freshnessResult, integrationsResult, runsResult] = await env.DB.batch([
      env.DB.prepare("SELECT id, slug, name, settings, settings_version FROM workspaces WHERE id = ?1").bind(ws),
      env.DB.prepare(
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
      ).bind(ws),
      // Each latest time is one seek at the end of a (workspace, time) index.
      env.DB.prepare(
        `SELECT
          (SELECT max(day) FROM usage_daily WHERE workspace_id = ?1) AS last_usage_day,
          (SELECT max(created_at) FROM tickets WHERE workspace_id = ?1) AS last_ticket_at,
          (SELECT max(responded_at) FROM survey_responses WHERE workspace_id = ?1) AS last_survey_at,
          (SELECT max(created_at) FROM feedback_items WHERE workspace_id = ?1) AS last_feedback_at,
          (SELECT max(occurred_at) FROM activities WHERE workspace_id = ?1) AS last_activity_at,
          (SELECT max(received_at) FROM webhook_receipts WHERE workspace_id = ?1) AS last_webhook_at,
          (SELECT max(day) FROM health_scores WHERE workspace_id = ?1) AS last_health_day`,
      ).bind(ws),
      env.DB.prepare(
        `SELECT id, provider, name, status, last_received_at, accepted_count, rejected_count, failed_count
           FROM integrations WHERE workspace_id = ?1 ORDER BY provider, name`,
      ).bind(ws),
      // Scheduled jobs are deployment-wide; the latest run of each cron expression.
      env.DB.prepare(
        `SELECT r.cron, r.scheduled_time, r.status, r.finished_at, r.detail
           FROM (SELECT cron, max(scheduled_time) AS latest FROM job_runs GROUP BY cron) m
           JOIN job_runs r ON r.cron = m.cron AND r.scheduled_time = m.latest
          ORDER BY r.cron`,
      ),
    ]);
    const workspace = workspaceResult!.results[0] as WorkspaceRow | undefined;
    if (!workspace) throw new Error("workspace of a verified principal is missing");
    const counts = countsResult!.results[0] as CountsRow;
    const fresh = freshnessResult!.results[0] as FreshnessRow;
    const integrationRows = integrationsResult!.results as {
      id: string;
      provider: string;
      name: string;
      status: string;
      last_received_at: string | null;
      accepted_count: number;
      rejected_count: number;
      failed_count: number;
    }[];
    const settings = readSettings(JSON.parse(workspace.settings));
    const freshness = [
      { source: "usage (latest day)", latest: fresh.last_usage_day },
      { source: "tickets", latest: fresh.last_ticket_at },
      { source: "surveys", latest: fresh.last_survey_at },
      { source: "feedback", latest: fresh.last_feedback_at },
      { source: "activities", latest: fresh.last_activity_at },
      { source: "webhooks", latest: fresh.last_webhook_at },
      { source: "health scores (latest day)", latest: fresh.last_health_day },
    ];
    const runs = (
      runsResult!.results as {
        cron: string;
        scheduled_time: string;
        status: string;
        finished_at: string | null;
        detail: string | null;
      }[]
    ).map((run) => ({
      cron: run.cron,
      last_scheduled_time: run.scheduled_time,
      status: run.status,
      finished_at: run.finished_at,
      detail: run.detail ? (JSON.parse(run.detail) as Record<string, unknown>) : null,
    }));
    const toolsets = [...catalog].map(([name, tools]) => ({
      name,
      enabled: session.toolsets.includes(name),
      tools: [...tools],
    }));
    const { total_arr, ...rest } = counts;
    const data = {
      workspace: {
        id: workspace.id,
        slug: workspace.slug,
        name: workspace.name,
        settings_version: workspace.settings_version,
      },
      counts: rest,
      total_arr: total_arr ?? 0,
      freshness,
      kpi_targets: settings.kpi_targets,
      integrations: integrationRows.map((i) => ({
        id: i.id,
        provider: i.provider,
        name: i.name,
        status: i.status,
        last_received_at: i.last_received_at,
        accepted: i.accepted_count,
        rejected: i.rejected_count,
        failed: i.failed_count,
      })),
      toolsets,
      scheduled_jobs: runs,
    };
    const text = [
      `${workspace.name} (${workspace.slug}): ${rest.active_accounts} active accounts of ${rest.accounts}, ARR ${Math.round(data.total_arr).toLocaleString("en-US")}; ${rest.contacts} contacts, ${rest.open_tickets} open tickets of ${rest.tickets}, ${rest.open_tasks} open tasks.`,
      `Freshness: ${freshness.map((f) => `${f.source} ${f.latest ?? "none"}`).join("; ")}.`,
      `Integrations: ${data.integrations.length ? data.integrations.map((i) => `${i.provider}/${i.name} ${i.status}, ${i.accepted} accepted`).join("; ") : "none"}.`,
      `Toolsets enabled: ${session.toolsets.join(", ")}.`,
      `Scheduled jobs: ${runs.length ? runs.map((r) => `${r.cron} last ${r.last_scheduled_time} ${r.status}`).join("; ") : "no runs yet"}.`,
    ].join("\n");
    return { data, text };
  },
});
