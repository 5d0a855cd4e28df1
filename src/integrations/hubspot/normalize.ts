/**
 * HubSpot webhooks v3: the body is an array of events and each element is its own receipt.
 * Every change is keyed by `hubspot-<object>-<objectId>` external ids; `occurredAt` (ms) is the
 * newer-than time. Creation events carry no properties, so a row created from one is named by
 * its external id until its name arrives.
 *
 * | HubSpot event                                 | Data model                                                        |
 * |-----------------------------------------------|-------------------------------------------------------------------|
 * | `company.creation`                            | accounts row `hubspot-company-<id>`                               |
 * | `company.propertyChange` name / domain / website / industry / numberofemployees | name / domain (bare host) / domain / industry / employees |
 * | `contact.creation`                            | contacts row `hubspot-contact-<id>`                               |
 * | `contact.propertyChange` email / firstname / lastname / jobtitle | email / first word of name / rest of name / title |
 * | `contact.propertyChange` associatedcompanyid, `contact.associationChange` (CONTACT_TO_COMPANY) | the contact's account = `hubspot-company-<company id>` |
 * | `deal.creation`                               | opportunities row `hubspot-deal-<id>` (kind expansion)            |
 * | `deal.propertyChange` dealname / amount / dealstage / closedate / hs_deal_stage_probability | name / amount / stage (closedwon → status won, closedlost → lost, else open) / close_date / probability |
 * | `deal.associationChange` (DEAL_TO_COMPANY)    | the opportunity's account                                         |
 *
 * An opportunity needs an account: a deal event for a deal not stored yet whose company is not
 * known fails (and is retried) until its association arrives. Deletions, removed associations
 * and other properties change nothing.
 */

import {
  column,
  domainAt,
  emailAt,
  idAt,
  instantAt,
  numberAt,
  objectAt,
  textAt,
  unixMillisAt,
} from "../../ingest/read";
import { type Change, type ColumnChange, PayloadError, type RowChange } from "../../ingest/records";

/** Normalizes one element of a HubSpot webhook array. */
export function normalizeHubspot(payload: unknown): Change[] {
  const event = objectAt(payload);
  const subscriptionType = idAt(event?.subscriptionType);
  if (!event || !subscriptionType) throw new PayloadError("a HubSpot event needs a subscriptionType");
  const at = unixMillisAt(event.occurredAt);
  if (!at) throw new PayloadError("a HubSpot event needs occurredAt");
  const [object, action] = subscriptionType.split(".");
  const objectId = idAt(action === "associationChange" ? event.fromObjectId : event.objectId);
  if (!objectId) throw new PayloadError(`a HubSpot ${subscriptionType} event needs its object id`);
  const property = action === "propertyChange" ? idAt(event.propertyName) : undefined;
  const value = event.propertyValue;
  const base = { at, objectId };
  switch (object) {
    case "company":
      if (action === "creation") return [company(base, {})];
      if (action === "propertyChange" && property) {
        const columns = companyColumns(property, value);
        return columns ? [company(base, columns)] : [];
      }
      return [];
    case "contact":
      if (action === "creation") return [contact(base, {})];
      if (action === "propertyChange" && property === "associatedcompanyid") {
        const companyId = idAt(value);
        return companyId ? [{ ...contact(base, {}), account: [companyRef(companyId)] }] : [];
      }
      if (action === "propertyChange" && property) {
        const columns = contactColumns(property, value);
        return columns ? [contact(base, columns)] : [];
      }
      if (action === "associationChange") return association(event, "CONTACT_TO_COMPANY", contact(base, {}));
      return [];
    case "deal":
      if (action === "creation") return [deal(base, {})];
      if (action === "propertyChange" && property) {
        const columns = dealColumns(property, value);
        return columns ? [deal(base, columns)] : [];
      }
      if (action === "associationChange") return association(event, "DEAL_TO_COMPANY", deal(base, {}));
      return [];
    default:
      return [];
  }
}

