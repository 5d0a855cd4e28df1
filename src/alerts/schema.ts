/**
 * Slack alert deliveries.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Slack alerts delivered, one row per alert and destination, so a redelivered alert never posts twice. */
export const alertDeliveries = sqliteTable(
  "alert_deliveries",
  {
    workspaceId: text("workspace_id").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    /** The `slack` integration id, or `env` for the deployment's SLACK_WEBHOOK_URL. */
    destination: text("destination").notNull(),
    deliveredAt: text("delivered_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.idempotencyKey, t.destination] }),
    index("alert_deliveries_time").on(t.deliveredAt),
  ],
);
