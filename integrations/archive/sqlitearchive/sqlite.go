// Package sqlitearchive keeps the archive (archive.Archive) in townhall's
// SQLite database file, in its own tables (archive_*) with its own
// migrations table (archive_migrations), beside the store's. Search is
// SQLite's FTS5: text is folded (lower case, accents and combining marks
// removed) and Chinese, Japanese and Korean runs are indexed as overlapping
// character pairs before FTS5's unicode61 tokenizer sees it, so "reunion"
// finds "réunion" and 会议 is found inside 明天的会议.
//
// Built for millions of messages: messages are stored in (channel, ts)
// order, so a channel's day reads a few adjacent pages, and each has an id
// that is its time (see baseID), which is its rowid in the search index.
// A search is then answered inside FTS5: words in the index's body column,
// in: and from: in its meta column, dates as rowid ranges, newest first as
// rowid order, and best first by bm25 among the newest matches
// (defaultRankWindow); only the page's messages are read from the table.
// Threads' reply counts and channels' counters are kept as messages are
// stored, once per batch.
//
// Writes go through one connection (synchronous=NORMAL in WAL mode: a
// power cut may lose the last moments of capture, which catch-up restores,
// never corrupt the file), and the log is copied into the file on another
// (see checkpointer), so the writer only writes; reads use a small pool
// alongside it, and searches another of their own (searchConns), so a
// slow search never holds up a page. A search stops when its context ends (SQLite's
// interrupt): a deadline bounds its time. The same limits as store/sqlite
// apply: one process per file, on a local disk.
//
// It imports only the archive package besides its SQLite port and the
// standard library; it must never import slackapp, another integration or
// cmd/townhall.
package sqlitearchive

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	modernc "modernc.org/sqlite"

	"github.com/townhall/townhall/integrations/archive"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const (
	busyTimeoutMS = 10000
	readConns     = 4
)

// searchConns is how many searches run at once, on connections of their
// own: half the cores (at least one), so pages never wait behind searches
// for a connection nor for a core. Later searches wait their turn (see
// Search).
func searchConns() int { return max(1, runtime.NumCPU()/2) }

var (
	_ archive.Archive = (*Archive)(nil)
	_ archive.Bulk    = (*Archive)(nil)
)

// Archive is an archive.Archive over a SQLite database file. It is safe for
// concurrent use.
type Archive struct {
	write  *sql.DB // nil when read-only
	read   *sql.DB // pages
	search *sql.DB // Search alone, searchConns() connections

	searchSlots chan struct{} // a token per running search

	ckpt *checkpointer // nil when read-only

	rankWindow int // see defaultRankWindow

	bulkMu sync.Mutex
	bulk   int // imports running (see BeginBulk)

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if missing) the archive in the SQLite database at
// path, the same file as TOWNHALL_DATABASE_PATH, and migrates its tables.
func Open(ctx context.Context, path string) (*Archive, error) {
	a, err := open(ctx, path, false)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: open %s: %w", path, err)
	}
	return a, nil
}

// OpenReadOnly opens an existing archive for reading only, as `townhall
// archive serve` does: every write method fails.
func OpenReadOnly(ctx context.Context, path string) (*Archive, error) {
	a, err := open(ctx, path, true)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: open %s read-only: %w", path, err)
	}
	return a, nil
}

