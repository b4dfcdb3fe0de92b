package sqlite_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/sqlite"
)

// TestLockedCountsEveryIncrement: read-modify-writes of one setting under
// store.Locked, from many goroutines, lose none.
func TestLockedCountsEveryIncrement(t *testing.T) {
	st, err := sqlite.OpenStore(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				err := store.Locked(ctx, st, "lock:counter", 10*time.Second, func() error {
					v, _, err := st.Setting(ctx, "counter")
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(v)
					return st.SetSetting(ctx, "counter", strconv.Itoa(n+1))
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v, _, _ := st.Setting(ctx, "counter"); v != "80" {
		t.Errorf("counter = %s, want 80", v)
	}
	// A lock held elsewhere until its lease ends makes Locked give up.
	if ok, err := st.Claim(ctx, "lock:held", time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := store.Locked(ctx, st, "lock:held", time.Hour, func() error { return nil }); err == nil {
		t.Error("ran under a lock someone else holds")
	}
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if err := store.Locked(ctxDone, st, "lock:held", time.Hour, func() error { return nil }); err == nil {
		t.Error("a cancelled wait ran")
	}
}
