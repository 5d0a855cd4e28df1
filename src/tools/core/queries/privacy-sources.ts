/**
 * Every table that stores something about a contact or an account, in one place: how its rows
 * are found for a contact and for an account (SQL conditions over named parameters), which of
 * its columns customers wrote, and what erasing a contact does to the contact's rows. Exports,
 * erasure previews and the erasure itself all read this list, so what an export shows is what an
 * erasure changes. A table added to the schema with a `contact_id`, a person's email or free
 * text about them belongs here.
 *
 * Contact parameters: `:ws`, `:contact` (its id), `:email` and `:ext` (its email and external id,
 * '' when it has none), `:name` (its name when long enough to search free text for, else ''),
 * `:accounts` (JSON array of the accounts its rows belong to); erasure adds `:anon` (the
 * anonymous record's id) and `:now`. Account parameters: `:ws`, `:account`.
 */

/** What the erasure writes in place of a person's text. */
export const ERASED_TEXT = "[erased]";
/** The name the anonymous record of an erased contact carries. */
export const ERASED_NAME = "Erased contact";

/** One table as privacy exports and erasure see it. */
export interface PrivacySource {
  table: string;
  /** The condition (besides `workspace_id = :ws`) of the rows about a contact, when it has any. */
  contact?: string;
  /** The condition of the rows about an account, when it has any. */
  account?: string;
  /** The contact condition picks rows by rowid (a union of index reads) and so drives the plan. */
  contactByRowid?: boolean;
  /** Columns written by customers: exported under `customer_text`. */
  customerText?: readonly string[];
  /**
   * The key an export pages the table's rows by (unique among a subject's rows): `rowid` unless
   * the table is WITHOUT ROWID, where it is the rest of its primary key.
   */
  key?: string;
  /** Columns exported through an expression instead of as they are. */
  exported?: Readonly<Record<string, string>>;
  /** Erasing a contact: the SET clause over its contact rows, or `delete`. */
  erase?: string | "delete";
  /** What erasing does to them, as the preview says it. */
  effect?: string;
}

/** The accounts of the contact's rows. */
const IN_ACCOUNTS = "account_id IN (SELECT value FROM json_each(:accounts))";

/** Whether any of `columns` holds the contact's full name or email (the email in any case). */
function mentions(columns: readonly string[]): string {
  return `(${columns
    .map((c) => `(:name <> '' AND instr(${c}, :name) > 0) OR (:email <> '' AND instr(lower(${c}), :email) > 0)`)
    .join(" OR ")})`;
}

/**
 * A column's text with the contact's full name and email replaced by {@link ERASED_TEXT}; text
 * that still holds the email in another case is replaced whole (SQLite's replace() is
 * case-sensitive).
 */
function scrubbed(column: string): string {
  return `CASE WHEN :email <> '' AND instr(lower(replace(${column}, :email, '${ERASED_TEXT}')), :email) > 0 THEN '${ERASED_TEXT}'
    ELSE replace(replace(${column}, :name, '${ERASED_TEXT}'), :email, '${ERASED_TEXT}') END`;
}

/** The SET items that scrub free-text columns, written `column = <scrubbed>`. */
function scrub(columns: readonly string[]): string {
  return columns.map((c) => `${c} = ${scrubbed(c)}`).join(", ");
}

const LINKED = "contact_id = :contact";
const RELINK = "contact_id = :anon";

