// Package sqlite is the store.Driver for SQLite, townhall's embedded default.
// It uses modernc.org/sqlite, a pure Go port, so townhall builds with
// CGO_ENABLED=0 into one static binary.
//
// The database runs in WAL mode with a busy timeout, foreign keys on and
// synchronous=FULL (a committed confirmation survives a power cut). Every
// write goes through one connection, so writes are serialised inside the
// process and a claim is a single atomic statement; reads use a small pool
// of read-only connections that WAL lets run alongside the writer. The
// schema is versioned, embedded migrations, applied in one transaction when
// the database is opened and recorded in schema_migrations.
//
// Limits, plainly: one townhall process per database file, so one replica.
// The file must be on a local disk (WAL needs shared memory, and network file
// systems break SQLite's locks). A second process on the same file waits on
// its locks (busy timeout) rather than corrupting it, and never wins a
// claim another holds (storetest.ExerciseProcesses proves it). Several
// replicas need a server database: store/postgres, which passes the same
// store/storetest suite.
//
// This package imports only store and the standard library besides its SQLite
// port; it must never import slackapp, scheduler or anything under
// integrations.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	modernc "modernc.org/sqlite"

	"github.com/townhall/townhall/store"
)

const (
	// busyTimeout is how long a statement waits for a lock held by another
	// connection before failing with SQLITE_BUSY.
	busyTimeout = 5 * time.Second
	// readConns bounds the read pool. Each connection has its own page
	// cache; townhall's reads are small and few.
	readConns = 4
)

var _ store.Driver = (*Driver)(nil)

// Driver is a store.Driver over one SQLite database file. Build one with
// Open; it is safe for concurrent use.
type Driver struct {
	path  string
	write *sql.DB // exactly one connection: every write goes through it
	read  *sql.DB // read-only connections (PRAGMA query_only)

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if missing) the SQLite database at path, a plain
// file path whose directory must exist, and migrates its schema to the
// latest version. It fails if the database was written by a newer townhall.
// Close the Driver when done, or hand it to store.New, whose Close closes it.
func Open(ctx context.Context, path string) (*Driver, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d := &Driver{path: abs}
	if err := d.open(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", abs, err), d.Close())
	}
	return d, nil
}

// OpenStore opens the database at path as Open does and returns a ready
// Store over it; closing the Store closes the database.
func OpenStore(ctx context.Context, path string, opts ...store.Option) (*store.Store, error) {
	d, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return store.New(d, opts...), nil
}

// open sets up both pools of d. On error, the pools opened so far are left
// for Close.
func (d *Driver) open(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}

	common := url.Values{
		"_busy_timeout": {strconv.FormatInt(busyTimeout.Milliseconds(), 10)},
		"_foreign_keys": {"on"},
		"_dqs":          {"0"}, // a misspelt "column" is an error, not a string
	}

	w := clone(common)
	w.Set("_journal_mode", "WAL")
	w.Set("_synchronous", "FULL")
	w.Set("_txlock", "immediate") // take the write lock at BEGIN, never upgrade mid-transaction
	if d.write, err = openDB(d.path, w); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	d.write.SetMaxOpenConns(1)
	d.write.SetMaxIdleConns(1)
	d.write.SetConnMaxLifetime(0)
	d.write.SetConnMaxIdleTime(0)
	var mode string
	if err := d.write.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("writer: read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("writer: journal mode is %q, want wal (is the file on a local disk?)", mode)
	}
	if err := migrate(ctx, d.write, ms); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	r := clone(common)
	r.Set("_query_only", "on")
	if d.read, err = openDB(d.path, r); err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	d.read.SetMaxOpenConns(readConns)
	d.read.SetMaxIdleConns(readConns)
	if err := d.read.PingContext(ctx); err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	return nil
}

// openDB returns a pool for the database file at the absolute path abs,
// opened with the driver parameters params.
func openDB(abs string, params url.Values) (*sql.DB, error) {
	c, err := modernc.NewConnector(dsn(abs, params))
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// dsn returns a SQLite URI for the file at the absolute path abs. A URI,
// unlike a bare file name, escapes the path, so a '?' or '%' in it is part
// of the name and not the start of parameters.
func dsn(abs string, params url.Values) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:///C:/dir/townhall.db
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}
	return u.String()
}

// clone returns a deep copy of v.
func clone(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Path returns the absolute path of the database file.
func (d *Driver) Path() string { return d.path }

// Ping checks both the writer and the read pool.
func (d *Driver) Ping(ctx context.Context) error {
	return errors.Join(d.write.PingContext(ctx), d.read.PingContext(ctx))
}

// Close closes the database. It is safe to call more than once; later calls
// return the first call's result.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.read != nil {
			errs = append(errs, d.read.Close())
		}
		if d.write != nil {
			errs = append(errs, d.write.Close())
		}
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// micros converts t to the column representation: microseconds since the
// Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a column value back to a time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// ClaimAcquire implements store.Driver: one upsert, so two callers cannot
// both win (and the single writer connection serialises them anyway).
func (d *Driver) ClaimAcquire(ctx context.Context, p store.ClaimAcquireParams) (bool, error) {
	return claimAcquire(ctx, d.write, p.Key, p.Owner, p.Now, p.Until, p.OwnerDeadBefore)
}

