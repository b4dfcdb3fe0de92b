-- Kept files (TOWNHALL_ARCHIVE_FILES): the outcome of each fetch, by Slack
-- file ID (or "avatar:" + user ID), and which messages share each file, so
-- that removal and opt-out delete a blob once nothing uses it. The blobs
-- themselves lie on disk, named by sha256.
CREATE TABLE archive_files (
	id       TEXT COLLATE "C" PRIMARY KEY,
	sha256   TEXT NOT NULL DEFAULT '', -- hex; '' unless status = 'stored'
	name     TEXT NOT NULL DEFAULT '',
	mimetype TEXT NOT NULL DEFAULT '',
	size     BIGINT NOT NULL DEFAULT 0,
	width    INTEGER NOT NULL DEFAULT 0,
	height   INTEGER NOT NULL DEFAULT 0,
	status   TEXT NOT NULL,            -- stored, gone, skipped
	reason   TEXT NOT NULL DEFAULT '',
	source   TEXT NOT NULL DEFAULT '',
	user_id  TEXT NOT NULL DEFAULT '', -- who uploaded it (Slack's file.user), or the avatar's member
	fetched  BIGINT NOT NULL DEFAULT 0 -- unix seconds
);
CREATE INDEX archive_files_user ON archive_files (user_id) WHERE user_id <> '';
CREATE INDEX archive_files_sha256 ON archive_files (sha256) WHERE sha256 <> '';

CREATE TABLE archive_file_refs (
	file    TEXT NOT NULL,
	channel TEXT NOT NULL, -- '' for an avatar
	ts      TEXT NOT NULL,
	user_id TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (file, channel, ts)
);
CREATE INDEX archive_file_refs_message ON archive_file_refs (channel, ts);
CREATE INDEX archive_file_refs_user ON archive_file_refs (user_id);