func open(ctx context.Context, p string, readOnly bool) (_ *Archive, err error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	a := &Archive{rankWindow: defaultRankWindow, searchSlots: make(chan struct{}, searchConns())}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.Close())
		}
	}()
	common := url.Values{
		"_busy_timeout": {strconv.Itoa(busyTimeoutMS)},
		"_dqs":          {"0"},
	}
	if !readOnly {
		w := clone(common)
		w.Set("_journal_mode", "WAL")
		w.Set("_synchronous", "NORMAL")
		w.Set("_txlock", "immediate")
		// The checkpointer copies the log into the file; the writer
		// itself does only when the log has grown far (see checkpointer).
		w.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
		if a.write, err = openDB(abs, w); err != nil {
			return a, fmt.Errorf("writer: %w", err)
		}
		a.write.SetMaxOpenConns(1)
		a.write.SetMaxIdleConns(1)
		a.write.SetConnMaxLifetime(0)
		a.write.SetConnMaxIdleTime(0)
		if err := migrate(ctx, a.write); err != nil {
			return a, fmt.Errorf("migrate: %w", err)
		}
		if err := restoreAutomerge(ctx, a.write); err != nil {
			return a, fmt.Errorf("search index automerge: %w", err)
		}
		if a.ckpt, err = startCheckpointer(abs, w, nil); err != nil {
			return a, fmt.Errorf("checkpointer: %w", err)
		}
	}
	r := clone(common)
	r.Set("_query_only", "on")
	if readOnly {
		r.Set("mode", "ro")
	}
	if a.read, err = openDB(abs, r); err != nil {
		return a, fmt.Errorf("reader: %w", err)
	}
	a.read.SetMaxOpenConns(readConns)
	a.read.SetMaxIdleConns(readConns)
	var n int
	if err := a.read.QueryRowContext(ctx, `SELECT count(*) FROM archive_migrations`).Scan(&n); err != nil {
		return a, fmt.Errorf("reader: is this a townhall archive? %w", err)
	}
	if a.search, err = openDB(abs, r); err != nil {
		return a, fmt.Errorf("search reader: %w", err)
	}
	a.search.SetMaxOpenConns(cap(a.searchSlots))
	a.search.SetMaxIdleConns(cap(a.searchSlots))
	return a, nil
}

func openDB(abs string, params url.Values) (*sql.DB, error) {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}
	c, err := modernc.NewConnector(u.String())
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func clone(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = slices.Clone(vs)
	}
	return c
}

