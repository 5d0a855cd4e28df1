/**
 * What happens between the vendor and one account over time: support tickets, survey
 * responses, product feedback, CSM touchpoints and tasks. Rates and tones follow the account's
 * trajectory, so at-risk accounts file more and angrier tickets and answer surveys as detractors.
 */
import { type ContactInfo, isPresent } from "./account";
import { FEATURES, SUPPORT_AGENTS } from "./catalog";
import { type SeedContext, userId, workInstant, workTime } from "./context";
import { type AccountProfile, atRisk, demand, lastActiveDay, mood, termOn, VALUE_MILESTONE } from "./profile";
import { Rng } from "./random";
import type { ActivityRow, FeedbackItemRow, SurveyResponseRow, TaskRow, TicketRow } from "./rows";
import {
  CES_COMMENTS,
  COMPETITORS,
  CSAT_COMMENTS,
  FEEDBACK_THEMES,
  fill,
  INTEGRATION_NAMES,
  NPS_COMMENTS,
  REPORT_NAMES,
  TICKET_TEMPLATES,
} from "./vocabulary";

type Priority = TicketRow["priority"];

const NORMAL_MIX: readonly (readonly [string, number])[] = [
  ["how_to", 30],
  ["bug", 20],
  ["integration", 14],
  ["billing", 10],
  ["performance", 8],
  ["feature_request", 12],
  ["outage", 2],
];
const ONBOARDING_MIX: readonly (readonly [string, number])[] = [
  ["how_to", 45],
  ["integration", 25],
  ["billing", 8],
  ["bug", 12],
  ["feature_request", 10],
];
const TROUBLED_MIX: readonly (readonly [string, number])[] = [
  ["bug", 30],
  ["performance", 25],
  ["integration", 15],
  ["outage", 5],
  ["how_to", 10],
  ["billing", 10],
  ["feature_request", 5],
];
const PRIORITY_MIX: Readonly<Record<string, readonly (readonly [Priority, number])[]>> = {
  outage: [
    ["urgent", 70],
    ["high", 30],
  ],
  bug: [
    ["low", 5],
    ["normal", 50],
    ["high", 35],
    ["urgent", 10],
  ],
  performance: [
    ["normal", 45],
    ["high", 45],
    ["urgent", 10],
  ],
  how_to: [
    ["low", 40],
    ["normal", 60],
  ],
  billing: [
    ["low", 30],
    ["normal", 70],
  ],
  integration: [
    ["normal", 55],
    ["high", 40],
    ["urgent", 5],
  ],
  feature_request: [
    ["low", 80],
    ["normal", 20],
  ],
};
const PRIORITIES: readonly Priority[] = ["low", "normal", "high", "urgent"];
/** Median hours to first response, by priority. */
const FIRST_RESPONSE_HOURS: Readonly<Record<Priority, number>> = { urgent: 0.4, high: 1.5, normal: 4, low: 10 };
/** Median hours from first response to resolution, by category. */
const SOLVE_HOURS: Readonly<Record<string, number>> = {
  how_to: 8,
  billing: 20,
  bug: 70,
  integration: 48,
  performance: 90,
  feature_request: 30,
  outage: 4,
};

