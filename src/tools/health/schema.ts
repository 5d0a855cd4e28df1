/**
 * The tables the health toolset writes: daily health scores.
 * Every tenant-owned row carries `workspace_id`; dates are ISO-8601 text; money is whole currency units.
 */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "../../platform/db/schema";

export const healthScores = sqliteTable(
  "health_scores",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    day: text("day").notNull(),
    score: real("score").notNull(),
    band: text("band", { enum: ["red", "yellow", "green"] }).notNull(),
    /** Per-component raw input, normalized value, weight and contribution. */
    components: text("components", { mode: "json" }).notNull().default("[]"),
    modelVersion: integer("model_version").notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.accountId, t.day] }),
    index("health_scores_ws_day").on(t.workspaceId, t.day),
  ],
);
