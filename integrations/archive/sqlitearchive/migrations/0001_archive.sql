-- The archive's own tables, beside the store's in the same database file.
CREATE TABLE archive_channels (
	id       TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	topic    TEXT NOT NULL DEFAULT '',
	purpose  TEXT NOT NULL DEFAULT '',
	created  INTEGER NOT NULL DEFAULT 0, -- unix seconds
	archived INTEGER NOT NULL DEFAULT 0,
	messages INTEGER NOT NULL DEFAULT 0, -- kept by triggers
	last     TEXT NOT NULL DEFAULT ''    -- ts of the newest message, kept by triggers
) STRICT;
CREATE INDEX archive_channels_name ON archive_channels (name);

CREATE TABLE archive_users (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL DEFAULT '',
	real_name    TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	avatar       TEXT NOT NULL DEFAULT '',
	bot          INTEGER NOT NULL DEFAULT 0,
	deleted      INTEGER NOT NULL DEFAULT 0,
	opted_out    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX archive_users_name ON archive_users (name);

-- ts is Slack's timestamp in its canonical form (ten digits, a dot, six
-- digits), so text order is time order.
CREATE TABLE archive_messages (
	id        INTEGER PRIMARY KEY,
	channel   TEXT NOT NULL,
	ts        TEXT NOT NULL,
	thread_ts TEXT NOT NULL DEFAULT '',
	user      TEXT NOT NULL DEFAULT '',
	username  TEXT NOT NULL DEFAULT '',
	bot_id    TEXT NOT NULL DEFAULT '',
	subtype   TEXT NOT NULL DEFAULT '',
	text      TEXT NOT NULL DEFAULT '',
	edited    TEXT NOT NULL DEFAULT '',
	files     TEXT, -- JSON array, NULL when none
	reactions TEXT, -- JSON array, NULL when none
	UNIQUE (channel, ts)
) STRICT;
CREATE INDEX archive_messages_thread ON archive_messages (channel, thread_ts, ts) WHERE thread_ts <> '';
CREATE INDEX archive_messages_user ON archive_messages (user, ts);
CREATE INDEX archive_messages_ts ON archive_messages (ts);

-- Messages removed at someone's request or deleted in Slack: never stored again.
CREATE TABLE archive_removed (
	channel TEXT NOT NULL,
	ts      TEXT NOT NULL,
	PRIMARY KEY (channel, ts)
) STRICT, WITHOUT ROWID;

CREATE TABLE archive_state (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- The search index: folded, CJK-segmented text (see archive.Tokens), with
-- the message's id as rowid. Contentless: the text lives in archive_messages.
CREATE VIRTUAL TABLE archive_fts USING fts5 (
	body,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER archive_messages_added AFTER INSERT ON archive_messages BEGIN
	INSERT INTO archive_channels (id, name) VALUES (new.channel, new.channel) ON CONFLICT DO NOTHING;
	UPDATE archive_channels SET messages = messages + 1, last = max(last, new.ts) WHERE id = new.channel;
END;
CREATE TRIGGER archive_messages_gone AFTER DELETE ON archive_messages BEGIN
	UPDATE archive_channels SET messages = messages - 1,
		last = coalesce((SELECT max(ts) FROM archive_messages WHERE channel = old.channel), '')
	WHERE id = old.channel;
	DELETE FROM archive_fts WHERE rowid = old.id;
END;