// claimAcquire runs ClaimAcquire's upsert on db (the writer, or a
// transaction on it).
func claimAcquire(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, key, owner string, now, until, deadBefore time.Time) (bool, error) {
	res, err := db.ExecContext(ctx, `
		INSERT INTO claims (key, claimed_at, lease_until, confirmed_at, owner)
		VALUES (:key, :now, :until, NULL, :owner)
		ON CONFLICT (key) DO UPDATE
			SET claimed_at = excluded.claimed_at, lease_until = excluded.lease_until, owner = excluded.owner
			WHERE claims.confirmed_at IS NULL AND (claims.lease_until <= excluded.claimed_at
				OR (claims.owner <> '' AND claims.owner <> excluded.owner
					AND coalesce((SELECT r.last_beat FROM replicas r WHERE r.id = claims.owner), claims.claimed_at) < :dead))`,
		sql.Named("key", key), sql.Named("now", micros(now)), sql.Named("until", micros(until)),
		sql.Named("owner", owner), sql.Named("dead", micros(deadBefore)))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// ClaimCountHeld implements store.Driver.
func (d *Driver) ClaimCountHeld(ctx context.Context, p store.ClaimCountHeldParams) (int, error) {
	args := make([]any, 0, len(p.Keys)+2)
	for _, k := range p.Keys {
		args = append(args, k)
	}
	args = append(args, p.Owner, micros(p.Now))
	var n int
	err := d.read.QueryRowContext(ctx, `
		SELECT count(*) FROM claims
		WHERE key IN (`+placeholders(len(p.Keys))+`) AND owner = ? AND confirmed_at IS NULL AND lease_until > ?`,
		args...).Scan(&n)
	return n, err
}

// ClaimConfirm implements store.Driver.
func (d *Driver) ClaimConfirm(ctx context.Context, p store.ClaimConfirmParams) error {
	_, err := d.write.ExecContext(ctx, `
		INSERT INTO claims (key, claimed_at, lease_until, confirmed_at)
		VALUES (:key, :now, :now, :now)
		ON CONFLICT (key) DO UPDATE
			SET confirmed_at = coalesce(claims.confirmed_at, excluded.confirmed_at)`,
		sql.Named("key", p.Key), sql.Named("now", micros(p.Now)))
	return err
}

// ClaimRelease implements store.Driver.
func (d *Driver) ClaimRelease(ctx context.Context, p store.ClaimReleaseParams) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM claims WHERE key = :key AND confirmed_at IS NULL`,
		sql.Named("key", p.Key))
	return err
}

// ClaimPurge implements store.Driver.
func (d *Driver) ClaimPurge(ctx context.Context, p store.ClaimPurgeParams) (int, error) {
	return d.delete(ctx, `
		DELETE FROM claims
		WHERE confirmed_at < :confirmed OR (confirmed_at IS NULL AND lease_until < :lease)`,
		sql.Named("confirmed", micros(p.ConfirmedBefore)), sql.Named("lease", micros(p.LeaseEndedBefore)))
}

// CursorGet implements store.Driver.
func (d *Driver) CursorGet(ctx context.Context, p store.CursorGetParams) (string, bool, error) {
	return d.getText(ctx, `SELECT value FROM cursors WHERE name = :key`, p.Name)
}

// CursorSet implements store.Driver.
func (d *Driver) CursorSet(ctx context.Context, p store.CursorSetParams) error {
	_, err := d.write.ExecContext(ctx, `
		INSERT INTO cursors (name, value, updated_at) VALUES (:name, :value, :now)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		sql.Named("name", p.Name), sql.Named("value", p.Value), sql.Named("now", micros(p.Now)))
	return err
}

// CacheGet implements store.Driver.
func (d *Driver) CacheGet(ctx context.Context, p store.CacheGetParams) (store.CacheEntry, bool, error) {
	var (
		e       store.CacheEntry
		expires int64
	)
	err := d.read.QueryRowContext(ctx, `SELECT value, expires_at FROM cache WHERE key = :key`,
		sql.Named("key", p.Key)).Scan(&e.Value, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.CacheEntry{}, false, nil
	}
	if err != nil {
		return store.CacheEntry{}, false, err
	}
	if e.Value == nil {
		e.Value = []byte{}
	}
	e.ExpiresAt = fromMicros(expires)
	return e, true, nil
}

// CachePut implements store.Driver.
func (d *Driver) CachePut(ctx context.Context, p store.CachePutParams) error {
	_, err := d.write.ExecContext(ctx, `
		INSERT INTO cache (key, value, expires_at) VALUES (:key, :value, :expires)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
		sql.Named("key", p.Key), sql.Named("value", p.Value), sql.Named("expires", micros(p.ExpiresAt)))
	return err
}

// CachePurge implements store.Driver.
func (d *Driver) CachePurge(ctx context.Context, p store.CachePurgeParams) (int, error) {
	return d.delete(ctx, `DELETE FROM cache WHERE expires_at <= :now`, sql.Named("now", micros(p.Now)))
}

// SettingGet implements store.Driver.
func (d *Driver) SettingGet(ctx context.Context, p store.SettingGetParams) (string, bool, error) {
	return d.getText(ctx, `SELECT value FROM settings WHERE key = :key`, p.Key)
}

// SettingSet implements store.Driver.
func (d *Driver) SettingSet(ctx context.Context, p store.SettingSetParams) error {
	_, err := d.write.ExecContext(ctx, `
		INSERT INTO settings (key, value, updated_at) VALUES (:key, :value, :now)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		sql.Named("key", p.Key), sql.Named("value", p.Value), sql.Named("now", micros(p.Now)))
	return err
}

// SettingDelete implements store.Driver.
func (d *Driver) SettingDelete(ctx context.Context, p store.SettingDeleteParams) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM settings WHERE key = :key`, sql.Named("key", p.Key))
	return err
}

// getText runs query, which selects one TEXT column by :key, on the read pool.
func (d *Driver) getText(ctx context.Context, query, key string) (string, bool, error) {
	var v string
	err := d.read.QueryRowContext(ctx, query, sql.Named("key", key)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// delete runs a DELETE on the writer and returns how many rows it deleted.
func (d *Driver) delete(ctx context.Context, query string, args ...any) (int, error) {
	res, err := d.write.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
