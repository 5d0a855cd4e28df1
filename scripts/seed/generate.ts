/**
 * Deterministic demo-workspace generator. Pure TypeScript with no Node imports, so it runs in
 * scripts and inside workerd tests alike. The same options always give the same rows.
 *
 * Rows are produced account by account as a stream of chunks, so memory stays bounded however
 * many accounts are asked for.
 */
import { accountRow, buildContacts, contractRows, onboardingRows, opportunityRows, stageHistoryRows } from "./account";
import { paymentRows } from "./billing";
import { Calendar } from "./calendar";
import { adminEmail, PRODUCTS, TEAM } from "./catalog";
import { productId, type SeedContext, userId } from "./context";
import { engagementRows, feedbackRows, npsRows, ticketRows } from "./interactions";
import { type AccountProfile, HISTORY_DAYS, planAccounts } from "./profile";
import { Rng } from "./random";
import { escalationRows, interventionRows } from "./retention";
import {
  type KbArticleRow,
  type RetentionCampaignRow,
  SEED_TABLES,
  type SeedChunk,
  type SeedData,
  type SeedTables,
  type TableName,
} from "./rows";
import { usageRows } from "./usage";
import { KB_TEMPLATES } from "./vocabulary";

/** What to generate. */
export interface GenerateOptions {
  /** Any integer; the same seed (and other options) gives byte-identical rows. */
  seed: number;
  /** Number of customer accounts. */
  accounts: number;
  /** `YYYY-MM-DD` that all dates are relative to ("today" of the demo). */
  anchorDay: string;
  workspaceId: string;
  slug: string;
  /** Password hash stored for every demo user, or null for key-only users. */
  passwordHash?: string | null;
}

/** Generates the workspace as a stream of row chunks: shared rows first, then account by account. */
export function* generateWorkspace(options: GenerateOptions): Generator<SeedChunk> {
  if (!Number.isInteger(options.accounts) || options.accounts < 1)
    throw new Error("accounts must be a positive integer");
  if (!Number.isSafeInteger(options.seed)) throw new Error("seed must be an integer");
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(options.slug)) {
    throw new Error("slug must be 1-63 lower-case letters, digits and inner hyphens");
  }
  const cal = new Calendar(options.anchorDay);
  const ctx: SeedContext = {
    seed: options.seed,
    slug: options.slug,
    workspaceId: options.workspaceId,
    cal,
    npsWaves: npsWaves(cal),
    counters: { ticket: 0, survey: 0, feedback: 0 },
  };
  yield* sharedChunks(ctx, options.passwordHash ?? null);
  for (const profile of planAccounts(options, cal)) yield* accountChunks(ctx, profile);
}

/** The whole workspace in memory: for tests and small workspaces only. */
export function collectWorkspace(options: GenerateOptions): SeedData {
  const data = Object.fromEntries(SEED_TABLES.map((t) => [t, []])) as unknown as SeedData;
  for (const chunk of generateWorkspace(options)) {
    (data[chunk.table] as SeedTables[TableName][]).push(...chunk.rows);
  }
  return data;
}

/** The account profiles behind a generation (trajectories, decline and churn days). */
export function accountProfiles(
  options: Pick<GenerateOptions, "seed" | "accounts" | "anchorDay" | "slug">,
): AccountProfile[] {
  return [...planAccounts(options, new Calendar(options.anchorDay))];
}

function chunk<K extends TableName>(table: K, rows: SeedTables[K][]): SeedChunk {
  return { table, rows } as SeedChunk;
}

/**
 * Demo settings: a sender, so customer email lands in the local outbox (nothing leaves a local
 * server) — everything else is the defaults.
 */
function demoSettings(slug: string): string {
  return JSON.stringify({ email_sender: { name: "Customer Success", email: `success@${slug}.example` } });
}

/** An automated rescue campaign the team switched on a month ago; the nightly run enrolls into it. */
function demoCampaign(ctx: SeedContext, adminId: string): RetentionCampaignRow {
  const created = ctx.cal.instant(-30, 11 * 3600);
  return {
    id: `rcm_${ctx.slug}_rescue`,
    workspace_id: ctx.workspaceId,
    name: "Red-health rescue",
    status: "active",
    trigger: JSON.stringify([
      { rule: "band_is", band: "red" },
      { rule: "churn_probability_at_least", value: 0.6 },
    ]),
    steps: JSON.stringify([
      { day_offset: 0, kind: "task", title: "Call the champion about the drop in health" },
      {
        day_offset: 1,
        kind: "email",
        subject: "Can we help {{account.name}} get more from the platform?",
        body: "Hi {{contact.first_name}},\n\nI noticed your team has been using the platform less lately. I'd like to offer a short working session to look at what's getting in the way.\n\nWould 30 minutes next week work?\n\n{{csm.name}}",
      },
      { day_offset: 7, kind: "task", title: "Review usage since the working session" },
    ]),
    created_by: adminId,
    created_at: created,
    updated_at: created,
    last_evaluated_at: null,
  };
}