interface Base {
  at: string;
  objectId: string;
}

function companyRef(companyId: string) {
  return { by: "external_id" as const, value: `hubspot-company-${companyId}` };
}

function association(event: Record<string, unknown>, expected: string, change: RowChange): Change[] {
  const companyId = idAt(event.toObjectId);
  if (event.associationType !== expected || event.associationRemoved === true || !companyId) return [];
  return [{ ...change, account: [companyRef(companyId)] }];
}

function company({ at, objectId }: Base, columns: Record<string, ColumnChange>): RowChange {
  const externalId = `hubspot-company-${objectId}`;
  return {
    kind: "row",
    table: "accounts",
    externalId,
    columns: { name: column(externalId, "insert"), ...columns },
    sourceUpdatedAt: at,
    label: `HubSpot company ${objectId}`,
  };
}

function companyColumns(property: string, value: unknown): Record<string, ColumnChange> | undefined {
  switch (property) {
    case "name": {
      const name = idAt(value);
      return name ? { name: column(name) } : undefined;
    }
    case "domain":
    case "website":
      return { domain: column(domainAt(value) ?? null) };
    case "industry":
      return { industry: column(idAt(value) ?? null) };
    case "numberofemployees": {
      const employees = numberAt(value);
      return {
        employees: column(employees !== undefined && Number.isInteger(employees) && employees >= 0 ? employees : null),
      };
    }
    default:
      return undefined;
  }
}

function contact({ at, objectId }: Base, columns: Record<string, ColumnChange>): RowChange {
  const externalId = `hubspot-contact-${objectId}`;
  return {
    kind: "row",
    table: "contacts",
    externalId,
    columns: { name: column(externalId, "insert"), ...columns },
    sourceUpdatedAt: at,
    label: `HubSpot contact ${objectId}`,
  };
}

function contactColumns(property: string, value: unknown): Record<string, ColumnChange> | undefined {
  switch (property) {
    case "email":
      return { email: column(emailAt(value) ?? null) };
    case "firstname": {
      const first = idAt(value);
      return first ? { name: column(first, "first_name") } : undefined;
    }
    case "lastname": {
      const last = idAt(value);
      return last ? { name: column(last, "last_name") } : undefined;
    }
    case "jobtitle":
      return { title: column(idAt(value) ?? null) };
    default:
      return undefined;
  }
}

function deal({ at, objectId }: Base, columns: Record<string, ColumnChange>): RowChange {
  const externalId = `hubspot-deal-${objectId}`;
  return {
    kind: "row",
    table: "opportunities",
    externalId,
    columns: { name: column(externalId, "insert"), kind: column("expansion", "insert"), ...columns },
    sourceUpdatedAt: at,
    accountRequired: true,
    label: `HubSpot deal ${objectId}`,
  };
}

function dealColumns(property: string, value: unknown): Record<string, ColumnChange> | undefined {
  switch (property) {
    case "dealname": {
      const name = idAt(value);
      return name ? { name: column(name) } : undefined;
    }
    case "amount":
      return { amount: column(numberAt(value) ?? 0) };
    case "dealstage": {
      const stage = idAt(value);
      if (!stage) return undefined;
      const status = stage === "closedwon" ? "won" : stage === "closedlost" ? "lost" : "open";
      return { stage: column(stage), status: column(status) };
    }
    case "closedate":
      return { close_date: column(hubspotDay(value) ?? null) };
    case "hs_deal_stage_probability": {
      const probability = numberAt(value);
      return {
        probability: column(probability !== undefined && probability >= 0 && probability <= 1 ? probability : null),
      };
    }
    default:
      return undefined;
  }
}

/** HubSpot sends dates as Unix milliseconds (as text) or as ISO text. */
function hubspotDay(value: unknown): string | undefined {
  const text = textAt(value)?.trim();
  if (!text) return undefined;
  return (/^\d+$/.test(text) ? unixMillisAt(text) : instantAt(text))?.slice(0, 10);
}
