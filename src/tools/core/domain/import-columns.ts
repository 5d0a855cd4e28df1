/**
 * The columns an imported (or generic-webhook) record may set, per table, and those that are NOT
 * NULL (an empty value leaves them as stored). Shared by `import_records` and the events
 * consumer so both write the same fields.
 */
export const RECORD_COLUMNS = {
  accounts: {
    columns: [
      "name",
      "domain",
      "industry",
      "employees",
      "region",
      "plan",
      "segment",
      "tier",
      "lifecycle_stage",
      "status",
      "customer_since",
      "churned_at",
    ],
    notNull: ["lifecycle_stage", "status"],
  },
  contacts: {
    columns: [
      "name",
      "email",
      "title",
      "role",
      "is_champion",
      "is_decision_maker",
      "unsubscribed",
      "bounced",
      "last_seen_at",
      "left_at",
    ],
    notNull: ["is_champion", "is_decision_maker", "unsubscribed", "bounced"],
  },
  tickets: {
    columns: [
      "source",
      "subject",
      "body",
      "status",
      "priority",
      "category",
      "assignee",
      "csat_score",
      "created_at",
      "first_response_at",
      "solved_at",
      "updated_at",
    ],
    notNull: ["source", "body", "status", "priority", "updated_at"],
  },
  survey_responses: { columns: ["kind", "score", "comment", "responded_at"], notNull: [] },
  feedback_items: {
    columns: ["source", "kind", "title", "body", "feature", "status", "created_at"],
    notNull: ["source", "body", "status"],
  },
} as const satisfies Record<string, { columns: readonly string[]; notNull: readonly string[] }>;
