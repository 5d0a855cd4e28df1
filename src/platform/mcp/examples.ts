/**
 * Ids of records a demo workspace holds, picked once per workspace (the generator names its
 * records after the workspace, so a sample call cannot spell them literally). A field is absent
 * when the workspace holds no such record.
 */
export interface DemoIds {
  /** An active account with tickets, contacts, a contract, usage and feature use. */
  accountId: string;
  /** A contact of that account. */
  contactId: string;
  /** An active contract of that account. */
  contractId: string;
  /** That account's segment, tier and owner (user id). */
  segment: string;
  tier: string;
  ownerId: string;
  /** A ticket of that account. */
  ticketId: string;
  /** A feature that account uses. */
  feature: string;
  escalationId: string;
  interventionId: string;
  campaignId: string;
  integrationId?: string;
  deadLetterId?: string;
  outboxMessageId?: string;
}

/** One sample call of a tool: realistic arguments on the demo workspace. */
export interface ToolExample {
  /** What the call asks, as a CSM would put it. */
  title: string;
  /** The arguments, from the demo's ids when the call names a record. */
  args: (ids: DemoIds) => Record<string, unknown>;
}

/**
 * A sample call's arguments on a workspace, or null when it names a record the workspace lacks
 * (its id is undefined there).
 */
export function exampleArgs(example: ToolExample, ids: DemoIds): Record<string, unknown> | null {
  const args = example.args(ids);
  return Object.values(args).some((value) => value === undefined) ? null : args;
}
