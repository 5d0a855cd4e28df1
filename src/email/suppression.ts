/**
 * SQL for why an address must not be emailed, or NULL when it may be: a suppression row for the
 * address, or a contact (the addressed one, or any with that address) who unsubscribed, bounced
 * or reported spam. Addresses are compared in their canonical form (trimmed, lower case), the
 * form contacts and suppressions are stored in. Each lookup is served by an index:
 * `email_suppressions` by its key, contacts by id or by (workspace_id, email).
 *
 * The arguments are SQL expressions (placeholders or column references) for the workspace id,
 * the address and the contact id.
 */
export function suppressionReasonSql(workspace: string, email: string, contact: string): string {
  const flagged = "(c.unsubscribed = 1 OR c.bounced = 1 OR c.spam_reported = 1)";
  const reason = `CASE WHEN c.unsubscribed = 1 THEN 'contact unsubscribed'
    WHEN c.bounced = 1 THEN 'contact bounced' ELSE 'contact reported spam' END`;
  return `COALESCE(
    (SELECT 'address suppressed (' || s.reason || ')' FROM email_suppressions s
      WHERE s.workspace_id = ${workspace} AND s.email = ${email}),
    (SELECT ${reason} FROM contacts c WHERE c.workspace_id = ${workspace} AND c.id = ${contact} AND ${flagged}),
    (SELECT ${reason} FROM contacts c WHERE c.workspace_id = ${workspace} AND c.email = ${email} AND ${flagged} LIMIT 1))`;
}
