package pgarchive_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/archivetest"
	"github.com/townhall/townhall/integrations/archive/pgarchive"
	"github.com/townhall/townhall/store/postgres"
)

// testURL is the database the tests use: TOWNHALL_TEST_DATABASE_URL, or
// the project's local PostgreSQL (trust auth, database test).
func testURL() string {
	if u := os.Getenv("TOWNHALL_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// freshSchema creates an empty schema for one test (or benchmark) and
// returns a URL whose connections use it; the schema is dropped when the
// test ends. Without a PostgreSQL to reach, the test is skipped, unless
// TOWNHALL_TEST_REQUIRE_POSTGRES is set (CI sets it).
func freshSchema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		if os.Getenv("TOWNHALL_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL at %s: %v", postgres.Redact(testURL()), err)
		}
		t.Skipf("no PostgreSQL at %s (set TOWNHALL_TEST_DATABASE_URL, or TOWNHALL_TEST_REQUIRE_POSTGRES=1 to fail): %v", postgres.Redact(testURL()), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "archivetest_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), testURL())
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB) *pgarchive.Archive {
	t.Helper()
	a, err := pgarchive.Open(context.Background(), freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestConformance(t *testing.T) {
	t.Parallel()
	archivetest.Exercise(t, func(t *testing.T) archive.Archive { return open(t) })
}
