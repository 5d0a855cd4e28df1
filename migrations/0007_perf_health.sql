-- Reads of the health and core tools at scale: accounts paged by id, or by name within a segment or band; an
-- account's latest meeting and ticket response times from indexes alone; latest activity, survey and health day by one seek.
CREATE INDEX IF NOT EXISTS `accounts_ws_id` ON `accounts` (`workspace_id`, `id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `activities_ws_account_kind_time` ON `activities` (`workspace_id`, `account_id`, `kind`, `occurred_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `activities_ws_time` ON `activities` (`workspace_id`, `occurred_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `survey_responses_ws_time` ON `survey_responses` (`workspace_id`, `responded_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `health_scores_ws_day` ON `health_scores` (`workspace_id`, `day`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `accounts_ws_segment_name` ON `accounts` (`workspace_id`, `segment`, `name`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `tickets_ws_account_created_response` ON `tickets` (`workspace_id`, `account_id`, `created_at`, `first_response_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `accounts_ws_band_name` ON `accounts` (`workspace_id`, `health_band`, `name`);
