-- usage_daily, usage_feature_daily and health_scores are WITHOUT ROWID: the primary key is the
-- table's only copy of its key columns, which roughly halves their size (see README, Scale).
CREATE TABLE `account_stage_history` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`from_stage` text,
	`to_stage` text NOT NULL,
	`reason` text,
	`changed_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stage_history_account` ON `account_stage_history` (`workspace_id`,`account_id`,`changed_at`);--> statement-breakpoint
CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`external_id` text,
	`name` text NOT NULL,
	`domain` text,
	`industry` text,
	`employees` integer,
	`region` text,
	`plan` text,
	`segment` text,
	`tier` text,
	`lifecycle_stage` text DEFAULT 'onboarding' NOT NULL,
	`owner_user_id` text,
	`status` text DEFAULT 'active' NOT NULL,
	`arr` real DEFAULT 0 NOT NULL,
	`health_score` real,
	`health_band` text,
	`renewal_date` text,
	`customer_since` text,
	`churned_at` text,
	`source_updated_at` text,
	`custom_fields` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_ws_external` ON `accounts` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `accounts_ws_name` ON `accounts` (`workspace_id`,`name`);--> statement-breakpoint
CREATE INDEX `accounts_ws_arr` ON `accounts` (`workspace_id`,`arr`);--> statement-breakpoint
CREATE INDEX `accounts_ws_renewal` ON `accounts` (`workspace_id`,`renewal_date`);--> statement-breakpoint
CREATE INDEX `accounts_ws_health` ON `accounts` (`workspace_id`,`health_score`);--> statement-breakpoint
CREATE INDEX `accounts_ws_owner` ON `accounts` (`workspace_id`,`owner_user_id`);--> statement-breakpoint
CREATE INDEX `accounts_ws_segment` ON `accounts` (`workspace_id`,`segment`);--> statement-breakpoint
CREATE INDEX `accounts_ws_stage` ON `accounts` (`workspace_id`,`lifecycle_stage`);--> statement-breakpoint
CREATE INDEX `accounts_ws_domain` ON `accounts` (`workspace_id`,`domain`);--> statement-breakpoint
CREATE TABLE `activities` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`contact_id` text,
	`user_id` text,
	`kind` text NOT NULL,
	`direction` text,
	`subject` text NOT NULL,
	`body` text,
	`duration_minutes` integer,
	`occurred_at` text NOT NULL,
	`source` text DEFAULT 'manual' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `activities_ws_account_time` ON `activities` (`workspace_id`,`account_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `alert_deliveries` (
	`workspace_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`destination` text NOT NULL,
	`delivered_at` text NOT NULL,
	PRIMARY KEY(`workspace_id`, `idempotency_key`, `destination`)
);
--> statement-breakpoint
CREATE INDEX `alert_deliveries_time` ON `alert_deliveries` (`delivered_at`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`user_id` text,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`expires_at` text,
	`revoked_at` text,
	`last_used_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_ws_user` ON `api_keys` (`workspace_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`actor_user_id` text,
	`actor_key_id` text,
	`tool` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`details` text,
	`request_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_ws_time` ON `audit_log` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_ws_target` ON `audit_log` (`workspace_id`,`target_id`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text,
	`external_id` text,
	`name` text NOT NULL,
	`email` text,
	`title` text,
	`role` text,
	`is_champion` integer DEFAULT false NOT NULL,
	`is_decision_maker` integer DEFAULT false NOT NULL,
	`unsubscribed` integer DEFAULT false NOT NULL,
	`bounced` integer DEFAULT false NOT NULL,
	`last_seen_at` text,
	`left_at` text,
	`spam_reported` integer DEFAULT false NOT NULL,
	`source_updated_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_ws_external` ON `contacts` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `contacts_ws_account` ON `contacts` (`workspace_id`,`account_id`);--> statement-breakpoint
CREATE INDEX `contacts_ws_email` ON `contacts` (`workspace_id`,`email`);--> statement-breakpoint
CREATE TABLE `contract_items` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`contract_id` text NOT NULL,
	`product_id` text NOT NULL,
	`seats` integer DEFAULT 0 NOT NULL,
	`arr` real DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contract_items_contract_product` ON `contract_items` (`workspace_id`,`contract_id`,`product_id`);--> statement-breakpoint
CREATE INDEX `contract_items_product` ON `contract_items` (`workspace_id`,`product_id`);--> statement-breakpoint
CREATE TABLE `contracts` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`external_id` text,
	`start_date` text NOT NULL,
	`end_date` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`auto_renew` integer DEFAULT false NOT NULL,
	`arr` real DEFAULT 0 NOT NULL,
	`outcome` text,
	`outcome_reason` text,
	`outcome_date` text,
	`previous_contract_id` text,
	`source_updated_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contracts_ws_external` ON `contracts` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `contracts_ws_account` ON `contracts` (`workspace_id`,`account_id`,`end_date`);--> statement-breakpoint
CREATE INDEX `contracts_ws_end` ON `contracts` (`workspace_id`,`status`,`end_date`);--> statement-breakpoint
CREATE INDEX `contracts_ws_outcome` ON `contracts` (`workspace_id`,`outcome_date`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`body` text NOT NULL,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`status` text DEFAULT 'dead' NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`replayed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_queue_message` ON `dead_letters` (`queue`,`message_id`);--> statement-breakpoint
CREATE INDEX `dead_letters_ws` ON `dead_letters` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `email_suppressions` (
	`workspace_id` text NOT NULL,
	`email` text NOT NULL,
	`reason` text NOT NULL,
	`source` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`workspace_id`, `email`)
);
--> statement-breakpoint
CREATE TABLE `feedback_items` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text,
	`contact_id` text,
	`external_id` text,
	`source` text DEFAULT 'manual' NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`feature` text,
	`status` text DEFAULT 'new' NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `feedback_ws_external` ON `feedback_items` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `feedback_ws_account` ON `feedback_items` (`workspace_id`,`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `feedback_ws_created` ON `feedback_items` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `health_scores` (
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`day` text NOT NULL,
	`score` real NOT NULL,
	`band` text NOT NULL,
	`components` text DEFAULT '[]' NOT NULL,
	`model_version` integer DEFAULT 1 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`workspace_id`, `account_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`workspace_id` text NOT NULL,
	`key` text NOT NULL,
	`tool` text NOT NULL,
	`request_hash` text NOT NULL,
	`response` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`workspace_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `integrations` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`provider` text NOT NULL,
	`name` text NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`last_received_at` text,
	`accepted_count` integer DEFAULT 0 NOT NULL,
	`rejected_count` integer DEFAULT 0 NOT NULL,
	`failed_count` integer DEFAULT 0 NOT NULL,
	`rotated_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `integrations_ws` ON `integrations` (`workspace_id`,`provider`);--> statement-breakpoint
CREATE TABLE `job_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`cron` text NOT NULL,
	`scheduled_time` text NOT NULL,
	`status` text NOT NULL,
	`detail` text,
	`started_at` text NOT NULL,
	`finished_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `job_runs_cron_time` ON `job_runs` (`cron`,`scheduled_time`);--> statement-breakpoint
CREATE INDEX `job_runs_started` ON `job_runs` (`started_at`);--> statement-breakpoint
CREATE TABLE `kb_articles` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`external_id` text,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`category` text,
	`status` text DEFAULT 'draft' NOT NULL,
	`review_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `kb_ws_external` ON `kb_articles` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `kb_ws_status` ON `kb_articles` (`workspace_id`,`status`);--> statement-breakpoint
CREATE TABLE `onboarding_milestones` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`name` text NOT NULL,
	`position` integer NOT NULL,
	`due_date` text,
	`completed_at` text,
	`status` text DEFAULT 'pending' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `onboarding_milestones_plan` ON `onboarding_milestones` (`workspace_id`,`plan_id`,`position`);--> statement-breakpoint
CREATE TABLE `onboarding_plans` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`template` text,
	`start_date` text NOT NULL,
	`target_date` text,
	`status` text DEFAULT 'active' NOT NULL,
	`completed_at` text,
	`ttv_target_days` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `onboarding_plans_ws_account` ON `onboarding_plans` (`workspace_id`,`account_id`);--> statement-breakpoint
CREATE TABLE `opportunities` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`external_id` text,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`stage` text DEFAULT 'identified' NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`amount` real DEFAULT 0 NOT NULL,
	`probability` real,
	`close_date` text,
	`source_updated_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `opportunities_ws_external` ON `opportunities` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `opportunities_ws_account` ON `opportunities` (`workspace_id`,`account_id`,`status`);--> statement-breakpoint
CREATE TABLE `outbox_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`account_id` text,
	`contact_id` text,
	`to_email` text NOT NULL,
	`subject` text NOT NULL,
	`body_text` text NOT NULL,
	`body_html` text,
	`provider` text DEFAULT 'outbox' NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`provider_message_id` text,
	`origin` text DEFAULT 'manual' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`opened_at` text,
	`clicked_at` text,
	`error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`sent_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_ws_key` ON `outbox_messages` (`workspace_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `outbox_ws_created` ON `outbox_messages` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `outbox_provider_message` ON `outbox_messages` (`provider_message_id`);--> statement-breakpoint
CREATE INDEX `outbox_ws_account` ON `outbox_messages` (`workspace_id`,`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `outbox_ws_status` ON `outbox_messages` (`workspace_id`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text,
	`external_id` text NOT NULL,
	`customer_ref` text,
	`amount` real DEFAULT 0 NOT NULL,
	`currency` text,
	`status` text NOT NULL,
	`due_date` text,
	`paid_at` text,
	`failed_at` text,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`source_updated_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payments_ws_external` ON `payments` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `payments_ws_account` ON `payments` (`workspace_id`,`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `products` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`external_id` text,
	`name` text NOT NULL,
	`family` text,
	`kind` text DEFAULT 'plan' NOT NULL,
	`price` real DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `products_ws_external` ON `products` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `survey_responses` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text,
	`contact_id` text,
	`external_id` text,
	`kind` text NOT NULL,
	`score` integer NOT NULL,
	`comment` text,
	`responded_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `survey_responses_ws_external` ON `survey_responses` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `survey_responses_ws_account` ON `survey_responses` (`workspace_id`,`account_id`,`responded_at`);--> statement-breakpoint
CREATE INDEX `survey_responses_ws_kind_time` ON `survey_responses` (`workspace_id`,`kind`,`responded_at`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text,
	`title` text NOT NULL,
	`description` text,
	`owner_user_id` text,
	`due_date` text,
	`priority` text DEFAULT 'normal' NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`source` text DEFAULT 'manual' NOT NULL,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE INDEX `tasks_ws_status_due` ON `tasks` (`workspace_id`,`status`,`due_date`);--> statement-breakpoint
CREATE INDEX `tasks_ws_owner` ON `tasks` (`workspace_id`,`owner_user_id`,`status`);--> statement-breakpoint
CREATE INDEX `tasks_ws_account` ON `tasks` (`workspace_id`,`account_id`);--> statement-breakpoint
CREATE TABLE `tickets` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text,
	`contact_id` text,
	`external_id` text,
	`source` text DEFAULT 'manual' NOT NULL,
	`subject` text NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`status` text DEFAULT 'new' NOT NULL,
	`priority` text DEFAULT 'normal' NOT NULL,
	`category` text,
	`assignee` text,
	`csat_score` integer,
	`created_at` text NOT NULL,
	`first_response_at` text,
	`solved_at` text,
	`updated_at` text NOT NULL,
	`source_updated_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tickets_ws_external` ON `tickets` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `tickets_ws_account_created` ON `tickets` (`workspace_id`,`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `tickets_ws_status` ON `tickets` (`workspace_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tickets_ws_created` ON `tickets` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`day` text NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`active_users` integer DEFAULT 0 NOT NULL,
	`sessions` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `account_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_daily_ws_day` ON `usage_daily` (`workspace_id`,`day`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`contact_id` text,
	`user_ref` text,
	`event` text NOT NULL,
	`feature` text,
	`occurred_at` text NOT NULL,
	`message_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_ws_message` ON `usage_events` (`workspace_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `usage_events_ws_account_time` ON `usage_events` (`workspace_id`,`account_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `usage_events_ws_time` ON `usage_events` (`workspace_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `usage_feature_daily` (
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`day` text NOT NULL,
	`feature` text NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`active_users` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `account_id`, `day`, `feature`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_feature_ws_feature_day` ON `usage_feature_daily` (`workspace_id`,`feature`,`day`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text,
	`disabled_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_ws_email` ON `users` (`workspace_id`,`email`);--> statement-breakpoint
CREATE TABLE `webhook_receipts` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`provider` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text,
	`payload` text,
	`status` text DEFAULT 'queued' NOT NULL,
	`received_at` text NOT NULL,
	`requeued_at` text,
	`processed_at` text,
	`error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_receipts_event` ON `webhook_receipts` (`integration_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `webhook_receipts_ws_time` ON `webhook_receipts` (`workspace_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `webhook_receipts_status_time` ON `webhook_receipts` (`status`,`received_at`);--> statement-breakpoint
CREATE TABLE `workspace_settings_versions` (
	`workspace_id` text NOT NULL,
	`version` integer NOT NULL,
	`settings` text NOT NULL,
	`changed_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`workspace_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`settings` text DEFAULT '{}' NOT NULL,
	`settings_version` integer DEFAULT 1 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workspaces_slug_unique` ON `workspaces` (`slug`);