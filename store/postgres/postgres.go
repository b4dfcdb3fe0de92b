// Package postgres is the store.Driver for PostgreSQL, for several
// replicas of one townhall sharing one database (SQLite allows one writer
// process). It uses pgx v5 through a pgxpool.Pool.
//
// Claims are single statements (INSERT … ON CONFLICT … DO UPDATE … WHERE),
// so of any number of replicas claiming one key at once exactly one wins:
// PostgreSQL serialises the conflicting upserts on the row. Times are
// timestamptz, whose microseconds are store.Precision. The schema is
// versioned, embedded migrations, applied when the database is opened in
// one transaction under an advisory lock, so replicas starting together
// migrate once and the others wait for it.
//
// This package imports only store and the standard library besides pgx; it
// must never import slackapp, scheduler or anything under integrations.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/townhall/townhall/store"
)

// migrationFiles holds the schema (see store.LoadMigrations).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// journalConns is the size of the journal's own pool: two group writes
// of new entries and two of finished ones can be in flight at once (see
// slackapp's journal writer).
const journalConns = 4

// migrationLock is the advisory lock key under which migrations run: any
// fixed 64-bit number, the same in every replica ("townhall" in ASCII).
const migrationLock = 0x746f776e68616c6c

var _ store.Driver = (*Driver)(nil)

// Driver is a store.Driver over a PostgreSQL database. Build one with Open;
// it is safe for concurrent use.
type Driver struct {
	pool *pgxpool.Pool
	// journal is a small pool of its own for the journal's writes, which
	// every acknowledgement waits for: they must never queue behind the
	// handlers' claims for a connection of pool.
	journal *pgxpool.Pool

	closeOnce sync.Once
}

// Open connects to the database at url (postgres://user:pass@host/db?…,
// or the key=value form pgx reads), migrates its schema under an advisory
// lock and returns the Driver. Errors never carry the password.
func Open(ctx context.Context, url string) (*Driver, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's error quotes the string, password and all where its
		// redaction cannot find it: say only what to write.
		return nil, fmt.Errorf("postgres: %s: not a PostgreSQL URL (write it as postgres://user:password@host:5432/database)", Redact(url))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(url), err)
	}
	jcfg := cfg.Copy()
	// Opened ahead (MinConns): connecting (a backend forked) can take
	// longer than Slack's whole ack deadline on a busy host.
	jcfg.MaxConns, jcfg.MinConns = journalConns, journalConns
	// Its commits do not wait for the disk (see journal.go): set for its
	// sessions at connection time, so each write is one statement.
	jcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	journal, err := pgxpool.NewWithConfig(ctx, jcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(url), err)
	}
	d := &Driver{pool: pool, journal: journal}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("postgres: %s: %w", Redact(url), err)
	}
	return d, nil
}

// OpenStore opens the database at url as Open does and returns a ready
// Store over it; closing the Store closes the pool.
func OpenStore(ctx context.Context, url string, opts ...store.Option) (*store.Store, error) {
	d, err := Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return store.New(d, opts...), nil
}

// Redact returns a PostgreSQL URL without its password, for logs, errors
// and `townhall check`: postgres://townhall:xxxxx@db.example.org/townhall.
// A key=value connection string is reduced to its host and database.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		cfg, err := pgconn.ParseConfig(raw)
		if err != nil {
			return "(a PostgreSQL connection string that does not parse)"
		}
		return fmt.Sprintf("host=%s port=%d dbname=%s", cfg.Host, cfg.Port, cfg.Database)
	}
	return store.PostgresURL(raw).String()
}

// migrate brings the schema up to date in one transaction, holding the
// advisory lock so that one replica migrates while the others wait.
func (d *Driver) migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return Migrate(ctx, d.pool, migrationLock, ms)
}

