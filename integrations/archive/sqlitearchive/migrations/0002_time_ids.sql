-- Speed for large archives (a million messages and more):
--
-- * A message's id is its time: (microseconds since 1970) * 256 + a slot
--   for the rare messages of other channels at the same microsecond (see
--   baseID). The search index's rowids are these ids, so date filters are
--   rowid ranges inside FTS5, "newest first" is rowid order, and the ts and
--   (user, ts) indexes are no longer needed. The table itself is kept in
--   (channel, ts) order, for day pages, threads and exports.
-- * The search index has a second column, meta, holding the channel
--   ("ch" + ID) and author ("us" + ID) of each message, so in: and from:
--   filters are matched inside FTS5 too. Ranking weighs it 0.
-- * A thread's parent keeps its reply count and latest reply, so day pages
--   do not count replies per message.
-- * Channel counters are kept by PutMessages, once per batch, instead of by
--   a trigger per inserted row.
--
-- The search index is rebuilt by the Go step of this migration
-- (reindexAll), since its text is folded and segmented by Go code.

DROP TRIGGER archive_messages_added;
DROP TRIGGER archive_messages_gone;
DROP INDEX archive_messages_thread;
DROP INDEX archive_messages_user;
DROP INDEX archive_messages_ts;

ALTER TABLE archive_messages RENAME TO archive_messages_old;
-- Kept in (channel, ts) order, so a channel's day is a few adjacent pages.
CREATE TABLE archive_messages (
	channel      TEXT NOT NULL,
	ts           TEXT NOT NULL,
	id           INTEGER NOT NULL, -- time order, the search index's rowid: see baseID
	thread_ts    TEXT NOT NULL DEFAULT '',
	user         TEXT NOT NULL DEFAULT '',
	username     TEXT NOT NULL DEFAULT '',
	bot_id       TEXT NOT NULL DEFAULT '',
	subtype      TEXT NOT NULL DEFAULT '',
	text         TEXT NOT NULL DEFAULT '',
	edited       TEXT NOT NULL DEFAULT '',
	files        TEXT, -- JSON array, NULL when none
	reactions    TEXT, -- JSON array, NULL when none
	reply_count  INTEGER NOT NULL DEFAULT 0,  -- replies stored under this message, kept by PutMessages
	latest_reply TEXT NOT NULL DEFAULT '',    -- ts of the newest of them
	PRIMARY KEY (channel, ts)
) STRICT, WITHOUT ROWID;
INSERT INTO archive_messages (channel, ts, id, thread_ts, user, username, bot_id, subtype, text, edited, files, reactions)
	SELECT channel, ts, (CAST(substr(ts, 1, 10) AS INTEGER) * 1000000 + CAST(substr(ts, 12, 6) AS INTEGER)) * 256
			+ row_number() OVER (PARTITION BY ts ORDER BY id) - 1,
		thread_ts, user, username, bot_id, subtype, text, edited, files, reactions
	FROM archive_messages_old ORDER BY channel, ts;
DROP TABLE archive_messages_old;
CREATE UNIQUE INDEX archive_messages_id ON archive_messages (id);
CREATE INDEX archive_messages_thread ON archive_messages (channel, thread_ts, ts) WHERE thread_ts <> '';

UPDATE archive_messages AS p SET reply_count = r.n, latest_reply = r.latest
	FROM (SELECT channel, thread_ts, count(*) AS n, max(ts) AS latest FROM archive_messages
		WHERE thread_ts <> '' AND thread_ts <> ts GROUP BY channel, thread_ts) AS r
	WHERE p.channel = r.channel AND p.ts = r.thread_ts;

CREATE INDEX archive_users_opted_out ON archive_users (id) WHERE opted_out;

DROP TABLE archive_fts;
CREATE VIRTUAL TABLE archive_fts USING fts5 (
	body,
	meta,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO archive_fts (archive_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)');

-- Deletions are rare (Delete, Remove): a trigger keeps the counters, the
-- search index and the thread's reply count.
CREATE TRIGGER archive_messages_gone AFTER DELETE ON archive_messages BEGIN
	UPDATE archive_channels SET messages = messages - 1,
		last = coalesce((SELECT max(ts) FROM archive_messages WHERE channel = old.channel), '')
	WHERE id = old.channel;
	DELETE FROM archive_fts WHERE rowid = old.id;
	UPDATE archive_messages SET (reply_count, latest_reply) = (
		SELECT count(*), coalesce(max(r.ts), '') FROM archive_messages r
		WHERE r.channel = old.channel AND r.thread_ts = old.thread_ts AND r.thread_ts <> '' AND r.ts <> old.thread_ts)
	WHERE old.thread_ts <> '' AND old.thread_ts <> old.ts AND channel = old.channel AND ts = old.thread_ts;
END;
