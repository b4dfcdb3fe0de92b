-- 0003: the journal of acknowledged Slack requests (store.Journal), as
-- store/sqlite's 0003. done_at is NULL until the owner's handler has
-- finished; taken_at is when the current owner took the entry over from a
-- dead one (NULL for the first owner).

CREATE TABLE journal (
	id          text        NOT NULL PRIMARY KEY,
	owner       text        NOT NULL,
	envelope    bytea       NOT NULL,
	received_at timestamptz NOT NULL,
	taken_at    timestamptz,
	done_at     timestamptz
);

CREATE INDEX journal_pending ON journal (received_at) WHERE done_at IS NULL;
CREATE INDEX journal_done ON journal (done_at) WHERE done_at IS NOT NULL;
