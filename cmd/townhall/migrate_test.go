package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/archivetest"
	"github.com/townhall/townhall/integrations/archive/pgarchive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/sqlite"
)

// migrateWords are the generated messages' words: the six working
// languages, so that searches on both databases can be compared.
var migrateWords = strings.Fields(`meeting budget report garden festival volunteer library school river market
	music council bridge harvest lunch coffee project plan agenda minutes question answer thanks welcome event
	réunion comité café собрание встреча اجتماع اللجنة الاجتماعات 会议 明天 下午 会議 来週 tomorrow friday weekend`)

// genMigrateExport writes a Slack export of n messages over channels
// channels and 50 users, with threads, edits, reactions and files, and
// returns its path.
func genMigrateExport(t testing.TB, n, channels int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	put := func(name string, v any) {
		w, err := zw.Create(name)
		if err == nil {
			err = json.NewEncoder(w).Encode(v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(7, 11))
	var chans, users []map[string]any
	for c := range channels {
		chans = append(chans, map[string]any{"id": fmt.Sprintf("C%04d", c), "name": fmt.Sprintf("channel-%d", c),
			"created": 1640000000 + c, "topic": map[string]any{"value": fmt.Sprintf("topic %d", c)}})
	}
	for u := range 50 {
		users = append(users, map[string]any{"id": fmt.Sprintf("U%04d", u), "name": fmt.Sprintf("user%d", u),
			"real_name": fmt.Sprintf("User Number %d", u)})
	}
	put("channels.json", chans)
	put("users.json", users)
	start := time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)
	for c := range channels {
		at, day, parent := start, "", ""
		var msgs []map[string]any
		flush := func() {
			if len(msgs) > 0 {
				put(fmt.Sprintf("channel-%d/%s.json", c, day), msgs)
				msgs = nil
			}
		}
		for range n / channels {
			at = at.Add(time.Duration(1+r.IntN(90)) * time.Minute)
			if d := at.Format(archive.DateLayout); d != day {
				flush()
				day = d
			}
			words := make([]string, 4+r.IntN(10))
			for k := range words {
				if r.IntN(3) == 0 {
					words[k] = migrateWords[r.IntN(len(migrateWords))]
				} else {
					words[k] = fmt.Sprintf("w%d", r.IntN(400))
				}
			}
			ts := archive.FormatTS(at)
			m := map[string]any{"type": "message", "user": fmt.Sprintf("U%04d", r.IntN(50)), "text": strings.Join(words, " "), "ts": ts}
			switch k := r.IntN(20); {
			case parent != "" && k < 3:
				m["thread_ts"] = parent
			case k == 3:
				parent = ts
				m["thread_ts"] = ts
			case k == 4:
				m["reactions"] = []map[string]any{{"name": "tada", "count": 2, "users": []string{"U0001", "U0002"}}}
			case k == 5:
				m["edited"] = map[string]any{"user": m["user"], "ts": archive.FormatTS(at.Add(time.Minute))}
			case k == 6:
				m["subtype"] = "file_share"
				m["files"] = []map[string]any{{"id": "F" + ts[:10], "name": "minutes.pdf", "title": "Minutes", "mimetype": "application/pdf"}}
			}
			msgs = append(msgs, m)
		}
		flush()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// sqliteDatabase builds a SQLite database the way townhall does: the
// store's claims, cursors, cache and settings through store.Store, and an
// archive imported from zips, with a removal, an opt-out and some state.
// It returns the database's path and the archive's message count.
func sqliteDatabase(t *testing.T, zips ...string) string {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "townhall.db")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	st, err := sqlite.OpenStore(ctx, path, store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		key := fmt.Sprintf("reminder:%d", i)
		if ok, err := st.Claim(ctx, key, 5*time.Minute); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", key, ok, err)
		}
		if i%3 != 0 {
			if err := st.Confirm(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 5 {
		if err := st.SetCursor(ctx, fmt.Sprintf("feed:%d", i), fmt.Sprint(1000+i)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetSetting(ctx, fmt.Sprintf("lang:U%04d", i), "fr"); err != nil {
			t.Fatal(err)
		}
		if err := st.CachePut(ctx, fmt.Sprintf("tr:%d", i), []byte("bonjour \x00 le monde"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	a, err := sqlitearchive.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, z := range zips {
		f, err := os.Open(z)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		_, err = archive.Import(ctx, a, f, fi.Size(), archive.ImportOptions{})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	chans, err := a.Channels(ctx)
	if err != nil || len(chans) == 0 {
		t.Fatalf("channels: %v %v", chans, err)
	}
	ms, err := a.Messages(ctx, archive.MessageQuery{Channel: chans[0].ID, Limit: 3})
	if err != nil || len(ms) < 3 {
		t.Fatalf("messages: %v %v", ms, err)
	}
	if err := a.Remove(ctx, ms[1].Channel, ms[1].TS); err != nil {
		t.Fatal(err)
	}
	if err := a.SetOptOut(ctx, "U0007", true); err != nil {
		t.Fatal(err)
	}
	if err := a.SetState(ctx, archive.StateLastCapture, "2026-05-01T12:00:00Z"); err != nil {
		t.Fatal(err)
	}
	return path
}

// withPassword returns dsn with a password in its user info (the local
// PostgreSQL trusts the connection and ignores it), to check that none of
// the output shows it.
func withPassword(t *testing.T, dsn, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// fingerprint sums up what the PostgreSQL tables hold, and which
// transaction last wrote each message row: unchanged by a run that
// rewrites nothing.
func fingerprint(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var s string
	err := conn.QueryRow(t.Context(), `SELECT concat_ws(' | ',
		(SELECT md5(string_agg(concat_ws(',', key, claimed_at, lease_until, confirmed_at), ';' ORDER BY key)) FROM claims),
		(SELECT md5(string_agg(concat_ws(',', name, value, updated_at), ';' ORDER BY name)) FROM cursors),
		(SELECT md5(string_agg(concat_ws(',', key, encode(value, 'hex'), expires_at), ';' ORDER BY key)) FROM cache),
		(SELECT md5(string_agg(concat_ws(',', key, value, updated_at), ';' ORDER BY key)) FROM settings),
		(SELECT md5(string_agg(concat_ws(',', channel, ts, xmin::text, text, edited, files, reactions), ';' ORDER BY channel, ts)) FROM archive_messages),
		(SELECT md5(string_agg(concat_ws(',', id, name, messages, last), ';' ORDER BY id)) FROM archive_channels),
		(SELECT md5(string_agg(concat_ws(',', id, name, opted_out), ';' ORDER BY id)) FROM archive_users),
		(SELECT md5(string_agg(concat_ws(',', channel, ts), ';' ORDER BY channel, ts)) FROM archive_removed))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameSearches runs the same searches on both archives and wants the same
// results newest first, and the same counts best first (which ranks by
// bm25 in SQLite and ts_rank in PostgreSQL, so the pages may differ).
func sameSearches(t *testing.T, from, to archive.Archive) {
	t.Helper()
	for _, q := range []string{"meeting", `"budget report"`, "reunion", "会议", "اجتماع", "встреча", "in:#channel-1 coffee",
		"from:@user3 garden", "after:2023-03-05 before:2023-03-20 music", "w17", "minutes.pdf"} {
		a, b := archivetest.Search(t, from, q, true), archivetest.Search(t, to, q, true)
		if len(a) == 0 {
			t.Errorf("search %q finds nothing in SQLite: a poor test", q)
		}
		if !slices.Equal(a, b) {
			t.Errorf("search %q: SQLite finds %d, PostgreSQL %d, or in another order", q, len(a), len(b))
		}
		ra, rb := archivetest.SearchResults(t, from, q, false), archivetest.SearchResults(t, to, q, false)
		if ra.Count != rb.Count || ra.CountMore != rb.CountMore || len(ra.Hits) != len(rb.Hits) {
			t.Errorf("search %q best first: SQLite counts %d (%v), PostgreSQL %d (%v)", q, ra.Count, ra.CountMore, rb.Count, rb.CountMore)
		}
	}
}

// TestMigrate copies a SQLite database built by townhall's own code (the
// store, and an archive imported from a generated export and, when the
// corpus is there, a real one) into PostgreSQL: the counts match and are
// printed, the same searches find the same messages, a second run changes
// nothing, and no output shows the password.
func TestMigrate(t *testing.T) {
	t.Parallel()
	zips := []string{genMigrateExport(t, 6000, 6)}
	if os.Getenv("TOWNHALL_TEST_CORPUS") != "" || corpusBeside() {
		zips = append(zips, zipFolder(t, filepath.Join(integrationtest.Corpus(t, "archive"), "houstondatavis-2016")))
	}
	path := sqliteDatabase(t, zips...)
	dsn, conn := pgSchema(t)
	const password = "pw-migr4te-s3cret"
	to := withPassword(t, dsn, password)

	var out, progress bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--to", to, "--from", path}, nil, &out, &progress); err != nil {
		t.Fatalf("migrate: %v\n%s\n%s", err, out.String(), progress.String())
	}
	src, err := sqlitearchive.OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := src.Stats(t.Context())
	if err != nil || st.Messages < 5900 || st.Removed != 1 || st.OptedOut != 1 {
		t.Fatalf("the SQLite archive: %+v %v", st, err)
	}
	for _, want := range []string{"counts match", fmt.Sprintf("archive messages  %d  %d", st.Messages, st.Messages),
		"store claims  30  30", "store cache  5  5", "archive removals  1  1", "archive opted out  1  1"} {
		if !strings.Contains(squeeze(out.String()), want) {
			t.Errorf("migrate's report lacks %q:\n%s", want, out.String())
		}
	}
	if want := fmt.Sprintf("archive messages %d/%d\n", st.Messages, st.Messages); !strings.HasSuffix(progress.String(), want) {
		t.Errorf("progress does not end with %q:\n%s", want, progress.String())
	}
	for _, s := range []string{out.String(), progress.String()} {
		if strings.Contains(s, password) {
			t.Errorf("migrate printed the password:\n%s", s)
		}
	}
	if !strings.Contains(out.String(), "postgres://postgres:xxxxx@") {
		t.Errorf("migrate's report does not name the database, redacted:\n%s", out.String())
	}

	dst, err := pgarchive.OpenReadOnly(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	sameSearches(t, src, dst)
	pst, err := dst.Stats(t.Context())
	if err != nil || pst != st {
		t.Errorf("PostgreSQL stats %+v (%v); SQLite's %+v", pst, err, st)
	}
	if v, err := dst.State(t.Context(), archive.StateLastCapture); err != nil || v != "2026-05-01T12:00:00Z" {
		t.Errorf("state %s = %q, %v; want it copied", archive.StateLastCapture, v, err)
	}
	// The store reads back through the PostgreSQL driver as it was written.
	pgStore, err := openStore(t.Context(), store.Config{DatabaseURL: store.PostgresURL(dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer pgStore.Close()
	if v, ok, err := pgStore.Setting(t.Context(), "lang:U0003"); err != nil || !ok || v != "fr" {
		t.Errorf("setting: %q %v %v", v, ok, err)
	}
	if v, ok, err := pgStore.Cursor(t.Context(), "feed:4"); err != nil || !ok || v != "1004" {
		t.Errorf("cursor: %q %v %v", v, ok, err)
	}
	if ok, err := pgStore.Claim(t.Context(), "reminder:1", time.Minute); err != nil || ok {
		t.Errorf("a confirmed claim copied could be claimed again: %v %v", ok, err)
	}

	before := fingerprint(t, conn)
	out.Reset()
	progress.Reset()
	if err := run(t.Context(), []string{"migrate", "--to", to, "--from", path}, nil, &out, &progress); err != nil {
		t.Fatalf("migrate again: %v\n%s", err, out.String())
	}
	if after := fingerprint(t, conn); after != before {
		t.Errorf("a second run changed the database:\n%s\n%s", before, after)
	}
	if !strings.Contains(out.String(), "counts match") {
		t.Errorf("second run:\n%s", out.String())
	}
}

// corpusBeside reports whether the real-export corpus is where
// integrationtest.Corpus looks by default.
func corpusBeside() bool {
	_, err := os.Stat(filepath.Join("..", "..", "..", "shared", "corpus", "archive", "SOURCES"))
	return err == nil
}

// squeeze collapses runs of spaces, so the report's columns compare.
func squeeze(s string) string {
	for strings.Contains(s, "   ") {
		s = strings.ReplaceAll(s, "   ", "  ")
	}
	return s
}

// TestMigrateResumes: a run stopped midway (its context cancelled after
// three batches, as a kill would leave it: the batches stored, the rest
// not) is continued by the next, which copies only the rest.
func TestMigrateResumes(t *testing.T) {
	t.Parallel()
	path := sqliteDatabase(t, genMigrateExport(t, 3000, 3))
	dsn, conn := pgSchema(t)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var progress bytes.Buffer
	m := migration{From: path, To: dsn, Progress: &progress, batch: 400, workers: 1, afterBatch: func(n int) {
		if n == 3 {
			cancel()
		}
	}}
	if _, err := m.run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v; want it cancelled", err)
	}
	var stored int
	// Channel 0 has 999 messages (one removed): 400, 400 and 199.
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM archive_messages`).Scan(&stored); err != nil || stored != 999 {
		t.Fatalf("after the stopped run: %d messages (%v); want the three batches' 999", stored, err)
	}

	var out bytes.Buffer
	progress.Reset()
	if err := run(t.Context(), []string{"migrate", "--to", dsn, "--from", path}, nil, &out, &progress); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out.String())
	}
	if !strings.Contains(progress.String(), "archive messages 999/2999\n") || !strings.Contains(out.String(), "counts match") {
		t.Errorf("the resumed run did not continue from 1200 or did not match:\n%s\n%s", progress.String(), out.String())
	}
	src, err := sqlitearchive.OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := pgarchive.OpenReadOnly(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	sameSearches(t, src, dst)
}

// TestMigrateMismatch: a PostgreSQL database that already holds messages
// the SQLite file lacks fails the check, saying what differs.
func TestMigrateMismatch(t *testing.T) {
	t.Parallel()
	path := sqliteDatabase(t, genMigrateExport(t, 200, 2))
	dsn, _ := pgSchema(t)
	a, err := pgarchive.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	archivetest.Put(t, a, archive.Message{Channel: "C9999", TS: archivetest.TS(1), User: "U0001", Text: "already here"})
	a.Close()
	var out bytes.Buffer
	err = run(t.Context(), []string{"migrate", "--to", dsn, "--from", path}, nil, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "archive messages 199 in SQLite, 200 in PostgreSQL") ||
		!strings.Contains(err.Error(), "archive channels 2 in SQLite, 3 in PostgreSQL") {
		t.Errorf("migrate into a non-empty database: %v; want the difference named\n%s", err, out.String())
	}
	var u errUsage
	if errors.As(err, &u) {
		t.Errorf("a mismatch is no usage error: %v", err)
	}
	if !strings.Contains(out.String(), "differs") {
		t.Errorf("the report does not mark the difference:\n%s", out.String())
	}
}

// TestMigrateUsage: bad arguments get the usage, and never the password.
func TestMigrateUsage(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "townhall.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate"}, "--to is required"},
		{[]string{"migrate", "--to", "mysql://root:pw-s3cret@db/x", "--from", db}, "--to must be a PostgreSQL URL"},
		{[]string{"migrate", "--to", "postgres://u:pw-s3cret@db/x", "--from", filepath.Join(t.TempDir(), "none.db")}, "no SQLite database there"},
		{[]string{"migrate", "--to", "postgres://u:pw-s3cret@db/x", "--from", db, "extra"}, "unexpected argument"},
		{[]string{"migrate", "--bogus", "--to", "postgres://u:pw-s3cret@db/x"}, "flag provided but not defined"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), tc.args, nil, &out, &out)
		var u errUsage
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "usage: townhall migrate") {
			t.Errorf("%q: %v; want a usage error saying %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error()+out.String(), "pw-s3cret") {
			t.Errorf("%q: the password is shown: %v", tc.args, err)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "-h"}, nil, &out, &out); err != nil || !strings.Contains(out.String(), "usage: townhall migrate") {
		t.Errorf("migrate -h: %v\n%s", err, out.String())
	}
}

// BenchmarkMigrate measures how fast migrate copies a generated archive
// (MIGRATE_BENCH_MESSAGES messages, 50,000 by default, over 100 channels)
// into PostgreSQL, each iteration into a fresh schema.
func BenchmarkMigrate(b *testing.B) {
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("MIGRATE_BENCH_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	path := filepath.Join(b.TempDir(), "townhall.db")
	a, err := sqlitearchive.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	z := genMigrateExport(b, n, 100)
	f, err := os.Open(z)
	if err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	if _, err := archive.Import(b.Context(), a, f, fi.Size(), archive.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	a.Close()
	b.ResetTimer()
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		dsn, _ := pgSchema(b)
		b.StartTimer()
		start := time.Now()
		m := migration{From: path, To: dsn}
		counts, err := m.run(b.Context())
		elapsed += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if bad := counts.mismatches(); len(bad) > 0 {
			b.Fatal(bad)
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "msgs/s")
}
