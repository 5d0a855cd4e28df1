CREATE TABLE `erased_contacts` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`contact_id` text NOT NULL,
	`email_hash` text,
	`external_id_hash` text,
	`erased_at` text NOT NULL,
	`erased_by` text NOT NULL,
	`pending_agents` text DEFAULT '[]' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `erased_contacts_ws_email` ON `erased_contacts` (`workspace_id`,`email_hash`);--> statement-breakpoint
CREATE INDEX `erased_contacts_ws_external` ON `erased_contacts` (`workspace_id`,`external_id_hash`);--> statement-breakpoint
CREATE INDEX `erased_contacts_ws_contact` ON `erased_contacts` (`workspace_id`,`contact_id`);--> statement-breakpoint
CREATE INDEX `activities_ws_contact` ON `activities` (`workspace_id`,`contact_id`);--> statement-breakpoint
CREATE INDEX `feedback_ws_contact` ON `feedback_items` (`workspace_id`,`contact_id`);--> statement-breakpoint
CREATE INDEX `survey_responses_ws_contact` ON `survey_responses` (`workspace_id`,`contact_id`);--> statement-breakpoint
CREATE INDEX `tickets_ws_contact` ON `tickets` (`workspace_id`,`contact_id`);