import { isoWeekLabel } from "../../../platform/lib/iso-week";
import { round } from "../../../platform/lib/stats";

/**
 * The account timeline's vocabulary and wording: entry kinds, which stored fields are
 * customer-written, and our one-line summary of each entry.
 */

/** Entry kinds, each read from its own table. */
export const TIMELINE_KINDS = [
  "usage_week",
  "ticket_opened",
  "ticket_solved",
  "survey_response",
  "feedback",
  "activity",
  "email",
  "stage_change",
  "health_band_change",
  "contract_started",
  "contract_ended",
  "task_created",
  "task_completed",
  "milestone_completed",
] as const;

/** One kind of timeline entry. */
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** A stored field of an entry. */
export type DetailValue = string | number | null;
/** The stored fields of an entry, by name. */
export type Detail = Record<string, DetailValue>;

/** Text fields of each kind that end customers wrote; they move to `customer_text`. */
const CUSTOMER_FIELDS: Partial<Record<TimelineKind, string[]>> = {
  ticket_opened: ["subject"],
  ticket_solved: ["subject"],
  survey_response: ["comment"],
  feedback: ["title"],
};

function text(detail: Detail, key: string): string {
  const value = detail[key];
  return value === null || value === undefined ? "–" : String(value);
}

function quoted(value: DetailValue | undefined): string {
  const flat = String(value ?? "").replace(/\s+/g, " ");
  return `"${flat.length > 80 ? `${flat.slice(0, 79)}…` : flat}"`;
}

function npsCategory(score: number): string {
  if (score >= 9) return "promoter";
  if (score >= 7) return "passive";
  return "detractor";
}

/** Our one-line description of an entry, from its stored fields only. */
export function summarize(kind: TimelineKind, refId: string, at: string, d: Detail): string {
  switch (kind) {
    case "usage_week": {
      const days = Number(d.days);
      const avg = days > 0 ? round(Number(d.active_user_days) / days, 2) : 0;
      return `Usage week of ${refId} (${isoWeekLabel(refId)}): ${d.events} events, ${d.sessions} sessions, avg ${avg} daily active users over ${days} day(s) with data.`;
    }
    case "ticket_opened":
      return `Ticket opened: priority ${text(d, "priority")}, category ${text(d, "category")}, now ${text(d, "status")}.`;
    case "ticket_solved": {
      const hours = (Date.parse(at) - Date.parse(String(d.created_at))) / 3_600_000;
      return `Ticket solved${Number.isFinite(hours) ? ` after ${round(hours, 1)} h` : ""}: priority ${text(d, "priority")}, CSAT ${text(d, "csat_score")}.`;
    }
    case "survey_response": {
      const score = Number(d.score);
      const survey = text(d, "survey");
      return `${survey.toUpperCase()} response: score ${score}${survey === "nps" ? ` (${npsCategory(score)})` : ""}.`;
    }
    case "feedback":
      return `Feedback received: ${text(d, "feedback_kind")} on feature ${text(d, "feature")}, status ${text(d, "status")}, via ${text(d, "source")}.`;
    case "activity": {
      const label = `${text(d, "activity_kind")}${d.direction ? ` (${d.direction})` : ""} logged`;
      return d.direction === "inbound" ? `${label}; subject in customer_text.` : `${label}: ${quoted(d.subject)}.`;
    }
    case "email":
      return `Email ${quoted(d.subject)} to ${text(d, "to_email")}: ${text(d, "status")}.`;
    case "stage_change":
      return `Lifecycle stage ${d.from_stage ?? "none"} → ${text(d, "to_stage")}.`;
    case "health_band_change":
      return d.previous_band === null
        ? `First health score: ${d.score} (${d.band}).`
        : `Health band ${d.previous_band} → ${d.band} (score ${d.score}).`;
    case "contract_started":
      return `Contract ${refId} started: ARR ${d.arr}, term to ${text(d, "end_date")}, auto-renew ${d.auto_renew ? "on" : "off"}.`;
    case "contract_ended":
      return `Contract ${refId} ended: status ${text(d, "status")}, outcome ${text(d, "outcome")}, ARR ${d.arr}.`;
    case "task_created":
      return `Task created: ${quoted(d.title)} (priority ${text(d, "priority")}, due ${text(d, "due_date")}, source ${text(d, "source")}).`;
    case "task_completed":
      return `Task ${d.status === "cancelled" ? "cancelled" : "completed"}: ${quoted(d.title)}.`;
    case "milestone_completed":
      return `Onboarding milestone completed: ${quoted(d.milestone)} (plan ${quoted(d.plan)}).`;
  }
}

/** The stored fields of an entry from their JSON object (other values read as null). */
export function parseDetail(raw: string): Detail {
  const parsed: unknown = JSON.parse(raw);
  const detail: Detail = {};
  if (parsed && typeof parsed === "object") {
    for (const [key, value] of Object.entries(parsed)) {
      detail[key] = typeof value === "string" || typeof value === "number" ? value : null;
    }
  }
  return detail;
}

/** One timeline entry as answered, from a stored row: customer-written fields move to `customer_text`. */
export function timelineEntry(row: { at: string; kind: TimelineKind; ref_id: string; detail: string }) {
  const detail = parseDetail(row.detail);
  const summary = summarize(row.kind, row.ref_id, row.at, detail);
  const customerFields =
    row.kind === "activity" && detail.direction === "inbound" ? ["subject"] : (CUSTOMER_FIELDS[row.kind] ?? []);
  const customerText: Record<string, string> = {};
  for (const field of customerFields) {
    const value = detail[field];
    if (typeof value === "string") customerText[field] = value;
    delete detail[field];
  }
  return {
    at: row.at,
    kind: row.kind,
    summary,
    ref_id: row.ref_id,
    details: detail,
    ...(Object.keys(customerText).length ? { customer_text: customerText } : {}),
  };
}