/** Support tickets plus the CSAT and CES answers that follow some of them. */
export function ticketRows(
  ctx: SeedContext,
  p: AccountProfile,
  contacts: readonly ContactInfo[],
): { tickets: TicketRow[]; surveys: SurveyResponseRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:tickets`);
  const tickets: TicketRow[] = [];
  const surveys: SurveyResponseRow[] = [];
  const last = lastActiveDay(p);
  const featureLabels = FEATURES.filter((f) => f.key !== "report_shared").map((f) => f.label);
  for (let day = p.customerSince; day <= last; day++) {
    const seats = termOn(p, day)?.seats ?? 0;
    const troubled = p.declineStart !== null && day >= p.declineStart;
    const onboarding = day - p.customerSince < 60;
    const perMonth = (0.5 + 0.12 * Math.sqrt(seats)) * (troubled ? 3 : onboarding ? 1.8 : 1);
    const count = rng.poisson(perMonth / 30);
    for (let k = 0; k < count; k++) {
      const category = rng.weighted(troubled ? TROUBLED_MIX : onboarding ? ONBOARDING_MIX : NORMAL_MIX);
      let priority = rng.weighted(PRIORITY_MIX[category]!);
      if (troubled && rng.chance(0.35)) priority = PRIORITIES[Math.min(3, PRIORITIES.indexOf(priority) + 1)]!;
      const template = rng.pick(TICKET_TEMPLATES[category]!);
      const requester = pickContact(rng, contacts, day, ["user", "admin", "champion"]);
      const vars = {
        feature: rng.pick(featureLabels),
        report: rng.pick(REPORT_NAMES),
        integration: rng.pick(INTEGRATION_NAMES),
        n: rng.int(2, 40),
        code: rng.int(1000, 9999),
        invoice: `INV-${ctx.cal.year(day)}-${rng.int(10000, 99999)}`,
        first: requester?.first ?? "Thanks",
        company: p.name,
      };
      const created = workTime(rng, day, p.region);
      const slow = troubled && p.tier === "Tier 3" ? 1.5 : 1;
      const firstResponse = created + (rng.logNormal(FIRST_RESPONSE_HOURS[priority], 0.7) * slow) / 24;
      const solved = firstResponse + rng.logNormal(SOLVE_HOURS[category]!, 0.8) / 24;
      let status: TicketRow["status"];
      if (solved < 0) status = solved < -7 && rng.chance(0.6) ? "closed" : "solved";
      else if (firstResponse < 0) status = rng.chance(0.4) ? "pending" : "open";
      else status = "new";
      const isSolved = status === "solved" || status === "closed";
      ctx.counters.ticket++;
      const id = `tkt_${ctx.slug}_${p.ordinal}_${String(tickets.length + 1).padStart(4, "0")}`;
      let csat: number | null = null;
      const answeredAt = solved + rng.real(0.05, 2);
      if (isSolved && answeredAt < 0 && rng.chance(0.35)) {
        const slowPenalty = solved - created > 3 ? 0.15 : 0;
        csat = clampInt(1 + 4 * (mood(p, day) - slowPenalty) + 0.8 * rng.normal(), 1, 5);
        const comment = rng.chance(0.4) ? rng.pick(csat >= 4 ? CSAT_COMMENTS.good : CSAT_COMMENTS.bad) : null;
        surveys.push(survey(ctx, p, requester, "csat", csat, comment, answeredAt));
      } else if (isSolved && answeredAt < 0 && rng.chance(0.12)) {
        // Customer effort as "how easy was it": 1 = very hard … 7 = very easy.
        const ease = clampInt(1 + 6 * mood(p, day) - (solved - created > 3 ? 1 : 0) + rng.normal(), 1, 7);
        const comment = rng.chance(0.4) ? rng.pick(ease >= 5 ? CES_COMMENTS.easy : CES_COMMENTS.hard) : null;
        surveys.push(survey(ctx, p, requester, "ces", ease, comment, answeredAt));
      }
      tickets.push({
        id,
        workspace_id: ctx.workspaceId,
        account_id: p.id,
        contact_id: requester?.id ?? null,
        external_id: `zd-${100000 + ctx.counters.ticket}`,
        source: "zendesk",
        subject: fill(template.subject, vars),
        body: fill(template.body, vars),
        status,
        priority,
        category,
        assignee: status === "new" ? null : rng.pick(SUPPORT_AGENTS),
        csat_score: csat,
        created_at: ctx.cal.instantAt(created),
        first_response_at: status === "new" ? null : ctx.cal.instantAt(firstResponse),
        solved_at: isSolved ? ctx.cal.instantAt(solved) : null,
        updated_at: ctx.cal.instantAt(
          isSolved ? solved : status === "new" ? created : Math.min(-0.01, firstResponse + 0.2),
        ),
        source_updated_at: null,
      });
    }
  }
  return { tickets, surveys };
}

/** Quarterly NPS answers from contacts present at each wave, and CES after onboarding. */
export function npsRows(
  ctx: SeedContext,
  p: AccountProfile,
  contacts: readonly ContactInfo[],
): { rows: SurveyResponseRow[]; detractors: { day: number; score: number }[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:nps`);
  const rows: SurveyResponseRow[] = [];
  const detractors: { day: number; score: number }[] = [];
  const last = lastActiveDay(p);
  for (const wave of ctx.npsWaves) {
    if (wave < p.customerSince + 45 || wave > last) continue;
    for (const contact of contacts) {
      if (!isPresent(contact, wave) || contact.unsubscribed || contact.bounced || !rng.chance(0.22)) continue;
      const day = wave + rng.int(0, 14);
      if (day > last || !isPresent(contact, day)) continue;
      const score = clampInt(10 * mood(p, day) + 1.6 * rng.normal() + 0.5, 0, 10);
      const band = score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor";
      if (band === "detractor") detractors.push({ day, score });
      const comment = rng.chance(0.45) ? rng.pick(NPS_COMMENTS[band]) : null;
      rows.push(survey(ctx, p, contact, "nps", score, comment, workTime(rng, day, p.region)));
    }
  }
  const goLive = p.onboarding?.milestones.at(-1);
  const champion = contacts.find((c) => c.isChampion);
  if (goLive?.done != null && goLive.done + 3 < 0 && champion && rng.chance(0.5)) {
    const overrun = goLive.done - goLive.due;
    const effort = clampInt(2 + overrun / 7 + rng.normal(), 1, 7);
    rows.push(survey(ctx, p, champion, "ces", effort, null, workTime(rng, goLive.done + 3, p.region)));
  }
  return { rows, detractors };
}

