-- 0004: a claim records its owner, the replica (heartbeat ID) that took it,
-- so that another replica may take an unconfirmed claim from an owner whose
-- heartbeat has stopped instead of waiting for its lease (store.WithOwner).
-- Claims taken before this migration, and by stores without an owner, have
-- the empty owner and keep only their lease.

ALTER TABLE claims ADD COLUMN owner text NOT NULL DEFAULT '';
