-- Full-text search over accounts, contacts, tickets, KB articles and feedback (FTS5, BM25).
-- `search_docs` maps each source row to a stable FTS rowid; triggers keep both in step.
CREATE TABLE `search_docs` (
	`doc_id` integer PRIMARY KEY AUTOINCREMENT,
	`workspace_id` text NOT NULL,
	`kind` text NOT NULL,
	`ref_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `search_docs_ref` ON `search_docs` (`kind`,`ref_id`);
--> statement-breakpoint
CREATE VIRTUAL TABLE `search_fts` USING fts5(title, body, tokenize = 'porter unicode61');
--> statement-breakpoint
CREATE TRIGGER `accounts_search_ai` AFTER INSERT ON `accounts` BEGIN
	INSERT INTO search_docs (workspace_id, kind, ref_id) VALUES (new.workspace_id, 'account', new.id);
	INSERT INTO search_fts (rowid, title, body) VALUES (last_insert_rowid(), new.name, coalesce(new.domain,'') || ' ' || coalesce(new.industry,'') || ' ' || coalesce(new.segment,'') || ' ' || coalesce(new.region,''));
END;
--> statement-breakpoint
CREATE TRIGGER `accounts_search_au` AFTER UPDATE OF name, domain, industry, segment, region ON `accounts` BEGIN
	UPDATE search_fts SET title = new.name, body = coalesce(new.domain,'') || ' ' || coalesce(new.industry,'') || ' ' || coalesce(new.segment,'') || ' ' || coalesce(new.region,'')
	WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'account' AND ref_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `accounts_search_ad` AFTER DELETE ON `accounts` BEGIN
	DELETE FROM search_fts WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'account' AND ref_id = old.id);
	DELETE FROM search_docs WHERE kind = 'account' AND ref_id = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_search_ai` AFTER INSERT ON `contacts` BEGIN
	INSERT INTO search_docs (workspace_id, kind, ref_id) VALUES (new.workspace_id, 'contact', new.id);
	INSERT INTO search_fts (rowid, title, body) VALUES (last_insert_rowid(), new.name, coalesce(new.email,'') || ' ' || coalesce(new.title,'') || ' ' || coalesce(new.role,''));
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_search_au` AFTER UPDATE OF name, email, title, role ON `contacts` BEGIN
	UPDATE search_fts SET title = new.name, body = coalesce(new.email,'') || ' ' || coalesce(new.title,'') || ' ' || coalesce(new.role,'')
	WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'contact' AND ref_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_search_ad` AFTER DELETE ON `contacts` BEGIN
	DELETE FROM search_fts WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'contact' AND ref_id = old.id);
	DELETE FROM search_docs WHERE kind = 'contact' AND ref_id = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `tickets_search_ai` AFTER INSERT ON `tickets` BEGIN
	INSERT INTO search_docs (workspace_id, kind, ref_id) VALUES (new.workspace_id, 'ticket', new.id);
	INSERT INTO search_fts (rowid, title, body) VALUES (last_insert_rowid(), new.subject, new.body || ' ' || coalesce(new.category,''));
END;
--> statement-breakpoint
CREATE TRIGGER `tickets_search_au` AFTER UPDATE OF subject, body, category ON `tickets` BEGIN
	UPDATE search_fts SET title = new.subject, body = new.body || ' ' || coalesce(new.category,'')
	WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'ticket' AND ref_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `tickets_search_ad` AFTER DELETE ON `tickets` BEGIN
	DELETE FROM search_fts WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'ticket' AND ref_id = old.id);
	DELETE FROM search_docs WHERE kind = 'ticket' AND ref_id = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `kb_articles_search_ai` AFTER INSERT ON `kb_articles` BEGIN
	INSERT INTO search_docs (workspace_id, kind, ref_id) VALUES (new.workspace_id, 'kb_article', new.id);
	INSERT INTO search_fts (rowid, title, body) VALUES (last_insert_rowid(), new.title, new.body || ' ' || coalesce(new.category,''));
END;
--> statement-breakpoint
CREATE TRIGGER `kb_articles_search_au` AFTER UPDATE OF title, body, category ON `kb_articles` BEGIN
	UPDATE search_fts SET title = new.title, body = new.body || ' ' || coalesce(new.category,'')
	WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'kb_article' AND ref_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `kb_articles_search_ad` AFTER DELETE ON `kb_articles` BEGIN
	DELETE FROM search_fts WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'kb_article' AND ref_id = old.id);
	DELETE FROM search_docs WHERE kind = 'kb_article' AND ref_id = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `feedback_items_search_ai` AFTER INSERT ON `feedback_items` BEGIN
	INSERT INTO search_docs (workspace_id, kind, ref_id) VALUES (new.workspace_id, 'feedback', new.id);
	INSERT INTO search_fts (rowid, title, body) VALUES (last_insert_rowid(), new.title, new.body || ' ' || coalesce(new.feature,''));
END;
--> statement-breakpoint
CREATE TRIGGER `feedback_items_search_au` AFTER UPDATE OF title, body, feature ON `feedback_items` BEGIN
	UPDATE search_fts SET title = new.title, body = new.body || ' ' || coalesce(new.feature,'')
	WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'feedback' AND ref_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `feedback_items_search_ad` AFTER DELETE ON `feedback_items` BEGIN
	DELETE FROM search_fts WHERE rowid = (SELECT doc_id FROM search_docs WHERE kind = 'feedback' AND ref_id = old.id);
	DELETE FROM search_docs WHERE kind = 'feedback' AND ref_id = old.id;
END;
