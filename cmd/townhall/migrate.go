package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/pgarchive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/postgres"
	"github.com/townhall/townhall/store/sqlite"
)

const migrateUsage = `usage: townhall migrate --to postgres://user:password@host:5432/database [--from townhall.db]

Copies townhall's SQLite database into PostgreSQL: the store (claims, cursors,
cache, settings) and the archive (channels, users and opt-outs, removals,
messages, state). Then start townhall with TOWNHALL_DATABASE_URL set to the same URL.

  --to URL     the PostgreSQL database, its tables created if missing
               (default: TOWNHALL_DATABASE_URL)
  --from PATH  the SQLite file (default: TOWNHALL_DATABASE_PATH, else townhall.db)

Stop townhall before migrating. Running it again adds nothing; a run that was
stopped midway continues where it stopped. At the end it prints what each
database holds and exits non-zero when the counts differ.`

// migrateBatch is how many messages are stored per transaction.
const migrateBatch = 2000

// migrateWorkers is how many channels are copied at once: PostgreSQL's
// indexing of the messages, not reading SQLite, bounds the copy, and two
// writers keep two of its cores busy.
const migrateWorkers = 2

// migrateCursorPrefix names, in the PostgreSQL archive's state, the last
// message copied of each channel ("migrate.sqlite.C123"): a run stopped
// midway resumes there.
const migrateCursorPrefix = "migrate.sqlite."

// migrateCommand runs "townhall migrate …".
func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sc store.Config
	if err := envconfig.Process("TOWNHALL", &sc); err != nil {
		return errUsage{parseError(err)}
	}
	fs := flag.NewFlagSet("townhall migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	to := fs.String("to", string(sc.DatabaseURL), "the PostgreSQL database")
	from := fs.String("from", sc.DatabasePath, "the SQLite file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, migrateUsage)
			return nil
		}
		return errUsage{fmt.Errorf("migrate: %s\n%s", redactFlagError(err, *to), migrateUsage)}
	}
	if fs.NArg() > 0 {
		return errUsage{fmt.Errorf("migrate: unexpected argument %q\n%s", redactURLs(fs.Arg(0)), migrateUsage)}
	}
	if *to == "" {
		return errUsage{fmt.Errorf("migrate: --to is required (or TOWNHALL_DATABASE_URL): the PostgreSQL database to copy into\n%s", migrateUsage)}
	}
	if err := (store.Config{DatabaseURL: store.PostgresURL(*to)}).Validate(); err != nil {
		return errUsage{fmt.Errorf("migrate: --to must be a PostgreSQL URL such as postgres://townhall:password@db.example.org:5432/townhall\n%s", migrateUsage)}
	}
	if fi, err := os.Stat(*from); err != nil || !fi.Mode().IsRegular() {
		return errUsage{fmt.Errorf("migrate: --from %s: no SQLite database there (%v)\n%s", *from, err, migrateUsage)}
	}
	m := migration{From: *from, To: *to, Progress: stderr}
	counts, err := m.run(ctx)
	if counts != nil {
		fmt.Fprintf(stdout, "migrated %s to %s\n", *from, postgres.Redact(*to))
		counts.print(stdout)
	}
	if err != nil {
		return err
	}
	if bad := counts.mismatches(); len(bad) > 0 {
		return fmt.Errorf("migrate: the copy differs from %s: %s", *from, strings.Join(bad, "; "))
	}
	fmt.Fprintln(stdout, "counts match")
	return nil
}

// redactFlagError is err with the value of --to, which may hold a
// password, left out.
func redactFlagError(err error, to string) string {
	s := err.Error()
	if to != "" {
		s = strings.ReplaceAll(s, to, postgres.Redact(to))
	}
	return redactURLs(s)
}

// migration copies a SQLite database (store and archive) into PostgreSQL.
type migration struct {
	From     string    // the SQLite file
	To       string    // the PostgreSQL URL
	Progress io.Writer // a line now and then; nil for none

	batch      int         // messages per transaction; 0: migrateBatch
	workers    int         // channels copied at once; 0: migrateWorkers
	afterBatch func(n int) // called after each batch of messages is stored, for tests
	now        func() time.Time
	lastShown  time.Time
}

// migrationCounts are what each database holds, table by table.
type migrationCounts struct {
	rows     []countRow
	channels []string // archive channels whose message counts differ
}

type countRow struct {
	what     string
	from, to int
}

func (c *migrationCounts) add(what string, from, to int) {
	c.rows = append(c.rows, countRow{what, from, to})
}

func (c *migrationCounts) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tSQLite\tPostgreSQL\t")
	for _, r := range c.rows {
		mark := ""
		if r.from != r.to {
			mark = "  differs"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.what, r.from, r.to, mark)
	}
	tw.Flush()
}

