// Package pgarchive keeps the archive (archive.Archive) in PostgreSQL, in
// the store's database (TOWNHALL_DATABASE_URL), in tables of its own
// (archive_*), so that several replicas share one archive. Its schema is
// versioned, embedded migrations applied at Open under an advisory lock
// (store/postgres.Migrate), so replicas starting together migrate once.
//
// # Search
//
// Search runs on stock PostgreSQL (15 and later) with no extension: the
// app computes each message's search text and PostgreSQL only indexes it.
// The text is what the SQLite archive indexes, built by the same functions
// (archive.Fold, archive.Tokens, archive.Unigrams, archive.Stems): folded
// words (lower case, accents and combining marks removed), Chinese,
// Japanese and Korean runs as overlapping pairs of characters plus each
// character alone, and the words' stems in English, French, Spanish
// (Snowball), Russian (Snowball) and Arabic (light stemming: the article,
// prefixes such as و ب ل ك ف, and plural, dual and possessive suffixes).
// It is stored as a tsvector of those lexemes with their positions (so
// phrases match), written by the app as a tsvector literal, never parsed
// by a text search configuration, and kept in a GIN index; a query is a
// tsquery built from the same tokens. Both backends therefore match the
// same messages by construction, which the conformance suite
// (archivetest) checks.
//
// Why not PostgreSQL's own configurations ('english', 'french', …)? A
// message's language is not known, and a short one cannot be guessed;
// indexing under every configuration would multiply the index, drop each
// language's stop words (so a phrase such as "the meeting" could no
// longer be found as written) and still leave Chinese and Japanese
// unsegmented. PostgreSQL's dictionaries are the same Snowball stemmers
// the app runs, so nothing is lost by running them in Go. Likewise
// accents are folded by the app (archive.Fold) rather than by unaccent,
// and Arabic plural and prefixed forms are found by the shared light
// stemmer rather than pg_trgm, which this package does not need: no
// CREATE EXTENSION, so a database role without that right is enough.
//
// Channel and author are lexemes of the search text too ('#C123' and
// '@U123', which no word can spell), so in:, from: and the words are
// answered by one GIN scan; dates are ranges of ts; opted-out members'
// messages are excluded in the same query. Newest first is ts order; best
// first is ts_rank among the newest matches (rankWindow), as the SQLite
// archive ranks by bm25 among its newest. Limits of tsvector: a position
// past 16,383 counts as 16,383 and a word keeps at most 256 positions, so
// a phrase is found in the first 16,383 words of a message (Slack's
// 40,000 characters); a word is found anywhere.
//
// Thread reply counts are counted when read (a thread's replies are
// adjacent in an index); channel counters are kept by PutMessages, Delete
// and Remove, each in its transaction, so replicas writing at once keep
// them right.
//
// It imports the archive package and store/postgres (for Migrate and
// Redact) besides pgx; it must never import slackapp, another integration
// or cmd/townhall.
package pgarchive

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/postgres"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock (and schema_migrations key) of the
// archive's migrations, distinct from the store's: "archive!" in ASCII.
const migrationLock = 0x6172636869766521

var _ archive.Archive = (*Archive)(nil)

// Archive is an archive.Archive over a PostgreSQL database. It is safe for
// concurrent use, by goroutines and by replicas sharing the database.
type Archive struct {
	pool     *pgxpool.Pool
	readOnly bool

	searchSlots chan struct{} // a token per running search
	rankWindow  int

	stemCaches sync.Pool // of *stemCache, for PutMessages
	writers    int       // transactions an import's batch is split into

	closeOnce sync.Once
}

// Open connects to the database at url (the store's
// TOWNHALL_DATABASE_URL), migrates the archive's tables under an advisory
// lock and returns the archive. It opens a pool of its own beside the
// store's. Errors never carry the password.
func Open(ctx context.Context, url string) (*Archive, error) {
	a, err := open(ctx, url, false)
	if err != nil {
		return nil, fmt.Errorf("pgarchive: open %s: %w", postgres.Redact(url), err)
	}
	return a, nil
}

// OpenReadOnly opens an existing archive for reading only, as `townhall
// archive serve` does: its sessions are read-only, so every write fails,
// and nothing is migrated.
func OpenReadOnly(ctx context.Context, url string) (*Archive, error) {
	a, err := open(ctx, url, true)
	if err != nil {
		return nil, fmt.Errorf("pgarchive: open %s read-only: %w", postgres.Redact(url), err)
	}
	return a, nil
}