// Migrate applies ms to the database of pool in one transaction, under
// the transaction-scoped advisory lock lock (so concurrent callers apply
// them once: the others wait, then find nothing to do). Applied versions
// are recorded in schema_migrations, named by the lock, so that several
// schemas' migrations (the store's, the archive's) can share a database.
// A database newer than ms is refused.
func Migrate(ctx context.Context, pool *pgxpool.Pool, lock int64, ms []store.Migration) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lock); err != nil {
			return fmt.Errorf("lock for migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			CREATE TABLE IF NOT EXISTS schema_migrations (
				lock       bigint      NOT NULL,
				version    integer     NOT NULL,
				name       text        NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now(),
				PRIMARY KEY (lock, version)
			)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations WHERE lock = $1`, lock).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this townhall's (%d): run a newer townhall", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (lock, version, name) VALUES ($1, $2, $3)`, lock, m.Version, m.Name); err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// Pool returns the driver's connection pool, for packages that keep their
// own tables in the same database (the archive).
func (d *Driver) Pool() *pgxpool.Pool { return d.pool }

// Ping implements store.Driver. A connection whose link dropped fails its
// first use, and a pool after an outage may hold several such idle ones
// (pgxpool checks only those idle for a second or more): so after a
// failure both pools drop every connection, and the ping is tried once
// more on a fresh one.
func (d *Driver) Ping(ctx context.Context) error {
	err := d.pool.Ping(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	d.pool.Reset()
	d.journal.Reset()
	return d.pool.Ping(ctx)
}

// Close implements store.Driver. It is safe to call more than once.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		d.journal.Close()
		d.pool.Close()
	})
	return nil
}

// ClaimAcquire implements store.Driver: one upsert, which PostgreSQL
// serialises on the row, so of concurrent callers in any number of
// processes at most one wins. Of two callers taking a dead owner's claim,
// the second re-checks the row the first updated, whose claimed_at is now,
// and loses.
func (d *Driver) ClaimAcquire(ctx context.Context, p store.ClaimAcquireParams) (bool, error) {
	// A claim that must lose (done, or held by a live lease of a live
	// owner) inserts no row, so it locks nothing and writes no WAL:
	// redeliveries and done scheduler ticks cost a read. A race between
	// two takers is still settled by the conflict clause.
	tag, err := d.pool.Exec(ctx, `
		INSERT INTO claims (key, claimed_at, lease_until, confirmed_at, owner)
		SELECT $1, $2, $3, NULL, $4
		WHERE NOT EXISTS (SELECT 1 FROM claims c
			WHERE c.key = $1 AND (c.confirmed_at IS NOT NULL OR (c.lease_until > $2 AND NOT (`+deadOwner("c", "$4", "$5")+`))))
		ON CONFLICT (key) DO UPDATE
			SET claimed_at = excluded.claimed_at, lease_until = excluded.lease_until, owner = excluded.owner
			WHERE claims.confirmed_at IS NULL
				AND (claims.lease_until <= excluded.claimed_at OR (`+deadOwner("claims", "$4", "$5")+`))`,
		p.Key, p.Now, p.Until, p.Owner, p.OwnerDeadBefore)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// deadOwner is the condition under which the claim row c belongs to a dead
// owner (store.Driver.ClaimAcquire), for the caller owner and the time
// deadBefore (OwnerDeadBefore), both SQL expressions: the owner's last
// sign of life, its heartbeat or, if it never beat, the claim itself, is
// older than deadBefore. So every claim of a replica that dies becomes
// takeable at the same moment, whenever it was taken.
func deadOwner(c, owner, deadBefore string) string {
	return c + `.owner <> '' AND ` + c + `.owner <> ` + owner + `
		AND coalesce((SELECT r.last_beat FROM replicas r WHERE r.id = ` + c + `.owner), ` + c + `.claimed_at) < ` + deadBefore
}

// ClaimConfirm implements store.Driver.
func (d *Driver) ClaimConfirm(ctx context.Context, p store.ClaimConfirmParams) error {
	_, err := d.pool.Exec(ctx, `
		INSERT INTO claims (key, claimed_at, lease_until, confirmed_at)
		VALUES ($1, $2, $2, $2)
		ON CONFLICT (key) DO UPDATE
			SET confirmed_at = coalesce(claims.confirmed_at, excluded.confirmed_at)`,
		p.Key, p.Now)
	return err
}

// ClaimRelease implements store.Driver.
func (d *Driver) ClaimRelease(ctx context.Context, p store.ClaimReleaseParams) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM claims WHERE key = $1 AND confirmed_at IS NULL`, p.Key)
	return err
}

// ClaimPurge implements store.Driver.
func (d *Driver) ClaimPurge(ctx context.Context, p store.ClaimPurgeParams) (int, error) {
	return d.delete(ctx, `
		DELETE FROM claims
		WHERE confirmed_at < $1 OR (confirmed_at IS NULL AND lease_until < $2)`,
		p.ConfirmedBefore, p.LeaseEndedBefore)
}

// ClaimCountHeld implements store.Driver.
func (d *Driver) ClaimCountHeld(ctx context.Context, p store.ClaimCountHeldParams) (int, error) {
	var n int
	err := d.pool.QueryRow(ctx, `
		SELECT count(*) FROM claims
		WHERE key = ANY($1) AND owner = $2 AND confirmed_at IS NULL AND lease_until > $3`,
		p.Keys, p.Owner, p.Now).Scan(&n)
	return n, err
}

// CursorGet implements store.Driver.
func (d *Driver) CursorGet(ctx context.Context, p store.CursorGetParams) (string, bool, error) {
	return d.getText(ctx, `SELECT value FROM cursors WHERE name = $1`, p.Name)
}

// CursorSet implements store.Driver.
func (d *Driver) CursorSet(ctx context.Context, p store.CursorSetParams) error {
	_, err := d.pool.Exec(ctx, `
		INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		p.Name, p.Value, p.Now)
	return err
}