// migrationStep is the part of migration version v written in Go, run
// right after its SQL; nil for none.
func migrationStep(v int) func(context.Context, *sql.Tx) error {
	switch v {
	case 2, 3:
		return reindexAll
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// archive_migrations, in one transaction.
func migrate(ctx context.Context, db *sql.DB) error { return migrateTo(ctx, db, 0) }

// migrateTo is migrate stopping at version to (0: the latest), for tests
// of the migrations themselves.
func migrateTo(ctx context.Context, db *sql.DB, to int) (err error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if to > 0 {
		entries = entries[:min(to, len(entries))]
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS archive_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		name    TEXT NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create archive_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM archive_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read version: %w", err)
	}
	if current > len(entries) {
		return fmt.Errorf("archive schema version %d is newer than this townhall's (%d)", current, len(entries))
	}
	for i, e := range entries {
		v := i + 1
		if !strings.HasPrefix(e.Name(), fmt.Sprintf("%04d_", v)) {
			return fmt.Errorf("migration %s: want version %d", e.Name(), v)
		}
		if v <= current {
			continue
		}
		b, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("apply %s: %w", e.Name(), err)
		}
		if step := migrationStep(v); step != nil {
			if err := step(ctx, tx); err != nil {
				return fmt.Errorf("apply %s: %w", e.Name(), err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO archive_migrations (version, name) VALUES (?, ?)`, v, e.Name()); err != nil {
			return fmt.Errorf("record %s: %w", e.Name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// errReadOnly is returned by writes to an archive opened with OpenReadOnly.
var errReadOnly = errors.New("sqlitearchive: the archive is open read-only")

// Close closes the database; later calls return the first call's result.
func (a *Archive) Close() error {
	a.closeOnce.Do(func() {
		var errs []error
		if a.ckpt != nil {
			errs = append(errs, a.ckpt.close())
		}
		if a.search != nil {
			errs = append(errs, a.search.Close())
		}
		if a.read != nil {
			errs = append(errs, a.read.Close())
		}
		if a.write != nil {
			errs = append(errs, a.write.Close())
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// Ping checks the database.
func (a *Archive) Ping(ctx context.Context) error { return a.read.PingContext(ctx) }

// writeTx runs fn in a write transaction.
func (a *Archive) writeTx(ctx context.Context, op string, fn func(*sql.Tx) error) (err error) {
	if a.write == nil {
		return errReadOnly
	}
	tx, err := a.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitearchive: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(fmt.Errorf("sqlitearchive: %s: %w", op, err), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitearchive: %s: commit: %w", op, err)
	}
	return nil
}

func (a *Archive) exec(ctx context.Context, op, query string, args ...any) error {
	if a.write == nil {
		return errReadOnly
	}
	if _, err := a.write.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlitearchive: %s: %w", op, err)
	}
	return nil
}

// PutChannel implements archive.Archive.
func (a *Archive) PutChannel(ctx context.Context, c archive.Channel) error {
	var created int64
	if !c.Created.IsZero() {
		created = c.Created.Unix()
	}
	return a.exec(ctx, "put channel "+c.ID, `
		INSERT INTO archive_channels (id, name, topic, purpose, created, archived) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, topic = excluded.topic, purpose = excluded.purpose,
			created = CASE WHEN excluded.created > 0 THEN excluded.created ELSE created END, archived = excluded.archived`,
		c.ID, c.Name, c.Topic, c.Purpose, created, c.Archived)
}

// PutUser implements archive.Archive.
func (a *Archive) PutUser(ctx context.Context, u archive.User) error {
	return a.exec(ctx, "put user "+u.ID, `
		INSERT INTO archive_users (id, name, real_name, display_name, avatar, bot, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, real_name = excluded.real_name,
			display_name = excluded.display_name, avatar = excluded.avatar, bot = excluded.bot, deleted = excluded.deleted`,
		u.ID, u.Name, u.RealName, u.DisplayName, u.Avatar, u.Bot, u.Deleted)
}

// SetOptOut implements archive.Archive.
func (a *Archive) SetOptOut(ctx context.Context, user string, out bool) error {
	return a.exec(ctx, "set opt-out of "+user, `
		INSERT INTO archive_users (id, opted_out) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET opted_out = excluded.opted_out`, user, out)
}

// Delete implements archive.Archive.
func (a *Archive) Delete(ctx context.Context, channel, ts string) error {
	return a.forget(ctx, "delete", channel, ts)
}

// Remove implements archive.Archive.
func (a *Archive) Remove(ctx context.Context, channel, ts string) error {
	return a.forget(ctx, "remove", channel, ts)
}

// forget deletes a message and its search entry and records a tombstone.
func (a *Archive) forget(ctx context.Context, op, channel, ts string) error {
	n, err := archive.NormalizeTS(ts)
	if err != nil {
		return fmt.Errorf("sqlitearchive: %s %s/%s: %w", op, channel, ts, err)
	}
	return a.writeTx(ctx, op+" "+channel+"/"+n, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO archive_removed (channel, ts) VALUES (?, ?) ON CONFLICT DO NOTHING`, channel, n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM archive_messages WHERE channel = ? AND ts = ?`, channel, n)
		return err
	})
}

// State implements archive.Archive.
func (a *Archive) State(ctx context.Context, key string) (string, error) {
	var v string
	err := a.read.QueryRowContext(ctx, `SELECT value FROM archive_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlitearchive: state %s: %w", key, err)
	}
	return v, nil
}

// SetState implements archive.Archive.
func (a *Archive) SetState(ctx context.Context, key, value string) error {
	return a.exec(ctx, "set state "+key, `INSERT INTO archive_state (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
}

const (
	// writerCacheKiB is the writer's page cache, SQLite's default.
	writerCacheKiB = 2000
	// bulkCacheKiB is the writer's page cache while an import runs: a
	// batch of 5,000 messages then changes no more pages than it holds,
	// so none is written to the log before the commit (and again at it)
	// nor read back from it. About 10 MB more memory, only meanwhile.
	bulkCacheKiB = 8192

	// ftsAutomerge is FTS5's 'automerge', its default: when a level of
	// the search index holds this many segments (a batch writes one),
	// later writes merge them into one of the next level, a bit at a
	// time, so searches read few segments.
	ftsAutomerge = 4
	// bulkAutomerge is 'automerge' while an import runs: segments are
	// merged 16 at a time, so each row is rewritten about half as often
	// as 4 at a time (at a million messages, merging was a sixth of the
	// import's writer). When the last import ends, 'merge' commands bring
	// every level back under ftsAutomerge segments (see BeginBulk).
	bulkAutomerge = 16
	// mergePages is how many pages one 'merge' command at the end of an
	// import writes, in a transaction of its own.
	mergePages = 2000
)

// BeginBulk implements archive.Bulk. While any import runs, the writer's
// page cache is bulkCacheKiB and the search index's automerge
// bulkAutomerge. When the last one ends, its end merges the index's levels
// that hold ftsAutomerge segments or more (FTS5's 'merge', as many
// commands as have work; the work is what the imports left, as automerge
// would have done it over the next writes) and restores both. A crash in
// between leaves the index whole: Open restores automerge.
func (a *Archive) BeginBulk(ctx context.Context) (end func(context.Context) error, err error) {
	if a.write == nil {
		return nil, errReadOnly
	}
	a.bulkMu.Lock()
	defer a.bulkMu.Unlock()
	if a.bulk == 0 {
		if err := a.exec(ctx, "begin import", fmt.Sprintf("PRAGMA cache_size = -%d", bulkCacheKiB)); err != nil {
			return nil, err
		}
		if err := a.setAutomerge(ctx, bulkAutomerge); err != nil {
			return nil, errors.Join(err, a.exec(ctx, "begin import", fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB)))
		}
	}
	a.bulk++
	var once sync.Once
	return func(ctx context.Context) (err error) {
		once.Do(func() {
			a.bulkMu.Lock()
			defer a.bulkMu.Unlock()
			if a.bulk--; a.bulk > 0 {
				return
			}
			err = errors.Join(a.setAutomerge(ctx, ftsAutomerge), a.mergeIndex(ctx),
				a.exec(ctx, "end import", fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB)))
		})
		return err
	}, nil
}

func (a *Archive) setAutomerge(ctx context.Context, n int) error {
	return a.exec(ctx, "search index automerge", `INSERT INTO archive_fts (archive_fts, rank) VALUES ('automerge', ?)`, n)
}

// mergeIndex merges the search index's levels of ftsAutomerge (FTS5's
// 'usermerge', the same by default) segments or more, mergePages pages
// per transaction, until a 'merge' changes nothing: FTS5's documented
// test for "no work left".
func (a *Archive) mergeIndex(ctx context.Context) error {
	conn, err := a.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlitearchive: merge the search index: %w", err)
	}
	defer conn.Close()
	changes := func() (n int64, err error) {
		err = conn.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&n)
		return n, err
	}
	for {
		before, err := changes()
		if err != nil {
			return fmt.Errorf("sqlitearchive: merge the search index: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO archive_fts (archive_fts, rank) VALUES ('merge', ?)`, mergePages); err != nil {
			return fmt.Errorf("sqlitearchive: merge the search index: %w", err)
		}
		after, err := changes()
		if err != nil {
			return fmt.Errorf("sqlitearchive: merge the search index: %w", err)
		}
		if after-before < 2 {
			return nil
		}
	}
}

// restoreAutomerge sets the search index's automerge back to
// ftsAutomerge if an import that died left it at bulkAutomerge.
func restoreAutomerge(ctx context.Context, db *sql.DB) error {
	var v int
	switch err := db.QueryRowContext(ctx, `SELECT v FROM archive_fts_config WHERE k = 'automerge'`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		return nil // FTS5's default
	case err != nil:
		return err
	case v == ftsAutomerge:
		return nil
	}
	_, err := db.ExecContext(ctx, `INSERT INTO archive_fts (archive_fts, rank) VALUES ('automerge', ?)`, ftsAutomerge)
	return err
}
