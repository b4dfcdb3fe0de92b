-- 0002: replicas' heartbeats (store.Replicas).
-- Times are INTEGER microseconds since the Unix epoch (UTC);
-- connected_since is NULL while the replica is not connected to Slack.

CREATE TABLE replicas (
	id              TEXT    NOT NULL PRIMARY KEY,
	host            TEXT    NOT NULL,
	version         TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	started_at      INTEGER NOT NULL,
	connected_since INTEGER,
	last_beat       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX replicas_last_beat ON replicas (last_beat);
