-- Retention: risk models and scores (risk_scores is WITHOUT ROWID like health_scores), interventions,
-- surveys and invitations, escalations and their timeline, automated campaigns and enrollments.
CREATE TABLE `campaign_enrollments` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`account_id` text NOT NULL,
	`enrolled_at` text NOT NULL,
	`trigger_snapshot` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`next_step` integer DEFAULT 0 NOT NULL,
	`responded_at` text,
	`completed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_enrollments_ws_campaign_account` ON `campaign_enrollments` (`workspace_id`,`campaign_id`,`account_id`);--> statement-breakpoint
CREATE INDEX `campaign_enrollments_ws_account` ON `campaign_enrollments` (`workspace_id`,`account_id`);--> statement-breakpoint
CREATE TABLE `escalation_events` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`escalation_id` text NOT NULL,
	`at` text NOT NULL,
	`kind` text NOT NULL,
	`actor_user_id` text,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `escalation_events_ws_escalation` ON `escalation_events` (`workspace_id`,`escalation_id`,`at`);--> statement-breakpoint
CREATE TABLE `escalations` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`ticket_id` text,
	`title` text NOT NULL,
	`description` text,
	`severity` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`owner_user_id` text,
	`sla_due_at` text NOT NULL,
	`opened_at` text NOT NULL,
	`resolved_at` text,
	`root_cause` text,
	`resolution` text,
	`reopen_count` integer DEFAULT 0 NOT NULL,
	`created_by` text
);
--> statement-breakpoint
CREATE INDEX `escalations_ws_status` ON `escalations` (`workspace_id`,`status`,`sla_due_at`);--> statement-breakpoint
CREATE INDEX `escalations_ws_account` ON `escalations` (`workspace_id`,`account_id`,`opened_at`);--> statement-breakpoint
CREATE INDEX `escalations_ws_opened` ON `escalations` (`workspace_id`,`opened_at`);--> statement-breakpoint
CREATE TABLE `intervention_steps` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`intervention_id` text NOT NULL,
	`position` integer NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`task_id` text,
	`outbox_id` text,
	`due_date` text,
	`completed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `intervention_steps_ws_position` ON `intervention_steps` (`workspace_id`,`intervention_id`,`position`);--> statement-breakpoint
CREATE TABLE `interventions` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`playbook` text NOT NULL,
	`owner_user_id` text,
	`status` text DEFAULT 'open' NOT NULL,
	`outcome` text,
	`reason` text,
	`arr_at_open` real DEFAULT 0 NOT NULL,
	`arr_at_close` real,
	`campaign_id` text,
	`opened_at` text NOT NULL,
	`closed_at` text,
	`created_by` text
);
--> statement-breakpoint
CREATE INDEX `interventions_ws_status` ON `interventions` (`workspace_id`,`status`,`opened_at`);--> statement-breakpoint
CREATE INDEX `interventions_ws_account` ON `interventions` (`workspace_id`,`account_id`);--> statement-breakpoint
CREATE INDEX `interventions_ws_playbook` ON `interventions` (`workspace_id`,`playbook`,`closed_at`);--> statement-breakpoint
CREATE TABLE `retention_campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`status` text DEFAULT 'paused' NOT NULL,
	`trigger` text NOT NULL,
	`steps` text NOT NULL,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`last_evaluated_at` text
);
--> statement-breakpoint
CREATE INDEX `retention_campaigns_ws_status` ON `retention_campaigns` (`workspace_id`,`status`);--> statement-breakpoint
CREATE TABLE `risk_models` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`version` integer NOT NULL,
	`kind` text NOT NULL,
	`calibrated` integer DEFAULT false NOT NULL,
	`horizon_days` integer NOT NULL,
	`features` text NOT NULL,
	`coefficients` text NOT NULL,
	`intercept` real NOT NULL,
	`metrics` text NOT NULL,
	`trained_at` text NOT NULL,
	`trained_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `risk_models_ws_version` ON `risk_models` (`workspace_id`,`version`);--> statement-breakpoint
CREATE TABLE `risk_scores` (
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`day` text NOT NULL,
	`model_id` text NOT NULL,
	`probability` real NOT NULL,
	`arr_at_risk` real DEFAULT 0 NOT NULL,
	`factors` text NOT NULL,
	`intervention` text,
	PRIMARY KEY(`workspace_id`, `account_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `risk_scores_ws_day` ON `risk_scores` (`workspace_id`,`day`,`probability`);--> statement-breakpoint
CREATE TABLE `survey_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`survey_id` text NOT NULL,
	`account_id` text,
	`contact_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`outbox_id` text,
	`sent_at` text,
	`responded_at` text,
	`response_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `survey_invitations_token` ON `survey_invitations` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `survey_invitations_ws_contact` ON `survey_invitations` (`workspace_id`,`survey_id`,`contact_id`);--> statement-breakpoint
CREATE TABLE `surveys` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`question` text NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`audience` text DEFAULT '{}' NOT NULL,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`sent_at` text
);
--> statement-breakpoint
CREATE INDEX `surveys_ws_created` ON `surveys` (`workspace_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `accounts` ADD `churn_probability` real;--> statement-breakpoint
CREATE INDEX `accounts_ws_churn` ON `accounts` (`workspace_id`,`churn_probability`);--> statement-breakpoint
ALTER TABLE `survey_responses` ADD `survey_id` text;--> statement-breakpoint
CREATE INDEX `survey_responses_ws_survey` ON `survey_responses` (`workspace_id`,`survey_id`);