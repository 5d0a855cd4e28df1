/**
 * Segment (Webhooks destination, Segment spec; one message per receipt).
 *
 * | Segment                         | Data model                                                                 |
 * |---------------------------------|----------------------------------------------------------------------------|
 * | `group`                         | account upsert: external_id = groupId; traits.name → name (groupId when absent, on create only), traits.industry → industry, traits.employees → employees, traits.plan → plan, traits.website / traits.domain → domain (bare host) |
 * | `identify` (with userId)        | contact upsert: external_id = userId; traits.email → email (lower-cased), traits.name or firstName + lastName → name (email or userId on create when absent), traits.title → title; account: traits.groupId, traits.company.id, context.groupId (by external id) |
 * | `track`                         | usage event: feature = event name                                          |
 * | `page` / `screen`               | usage event: feature = name, else properties.name, else category, else the type itself |
 * | `alias`, anonymous `identify`   | nothing (no change)                                                       |
 *
 * Usage events: time = timestamp (else originalTimestamp, else receivedAt, else when we received
 * it); user = userId, else anonymousId; account = context.groupId, properties.account_id or
 * properties.groupId (by external id), else the account of the contact whose external_id is the
 * userId. The newer-than time of group/identify is `timestamp`.
 */

import {
  column,
  columnsOf,
  domainAt,
  emailAt,
  idAt,
  instantAt,
  numberAt,
  objectAt,
  pathAt,
  verbatimAt,
} from "../../ingest/read";
import {
  type AccountCandidate,
  type Change,
  type ColumnChange,
  type NormalizeContext,
  PayloadError,
} from "../../ingest/records";

/** Normalizes one Segment message. */
export function normalizeSegment(payload: unknown, context: NormalizeContext): Change[] {
  const message = objectAt(payload);
  const type = idAt(message?.type);
  if (!message || !type) throw new PayloadError("a Segment message needs a type");
  const at =
    instantAt(message.timestamp) ??
    instantAt(message.originalTimestamp) ??
    instantAt(message.receivedAt) ??
    context.receivedAt;
  const userId = idAt(message.userId);
  const traits = objectAt(message.traits) ?? objectAt(pathAt(message, "context", "traits")) ?? {};
  switch (type) {
    case "group":
      return [groupChange(message, traits, at)];
    case "identify":
      return userId ? [identifyChange(message, traits, userId, at)] : [];
    case "track":
    case "page":
    case "screen": {
      const feature = type === "track" ? idAt(message.event) : pageName(message);
      if (!feature)
        throw new PayloadError(`a Segment ${type} call needs ${type === "track" ? "an event name" : "a name"}`);
      const account: AccountCandidate[] = [];
      for (const groupId of [
        idAt(pathAt(message, "context", "groupId")),
        idAt(pathAt(message, "properties", "account_id")),
        idAt(pathAt(message, "properties", "groupId")),
      ]) {
        if (groupId) account.push({ by: "external_id", value: groupId });
      }
      if (userId) account.push({ by: "contact_external_id", value: userId });
      return [
        {
          kind: "usage_event",
          occurredAt: at,
          feature: feature.slice(0, 200),
          userRef: userId ?? idAt(message.anonymousId) ?? null,
          account,
        },
      ];
    }
    case "alias":
      return [];
    default:
      throw new PayloadError(`unknown Segment message type "${type.slice(0, 40)}"`);
  }
}

function pageName(message: Record<string, unknown>): string | undefined {
  return (
    idAt(message.name) ??
    idAt(pathAt(message, "properties", "name")) ??
    idAt(message.category) ??
    idAt(pathAt(message, "properties", "category")) ??
    idAt(message.type)
  );
}

function groupChange(message: Record<string, unknown>, traits: Record<string, unknown>, at: string): Change {
  const groupId = idAt(message.groupId);
  if (!groupId) throw new PayloadError("a Segment group call needs a groupId");
  const name = idAt(traits.name);
  const employees = numberAt(traits.employees);
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({
      industry: idAt(traits.industry),
      employees: employees !== undefined && Number.isInteger(employees) && employees >= 0 ? employees : undefined,
      plan: idAt(traits.plan),
      domain: domainAt(traits.website) ?? domainAt(traits.domain),
    }),
    name: name ? column(name) : column(groupId, "insert"),
  };
  return {
    kind: "row",
    table: "accounts",
    externalId: groupId,
    columns,
    sourceUpdatedAt: at,
    label: `Segment group ${groupId}`,
  };
}

function identifyChange(
  message: Record<string, unknown>,
  traits: Record<string, unknown>,
  userId: string,
  at: string,
): Change {
  const email = emailAt(traits.email);
  const fullName = [
    verbatimAt(traits.firstName) ?? verbatimAt(traits.first_name),
    verbatimAt(traits.lastName) ?? verbatimAt(traits.last_name),
  ]
    .filter((part): part is string => part !== undefined)
    .map((part) => part.trim())
    .join(" ");
  const name = idAt(traits.name) ?? (fullName || undefined);
  const columns: Record<string, ColumnChange> = {
    ...columnsOf({ email, title: idAt(traits.title) }),
    name: name ? column(name) : column(email ?? userId, "insert"),
  };
  const account: AccountCandidate[] = [];
  for (const groupId of [
    idAt(traits.groupId),
    idAt(pathAt(traits, "company", "id")),
    idAt(pathAt(message, "context", "groupId")),
  ]) {
    if (groupId) account.push({ by: "external_id", value: groupId });
  }
  return {
    kind: "row",
    table: "contacts",
    externalId: userId,
    columns,
    sourceUpdatedAt: at,
    ...(account.length > 0 ? { account } : {}),
    label: `Segment user ${userId}`,
  };
}
