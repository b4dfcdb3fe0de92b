package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/storetest"
)

func TestMain(m *testing.M) {
	storetest.RunWorker(func(ctx context.Context, dsn string) (store.Driver, error) { return Open(ctx, dsn) })
	os.Exit(m.Run())
}

// testURL is the database the tests use: TOWNHALL_TEST_DATABASE_URL, or
// the project's local PostgreSQL (trust auth, database test).
func testURL() string {
	if u := os.Getenv("TOWNHALL_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// freshSchema creates an empty schema for one test and returns a URL whose
// connections use it; the schema is dropped when the test ends. Without a
// PostgreSQL to reach, the test is skipped, unless
// TOWNHALL_TEST_REQUIRE_POSTGRES is set (CI sets it).
func freshSchema(t testing.TB) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		if os.Getenv("TOWNHALL_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL at %s: %v", Redact(testURL()), err)
		}
		t.Skipf("no PostgreSQL at %s (set TOWNHALL_TEST_DATABASE_URL): %v", Redact(testURL()), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "storetest_" + hex.EncodeToString(b)
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

func open(t *testing.T, dsn string) *Driver {
	t.Helper()
	d, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Driver { return open(t, freshSchema(t)) })
}

func TestClaimsAcrossProcesses(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	open(t, dsn).Close() // migrated before the workers start
	storetest.ExerciseProcesses(t, dsn, func(t *testing.T) store.Driver { return open(t, dsn) })
}

// TestReplicasMigrateOnce: replicas starting together against an empty
// database migrate it once; the others wait under the advisory lock and
// find nothing to do.
func TestReplicasMigrateOnce(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			d, err := Open(t.Context(), dsn)
			if err == nil {
				d.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a replica failed to start: %v", err)
		}
	}
	d := open(t, dsn)
	defer d.Close()
	var rows, last int
	if err := d.pool.QueryRow(t.Context(), `SELECT count(*), max(version) FROM schema_migrations WHERE lock = $1`, int64(migrationLock)).Scan(&rows, &last); err != nil {
		t.Fatal(err)
	}
	ms, _ := store.LoadMigrations(migrationFiles, "migrations")
	if rows != len(ms) || last != len(ms) {
		t.Errorf("schema_migrations: %d rows up to %d; want each of %d migrations once", rows, last, len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	d := open(t, dsn)
	if _, err := d.pool.Exec(t.Context(), `INSERT INTO schema_migrations (lock, version, name) VALUES ($1, 9999, '9999_future.sql')`, int64(migrationLock)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := Open(t.Context(), dsn); err == nil || !strings.Contains(err.Error(), "schema version 9999 is newer") {
		t.Fatalf("Open: %v; want the newer schema refused", err)
	}
}

func TestErrorsNeverCarryThePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://townhall:s3cr3t-pw@127.0.0.1:1/townhall?connect_timeout=1",
		"postgres://townhall:s3cr3t-pw@[::1:bad/townhall",
		"host=127.0.0.1 port=1 user=townhall password=s3cr3t-pw dbname=x connect_timeout=1",
		"postgres://townhall@127.0.0.1:1/townhall?password=s3cr3t-pw&connect_timeout=1",
	} {
		_, err := Open(t.Context(), dsn)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", Redact(dsn))
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("error carries the password: %v", err)
		}
		if r := Redact(dsn); strings.Contains(r, "s3cr3t-pw") {
			t.Errorf("Redact(%q) = %q", dsn, r)
		}
	}
	if got := Redact("postgres://townhall:pw@db.example.org:5432/townhall?sslmode=require"); got != "postgres://townhall:xxxxx@db.example.org:5432/townhall?sslmode=require" {
		t.Errorf("Redact = %q", got)
	}
}
