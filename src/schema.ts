/**
 * The relational system of record (D1), gathered from its owners: the platform, the shared
 * records, integrations, outbound email and alerts, and each toolset's own tables. drizzle-kit
 * reads this file. Every filter and sort a tool uses has an index.
 */
export * from "./alerts/schema";
export * from "./email/schema";
export * from "./integrations/schema";
export * from "./platform/db/schema";
export * from "./records/schema";
export * from "./tools/expansion/schema";
export * from "./tools/health/schema";
export * from "./tools/retention/schema";
