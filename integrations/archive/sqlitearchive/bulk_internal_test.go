package sqlitearchive

import (
	"path/filepath"
	"testing"
)

// TestBeginBulk: the writer's page cache is larger and the search index
// merges less while any import runs, and both are back to their defaults
// once the last has ended (each end counts once), or when an archive that
// an import left so is opened again.
func TestBeginBulk(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "townhall.db")
	a, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cache := func() int {
		var n int
		if err := a.write.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	automerge := func(a *Archive) int {
		var n int
		if err := a.read.QueryRowContext(t.Context(), `SELECT coalesce((SELECT v FROM archive_fts_config WHERE k = 'automerge'), 4)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := cache(); got != -writerCacheKiB {
		t.Fatalf("cache before any import = %d, want %d", got, -writerCacheKiB)
	}
	end1, err := a.BeginBulk(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	end2, err := a.BeginBulk(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := cache(); got != -bulkCacheKiB {
		t.Errorf("cache during imports = %d, want %d", got, -bulkCacheKiB)
	}
	if got := automerge(a); got != bulkAutomerge {
		t.Errorf("automerge during imports = %d, want %d", got, bulkAutomerge)
	}
	for range 2 { // twice: the second call does nothing
		if err := end1(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := cache(); got != -bulkCacheKiB {
		t.Errorf("cache while one import still runs = %d, want %d", got, -bulkCacheKiB)
	}
	if err := end2(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := cache(); got != -writerCacheKiB {
		t.Errorf("cache after the imports = %d, want %d", got, -writerCacheKiB)
	}
	if got := automerge(a); got != ftsAutomerge {
		t.Errorf("automerge after the imports = %d, want %d", got, ftsAutomerge)
	}

	// An import that dies leaves automerge as it was during the import.
	if _, err := a.BeginBulk(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := automerge(b); got != ftsAutomerge {
		t.Errorf("automerge after an import died = %d, want %d", got, ftsAutomerge)
	}

	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.BeginBulk(t.Context()); err == nil {
		t.Error("BeginBulk on a read-only archive succeeded")
	}
}
