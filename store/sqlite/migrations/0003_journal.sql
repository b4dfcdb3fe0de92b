-- 0003: the journal of acknowledged Slack requests (store.Journal).
-- Times are INTEGER microseconds since the Unix epoch (UTC). A row lives
-- from just before its envelope's ack until its handler finishes, so the
-- table holds only the requests in flight; taken_at is when the current
-- owner took it over from a dead one (NULL for the first). townhall keeps
-- no journal on SQLite (one process: nobody is left to replay), but the
-- table is PostgreSQL's, so the suite holds both drivers to one contract.

CREATE TABLE journal (
	id          TEXT    NOT NULL PRIMARY KEY,
	owner       TEXT    NOT NULL,
	envelope    BLOB    NOT NULL,
	received_at INTEGER NOT NULL,
	taken_at    INTEGER
) STRICT, WITHOUT ROWID;
