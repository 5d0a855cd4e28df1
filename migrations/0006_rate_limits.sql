-- Exact per-workspace quota counters: writes per hour and sends per day (calls per minute go through the
-- Rate Limiting binding). Old windows are deleted by the nightly purge.
CREATE TABLE `quota_counters` (
	`workspace_id` text NOT NULL,
	`kind` text NOT NULL,
	`window_start` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `kind`, `window_start`)
);
--> statement-breakpoint
CREATE INDEX `quota_counters_window` ON `quota_counters` (`window_start`);