function survey(
  ctx: SeedContext,
  p: AccountProfile,
  contact: ContactInfo | null,
  kind: SurveyResponseRow["kind"],
  score: number,
  comment: string | null,
  at: number,
): SurveyResponseRow {
  ctx.counters.survey++;
  const n = ctx.counters.survey;
  return {
    id: `srv_${ctx.slug}_${String(n).padStart(7, "0")}`,
    workspace_id: ctx.workspaceId,
    account_id: p.id,
    contact_id: contact?.id ?? null,
    external_id: `svy-${String(n).padStart(7, "0")}`,
    kind,
    score,
    comment,
    responded_at: ctx.cal.instantAt(at),
    survey_id: null,
  };
}

/** Feature requests, bugs, praise and complaints, with complaints piling up in a decline. */
export function feedbackRows(ctx: SeedContext, p: AccountProfile, contacts: readonly ContactInfo[]): FeedbackItemRow[] {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:feedback`);
  const rows: FeedbackItemRow[] = [];
  const last = lastActiveDay(p);
  const perMonth = p.segment === "Enterprise" ? 0.25 : p.segment === "Mid-Market" ? 0.16 : 0.1;
  for (let day = p.customerSince + 14; day <= last; day++) {
    const troubled = p.declineStart !== null && day >= p.declineStart;
    if (!rng.chance((perMonth * (troubled ? 2.5 : 1)) / 30)) continue;
    const happy = mood(p, day) > 0.75;
    const theme = rng.weighted(
      FEEDBACK_THEMES.map((t) => {
        const tilt =
          t.kind === "complaint"
            ? troubled
              ? 6
              : 0.4
            : t.kind === "praise"
              ? happy
                ? 1.5
                : 0.1
              : troubled
                ? 0.6
                : 1;
        return [t, t.weight * tilt] as const;
      }),
    );
    const author = pickContact(rng, contacts, day, ["champion", "user", "admin", "decision_maker"]);
    let body = theme.body;
    if (theme.kind === "complaint" && p.churnReason === "competitor") {
      body += ` We are looking at ${rng.pick(COMPETITORS)} as an alternative.`;
    }
    const age = -day;
    const status: FeedbackItemRow["status"] =
      age < 14
        ? "new"
        : age < 60
          ? rng.weighted([
              ["new", 30],
              ["reviewing", 50],
              ["planned", 20],
            ])
          : rng.weighted([
              ["reviewing", 25],
              ["planned", 25],
              ["shipped", 30],
              ["declined", 20],
            ]);
    const source = rng.weighted([
      ["productboard", 40],
      ["email", 20],
      ["call", 15],
      ["survey", 10],
      ["in_app", 15],
    ]);
    ctx.counters.feedback++;
    rows.push({
      id: `fbk_${ctx.slug}_${p.ordinal}_${String(rows.length + 1).padStart(3, "0")}`,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      contact_id: author?.id ?? null,
      external_id: source === "productboard" ? `pb-${String(ctx.counters.feedback).padStart(6, "0")}` : null,
      source,
      kind: theme.kind,
      title: theme.title,
      body,
      feature: theme.feature,
      status,
      created_at: workInstant(ctx, rng, day, p.region),
    });
  }
  return rows;
}

/** CSM touchpoints (calls, meetings incl. QBRs, notes, emails) and the tasks around them. */
export function engagementRows(
  ctx: SeedContext,
  p: AccountProfile,
  contacts: readonly ContactInfo[],
  detractorDays: readonly { day: number; score: number }[],
): { activities: ActivityRow[]; tasks: TaskRow[] } {
  const rng = new Rng(`${ctx.seed}:account:${p.index}:engagement`);
  const owner = userId(ctx, p.ownerUserKey);
  const manager = userId(ctx, "rachel.kim");
  const last = lastActiveDay(p);
  const activities: ActivityRow[] = [];
  const tasks: TaskRow[] = [];
  const addActivity = (
    day: number,
    kind: ActivityRow["kind"],
    direction: ActivityRow["direction"],
    subject: string,
    body: string,
    contact: ContactInfo | null,
  ) => {
    const at = workInstant(ctx, rng, day, p.region);
    const durationMinutes =
      kind === "call"
        ? rng.int(10, 45)
        : kind === "meeting"
          ? subject.startsWith("Quarterly")
            ? rng.int(60, 90)
            : rng.int(30, 60)
          : null;
    activities.push({
      id: `act_${ctx.slug}_${p.ordinal}_${String(activities.length + 1).padStart(4, "0")}`,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      contact_id: contact?.id ?? null,
      user_id: owner,
      kind,
      direction,
      subject,
      body,
      duration_minutes: durationMinutes,
      occurred_at: at,
      source: kind === "email" ? "gmail" : kind === "meeting" ? "calendar" : "manual",
      created_at: at,
    });
  };
  const addTask = (
    title: string,
    description: string,
    created: number,
    due: number,
    priority: TaskRow["priority"],
    source: string,
    doneAfterDays: number | null,
  ) => {
    const completed = doneAfterDays === null ? null : created + doneAfterDays;
    const done = completed !== null && completed < 0;
    tasks.push({
      id: `tsk_${ctx.slug}_${p.ordinal}_${String(tasks.length + 1).padStart(3, "0")}`,
      workspace_id: ctx.workspaceId,
      account_id: p.id,
      title,
      description,
      owner_user_id: owner,
      due_date: ctx.cal.day(due),
      priority,
      status: done ? "done" : "open",
      source,
      created_by: source === "manual" ? owner : manager,
      created_at: workInstant(ctx, rng, created, p.region),
      completed_at: done && completed !== null ? workInstant(ctx, rng, completed, p.region) : null,
    });
  };

  // Onboarding touchpoints.
  for (const m of p.onboarding?.milestones ?? []) {
    if (m.done === null || m.done >= 0) continue;
    const who = pickContact(rng, contacts, m.done, ["champion", "admin"]);
    if (m.name === "Kickoff")
      addActivity(
        m.done,
        "meeting",
        null,
        "Onboarding kickoff",
        "Agreed goals, success criteria and the onboarding timeline.",
        who,
      );
    if (m.name === "Training")
      addActivity(
        m.done,
        "meeting",
        null,
        "Admin and power-user training",
        "Trained admins and power users on dashboards, reports and alerts.",
        who,
      );
    if (m.name === VALUE_MILESTONE)
      addActivity(
        m.done,
        "note",
        null,
        "First report shared",
        "The team shared its first report with stakeholders.",
        who,
      );
  }

  // Regular cadence by tier; at-risk accounts get more attention, some small ones go quiet.
  const interval = p.tier === "Tier 1" ? 12 : p.tier === "Tier 2" ? 25 : 50;
  const quietFrom = p.tier === "Tier 3" && rng.chance(0.15) ? -rng.int(70, 120) : Number.POSITIVE_INFINITY;
  let day = p.customerSince + rng.int(5, interval);
  while (day <= last && day < quietFrom) {
    const risky = atRisk(p, day);
    const contact = pickContact(rng, contacts, day, ["champion", "decision_maker", "admin", "economic_buyer"]);
    const who = contact?.first ?? "the team";
    if (risky && rng.chance(0.5)) {
      addActivity(
        day,
        "call",
        "outbound",
        "Risk review call",
        `Discussed falling usage and open issues with ${who}; agreed on a recovery plan.`,
        contact,
      );
    } else {
      const kind = rng.weighted<ActivityRow["kind"]>([
        ["email", 40],
        ["call", 20],
        ["meeting", 20],
        ["note", 20],
      ]);
      if (kind === "email") {
        const inbound = rng.chance(0.25);
        addActivity(
          day,
          "email",
          inbound ? "inbound" : "outbound",
          inbound
            ? `Question from ${who}`
            : rng.pick([
                "Checking in",
                "Release highlights for your team",
                "Follow-up on our call",
                "Invitation: customer webinar",
              ]),
          inbound
            ? "Could you send us the usage summary for last month?"
            : `Hi ${who}, sharing a few updates and next steps.`,
          contact,
        );
      } else if (kind === "call") {
        addActivity(
          day,
          "call",
          "outbound",
          rng.pick(["Check-in call", "Adoption review", "Roadmap preview"]),
          `Spoke with ${who} about adoption and upcoming needs.`,
          contact,
        );
      } else if (kind === "meeting") {
        addActivity(
          day,
          "meeting",
          null,
          rng.pick(["Working session", "Executive sync", "Use-case workshop"]),
          `Met ${who} to review goals and progress.`,
          contact,
        );
      } else {
        addActivity(
          day,
          "note",
          null,
          "Account notes",
          rng.pick([
            "Team is expanding use to finance.",
            "Budget planning starts next quarter.",
            "Asked about the AI assistant.",
            "Key users are happy with dashboards.",
          ]),
          null,
        );
      }
    }
    day += Math.max(2, Math.round(rng.exponential(risky ? interval / 2 : interval)));
  }

  // Quarterly business reviews for the larger tiers, each with a recap task.
  if (p.tier !== "Tier 3") {
    for (let qbr = p.customerSince + 90; qbr <= last && qbr < 0; qbr += rng.int(80, 100)) {
      const contact = pickContact(rng, contacts, qbr, ["executive_sponsor", "decision_maker", "champion"]);
      const quarter = Math.floor((ctx.cal.month(qbr) - 1) / 3) + 1;
      addActivity(
        qbr,
        "meeting",
        null,
        `Quarterly business review (Q${quarter} ${ctx.cal.year(qbr)})`,
        "Reviewed goals, usage trends, support summary and next steps.",
        contact,
      );
      addTask(
        "Send QBR recap",
        "Send the QBR deck and agreed next steps.",
        qbr,
        qbr + 3,
        "normal",
        "manual",
        rng.int(1, 5),
      );
    }
  }

  // Renewal preparation for every renewal, past and upcoming.
  for (const term of p.terms) {
    const created = term.end - 120;
    if (created > -1 || created < p.customerSince) continue;
    const overdue = term.status === "active" && p.trajectory === "declining";
    addTask(
      "Prepare renewal",
      "Review usage, health and open issues; draft the renewal proposal.",
      created,
      term.end - 60,
      p.trajectory === "declining" ? "high" : "normal",
      "playbook:renewal",
      overdue ? null : rng.int(20, 70),
    );
  }

  // Follow-ups raised by automations on recent signals (customers who are still customers).
  const current = p.churnDay === null;
  for (const d of detractorDays) {
    if (!current || d.day < -60) continue;
    addTask(
      `Follow up on NPS ${d.score}`,
      "A contact answered the NPS survey as a detractor; call them.",
      d.day,
      d.day + 3,
      "high",
      "automation:nps_detractor",
      rng.chance(0.5) ? rng.int(1, 6) : null,
    );
  }
  for (const c of contacts) {
    if (current && c.isChampion && c.left !== null && c.left >= -90) {
      addTask(
        "Identify a new champion",
        `${c.name} left the company; find and enable a new champion.`,
        c.left + 1,
        c.left + 14,
        "high",
        "automation:champion_left",
        null,
      );
    }
  }
  const term = termOn(p, -1);
  if (p.trajectory === "growing" && term && demand(p, ctx.cal, -1) > 0.85 * term.seats) {
    addTask(
      "Discuss seat expansion",
      "Active users are near the licensed seats.",
      -rng.int(2, 20),
      rng.int(3, 20),
      "normal",
      "manual",
      null,
    );
  }
  return { activities, tasks };
}

function pickContact(
  rng: Rng,
  contacts: readonly ContactInfo[],
  day: number,
  roles: readonly string[],
): ContactInfo | null {
  const present = contacts.filter((c) => isPresent(c, day));
  const preferred = present.filter((c) => roles.includes(c.role));
  const pool = preferred.length > 0 && rng.chance(0.8) ? preferred : present;
  return pool.length > 0 ? rng.pick(pool) : null;
}

function clampInt(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}
