-- Workspace-day usage totals, each account's first use of each feature, and running totals of feature rollups:
-- filled from the existing rollups, then kept in step by triggers on usage_daily / usage_feature_daily.
CREATE TABLE `feature_first_use` (
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`feature` text NOT NULL,
	`first_day` text NOT NULL,
	PRIMARY KEY(`workspace_id`, `account_id`, `feature`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `usage_feature_running` (
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`feature` text NOT NULL,
	`day` text NOT NULL,
	`events` integer NOT NULL,
	`events_to_date` integer NOT NULL,
	`days_to_date` integer NOT NULL,
	PRIMARY KEY(`workspace_id`, `account_id`, `feature`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `usage_workspace_daily` (
	`workspace_id` text NOT NULL,
	`day` text NOT NULL,
	`account_days` integer DEFAULT 0 NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`active_users` integer DEFAULT 0 NOT NULL,
	`sessions` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `feature_first_use` (workspace_id, account_id, feature, first_day)
	SELECT workspace_id, account_id, feature, min(day) FROM usage_feature_daily WHERE events > 0
	 GROUP BY workspace_id, account_id, feature;
--> statement-breakpoint
INSERT INTO `usage_feature_running` (workspace_id, account_id, feature, day, events, events_to_date, days_to_date)
	SELECT workspace_id, account_id, feature, day, events, sum(events) OVER prior, count(*) OVER prior
	  FROM usage_feature_daily WHERE events > 0
	WINDOW prior AS (PARTITION BY workspace_id, account_id, feature ORDER BY day ROWS UNBOUNDED PRECEDING);
--> statement-breakpoint
INSERT INTO `usage_workspace_daily` (workspace_id, day, account_days, events, active_users, sessions)
	SELECT workspace_id, day, count(*), sum(events), sum(active_users), sum(sessions) FROM usage_daily
	 GROUP BY workspace_id, day;
--> statement-breakpoint
CREATE TRIGGER `usage_workspace_daily_ai` AFTER INSERT ON `usage_daily` BEGIN
	INSERT INTO usage_workspace_daily (workspace_id, day, account_days, events, active_users, sessions)
	VALUES (new.workspace_id, new.day, 1, new.events, new.active_users, new.sessions)
	ON CONFLICT (workspace_id, day) DO UPDATE SET account_days = account_days + 1, events = events + excluded.events,
		active_users = active_users + excluded.active_users, sessions = sessions + excluded.sessions;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_workspace_daily_au` AFTER UPDATE ON `usage_daily` BEGIN
	UPDATE usage_workspace_daily SET account_days = account_days - 1, events = events - old.events,
		active_users = active_users - old.active_users, sessions = sessions - old.sessions
	WHERE workspace_id = old.workspace_id AND day = old.day;
	INSERT INTO usage_workspace_daily (workspace_id, day, account_days, events, active_users, sessions)
	VALUES (new.workspace_id, new.day, 1, new.events, new.active_users, new.sessions)
	ON CONFLICT (workspace_id, day) DO UPDATE SET account_days = account_days + 1, events = events + excluded.events,
		active_users = active_users + excluded.active_users, sessions = sessions + excluded.sessions;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_workspace_daily_ad` AFTER DELETE ON `usage_daily` BEGIN
	UPDATE usage_workspace_daily SET account_days = account_days - 1, events = events - old.events,
		active_users = active_users - old.active_users, sessions = sessions - old.sessions
	WHERE workspace_id = old.workspace_id AND day = old.day;
END;
--> statement-breakpoint
CREATE TRIGGER `feature_first_use_ai` AFTER INSERT ON `usage_feature_daily` WHEN new.events > 0 BEGIN
	INSERT INTO feature_first_use (workspace_id, account_id, feature, first_day)
	VALUES (new.workspace_id, new.account_id, new.feature, new.day)
	ON CONFLICT (workspace_id, account_id, feature) DO UPDATE SET first_day = min(first_day, excluded.first_day);
END;
--> statement-breakpoint
CREATE TRIGGER `feature_first_use_au` AFTER UPDATE ON `usage_feature_daily` WHEN new.events > 0 BEGIN
	INSERT INTO feature_first_use (workspace_id, account_id, feature, first_day)
	VALUES (new.workspace_id, new.account_id, new.feature, new.day)
	ON CONFLICT (workspace_id, account_id, feature) DO UPDATE SET first_day = min(first_day, excluded.first_day);
END;
--> statement-breakpoint
CREATE TRIGGER `feature_first_use_au_zero` AFTER UPDATE OF events ON `usage_feature_daily`
WHEN old.events > 0 AND new.events <= 0 BEGIN
	-- The first-use day lost its events: no earlier use exists and every later day is still
	-- retained, so the next retained day with events is the first use.
	DELETE FROM feature_first_use
	WHERE workspace_id = new.workspace_id AND account_id = new.account_id AND feature = new.feature AND first_day = new.day;
	INSERT INTO feature_first_use (workspace_id, account_id, feature, first_day)
	SELECT workspace_id, account_id, feature, min(day) FROM usage_feature_daily
	 WHERE workspace_id = new.workspace_id AND account_id = new.account_id AND feature = new.feature AND events > 0
	 GROUP BY workspace_id, account_id, feature
	ON CONFLICT (workspace_id, account_id, feature) DO NOTHING;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_feature_running_ai` AFTER INSERT ON `usage_feature_daily` WHEN new.events > 0 BEGIN
	INSERT INTO usage_feature_running (workspace_id, account_id, feature, day, events, events_to_date, days_to_date)
	SELECT new.workspace_id, new.account_id, new.feature, new.day, new.events,
		coalesce((SELECT events_to_date FROM usage_feature_running WHERE workspace_id = new.workspace_id
			AND account_id = new.account_id AND feature = new.feature AND day < new.day ORDER BY day DESC LIMIT 1), 0) + new.events,
		coalesce((SELECT days_to_date FROM usage_feature_running WHERE workspace_id = new.workspace_id
			AND account_id = new.account_id AND feature = new.feature AND day < new.day ORDER BY day DESC LIMIT 1), 0) + 1;
	UPDATE usage_feature_running SET events_to_date = events_to_date + new.events, days_to_date = days_to_date + 1
	WHERE workspace_id = new.workspace_id AND account_id = new.account_id AND feature = new.feature AND day > new.day;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_feature_running_au` AFTER UPDATE ON `usage_feature_daily` WHEN old.events > 0 OR new.events > 0 BEGIN
	-- Takes the old row out and puts the new one in, shifting the totals of later days both times.
	DELETE FROM usage_feature_running
	WHERE old.events > 0 AND workspace_id = old.workspace_id AND account_id = old.account_id AND feature = old.feature AND day = old.day;
	UPDATE usage_feature_running SET events_to_date = events_to_date - old.events, days_to_date = days_to_date - 1
	WHERE old.events > 0 AND workspace_id = old.workspace_id AND account_id = old.account_id AND feature = old.feature AND day > old.day;
	INSERT INTO usage_feature_running (workspace_id, account_id, feature, day, events, events_to_date, days_to_date)
	SELECT new.workspace_id, new.account_id, new.feature, new.day, new.events,
		coalesce((SELECT events_to_date FROM usage_feature_running WHERE workspace_id = new.workspace_id
			AND account_id = new.account_id AND feature = new.feature AND day < new.day ORDER BY day DESC LIMIT 1), 0) + new.events,
		coalesce((SELECT days_to_date FROM usage_feature_running WHERE workspace_id = new.workspace_id
			AND account_id = new.account_id AND feature = new.feature AND day < new.day ORDER BY day DESC LIMIT 1), 0) + 1
	WHERE new.events > 0;
	UPDATE usage_feature_running SET events_to_date = events_to_date + new.events, days_to_date = days_to_date + 1
	WHERE new.events > 0 AND workspace_id = new.workspace_id AND account_id = new.account_id AND feature = new.feature AND day > new.day;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_feature_running_ad` AFTER DELETE ON `usage_feature_daily` WHEN old.events > 0 BEGIN
	DELETE FROM usage_feature_running
	WHERE workspace_id = old.workspace_id AND account_id = old.account_id AND feature = old.feature AND day = old.day;
	-- Windows take differences of totals, so deleting a feature's oldest day (the purge) shifts nothing.
	UPDATE usage_feature_running SET events_to_date = events_to_date - old.events, days_to_date = days_to_date - 1
	WHERE workspace_id = old.workspace_id AND account_id = old.account_id AND feature = old.feature AND day > old.day
		AND EXISTS (SELECT 1 FROM usage_feature_running WHERE workspace_id = old.workspace_id
			AND account_id = old.account_id AND feature = old.feature AND day < old.day);
END;
