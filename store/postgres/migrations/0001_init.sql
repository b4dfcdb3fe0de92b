-- 0001: claims, cursors, cache and settings, as store/sqlite's 0001.
-- Times are timestamptz (microseconds, as store.Precision).

CREATE TABLE claims (
	key          text        NOT NULL PRIMARY KEY,
	claimed_at   timestamptz NOT NULL,
	lease_until  timestamptz NOT NULL,
	confirmed_at timestamptz            -- NULL until the work is confirmed done
);

CREATE INDEX claims_confirmed_at ON claims (confirmed_at) WHERE confirmed_at IS NOT NULL;
CREATE INDEX claims_unconfirmed_lease_until ON claims (lease_until) WHERE confirmed_at IS NULL;

CREATE TABLE cursors (
	name       text        NOT NULL PRIMARY KEY,
	value      text        NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE cache (
	key        text        NOT NULL PRIMARY KEY,
	value      bytea       NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX cache_expires_at ON cache (expires_at);

CREATE TABLE settings (
	key        text        NOT NULL PRIMARY KEY,
	value      text        NOT NULL,
	updated_at timestamptz NOT NULL
);
