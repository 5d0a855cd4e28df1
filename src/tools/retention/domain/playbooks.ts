/**
 * The retention playbook library: each intervention type with its default ordered steps.
 * Email steps carry templates using the variables of `src/email/render.ts`; they are sent one
 * by one after a confirmed preview, never when the intervention opens.
 */

/**
 * Playbook types of the library (the interventions the churn-risk model suggests are among them);
 * `custom` takes the caller's steps.
 */
export const PLAYBOOKS = [
  "executive_sponsor",
  "adoption_workshop",
  "support_review",
  "billing_outreach",
  "detractor_call",
  "renewal_rescue",
  "commercial_concession",
  "health_check",
  "onboarding_review",
  "digital_success",
  "custom",
] as const;
export type Playbook = (typeof PLAYBOOKS)[number];

/** Outcomes a closed intervention can have. */
export const OUTCOMES = ["saved", "downsized", "churned"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One step of a playbook: a task for the owner, or an email to the account's champion. */
export interface PlaybookStep {
  kind: "task" | "email";
  /** Task title; for an email, the subject template (it names the step in listings). */
  title: string;
  /** Days after the intervention opens that the step is due. */
  due_offset_days: number;
  /** Email body template (email steps of the library only). */
  body?: string;
}

/** A library playbook: what it is for and its default steps. */
export interface PlaybookDefinition {
  purpose: string;
  steps: PlaybookStep[];
}

const signOff = "\n\nBest regards,\n{{csm.name}}";

/** The library. `custom` has no default steps: the caller gives them. */
export const PLAYBOOK_LIBRARY: Record<Playbook, PlaybookDefinition> = {
  executive_sponsor: {
    purpose: "Engage an executive sponsor on both sides to reset goals and commitment.",
    steps: [
      { kind: "task", title: "Identify the executive sponsor on both sides", due_offset_days: 2 },
      {
        kind: "email",
        title: "{{account.name}}: an executive conversation about your goals",
        due_offset_days: 3,
        body: `Hi {{contact.name}},\n\nI would like to set up a short conversation between our executives and yours to review the goals {{account.name}} set with us and how we can get there together.${signOff}`,
      },
      { kind: "task", title: "Hold the executive alignment meeting", due_offset_days: 14 },
      { kind: "task", title: "Send the agreed success plan", due_offset_days: 21 },
    ],
  },
  adoption_workshop: {
    purpose: "Raise usage through a hands-on workshop for the account's users.",
    steps: [
      { kind: "task", title: "Review feature usage and pick workshop topics", due_offset_days: 2 },
      {
        kind: "email",
        title: "A hands-on workshop for the {{account.name}} team",
        due_offset_days: 3,
        body: `Hi {{contact.name}},\n\nWe would like to run a hands-on workshop for your team on the parts of the product that would save {{account.name}} the most time. Which dates work for you?${signOff}`,
      },
      { kind: "task", title: "Run the adoption workshop", due_offset_days: 14 },
      { kind: "task", title: "Check usage 30 days after the workshop", due_offset_days: 45 },
    ],
  },
  support_review: {
    purpose: "Review open and recent support issues with the customer and agree fixes.",
    steps: [
      { kind: "task", title: "Summarize open and recent high-priority tickets", due_offset_days: 1 },
      {
        kind: "email",
        title: "Reviewing your recent support experience, {{account.name}}",
        due_offset_days: 2,
        body: `Hi {{contact.name}},\n\nI have gone through the issues {{account.name}} raised with us recently and would like to walk you through where each one stands and what we are changing.${signOff}`,
      },
      { kind: "task", title: "Hold the support review call", due_offset_days: 7 },
    ],
  },
  billing_outreach: {
    purpose: "Resolve failed or late payments before they turn into a cancellation.",
    steps: [
      { kind: "task", title: "Check invoices and payment failures with finance", due_offset_days: 1 },
      {
        kind: "email",
        title: "Your {{account.name}} billing: how can we help?",
        due_offset_days: 1,
        body: `Hi {{contact.name}},\n\nWe noticed an issue with a recent payment for {{account.name}}. Could we find a time to sort it out together, or is there someone in finance I should contact?${signOff}`,
      },
      { kind: "task", title: "Confirm the payment plan", due_offset_days: 10 },
    ],
  },
  detractor_call: {
    purpose: "Close the loop with a detractor: listen, fix, follow up.",
    steps: [
      {
        kind: "email",
        title: "Thank you for your feedback, {{contact.name}}",
        due_offset_days: 1,
        body: `Hi {{contact.name}},\n\nThank you for your honest feedback about {{account.name}}'s experience with us. I would like to understand what went wrong and what we should change. Do you have 20 minutes this week?${signOff}`,
      },
      { kind: "task", title: "Call the detractor and record the root cause", due_offset_days: 5 },
      { kind: "task", title: "Follow up on the agreed fix", due_offset_days: 30 },
    ],
  },
  renewal_rescue: {
    purpose: "Secure an at-risk renewal: value review, risks, decision path.",
    steps: [
      { kind: "task", title: "Build the value summary for the renewal", due_offset_days: 3 },
      {
        kind: "email",
        title: "{{account.name}} renewal: reviewing the value together",
        due_offset_days: 5,
        body: `Hi {{contact.name}},\n\nAhead of the renewal of {{account.name}}, I would like to review together what you have achieved with us and what you need next year.${signOff}`,
      },
      { kind: "task", title: "Hold the renewal value review", due_offset_days: 14 },
      { kind: "task", title: "Confirm the renewal decision path and date", due_offset_days: 21 },
    ],
  },
  commercial_concession: {
    purpose: "Offer an approved commercial concession to keep the account.",
    steps: [
      { kind: "task", title: "Get approval for the concession", due_offset_days: 3 },
      {
        kind: "email",
        title: "A proposal for {{account.name}}",
        due_offset_days: 5,
        body: `Hi {{contact.name}},\n\nFollowing our conversations, I would like to share a proposal for {{account.name}} that addresses the concerns you raised. Can we review it together?${signOff}`,
      },
      { kind: "task", title: "Record the concession decision", due_offset_days: 14 },
    ],
  },
  health_check: {
    purpose: "Walk through the weak parts of the health score with the account team.",
    steps: [
      { kind: "task", title: "Review the health score components and what changed", due_offset_days: 1 },
      {
        kind: "email",
        title: "{{account.name}}: a quick check-in on how things are going",
        due_offset_days: 2,
        body: `Hi {{contact.name}},\n\nI would like to hear how things are going at {{account.name}} and where we could do better. Do you have 30 minutes next week?${signOff}`,
      },
      { kind: "task", title: "Hold the health check call", due_offset_days: 7 },
    ],
  },
  onboarding_review: {
    purpose: "Review the value reached since onboarding and close the gaps.",
    steps: [
      { kind: "task", title: "Compare the onboarding goals with what is live", due_offset_days: 2 },
      {
        kind: "email",
        title: "Reviewing your first months with us, {{contact.name}}",
        due_offset_days: 3,
        body: `Hi {{contact.name}},\n\nNow that {{account.name}} has been with us for a while, I would like to review which goals you have reached and plan the next ones together.${signOff}`,
      },
      { kind: "task", title: "Agree the next milestones", due_offset_days: 14 },
    ],
  },
  digital_success: {
    purpose: "A scaled touch for accounts without dedicated coverage.",
    steps: [
      {
        kind: "email",
        title: "Getting more out of your subscription, {{contact.name}}",
        due_offset_days: 0,
        body: `Hi {{contact.name}},\n\nHere is how teams like {{account.name}} get the most value from the product; reply to this email and we will help with any of it.${signOff}`,
      },
      { kind: "task", title: "Check engagement with the resources sent", due_offset_days: 14 },
    ],
  },
  custom: { purpose: "Steps given by the caller.", steps: [] },
};

/**
 * The library body for an email step of `playbook` with this subject template, or null when
 * the step is not one of the library's (a custom or overridden step).
 */
export function libraryEmailBody(playbook: string, subjectTemplate: string): string | null {
  const definition = PLAYBOOK_LIBRARY[playbook as Playbook];
  const step = definition?.steps.find((s) => s.kind === "email" && s.title === subjectTemplate);
  return step?.body ?? null;
}
