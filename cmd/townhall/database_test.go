package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/pgarchive"
	"github.com/townhall/townhall/integrations/translate/libretest"
	"github.com/townhall/townhall/slackapp/slacktest"
	"github.com/townhall/townhall/store"
)

func TestCheckShowsTheDatabaseRedacted(t *testing.T) {
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-A1-123-supersecretapp")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-123-supersecretbot")
	t.Setenv("TOWNHALL_DATABASE_URL", "postgres://townhall:pw-s3cret@db.example.org:5432/townhall?sslmode=require")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"check"}, nil, &out, &out); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	got := out.String()
	if strings.Contains(got, "pw-s3cret") {
		t.Errorf("check printed the database password:\n%s", got)
	}
	for _, want := range []string{
		"TOWNHALL_DATABASE_URL=postgres://[redacted]@db.example.org:5432/townhall",
		"# database: PostgreSQL postgres://townhall:xxxxx@db.example.org:5432/townhall?sslmode=require",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check output lacks %q:\n%s", want, got)
		}
	}

	t.Setenv("TOWNHALL_ARCHIVE_ENABLED", "true")
	out.Reset()
	if err := run(t.Context(), []string{"check"}, nil, &out, &out); err != nil {
		t.Fatalf("check with the archive on PostgreSQL: %v\n%s", err, out.String())
	}
	got = out.String()
	if want := "# archive: PostgreSQL, tables archive_* beside the store's in postgres://townhall:xxxxx@db.example.org:5432/townhall?sslmode=require"; !strings.Contains(got, want) {
		t.Errorf("check output lacks %q:\n%s", want, got)
	}
	if strings.Contains(got, "pw-s3cret") {
		t.Errorf("check printed the database password:\n%s", got)
	}
}

// pgSchema creates a schema of its own for one test in the project's
// PostgreSQL (TOWNHALL_TEST_DATABASE_URL), dropped when the test ends, and
// returns a URL whose connections use it, and a connection to it. Without a
// PostgreSQL the test is skipped, unless TOWNHALL_TEST_REQUIRE_POSTGRES is
// set.
func pgSchema(t testing.TB) (string, *pgx.Conn) {
	t.Helper()
	base := os.Getenv("TOWNHALL_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("TOWNHALL_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatal(err)
		}
		t.Skipf("no PostgreSQL (set TOWNHALL_TEST_DATABASE_URL, or TOWNHALL_TEST_REQUIRE_POSTGRES=1 to fail): %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "apptest_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	return u.String(), conn
}

// TestAppRunsOnPostgres runs the app on the project's PostgreSQL, in a
// schema of its own: a command is answered, and the store's tables are
// in that database.
func TestAppRunsOnPostgres(t *testing.T) {
	t.Parallel()
	dsn, conn := pgSchema(t)
	ctx := t.Context()
	e := startApp(t, func(c *config) { c.Store.DatabaseURL = store.PostgresURL(dsn) })
	posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", "replicas")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "https://meet.jit.si/") {
		t.Fatalf("posts = %+v; want the call link", posts)
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('claims', 'cursors', 'cache', 'settings')`).Scan(&tables); err != nil || tables != 4 {
		t.Errorf("the store's tables in the test's schema: %d (%v); want 4", tables, err)
	}
}

// TestArchiveAndAutoTranslationShareMessages: both integrations read
// message events; with both on, a message said in a channel that
// translates itself is archived and translated.
func TestArchiveAndAutoTranslationShareMessages(t *testing.T) {
	t.Parallel()
	libre := libretest.New(t)
	e := startApp(t, func(c *config) {
		c.Archive.Enabled, c.Archive.CatchUpSchedule, c.Archive.CatchUpLookback = true, "@every 30m", 72*time.Hour
		c.Archive.APIPace, c.Archive.Title, c.Archive.BackupKeep = time.Millisecond, "Community archive", 7
		c.Translate.Enabled, c.Translate.Provider, c.Translate.LibreURL = true, "libretranslate", libre.URL
		c.Translate.DefaultLanguage, c.Translate.MaxCharacters, c.Translate.LibreMaxCharacters = "en", 5000, 2000
		c.Translate.CacheTTL, c.Translate.Timeout, c.Translate.ProgressAfter = time.Hour, 10*time.Second, 1500*time.Millisecond
		c.Translate.Channels = "#general=fr"
	})
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	_, env, err := e.ws.PostUserMessage(ctx, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "The committee meets on Friday at noon"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	posts, err := e.ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatalf("no translation posted: %v", err)
	}
	if r := slacktest.Render(posts[len(posts)-1]); !strings.Contains(r, "French") {
		t.Errorf("translation reply = %s; want a French line", r)
	}
	st, err := e.app.archive.Stats(ctx)
	if err != nil || st.Messages < 1 {
		t.Errorf("archive holds %d messages (%v); want the message archived", st.Messages, err)
	}
}

// TestArchiveOnPostgres runs the app with the archive in PostgreSQL: a
// message said in a public channel is captured through the fake Slack,
// found by the web archive's search and shown on its page, its tables are
// in the store's database, and an export of it imports into another.
func TestArchiveOnPostgres(t *testing.T) {
	t.Parallel()
	dsn, conn := pgSchema(t)
	e := startApp(t, func(c *config) {
		c.Store.DatabaseURL = store.PostgresURL(dsn)
		c.Archive = archive.Config{Enabled: true, Addr: "127.0.0.1:0", Title: "Community archive",
			CatchUpSchedule: "@every 30m", CatchUpLookback: 72 * time.Hour, APIPace: time.Millisecond, BackupKeep: 7,
			SearchTimeout: 2 * time.Second, SearchPerClient: 2, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			IdleTimeout: time.Minute, MaxConns: 16}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	msg, env, err := e.ws.PostUserMessage(ctx, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "La réunion du comité est vendredi, 明天的会议"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}

	var rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM archive_messages WHERE channel = $1`, slacktest.GeneralID).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("archive_messages in the test's schema: %d rows (%v); want the message there", rows, err)
	}
	site := "http://" + e.app.boundAddr("TOWNHALL_ARCHIVE_ADDR")
	for _, q := range []string{"reunion", "会议", "in:#general from:@" + slacktest.MemberID + " vendredi"} {
		body := httpGet(ctx, t, site+"/search?q="+url.QueryEscape(q))
		if !strings.Contains(body, "comit") || !strings.Contains(body, "/c/general/p"+archive.TSDigits(msg.TS)) {
			t.Errorf("web search for %q lacks the message and its link:\n%s", q, body)
		}
	}
	if body := httpGet(ctx, t, site+"/c/general/p"+archive.TSDigits(msg.TS)); !strings.Contains(body, "comité est vendredi") {
		t.Errorf("the message's page lacks it:\n%s", body)
	}

	// An export of the PostgreSQL archive imports into a fresh one.
	var zipped bytes.Buffer
	st, err := archive.Export(ctx, e.app.archive, &zipped, archive.ExportOptions{})
	if err != nil || st.Messages != 1 {
		t.Fatalf("export: %+v, %v; want one message", st, err)
	}
	other, _ := pgSchema(t)
	b, err := pgarchive.Open(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	is, err := archive.Import(ctx, b, bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), archive.ImportOptions{})
	if err != nil || is.Added != 1 {
		t.Fatalf("import of the export: %+v, %v; want the message added", is, err)
	}
	q, _ := archive.ParseQuery("reunion", time.UTC)
	res, err := b.Search(ctx, q)
	if err != nil || len(res.Hits) != 1 || res.Hits[0].TS != msg.TS {
		t.Errorf("search of the imported archive: %+v, %v", res, err)
	}
}

