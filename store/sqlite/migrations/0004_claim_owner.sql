-- 0004: a claim records its owner, as store/postgres's 0004: the replica
-- (heartbeat ID) that took it, so that an unconfirmed claim of a process
-- that died can be taken once its heartbeat is old (store.WithOwner)
-- rather than at the end of its lease: with SQLite, the restarted process
-- itself. The empty owner keeps only its lease.

ALTER TABLE claims ADD COLUMN owner TEXT NOT NULL DEFAULT '';
