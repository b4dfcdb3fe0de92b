package postgres

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// BenchmarkClaimConfirm measures the exactly-once bookkeeping of one
// scheduled post on PostgreSQL, as store/sqlite's benchmark of the same
// name does: claim a fresh key, then confirm it (two commits, each a
// round trip and a WAL flush).
func BenchmarkClaimConfirm(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		key := "bench:" + strconv.Itoa(i)
		i++
		if ok, err := s.Claim(ctx, key, time.Minute); err != nil || !ok {
			b.Fatalf("Claim(%q) = %t, %v", key, ok, err)
		}
		if err := s.Confirm(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkClaimConfirmParallel is BenchmarkClaimConfirm from 4 ×
// GOMAXPROCS goroutines, as several replicas' schedulers and Socket Mode
// dedup would claim at once. Unlike SQLite's one writer, PostgreSQL
// commits them side by side (the pool's connections, and group commit).
func BenchmarkClaimConfirmParallel(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	var next atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := "bench:" + strconv.FormatInt(next.Add(1), 10)
			if ok, err := s.Claim(ctx, key, time.Minute); err != nil || !ok {
				b.Errorf("Claim(%q) = %t, %v", key, ok, err)
				return
			}
			if err := s.Confirm(ctx, key); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkClaimHeld measures the common case of a scheduler tick that
// finds its occurrence already done: a Claim that loses.
func BenchmarkClaimHeld(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	if err := s.Confirm(ctx, "done"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := s.Claim(ctx, "done", time.Minute); err != nil || ok {
			b.Fatalf("Claim = %t, %v; want false", ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

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
