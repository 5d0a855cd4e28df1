-- Expansion: renewal reminders (one per contract and offset) and renewal offers; opportunities gain
-- product, source and score for the opportunities the expansion tools identify.
CREATE TABLE `renewal_offers` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`contract_id` text NOT NULL,
	`account_id` text NOT NULL,
	`term_years` integer DEFAULT 1 NOT NULL,
	`arr` real NOT NULL,
	`price_change_pct` real DEFAULT 0 NOT NULL,
	`discount_pct` real DEFAULT 0 NOT NULL,
	`npv` real,
	`status` text DEFAULT 'proposed' NOT NULL,
	`notes` text,
	`next_contract_id` text,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`decided_at` text
);
--> statement-breakpoint
CREATE INDEX `renewal_offers_ws_contract` ON `renewal_offers` (`workspace_id`,`contract_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `renewal_offers_ws_status` ON `renewal_offers` (`workspace_id`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `renewal_reminders` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`contract_id` text NOT NULL,
	`account_id` text NOT NULL,
	`offset_days` integer NOT NULL,
	`due_day` text NOT NULL,
	`renewal_date` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`owner_user_id` text,
	`task_id` text,
	`outbox_id` text,
	`slack_queued` integer DEFAULT false NOT NULL,
	`note` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`sent_at` text,
	`acknowledged_at` text,
	`acknowledged_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `renewal_reminders_ws_contract_offset` ON `renewal_reminders` (`workspace_id`,`contract_id`,`offset_days`);--> statement-breakpoint
CREATE INDEX `renewal_reminders_ws_status` ON `renewal_reminders` (`workspace_id`,`status`,`due_day`);--> statement-breakpoint
CREATE INDEX `renewal_reminders_ws_account` ON `renewal_reminders` (`workspace_id`,`account_id`);--> statement-breakpoint
ALTER TABLE `opportunities` ADD `product_id` text;--> statement-breakpoint
ALTER TABLE `opportunities` ADD `source` text DEFAULT 'manual' NOT NULL;--> statement-breakpoint
ALTER TABLE `opportunities` ADD `score` real;--> statement-breakpoint
CREATE INDEX `opportunities_ws_kind` ON `opportunities` (`workspace_id`,`kind`,`status`);