func open(ctx context.Context, url string, readOnly bool) (*Archive, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's error may quote the string, password and all.
		return nil, errors.New("not a PostgreSQL URL (write it as postgres://user:password@host:5432/database)")
	}
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &Archive{pool: pool, readOnly: readOnly, rankWindow: defaultRankWindow,
		searchSlots: make(chan struct{}, searchSlots(cfg.MaxConns)), writers: writers(cfg.MaxConns)}
	if readOnly {
		var n int
		err = pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE lock = $1`, int64(migrationLock)).Scan(&n)
		if err == nil && n == 0 {
			err = errors.New("no archive tables")
		}
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("is this a townhall archive? %w", err)
		}
		return a, nil
	}
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err == nil {
		err = postgres.Migrate(ctx, pool, migrationLock, ms)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return a, nil
}

// searchSlots is how many searches run at once: half the pool's
// connections, at most half the cores of this process (the database's
// are not known), at least one; the rest of the pool serves pages and
// writes.
func searchSlots(conns int32) int {
	return max(1, min(int(conns)/2, runtime.NumCPU()/2))
}

// writers is how many transactions store an import's batch at once: one
// a core of this process (the database's are not known), at most half the
// pool's connections, at least one.
func writers(conns int32) int {
	return max(1, min(int(conns)/2, runtime.GOMAXPROCS(0)))
}

// errReadOnly is returned by writes to an archive opened with OpenReadOnly.
var errReadOnly = errors.New("pgarchive: the archive is open read-only")

// Close closes the connection pool; it is safe to call more than once.
func (a *Archive) Close() error {
	a.closeOnce.Do(a.pool.Close)
	return nil
}

// Ping checks the database.
func (a *Archive) Ping(ctx context.Context) error { return a.pool.Ping(ctx) }

func (a *Archive) exec(ctx context.Context, op, query string, args ...any) error {
	if a.readOnly {
		return errReadOnly
	}
	if _, err := a.pool.Exec(ctx, query, args...); err != nil {
		return fmt.Errorf("pgarchive: %s: %w", op, err)
	}
	return nil
}

// writeTx runs fn in a transaction.
func (a *Archive) writeTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	if a.readOnly {
		return errReadOnly
	}
	if err := pgx.BeginFunc(ctx, a.pool, fn); err != nil {
		return fmt.Errorf("pgarchive: %s: %w", op, err)
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
		INSERT INTO archive_channels (id, name, topic, purpose, created, archived) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, topic = excluded.topic, purpose = excluded.purpose,
			created = CASE WHEN excluded.created > 0 THEN excluded.created ELSE archive_channels.created END,
			archived = excluded.archived`,
		c.ID, c.Name, c.Topic, c.Purpose, created, c.Archived)
}

// PutUser implements archive.Archive.
func (a *Archive) PutUser(ctx context.Context, u archive.User) error {
	return a.exec(ctx, "put user "+u.ID, `
		INSERT INTO archive_users (id, name, real_name, display_name, avatar, bot, deleted) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, real_name = excluded.real_name,
			display_name = excluded.display_name, avatar = excluded.avatar, bot = excluded.bot, deleted = excluded.deleted`,
		u.ID, u.Name, u.RealName, u.DisplayName, u.Avatar, u.Bot, u.Deleted)
}

// SetOptOut implements archive.Archive.
func (a *Archive) SetOptOut(ctx context.Context, user string, out bool) error {
	return a.exec(ctx, "set opt-out of "+user, `
		INSERT INTO archive_users (id, opted_out) VALUES ($1, $2)
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

// forget deletes a message, records a tombstone and keeps the channel's
// counters, in one transaction.
func (a *Archive) forget(ctx context.Context, op, channel, ts string) error {
	n, err := archive.NormalizeTS(ts)
	if err != nil {
		return fmt.Errorf("pgarchive: %s %s/%s: %w", op, channel, ts, err)
	}
	return a.writeTx(ctx, op+" "+channel+"/"+n, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO archive_removed (channel, ts) VALUES ($1, $2) ON CONFLICT DO NOTHING`, channel, n); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM archive_messages WHERE channel = $1 AND ts = $2`, channel, n)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE archive_channels SET messages = messages - 1,
			last = coalesce((SELECT max(ts) FROM archive_messages WHERE channel = $1), '') WHERE id = $1`, channel)
		return err
	})
}

// State implements archive.Archive.
func (a *Archive) State(ctx context.Context, key string) (string, error) {
	var v string
	err := a.pool.QueryRow(ctx, `SELECT value FROM archive_state WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pgarchive: state %s: %w", key, err)
	}
	return v, nil
}

// SetState implements archive.Archive.
func (a *Archive) SetState(ctx context.Context, key, value string) error {
	return a.exec(ctx, "set state "+key, `INSERT INTO archive_state (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
}
