package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/storetest"
)

func TestMain(m *testing.M) {
	storetest.RunWorker(func(ctx context.Context, path string) (store.Driver, error) { return Open(ctx, path) })
	os.Exit(m.Run())
}

// TestClaimsAcrossProcesses: several processes on one file (not a
// supported deployment, but what a second townhall started by mistake
// does) still never both win a claim.
func TestClaimsAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "townhall.db")
	openPath(t, path).Close()
	storetest.ExerciseProcesses(t, path, func(t *testing.T) store.Driver { return openPath(t, path) })
}

func openPath(t *testing.T, path string) *Driver {
	t.Helper()
	d, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Driver {
		return openTemp(t)
	})
}

// openTemp opens a fresh database in t.TempDir. The caller (or the
// conformance suite) closes it.
func openTemp(t *testing.T) *Driver {
	t.Helper()
	d, err := Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "townhall.db")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	s, err := OpenStore(ctx, path, store.WithClock(clock))
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	for _, step := range []func() error{
		func() error { _, err := s.Claim(ctx, "held", time.Hour); return err },
		func() error { _, err := s.Claim(ctx, "done", time.Hour); return err },
		func() error { return s.Confirm(ctx, "done") },
		func() error { return s.SetCursor(ctx, "feed:x", "42") },
		func() error { return s.CachePut(ctx, "tr:fr:hello", []byte("bonjour"), time.Hour) },
		func() error { return s.SetSetting(ctx, "user:U1:language", "fr") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for reopen := range 2 { // the second re-open finds nothing to migrate either
		s, err := OpenStore(ctx, path, store.WithClock(clock))
		if err != nil {
			t.Fatalf("re-open %d: %v", reopen+1, err)
		}
		if ok, err := s.Claim(ctx, "held", time.Hour); err != nil || ok {
			t.Errorf("re-open %d: Claim(held) = %t, %v; want false: its lease is still live", reopen+1, ok, err)
		}
		if ok, err := s.Claim(ctx, "done", time.Hour); err != nil || ok {
			t.Errorf("re-open %d: Claim(done) = %t, %v; want false: it was confirmed", reopen+1, ok, err)
		}
		if v, ok, err := s.Cursor(ctx, "feed:x"); err != nil || !ok || v != "42" {
			t.Errorf("re-open %d: Cursor = %q, %t, %v; want 42", reopen+1, v, ok, err)
		}
		if v, ok, err := s.CacheGet(ctx, "tr:fr:hello"); err != nil || !ok || string(v) != "bonjour" {
			t.Errorf("re-open %d: CacheGet = %q, %t, %v; want bonjour", reopen+1, v, ok, err)
		}
		if v, ok, err := s.Setting(ctx, "user:U1:language"); err != nil || !ok || v != "fr" {
			t.Errorf("re-open %d: Setting = %q, %t, %v; want fr", reopen+1, v, ok, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("re-open %d: Close: %v", reopen+1, err)
		}
	}

	db := rawDB(t, path)
	var versions, last int
	if err := db.QueryRowContext(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&versions, &last); err != nil {
		t.Fatal(err)
	}
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if versions != len(ms) || last != len(ms) {
		t.Errorf("schema_migrations has %d rows up to version %d after three opens; want %d up to %d", versions, last, len(ms), len(ms))
	}
}

// rawDB opens path with no pragmas or migrations, for inspecting or
// tampering with a database the way an operator (or a newer release) might.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openDB(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "townhall.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}

	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "schema version 9999 is newer") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a database from a newer release: %v; want an error naming the path and the version", err)
	}
}

func TestMigrateIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ms := []store.Migration{
		{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE a (x INTEGER) STRICT`},
		{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (x INTEGER) STRICT; SELECT no_such_function()`},
	}
	fresh, err := openDB(filepath.Join(t.TempDir(), "m.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Close() })

	err = migrate(ctx, fresh, ms)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate with a failing migration: %v; want an error naming 0002_b.sql", err)
	}
	var tables int
	if err := fresh.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b', 'schema_migrations')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("after a failed migration %d of its tables exist, want 0: the whole upgrade rolls back", tables)
	}

	if err := migrate(ctx, fresh, ms[:1]); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := migrate(ctx, fresh, ms[:1]); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}

	file := &fstest.MapFile{Data: []byte("SELECT 1")}
	tests := []struct {
		name    string
		files   fstest.MapFS
		wantErr string
	}{
		{"in order", fstest.MapFS{"m/0002_b.sql": file, "m/0001_a.sql": file}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file, "m/0003_c.sql": file}, "want version 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file, "m/0001_b.sql": file}, "want version 2"},
		{"zero", fstest.MapFS{"m/0000_a.sql": file}, "not a positive number"},
		{"no number", fstest.MapFS{"m/init.sql": file}, "NNNN_description.sql"},
		{"not sql", fstest.MapFS{"m/0001_a.txt": file}, "NNNN_description.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, err := store.LoadMigrations(tt.files, "m")
			if tt.wantErr == "" {
				if err != nil || len(ms) != 2 || ms[0].Name != "0001_a.sql" {
					t.Fatalf("loadMigrations = %v, %v; want 0001_a.sql, 0002_b.sql", ms, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("loadMigrations: %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := openTemp(t)
	t.Cleanup(func() { d.Close() })

	tests := []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer", d.write, "journal_mode", "wal"},
		{"writer", d.write, "busy_timeout", "5000"},
		{"writer", d.write, "foreign_keys", "1"},
		{"writer", d.write, "synchronous", "2"}, // FULL
		{"writer", d.write, "query_only", "0"},
		{"reader", d.read, "journal_mode", "wal"},
		{"reader", d.read, "busy_timeout", "5000"},
		{"reader", d.read, "foreign_keys", "1"},
		{"reader", d.read, "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.pool+"/"+tt.pragma, func(t *testing.T) {
			var got string
			if err := tt.db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
	if got := d.write.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer allows %d connections, want 1", got)
	}
	if _, err := d.read.ExecContext(ctx, `DELETE FROM settings`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestOpenPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
	}{
		{"spaces", "my townhall.db"},
		{"query characters", "a?mode=memory&b#c.db"},
		{"percent", "100%25.db"},
		{"unicode", "hôtel-de-ville.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			s, err := OpenStore(t.Context(), path)
			if err != nil {
				t.Fatalf("OpenStore(%q): %v", path, err)
			}
			if err := s.SetSetting(t.Context(), "k", "v"); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// The database is the file named, not an in-memory or
			// differently named one.
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if len(names) == 0 || names[0] != tt.file {
				t.Fatalf("directory holds %q, want %q", names, tt.file)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notADB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notADB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "townhall.db")},
		{"a directory", dir},
		{"not a database", notADB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Open(t.Context(), tt.path)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Open error %q does not name the path %q", err, tt.path)
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	d := openTemp(t)
	s := store.New(d)
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Claim(ctx, "k", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Claim with a canceled context: %v, want context.Canceled", err)
	}
	if _, _, err := s.Setting(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Setting with a canceled context: %v, want context.Canceled", err)
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	d := openTemp(t)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestTwoStoresOneFile checks that two Stores on one file (two processes,
// at worst) still let exactly one claimer win: SQLite's locks and the busy
// timeout serialise them. It is not a supported deployment, only a bound on
// the damage of an accidental second process.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "townhall.db")
	var stores [2]*store.Store
	for i := range stores {
		s, err := OpenStore(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	const keys = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins = map[string]int{}
	)
	for i := range 2 * keys * 4 {
		s := stores[i%2]
		key := fmt.Sprintf("k%d", i%keys)
		wg.Go(func() {
			ok, err := s.Claim(ctx, key, time.Minute)
			if err != nil {
				t.Errorf("Claim(%q): %v", key, err)
				return
			}
			if ok {
				mu.Lock()
				wins[key]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := range keys {
		if n := wins[fmt.Sprintf("k%d", i)]; n != 1 {
			t.Errorf("k%d: %d winners across two stores, want 1", i, n)
		}
	}
}