/** Every source, in export order: the person and the account first, then their records. */
export const PRIVACY_SOURCES: readonly PrivacySource[] = [
  {
    table: "contacts",
    contact: "id = :contact",
    account: "account_id = :account",
    erase: `id = :anon, name = '${ERASED_NAME}', email = NULL, external_id = NULL, title = NULL`,
    effect: `kept as an anonymous record under a new id: name "${ERASED_NAME}", email, external id and title removed; role and flags kept`,
  },
  { table: "accounts", account: "id = :account" },
  { table: "account_stage_history", account: "account_id = :account" },
  { table: "contracts", account: "account_id = :account" },
  {
    table: "contract_items",
    account: "contract_id IN (SELECT id FROM contracts WHERE workspace_id = :ws AND account_id = :account)",
  },
  { table: "opportunities", account: "account_id = :account" },
  { table: "payments", account: "account_id = :account" },
  {
    table: "tickets",
    contact: LINKED,
    account: "account_id = :account",
    customerText: ["subject", "body"],
    erase: `${RELINK}, subject = '${ERASED_TEXT}', body = ''`,
    effect: "kept for counts and times; subject and body blanked, linked to the anonymous record",
  },
  {
    table: "survey_responses",
    contact: LINKED,
    account: "account_id = :account",
    customerText: ["comment"],
    erase: `${RELINK}, comment = NULL`,
    effect: "scores kept; comment removed, linked to the anonymous record",
  },
  {
    table: "feedback_items",
    contact: LINKED,
    account: "account_id = :account",
    customerText: ["title", "body"],
    erase: `${RELINK}, title = '${ERASED_TEXT}', body = ''`,
    effect: "kind, feature and status kept; title and body blanked, linked to the anonymous record",
  },
  {
    table: "activities",
    // As a union, so each half reads its own index (an OR across them reads the workspace's activities).
    contactByRowid: true,
    contact: `rowid IN (SELECT rowid FROM activities WHERE workspace_id = :ws AND ${LINKED}
      UNION ALL SELECT rowid FROM activities WHERE workspace_id = :ws AND ${IN_ACCOUNTS} AND ${mentions(["subject", "body"])})`,
    account: "account_id = :account",
    // An inbound activity (an email or call from the customer) holds their words.
    customerText: ["subject", "body"],
    erase: `contact_id = CASE WHEN ${LINKED} THEN :anon ELSE contact_id END,
      subject = CASE WHEN ${LINKED} THEN '${ERASED_TEXT}' ELSE ${scrubbed("subject")} END,
      body = CASE WHEN ${LINKED} THEN NULL ELSE ${scrubbed("body")} END`,
    effect:
      "their activities kept for engagement counts with subject and body blanked; the name and email removed from other activities of the account",
  },
  {
    table: "usage_events",
    contact: `${IN_ACCOUNTS} AND (${LINKED} OR (:ext <> '' AND user_ref = :ext) OR (:email <> '' AND user_ref = :email))`,
    account: "account_id = :account",
    erase: `contact_id = CASE WHEN ${LINKED} THEN :anon ELSE contact_id END, user_ref = :anon`,
    effect: "events kept; their user reference replaced by the anonymous record's id",
  },
  {
    table: "outbox_messages",
    contact: `${LINKED} OR (:email <> '' AND to_email = :email) OR (${IN_ACCOUNTS} AND ${mentions(["subject", "body_text", "body_html"])})`,
    account: "account_id = :account",
    erase: `contact_id = CASE WHEN ${LINKED} THEN :anon ELSE contact_id END,
      to_email = CASE WHEN ${LINKED} OR to_email = :email THEN '${ERASED_TEXT}' ELSE to_email END,
      subject = CASE WHEN ${LINKED} OR to_email = :email THEN '${ERASED_TEXT}' ELSE ${scrubbed("subject")} END,
      body_text = CASE WHEN ${LINKED} OR to_email = :email THEN '' ELSE ${scrubbed("body_text")} END,
      body_html = CASE WHEN ${LINKED} OR to_email = :email THEN NULL ELSE ${scrubbed("body_html")} END,
      error = CASE WHEN ${LINKED} OR to_email = :email THEN NULL ELSE error END`,
    effect:
      "delivery status kept; address, subject and body of their emails removed; the name and email removed from the account's other emails",
  },
  {
    table: "survey_invitations",
    contact: LINKED,
    account: "account_id = :account",
    erase: RELINK,
    effect: "kept for response rates, linked to the anonymous record",
  },
  {
    table: "email_suppressions",
    contact: ":email <> '' AND email = :email",
    erase: "delete",
    effect: "deleted (the tombstone keeps the person from being created and emailed again)",
  },
  {
    table: "tasks",
    contact: `${IN_ACCOUNTS} AND ${mentions(["title", "description"])}`,
    account: "account_id = :account",
    erase: scrub(["title", "description"]),
    effect: "the name and email removed from title and description",
  },
  {
    table: "escalations",
    contact: `${IN_ACCOUNTS} AND ${mentions(["title", "description", "root_cause", "resolution"])}`,
    account: "account_id = :account",
    erase: scrub(["title", "description", "root_cause", "resolution"]),
    effect: "the name and email removed from title, description, root cause and resolution",
  },
  {
    table: "escalation_events",
    contact: `escalation_id IN (SELECT id FROM escalations WHERE workspace_id = :ws AND ${IN_ACCOUNTS}) AND ${mentions(["note"])}`,
    account: "escalation_id IN (SELECT id FROM escalations WHERE workspace_id = :ws AND account_id = :account)",
    erase: scrub(["note"]),
    effect: "the name and email removed from notes",
  },
  {
    table: "interventions",
    contact: `${IN_ACCOUNTS} AND ${mentions(["reason"])}`,
    account: "account_id = :account",
    erase: scrub(["reason"]),
    effect: "the name and email removed from the reason",
  },
  {
    table: "intervention_steps",
    account: "intervention_id IN (SELECT id FROM interventions WHERE workspace_id = :ws AND account_id = :account)",
  },
  { table: "campaign_enrollments", account: "account_id = :account" },
  { table: "onboarding_plans", account: "account_id = :account" },
  {
    table: "onboarding_milestones",
    account: "plan_id IN (SELECT id FROM onboarding_plans WHERE workspace_id = :ws AND account_id = :account)",
  },
  { table: "renewal_reminders", account: "account_id = :account" },
  {
    table: "renewal_offers",
    account: "contract_id IN (SELECT id FROM contracts WHERE workspace_id = :ws AND account_id = :account)",
  },
  { table: "health_scores", account: "account_id = :account", key: "day" },
  { table: "risk_scores", account: "account_id = :account", key: "day" },
  { table: "usage_daily", account: "account_id = :account", key: "day" },
  { table: "usage_feature_daily", account: "account_id = :account", key: "day || '|' || feature" },
  { table: "feature_first_use", account: "account_id = :account", key: "feature" },
  { table: "usage_feature_running", account: "account_id = :account", key: "feature || '|' || day" },
  {
    // Raw provider deliveries are kept after processing; their payload may name the person anywhere.
    table: "webhook_receipts",
    contact: `payload IS NOT NULL AND ((:email <> '' AND instr(lower(payload), :email) > 0)
      OR (:ext <> '' AND instr(payload, json_quote(:ext)) > 0))`,
    customerText: ["payload"],
    exported: { payload: "substr(payload, 1, 20000)" },
    erase: `payload = NULL, processed_at = coalesce(processed_at, :now),
      error = CASE WHEN status = 'processed' THEN error ELSE 'payload erased with an erased contact' END,
      status = 'processed'`,
    effect: "payload removed; one not yet applied is marked processed so it is never applied",
  },
  {
    // Stored answers of write calls (kept a day): a response may quote the person.
    table: "idempotency_keys",
    contact: `(:email <> '' AND instr(lower(response), :email) > 0) OR (:name <> '' AND instr(response, :name) > 0)`,
    erase: "delete",
    effect: "deleted: a repeat of those calls runs again instead of replaying an answer that quoted the person",
  },
  {
    table: "dead_letters",
    contact: ":email <> '' AND instr(lower(body), :email) > 0",
    erase: "delete",
    effect: "deleted: a failed message addressed to the person is never replayed",
  },
];

/** The names of the tables an export can page, in export order. */
export const PRIVACY_TABLES = PRIVACY_SOURCES.map((source) => source.table) as [string, ...string[]];
