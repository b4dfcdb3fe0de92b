-- 0002: replicas' heartbeats (store.Replicas), as store/sqlite's 0002.
-- connected_since is NULL while the replica is not connected to Slack.

CREATE TABLE replicas (
	id              text        NOT NULL PRIMARY KEY,
	host            text        NOT NULL,
	version         text        NOT NULL,
	state           text        NOT NULL,
	started_at      timestamptz NOT NULL,
	connected_since timestamptz,
	last_beat       timestamptz NOT NULL
);

CREATE INDEX replicas_last_beat ON replicas (last_beat);
