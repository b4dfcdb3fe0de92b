package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	err := run(t.Context(), []string{"check"}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "TOWNHALL_ARCHIVE_ENABLED: the archive needs TOWNHALL_DATABASE_PATH") {
		t.Errorf("check with the archive on PostgreSQL: %v; want it refused, naming the variable", err)
	}
}

// TestAppRunsOnPostgres runs the app on the project's PostgreSQL, in a
// schema of its own: a command is answered, and the store's tables are
// in that database.
func TestAppRunsOnPostgres(t *testing.T) {
	t.Parallel()
	base := os.Getenv("TOWNHALL_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("TOWNHALL_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatal(err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	schema := "apptest_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	e := startApp(t, func(c *config) { c.Store.DatabaseURL = store.PostgresURL(u.String()) })
	posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", "replicas")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "https://meet.jit.si/") {
		t.Fatalf("posts = %+v; want the call link", posts)
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('claims', 'cursors', 'cache', 'settings')`, schema).Scan(&tables); err != nil || tables != 4 {
		t.Errorf("the store's tables in %s: %d (%v); want 4", schema, tables, err)
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