func (c *migrationCounts) mismatches() []string {
	var bad []string
	for _, r := range c.rows {
		if r.from != r.to {
			bad = append(bad, fmt.Sprintf("%s %d in SQLite, %d in PostgreSQL", r.what, r.from, r.to))
		}
	}
	if len(c.channels) > 0 {
		bad = append(bad, "messages of channel "+strings.Join(c.channels, ", "))
	}
	return bad
}

// run copies the store and then the archive, and counts both databases.
// Every write is idempotent (an upsert, or a message keyed by channel and
// ts), so running it again changes nothing, and a run stopped midway is
// continued by the next: messages resume at each channel's cursor.
func (m *migration) run(ctx context.Context) (*migrationCounts, error) {
	if m.now == nil {
		m.now = time.Now
	}
	if m.batch <= 0 {
		m.batch = migrateBatch
	}
	if m.workers <= 0 {
		m.workers = migrateWorkers
	}
	src, err := sqlite.Open(ctx, m.From)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, m.To)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	if err := m.copyStore(ctx, src, dst); err != nil {
		return nil, err
	}
	srcA, err := sqlitearchive.Open(ctx, m.From)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer srcA.Close()
	dstA, err := pgarchive.Open(ctx, m.To)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer dstA.Close()
	if err := m.copyArchive(ctx, srcA, dstA); err != nil {
		return nil, err
	}
	return m.count(ctx, src, dst, srcA, dstA)
}

// show writes a progress line, at most one a second unless final.
func (m *migration) show(final bool, what string, done, total int) {
	if m.Progress == nil {
		return
	}
	if now := m.now(); final || now.Sub(m.lastShown) >= time.Second {
		m.lastShown = now
		fmt.Fprintf(m.Progress, "%s %d/%d\n", what, done, total)
	}
}

