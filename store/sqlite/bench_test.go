package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/storetest"
)

// The claim benchmarks of storetest, on SQLite (one writer connection: parallel claims queue for it).
func BenchmarkClaimConfirm(b *testing.B) { storetest.BenchClaimConfirm(b, benchStore(b)) }

func BenchmarkClaimConfirmParallel(b *testing.B) {
	storetest.BenchClaimConfirmParallel(b, benchStore(b), 1)
}

func BenchmarkClaimHeld(b *testing.B) { storetest.BenchClaimHeld(b, benchStore(b)) }

func benchStore(b *testing.B) *store.Store {
	b.Helper()
	s, err := OpenStore(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	})
	return s
}
