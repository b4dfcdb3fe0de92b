package sqlitearchive

import (
	"path/filepath"
	"testing"
)

// TestBeginBulk: the writer's page cache is larger while any import runs,
// and SQLite's default again once the last has ended (each end counts once).
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

	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.BeginBulk(t.Context()); err == nil {
		t.Error("BeginBulk on a read-only archive succeeded")
	}
}