// copyStore copies the store's tables through the store.Driver's own
// writes, times as stored: a claim keeps its lease and confirmation, a
// cache entry its expiry.
func (m *migration) copyStore(ctx context.Context, src *sqlite.Driver, dst *postgres.Driver) error {
	counts, err := src.Count(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tables := []struct {
		name string
		each func(step func() error) error
	}{
		{"claims", func(step func() error) error {
			return src.EachClaim(ctx, func(c sqlite.Claim) error {
				// Acquiring inserts the claim with its lease (and leaves
				// one already copied alone); confirming keeps the first
				// confirmation time.
				if _, err := dst.ClaimAcquire(ctx, store.ClaimAcquireParams{Key: c.Key, Now: c.ClaimedAt, Until: c.LeaseUntil}); err != nil {
					return err
				}
				if !c.ConfirmedAt.IsZero() {
					if err := dst.ClaimConfirm(ctx, store.ClaimConfirmParams{Key: c.Key, Now: c.ConfirmedAt}); err != nil {
						return err
					}
				}
				return step()
			})
		}},
		{"cursors", func(step func() error) error {
			return src.EachCursor(ctx, func(p store.CursorSetParams) error {
				if err := dst.CursorSet(ctx, p); err != nil {
					return err
				}
				return step()
			})
		}},
		{"cache", func(step func() error) error {
			return src.EachCache(ctx, func(p store.CachePutParams) error {
				if err := dst.CachePut(ctx, p); err != nil {
					return err
				}
				return step()
			})
		}},
		{"settings", func(step func() error) error {
			return src.EachSetting(ctx, func(p store.SettingSetParams) error {
				if err := dst.SettingSet(ctx, p); err != nil {
					return err
				}
				return step()
			})
		}},
	}
	for _, t := range tables {
		what, total, done := "store "+t.name, counts[t.name], 0
		m.show(false, what, done, total)
		err := t.each(func() error {
			done++
			m.show(false, what, done, total)
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", what, err)
		}
		m.show(true, what, done, total)
	}
	return nil
}

// messageBatch is a run of one channel's messages, oldest first.
type messageBatch struct {
	channel string
	ms      []archive.Message
}

// copyArchive copies the archive: channels, users with their opt-outs and
// the removals first (so no removed message is stored), then each
// channel's messages in ts order, a batch per transaction, recording the
// last one copied, then the archive's state.
func (m *migration) copyArchive(ctx context.Context, src *sqlitearchive.Archive, dst *pgarchive.Archive) error {
	channels, err := src.Channels(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for i, c := range channels {
		if err := dst.PutChannel(ctx, c); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		m.show(i == len(channels)-1, "archive channels", i+1, len(channels))
	}
	users, err := src.Users(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for i, u := range users {
		if err := dst.PutUser(ctx, u); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := dst.SetOptOut(ctx, u.ID, u.OptedOut); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		m.show(i == len(users)-1, "archive users", i+1, len(users))
	}
	st, err := src.Stats(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	removed := 0
	if err := src.EachRemoved(ctx, func(channel, ts string) error {
		removed++
		m.show(false, "archive removals", removed, st.Removed)
		return dst.Remove(ctx, channel, ts)
	}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	m.show(true, "archive removals", removed, st.Removed)

	if err := m.copyMessages(ctx, src, dst, channels, st.Messages); err != nil {
		return err
	}

	states, err := src.States(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, k := range slices.Sorted(maps.Keys(states)) {
		if err := dst.SetState(ctx, k, states[k]); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// copyMessages copies the channels' messages with m.workers writers,
// each taking every workers-th channel, so that PostgreSQL indexes on
// more than one core.
func (m *migration) copyMessages(ctx context.Context, src *sqlitearchive.Archive, dst *pgarchive.Archive, channels []archive.Channel, total int) error {
	before, err := dst.Stats(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p := &messageProgress{m: m, done: before.Messages, total: total}
	m.show(true, "archive messages", p.done, total)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, m.workers)
	var wg sync.WaitGroup
	for w := range m.workers {
		var mine []archive.Channel
		for i := w; i < len(channels); i += m.workers {
			mine = append(mine, channels[i])
		}
		wg.Go(func() {
			if errs[w] = m.copyChannels(ctx, src, dst, mine, p); errs[w] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m.show(true, "archive messages", p.done, total)
	return nil
}

// messageProgress counts the messages stored by copyMessages' writers.
type messageProgress struct {
	m           *migration
	mu          sync.Mutex
	done, total int
	batches     int
}

func (p *messageProgress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.batches++
	p.m.show(false, "archive messages", p.done, p.total)
	if p.m.afterBatch != nil {
		p.m.afterBatch(p.batches)
	}
}

// copyChannels reads channels' messages from their cursors on in one
// goroutine and stores them in this one, so that reading SQLite and
// writing PostgreSQL overlap. Batches are stored in order, so a channel's
// cursor only moves past messages that are stored.
func (m *migration) copyChannels(ctx context.Context, src *sqlitearchive.Archive, dst *pgarchive.Archive, channels []archive.Channel, p *messageProgress) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan messageBatch, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- m.readMessages(ctx, src, dst, channels, batches)
	}()
	var writeErr error
	for b := range batches {
		if writeErr != nil {
			continue // drain, so the reader ends
		}
		added, err := dst.PutMessages(ctx, b.ms)
		if err == nil {
			err = dst.SetState(ctx, migrateCursorPrefix+b.channel, b.ms[len(b.ms)-1].TS)
		}
		if err != nil {
			writeErr = fmt.Errorf("migrate: archive messages of %s: %w", b.channel, err)
			cancel()
			continue
		}
		p.add(added)
	}
	return errors.Join(writeErr, <-readErr)
}

// readMessages sends every channel's messages from its cursor on, in
// batches.
func (m *migration) readMessages(ctx context.Context, src *sqlitearchive.Archive, dst *pgarchive.Archive, channels []archive.Channel, out chan<- messageBatch) error {
	for _, c := range channels {
		since, err := dst.State(ctx, migrateCursorPrefix+c.ID)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		batch := make([]archive.Message, 0, m.batch)
		send := func() error {
			select {
			case out <- messageBatch{channel: c.ID, ms: batch}:
				batch = make([]archive.Message, 0, m.batch)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err = src.Each(ctx, c.ID, since, func(msg archive.Message) error {
			batch = append(batch, msg)
			if len(batch) < m.batch {
				return nil
			}
			return send()
		})
		if err == nil && len(batch) > 0 {
			err = send()
		}
		if err != nil {
			return fmt.Errorf("migrate: read archive messages of %s: %w", c.ID, err)
		}
	}
	return nil
}

// count counts what both databases hold: the store's tables, and the
// archive's channels, messages (by the channels' counters, row by row, and
// channel by channel), users, opt-outs and removals.
func (m *migration) count(ctx context.Context, src *sqlite.Driver, dst *postgres.Driver, srcA *sqlitearchive.Archive, dstA *pgarchive.Archive) (*migrationCounts, error) {
	var c migrationCounts
	from, err := src.Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	to, err := dst.Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, t := range sqlite.Tables {
		c.add("store "+t, from[t], to[t])
	}
	sa, err := srcA.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	da, err := dstA.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	rows, err := dstA.MessageRows(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	c.add("archive channels", sa.Channels, da.Channels)
	c.add("archive users", sa.Users, da.Users)
	c.add("archive opted out", sa.OptedOut, da.OptedOut)
	c.add("archive removals", sa.Removed, da.Removed)
	c.add("archive messages", sa.Messages, da.Messages)
	c.add("archive message rows", sa.Messages, rows)

	fromCh, err := srcA.Channels(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	toCh, err := dstA.Channels(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	got := make(map[string]int, len(toCh))
	for _, ch := range toCh {
		got[ch.ID] = ch.Messages
	}
	for _, ch := range fromCh {
		if got[ch.ID] != ch.Messages {
			c.channels = append(c.channels, fmt.Sprintf("#%s (%d in SQLite, %d in PostgreSQL)", ch.Name, ch.Messages, got[ch.ID]))
		}
	}
	return &c, nil
}
