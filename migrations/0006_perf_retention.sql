-- Reads of the retention tools at scale: interventions paged newest first, and active escalations
-- paged by SLA due time, each read in index order up to the page instead of sorted whole.
CREATE INDEX IF NOT EXISTS `interventions_ws_opened` ON `interventions` (`workspace_id`, `opened_at`, `id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `escalations_ws_status_due_id` ON `escalations` (`workspace_id`, `status`, `sla_due_at`, `id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `outbox_ws_origin_account` ON `outbox_messages` (`workspace_id`, `origin`, `account_id`);
