package storetest

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// The claim benchmarks every driver runs, so their numbers compare: each
// driver's BenchmarkClaimConfirm, BenchmarkClaimConfirmParallel and
// BenchmarkClaimHeld call these on a fresh Store.

// BenchClaimConfirm measures the exactly-once bookkeeping of one
// scheduled post: claim a fresh key, then confirm it (two durable
// commits).
func BenchClaimConfirm(b *testing.B, s *store.Store) {
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

// BenchClaimConfirmParallel is BenchClaimConfirm from parallelism ×
// GOMAXPROCS goroutines, as several schedulers and Socket Mode's dedup
// claim at once.
func BenchClaimConfirmParallel(b *testing.B, s *store.Store, parallelism int) {
	ctx := b.Context()
	var next atomic.Int64
	b.SetParallelism(parallelism)
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

// BenchClaimHeld measures the common case of a scheduler tick that finds
// its occurrence already done, or a redelivery: a Claim that loses.
func BenchClaimHeld(b *testing.B, s *store.Store) {
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