function* sharedChunks(ctx: SeedContext, passwordHash: string | null): Generator<SeedChunk> {
  const { cal, slug, workspaceId } = ctx;
  const founded = cal.instant(-HISTORY_DAYS - 30, 9 * 3600);
  const adminId = userId(ctx, "admin");
  const settings = demoSettings(slug);
  yield chunk("workspaces", [
    {
      id: workspaceId,
      slug,
      name: slug === "demo" ? "Demo workspace" : `Demo workspace ${slug}`,
      settings,
      settings_version: 1,
      created_at: founded,
    },
  ]);
  yield chunk("workspace_settings_versions", [
    { workspace_id: workspaceId, version: 1, settings, changed_by: adminId, created_at: founded },
  ]);
  yield chunk(
    "users",
    TEAM.map((m) => ({
      id: userId(ctx, m.key),
      workspace_id: workspaceId,
      email: m.key === "admin" ? adminEmail(slug) : `${m.key}@${slug}.example`,
      name: m.name,
      role: m.role,
      password_hash: passwordHash,
      disabled_at: null,
      created_at: founded,
    })),
  );
  yield chunk(
    "products",
    PRODUCTS.map((p) => ({
      id: productId(ctx, p.key),
      workspace_id: workspaceId,
      external_id: `sku-${p.key}`,
      name: p.name,
      family: p.family,
      kind: p.isPlan ? "plan" : p.family === "Services" ? "service" : "add_on",
      price: p.price,
      created_at: founded,
    })),
  );
  const rng = new Rng(`${ctx.seed}:kb`);
  yield chunk(
    "kb_articles",
    KB_TEMPLATES.map((t, i): KbArticleRow => {
      const created = -rng.int(30, 1000);
      const updated = Math.min(-1, created + rng.int(0, 200));
      const status = i % 12 === 5 ? "draft" : i % 17 === 9 ? "archived" : "published";
      return {
        id: `kb_${slug}_${String(i + 1).padStart(3, "0")}`,
        workspace_id: workspaceId,
        external_id: `kb-${1001 + i}`,
        title: t.title,
        body: t.body,
        category: t.category,
        status,
        // Articles are due for review a year after their last update; older ones are stale.
        review_by: status === "published" ? cal.day(updated + 365) : null,
        created_at: cal.instant(created, 10 * 3600),
        updated_at: cal.instant(updated, 15 * 3600),
      };
    }),
  );
  yield chunk("retention_campaigns", [demoCampaign(ctx, adminId)]);
}

function* accountChunks(ctx: SeedContext, p: AccountProfile): Generator<SeedChunk> {
  const contacts = buildContacts(ctx, p);
  const { contracts, items } = contractRows(ctx, p);
  const usage = usageRows(ctx, p);
  const support = ticketRows(ctx, p, contacts.infos);
  const nps = npsRows(ctx, p, contacts.infos);
  const engagement = engagementRows(ctx, p, contacts.infos, nps.detractors);
  const onboarding = onboardingRows(ctx, p);
  const escalations = escalationRows(ctx, p, support.tickets);
  const interventions = interventionRows(ctx, p);
  const rows: Partial<SeedData> = {
    accounts: [accountRow(ctx, p)],
    account_stage_history: stageHistoryRows(ctx, p),
    contacts: contacts.rows,
    contracts,
    contract_items: items,
    opportunities: opportunityRows(ctx, p),
    usage_daily: usage.daily,
    usage_feature_daily: usage.features,
    tickets: support.tickets,
    survey_responses: [...nps.rows, ...support.surveys],
    feedback_items: feedbackRows(ctx, p, contacts.infos),
    activities: engagement.activities,
    tasks: engagement.tasks,
    onboarding_plans: onboarding.plans,
    onboarding_milestones: onboarding.milestones,
    escalations: escalations.escalations,
    escalation_events: escalations.events,
    interventions: interventions.interventions,
    intervention_steps: interventions.steps,
    payments: paymentRows(ctx, p),
  };
  for (const table of SEED_TABLES) {
    const tableRows = rows[table];
    if (tableRows && tableRows.length > 0) yield chunk(table, tableRows as SeedTables[typeof table][]);
  }
}

/** Quarterly NPS waves: the 10th of February, May, August and November. */
function npsWaves(cal: Calendar): number[] {
  const waves: number[] = [];
  for (let day = -HISTORY_DAYS; day < 0; day++) {
    const text = cal.day(day);
    if (text.endsWith("-10") && ["02", "05", "08", "11"].includes(text.slice(5, 7))) waves.push(day);
  }
  return waves;
}
