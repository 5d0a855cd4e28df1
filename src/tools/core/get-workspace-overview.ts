import { z } from "zod";
import { defineTool, READ_ONLY } from "../../platform/mcp/define-tool";
import { kpiTargetsSchema, readSettings } from "../../records/settings";
import { readWorkspaceOverview, type WorkspaceFreshnessRow } from "./queries/workspace";

// Read at call time only, so the import cycle with the registry is harmless.

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
    // Everything in one round trip.
    const rows = await readWorkspaceOverview(env.DB, principal.workspaceId);
    const { workspace, counts } = rows;
    if (!workspace) throw new Error("workspace of a verified principal is missing");
    const settings = readSettings(JSON.parse(workspace.settings));
    const freshness = freshnessOf(rows.freshness);
    const runs = rows.jobRuns.map((run) => ({
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
      integrations: rows.integrations.map((i) => ({
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

/** The latest day or time per source, labelled, in display order. */
function freshnessOf(fresh: WorkspaceFreshnessRow): { source: string; latest: string | null }[] {
  return [
    { source: "usage (latest day)", latest: fresh.last_usage_day },
    { source: "tickets", latest: fresh.last_ticket_at },
    { source: "surveys", latest: fresh.last_survey_at },
    { source: "feedback", latest: fresh.last_feedback_at },
    { source: "activities", latest: fresh.last_activity_at },
    { source: "webhooks", latest: fresh.last_webhook_at },
    { source: "health scores (latest day)", latest: fresh.last_health_day },
  ];
}
