/** The account a contact of the workspace belongs to (null for none); null when there is no such contact. */
export async function findContactAccount(
  db: D1Database,
  workspaceId: string,
  contactId: string,
): Promise<{ account_id: string | null } | null> {
  return db
    .prepare("SELECT account_id FROM contacts WHERE workspace_id = ?1 AND id = ?2")
    .bind(workspaceId, contactId)
    .first<{ account_id: string | null }>();
}