// CacheGet implements store.Driver.
func (d *Driver) CacheGet(ctx context.Context, p store.CacheGetParams) (store.CacheEntry, bool, error) {
	var e store.CacheEntry
	err := d.pool.QueryRow(ctx, `SELECT value, expires_at FROM cache WHERE key = $1`, p.Key).Scan(&e.Value, &e.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.CacheEntry{}, false, nil
	}
	if err != nil {
		return store.CacheEntry{}, false, err
	}
	if e.Value == nil {
		e.Value = []byte{}
	}
	e.ExpiresAt = e.ExpiresAt.UTC()
	return e, true, nil
}

// CachePut implements store.Driver.
func (d *Driver) CachePut(ctx context.Context, p store.CachePutParams) error {
	_, err := d.pool.Exec(ctx, `
		INSERT INTO cache (key, value, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
		p.Key, p.Value, p.ExpiresAt)
	return err
}

// CachePurge implements store.Driver.
func (d *Driver) CachePurge(ctx context.Context, p store.CachePurgeParams) (int, error) {
	return d.delete(ctx, `DELETE FROM cache WHERE expires_at <= $1`, p.Now)
}

// SettingGet implements store.Driver.
func (d *Driver) SettingGet(ctx context.Context, p store.SettingGetParams) (string, bool, error) {
	return d.getText(ctx, `SELECT value FROM settings WHERE key = $1`, p.Key)
}

// SettingSet implements store.Driver.
func (d *Driver) SettingSet(ctx context.Context, p store.SettingSetParams) error {
	_, err := d.pool.Exec(ctx, `
		INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		p.Key, p.Value, p.Now)
	return err
}

// SettingDelete implements store.Driver.
func (d *Driver) SettingDelete(ctx context.Context, p store.SettingDeleteParams) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM settings WHERE key = $1`, p.Key)
	return err
}

// getText runs query, which selects one text column by $1.
func (d *Driver) getText(ctx context.Context, query, key string) (string, bool, error) {
	var v string
	err := d.pool.QueryRow(ctx, query, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// delete runs a DELETE and returns how many rows it deleted.
func (d *Driver) delete(ctx context.Context, query string, args ...any) (int, error) {
	tag, err := d.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