// httpGet returns the body of a 200 answer to GET url, following redirects.
func httpGet(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, b)
	}
	return string(b)
}

// TestOpenArchiveReadOnlyOnPostgres: the read-only archive the offline
// commands use opens the PostgreSQL archive the app wrote, and refuses
// writes; a database with no archive is refused.
func TestOpenArchiveReadOnlyOnPostgres(t *testing.T) {
	t.Parallel()
	dsn, _ := pgSchema(t)
	c := store.Config{DatabaseURL: store.PostgresURL(dsn)}
	if _, err := openArchiveReadOnly(t.Context(), c); err == nil || !strings.Contains(err.Error(), "TOWNHALL_DATABASE_URL") {
		t.Errorf("read-only open of a database with no archive: %v; want it refused, naming the variable", err)
	}
	w, err := openArchive(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := openArchiveReadOnly(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.SetState(t.Context(), "k", "v"); err == nil {
		t.Error("a read-only archive took a write")
	}
}

// TestArchiveCommandsOnPostgres: townhall archive import, search and
// export work on the archive in PostgreSQL as on the SQLite file.
func TestArchiveCommandsOnPostgres(t *testing.T) {
	dsn, _ := pgSchema(t)
	t.Setenv("TOWNHALL_DATABASE_URL", dsn)
	zipPath := genMigrateExport(t, 300, 3)
	ctx := t.Context()
	var out bytes.Buffer
	if err := run(ctx, []string{"archive", "import", zipPath}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "300 messages read, 300 new") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"archive", "search", "--json", "会议"}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), `"permalink"`) {
		t.Fatalf("search: %v\n%s", err, out.String())
	}
	out.Reset()
	mm := filepath.Join(t.TempDir(), "mm.zip")
	if err := run(ctx, []string{"archive", "export", "--format", "mattermost", "--team", "community", mm}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "(300 messages;") {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
}
