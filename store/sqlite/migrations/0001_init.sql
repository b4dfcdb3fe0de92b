-- 0001: claims, cursors, cache and settings.
-- Times are INTEGER microseconds since the Unix epoch (UTC).

CREATE TABLE claims (
	key          TEXT    NOT NULL PRIMARY KEY,
	claimed_at   INTEGER NOT NULL,
	lease_until  INTEGER NOT NULL,
	confirmed_at INTEGER            -- NULL until the work is confirmed done
) STRICT, WITHOUT ROWID;

CREATE INDEX claims_confirmed_at ON claims (confirmed_at) WHERE confirmed_at IS NOT NULL;
CREATE INDEX claims_unconfirmed_lease_until ON claims (lease_until) WHERE confirmed_at IS NULL;

CREATE TABLE cursors (
	name       TEXT    NOT NULL PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE cache (
	key        TEXT    NOT NULL PRIMARY KEY,
	value      BLOB    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX cache_expires_at ON cache (expires_at);

CREATE TABLE settings (
	key        TEXT    NOT NULL PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
