/**
 * The tables the expansion toolset writes: renewal reminders and offers.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt } from "../../platform/db/schema";

/** One renewal reminder per contract and offset (days before the renewal date), sent once. */
export const renewalReminders = sqliteTable(
  "renewal_reminders",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    contractId: text("contract_id").notNull(),
    accountId: text("account_id").notNull(),
    offsetDays: integer("offset_days").notNull(),
    /** The renewal date minus the offset: the day the reminder became due. */
    dueDay: text("due_day").notNull(),
    renewalDate: text("renewal_date").notNull(),
    status: text("status", { enum: ["queued", "sent", "acknowledged", "skipped"] })
      .notNull()
      .default("queued"),
    ownerUserId: text("owner_user_id"),
    taskId: text("task_id"),
    outboxId: text("outbox_id"),
    slackQueued: integer("slack_queued", { mode: "boolean" }).notNull().default(false),
    /** Why it was skipped or what failed, when it did. */
    note: text("note"),
    createdAt: createdAt(),
    sentAt: text("sent_at"),
    acknowledgedAt: text("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
  },
  (t) => [
    uniqueIndex("renewal_reminders_ws_contract_offset").on(t.workspaceId, t.contractId, t.offsetDays),
    index("renewal_reminders_ws_status").on(t.workspaceId, t.status, t.dueDay),
    index("renewal_reminders_ws_account").on(t.workspaceId, t.accountId),
  ],
);

/** Offers made while negotiating a renewal, and the final terms that create the next contract term. */
export const renewalOffers = sqliteTable(
  "renewal_offers",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    contractId: text("contract_id").notNull(),
    accountId: text("account_id").notNull(),
    termYears: integer("term_years").notNull().default(1),
    /** Annual recurring revenue of the offer. */
    arr: real("arr").notNull(),
    priceChangePct: real("price_change_pct").notNull().default(0),
    discountPct: real("discount_pct").notNull().default(0),
    /** Net present value of the offer's term at the workspace discount rate. */
    npv: real("npv"),
    status: text("status", { enum: ["proposed", "accepted", "rejected", "withdrawn"] })
      .notNull()
      .default("proposed"),
    notes: text("notes"),
    /** The contract term created when the offer was accepted. */
    nextContractId: text("next_contract_id"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    decidedAt: text("decided_at"),
  },
  (t) => [
    index("renewal_offers_ws_contract").on(t.workspaceId, t.contractId, t.createdAt),
    index("renewal_offers_ws_status").on(t.workspaceId, t.status, t.createdAt),
  ],
);
