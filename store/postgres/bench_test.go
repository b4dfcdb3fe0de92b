package postgres

import (
	"testing"

	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/storetest"
)

// The claim benchmarks of storetest, on PostgreSQL (a schema of its own; parallel claims commit side by side).
func BenchmarkClaimConfirm(b *testing.B) { storetest.BenchClaimConfirm(b, benchStore(b)) }

func BenchmarkClaimConfirmParallel(b *testing.B) {
	storetest.BenchClaimConfirmParallel(b, benchStore(b), 4)
}

func BenchmarkClaimHeld(b *testing.B) { storetest.BenchClaimHeld(b, benchStore(b)) }

// benchStore opens a Store on a schema of its own (see freshSchema):
// skipped without a PostgreSQL.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	s, err := OpenStore(b.Context(), freshSchema(b))
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
