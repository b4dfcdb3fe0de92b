-- The archive's tables, beside the store's in the same database (and
-- schema). Identifiers and timestamps are compared byte by byte (COLLATE
-- "C"), as SQLite does: Slack's canonical ts (ten digits, a dot, six
-- digits) then sorts as text in time order, whatever the database's
-- locale.
CREATE TABLE archive_channels (
	id       text COLLATE "C" PRIMARY KEY,
	name     text COLLATE "C" NOT NULL,
	topic    text NOT NULL DEFAULT '',
	purpose  text NOT NULL DEFAULT '',
	created  bigint NOT NULL DEFAULT 0,              -- unix seconds
	archived boolean NOT NULL DEFAULT false,
	messages integer NOT NULL DEFAULT 0,             -- kept by PutMessages, Delete and Remove
	last     text COLLATE "C" NOT NULL DEFAULT ''    -- ts of the newest message, kept likewise
);
CREATE INDEX archive_channels_name ON archive_channels (name);

CREATE TABLE archive_users (
	id           text COLLATE "C" PRIMARY KEY,
	name         text NOT NULL DEFAULT '',
	real_name    text NOT NULL DEFAULT '',
	display_name text NOT NULL DEFAULT '',
	avatar       text NOT NULL DEFAULT '',
	bot          boolean NOT NULL DEFAULT false,
	deleted      boolean NOT NULL DEFAULT false,
	opted_out    boolean NOT NULL DEFAULT false
);
CREATE INDEX archive_users_opted_out ON archive_users (id) WHERE opted_out;

-- search is the message's search text as the app computes it (see
-- searchVector): folded words, CJK pairs and single characters, the words'
-- stems, and the channel (#ID) and author (@ID), as lexemes of the
-- 'simple' kind: PostgreSQL only indexes them.
CREATE TABLE archive_messages (
	channel   text COLLATE "C" NOT NULL,
	ts        text COLLATE "C" NOT NULL,
	thread_ts text COLLATE "C" NOT NULL DEFAULT '',
	user_id   text COLLATE "C" NOT NULL DEFAULT '',
	username  text NOT NULL DEFAULT '',
	bot_id    text NOT NULL DEFAULT '',
	subtype   text NOT NULL DEFAULT '',
	text      text NOT NULL DEFAULT '',
	edited    text COLLATE "C" NOT NULL DEFAULT '',
	files     text NOT NULL DEFAULT '', -- JSON array, '' when none
	reactions text NOT NULL DEFAULT '', -- JSON array, '' when none
	search    tsvector NOT NULL,
	PRIMARY KEY (channel, ts)
);
CREATE INDEX archive_messages_ts ON archive_messages (ts);
CREATE INDEX archive_messages_thread ON archive_messages (channel, thread_ts, ts) WHERE thread_ts <> '';
CREATE INDEX archive_messages_search ON archive_messages USING gin (search);

-- Messages removed at someone's request or deleted in Slack: never stored again.
CREATE TABLE archive_removed (
	channel text COLLATE "C" NOT NULL,
	ts      text COLLATE "C" NOT NULL,
	PRIMARY KEY (channel, ts)
);

CREATE TABLE archive_state (
	key   text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);
