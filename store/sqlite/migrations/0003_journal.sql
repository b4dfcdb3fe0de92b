-- 0003: the journal of acknowledged Slack requests (store.Journal).
-- Times are INTEGER microseconds since the Unix epoch (UTC); done_at is
-- NULL until the owner's handler has finished, taken_at is when the
-- current owner took the entry over from a dead one (NULL for the first).
-- With one process per file, nothing is ever taken over; the table is the
-- same as PostgreSQL's so the suite holds both to one contract.

CREATE TABLE journal (
	id          TEXT    NOT NULL PRIMARY KEY,
	owner       TEXT    NOT NULL,
	envelope    BLOB    NOT NULL,
	received_at INTEGER NOT NULL,
	taken_at    INTEGER,
	done_at     INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX journal_pending ON journal (received_at) WHERE done_at IS NULL;
CREATE INDEX journal_done ON journal (done_at) WHERE done_at IS NOT NULL;
