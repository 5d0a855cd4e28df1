import { and, eq } from "drizzle-orm";
import type { Db } from "../../../platform/db/client";
import { contacts } from "../../../schema";

/** The account a contact of the workspace belongs to (null for none); null when there is no such contact. */
export async function findContactAccount(
  db: Db,
  workspaceId: string,
  contactId: string,
): Promise<{ accountId: string | null } | null> {
  const [contact] = await db
    .select({ accountId: contacts.accountId })
    .from(contacts)
    .where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.id, contactId)));
  return contact ?? null;
}
