-- 0003: the journal of acknowledged Slack requests (store.Journal), as
-- store/sqlite's 0003. A row lives from just before its envelope's ack
-- until its handler finishes (then it is deleted), so the table holds only
-- the requests in flight, and needs no index but its key. taken_at is when
-- the current owner took the row over from a dead one (NULL for the
-- first owner).

CREATE TABLE journal (
	id          text        NOT NULL PRIMARY KEY,
	owner       text        NOT NULL,
	envelope    bytea       NOT NULL,
	received_at timestamptz NOT NULL,
	taken_at    timestamptz
);
