-- Indexes the read tools use at 10,000 accounts: pages in index order (accounts by segment, band or id;
-- escalations, interventions), per-account time lookups, and replacements of indexes they extend.
DROP INDEX `accounts_ws_segment`;--> statement-breakpoint
CREATE INDEX `accounts_ws_segment_name` ON `accounts` (`workspace_id`,`segment`,`name`);--> statement-breakpoint
CREATE INDEX `accounts_ws_band_name` ON `accounts` (`workspace_id`,`health_band`,`name`);--> statement-breakpoint
CREATE INDEX `accounts_ws_id` ON `accounts` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `accounts_ws_arr_at_risk` ON `accounts` (`workspace_id`,"churn_probability" * "arr");--> statement-breakpoint
DROP INDEX `escalations_ws_status`;--> statement-breakpoint
CREATE INDEX `escalations_ws_status_due_id` ON `escalations` (`workspace_id`,`status`,`sla_due_at`,`id`);--> statement-breakpoint
DROP INDEX `tickets_ws_account_created`;--> statement-breakpoint
CREATE INDEX `tickets_ws_account_created_response` ON `tickets` (`workspace_id`,`account_id`,`created_at`,`first_response_at`);--> statement-breakpoint
CREATE INDEX `activities_ws_account_kind_time` ON `activities` (`workspace_id`,`account_id`,`kind`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `activities_ws_time` ON `activities` (`workspace_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `campaign_enrollments_ws_campaign_enrolled` ON `campaign_enrollments` (`workspace_id`,`campaign_id`,`enrolled_at`);--> statement-breakpoint
CREATE INDEX `health_scores_ws_day` ON `health_scores` (`workspace_id`,`day`);--> statement-breakpoint
CREATE INDEX `interventions_ws_opened` ON `interventions` (`workspace_id`,`opened_at`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_ws_origin_account` ON `outbox_messages` (`workspace_id`,`origin`,`account_id`);--> statement-breakpoint
CREATE INDEX `risk_scores_ws_account_model` ON `risk_scores` (`workspace_id`,`account_id`,`day`,`model_id`);--> statement-breakpoint
CREATE INDEX `survey_responses_ws_time` ON `survey_responses` (`workspace_id`,`responded_at`);