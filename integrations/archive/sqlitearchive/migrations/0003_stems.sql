-- Stemming: the search index's body column also holds the stems of each
-- message's words (see archive.Stems: English, French, Spanish, Russian,
-- Arabic), so "volunteer" finds "volunteers" and اجتماع finds الاجتماع.
-- The index is rebuilt by the Go step of this migration (reindexAll).
DROP TABLE archive_fts;
CREATE VIRTUAL TABLE archive_fts USING fts5 (
	body,
	meta,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO archive_fts (archive_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
