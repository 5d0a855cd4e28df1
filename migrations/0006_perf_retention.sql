-- Reads of the retention tools at scale: pages read in index order (interventions, escalations), campaign
-- emails by origin and enrollments by day, accounts by ARR at risk, each account's latest risk score model.
CREATE INDEX IF NOT EXISTS `interventions_ws_opened` ON `interventions` (`workspace_id`, `opened_at`, `id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `escalations_ws_status_due_id` ON `escalations` (`workspace_id`, `status`, `sla_due_at`, `id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `outbox_ws_origin_account` ON `outbox_messages` (`workspace_id`, `origin`, `account_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `risk_scores_ws_account_model` ON `risk_scores` (`workspace_id`, `account_id`, `day`, `model_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `accounts_ws_arr_at_risk` ON `accounts` (`workspace_id`, `churn_probability` * `arr`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `campaign_enrollments_ws_campaign_enrolled` ON `campaign_enrollments` (`workspace_id`, `campaign_id`, `enrolled_at`);
