// Package storetest is the conformance suite for store drivers. Every
// store.Driver runs Exercise from its own tests; a driver is correct when the
// suite passes. When a driver needs a new guarantee, extend this suite rather
// than writing a driver-only test, so every driver is held to it.
//
// The suite drives time through the Store's injected clock and never sleeps.
// It imports only store and the standard library; it must never import a
// driver, slackapp, scheduler or anything under integrations.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// Exercise runs the conformance suite against the drivers newDriver returns.
// newDriver is called once per subtest, possibly from parallel subtests, and
// must return a fresh, empty database; Exercise closes each driver when its
// subtest ends.
func Exercise(t *testing.T, newDriver func(t *testing.T) store.Driver) {
	t.Helper()
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		clk := &clock{now: epoch}
		d := newDriver(t)
		s := store.New(d, store.WithClock(clk.Now))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return &testBundle{store: s, clock: clk, driver: d}
	}

	t.Run("Claims", func(t *testing.T) {
		t.Parallel()
		exerciseClaims(t, setup)
	})
	t.Run("Cursors", func(t *testing.T) {
		t.Parallel()
		exerciseCursors(t, setup)
	})
	t.Run("Cache", func(t *testing.T) {
		t.Parallel()
		exerciseCache(t, setup)
	})
	t.Run("Settings", func(t *testing.T) {
		t.Parallel()
		exerciseSettings(t, setup)
	})
	t.Run("Replicas", func(t *testing.T) {
		t.Parallel()
		exerciseReplicas(t, setup)
	})
	t.Run("Journal", func(t *testing.T) {
		t.Parallel()
		exerciseJournal(t, setup)
	})
	t.Run("NamespacesAreSeparate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const k = "same-key"
		b.mustClaim(ctx, t, k, time.Minute, true)
		must(t, b.store.SetCursor(ctx, k, "cursor"))
		must(t, b.store.CachePut(ctx, k, []byte("cache"), time.Minute))
		must(t, b.store.SetSetting(ctx, k, "setting"))
		if v, _, err := b.store.Cursor(ctx, k); err != nil || v != "cursor" {
			t.Errorf("Cursor = %q, %v; want %q", v, err, "cursor")
		}
		if v, _, err := b.store.CacheGet(ctx, k); err != nil || string(v) != "cache" {
			t.Errorf("CacheGet = %q, %v; want %q", v, err, "cache")
		}
		if v, _, err := b.store.Setting(ctx, k); err != nil || v != "setting" {
			t.Errorf("Setting = %q, %v; want %q", v, err, "setting")
		}
	})
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.store.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

// epoch is where every subtest's clock starts.
var epoch = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// testBundle is what each subtest works with: a Store over a fresh driver
// and the clock it reads.
type testBundle struct {
	store  *store.Store
	clock  *clock
	driver store.Driver
}

// as returns a second Store over the bundle's database and clock whose
// claims are owner's, taking dead owners' claims after deadAfter (as
// store.WithOwner), as another replica's would be. It is closed with the
// bundle's.
func (b *testBundle) as(owner string, deadAfter time.Duration) *store.Store {
	return store.New(b.driver, store.WithClock(b.clock.Now), store.WithOwner(owner, deadAfter))
}

func (b *testBundle) mustClaim(ctx context.Context, t *testing.T, key string, lease time.Duration, want bool) {
	t.Helper()
	got, err := b.store.Claim(ctx, key, lease)
	if err != nil {
		t.Fatalf("Claim(%q, %v) at %v: %v", key, lease, b.clock.Since(), err)
	}
	if got != want {
		t.Fatalf("Claim(%q, %v) at %v = %t, want %t", key, lease, b.clock.Since(), got, want)
	}
}

// clock is a manual clock for store.WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Since returns how far the clock has moved from epoch, for messages.
func (c *clock) Since() time.Duration { return c.Now().Sub(epoch) }

// wins runs fn(0) … fn(n-1) at once, each in its own goroutine released
// together, and returns how many returned true; an error fails t.
func wins(t *testing.T, n int, fn func(i int) (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		won   atomic.Int32
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := fn(i)
			if err != nil {
				errs <- fmt.Errorf("racer %d: %w", i, err)
				return
			}
			if ok {
				won.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return int(won.Load())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exerciseClaims(t *testing.T, setup func(*testing.T) *testBundle) {
	t.Run("FirstWins", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		b.mustClaim(ctx, t, "a", time.Minute, true)
		b.mustClaim(ctx, t, "a", time.Minute, false)
		b.mustClaim(ctx, t, "b", time.Minute, true)
	})

	t.Run("LeaseHeldUntilItEnds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		b.mustClaim(ctx, t, "k", time.Minute, true)
		b.clock.Advance(time.Minute - time.Microsecond)
		b.mustClaim(ctx, t, "k", time.Hour, false)
		b.clock.Advance(time.Microsecond) // the lease ends now: expired
		b.mustClaim(ctx, t, "k", time.Minute, true)
		// The new lease is held in turn, for its own length.
		b.clock.Advance(30 * time.Second)
		b.mustClaim(ctx, t, "k", time.Minute, false)
		b.clock.Advance(30 * time.Second)
		b.mustClaim(ctx, t, "k", time.Minute, true)
	})

	t.Run("ConfirmedNeverReclaimed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		b.mustClaim(ctx, t, "k", time.Minute, true)
		must(t, b.store.Confirm(ctx, "k"))
		b.mustClaim(ctx, t, "k", time.Minute, false)
		b.clock.Advance(10 * 365 * 24 * time.Hour)
		b.mustClaim(ctx, t, "k", time.Minute, false)
		must(t, b.store.Release(ctx, "k")) // never undoes a confirmation
		b.mustClaim(ctx, t, "k", time.Minute, false)
	})

	t.Run("ConfirmAfterLeaseExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		b.mustClaim(ctx, t, "k", time.Minute, true)
		b.clock.Advance(time.Hour) // a slow holder still finishes its work
		must(t, b.store.Confirm(ctx, "k"))
		b.mustClaim(ctx, t, "k", time.Minute, false)
	})

	t.Run("ConfirmTwiceKeepsFirstTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.Confirm(ctx, "k"))
		b.clock.Advance(2 * time.Hour)
		must(t, b.store.Confirm(ctx, "k"))
		// Retention counts from the first confirmation.
		n, err := b.store.PurgeClaims(ctx, epoch.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("PurgeClaims = %d, %v; want 1, nil", n, err)
		}
	})

	t.Run("ConfirmWithoutClaim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.Confirm(ctx, "k"))
		b.mustClaim(ctx, t, "k", time.Minute, false)
	})

	t.Run("Release", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		b.mustClaim(ctx, t, "k", time.Hour, true)
		must(t, b.store.Release(ctx, "k"))
		b.mustClaim(ctx, t, "k", time.Hour, true) // at once, not after the lease
		b.mustClaim(ctx, t, "k", time.Hour, false)
		must(t, b.store.Release(ctx, "never-claimed"))
		b.mustClaim(ctx, t, "never-claimed", time.Hour, true)
	})

	t.Run("Purge", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.Confirm(ctx, "old"))                // confirmed at 0
		b.mustClaim(ctx, t, "abandoned", time.Minute, true) // lease ends at 1m, never confirmed
		b.clock.Advance(time.Hour)
		must(t, b.store.Confirm(ctx, "edge")) // confirmed at 1h: not before the cut-off
		b.clock.Advance(time.Hour)
		must(t, b.store.Confirm(ctx, "new"))           // confirmed at 2h
		b.mustClaim(ctx, t, "live", time.Minute, true) // lease ends at 2h1m

		n, err := b.store.PurgeClaims(ctx, epoch.Add(time.Hour))
		if err != nil {
			t.Fatalf("PurgeClaims: %v", err)
		}
		if n != 2 {
			t.Errorf("PurgeClaims deleted %d claims, want 2 (old, abandoned)", n)
		}
		b.mustClaim(ctx, t, "old", time.Minute, true) // purged: claimable again
		b.mustClaim(ctx, t, "edge", time.Minute, false)
		b.mustClaim(ctx, t, "new", time.Minute, false)
		b.mustClaim(ctx, t, "live", time.Minute, false)

		n, err = b.store.PurgeClaims(ctx, epoch) // nothing is that old any more
		if err != nil || n != 0 {
			t.Errorf("second PurgeClaims = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("PurgeKeepsLiveLeases", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		b.mustClaim(ctx, t, "live", time.Hour, true)
		must(t, b.store.Confirm(ctx, "done"))
		b.clock.Advance(time.Minute)
		// A cut-off in the future purges every confirmed claim but must
		// not free a lease that is still held.
		n, err := b.store.PurgeClaims(ctx, epoch.Add(24*time.Hour))
		if err != nil {
			t.Fatalf("PurgeClaims: %v", err)
		}
		if n != 1 {
			t.Errorf("PurgeClaims deleted %d claims, want 1 (done)", n)
		}
		b.mustClaim(ctx, t, "live", time.Hour, false)
		b.mustClaim(ctx, t, "done", time.Hour, true)
	})

	t.Run("ConcurrentClaimsOneWinner", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const goroutines = 64
		race := func(key string) int {
			return wins(t, goroutines, func(int) (bool, error) { return b.store.Claim(ctx, key, time.Minute) })
		}
		if n := race("k"); n != 1 {
			t.Fatalf("%d goroutines claimed a fresh key, %d won; want exactly 1", goroutines, n)
		}
		b.clock.Advance(time.Minute) // the winner died: its lease expires
		if n := race("k"); n != 1 {
			t.Fatalf("%d goroutines claimed an expired key, %d won; want exactly 1", goroutines, n)
		}
		must(t, b.store.Confirm(ctx, "k"))
		b.clock.Advance(time.Minute)
		if n := race("k"); n != 0 {
			t.Fatalf("%d goroutines claimed a confirmed key, %d won; want 0", goroutines, n)
		}
	})

	t.Run("DeadOwner", func(t *testing.T) {
		t.Parallel()
		exerciseDeadOwner(t, setup)
	})

	t.Run("ConcurrentManyKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const keys, perKey = 50, 4
		var (
			wg   sync.WaitGroup
			wins [keys]atomic.Int32
			errs = make(chan error, keys*perKey)
		)
		for i := range keys * perKey {
			k := i % keys
			wg.Go(func() {
				key := fmt.Sprintf("key-%d", k)
				ok, err := b.store.Claim(ctx, key, time.Minute)
				if err == nil && ok {
					wins[k].Add(1)
					err = b.store.Confirm(ctx, key)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for k := range wins {
			if n := wins[k].Load(); n != 1 {
				t.Errorf("key-%d: %d winners, want 1", k, n)
			}
		}
	})
}

func exerciseCursors(t *testing.T, setup func(*testing.T) *testBundle) {
	t.Run("MissingIsNotOK", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		v, ok, err := b.store.Cursor(t.Context(), "feed:x")
		if err != nil || ok || v != "" {
			t.Errorf("Cursor of a missing name = %q, %t, %v; want \"\", false, nil", v, ok, err)
		}
	})

	t.Run("SetAndOverwrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		for _, v := range []string{"1849203746512", "", "ünïcödé ✓ \t\n", strings.Repeat("x", 64<<10), "final"} {
			must(t, b.store.SetCursor(ctx, "feed:x", v))
			got, ok, err := b.store.Cursor(ctx, "feed:x")
			if err != nil || !ok || got != v {
				t.Fatalf("Cursor after SetCursor(%.20q) = %.20q, %t, %v", v, got, ok, err)
			}
		}
		if _, ok, _ := b.store.Cursor(ctx, "feed:y"); ok {
			t.Error("setting feed:x set feed:y too")
		}
	})
}

func exerciseCache(t *testing.T, setup func(*testing.T) *testBundle) {
	get := func(ctx context.Context, t *testing.T, b *testBundle, key string) ([]byte, bool) {
		t.Helper()
		v, ok, err := b.store.CacheGet(ctx, key)
		if err != nil {
			t.Fatalf("CacheGet(%q): %v", key, err)
		}
		return v, ok
	}

	t.Run("MissingIsAMiss", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if v, ok := get(t.Context(), t, b, "k"); ok || v != nil {
			t.Errorf("CacheGet of a missing key = %q, %t; want nil, false", v, ok)
		}
	})

	t.Run("Values", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		tests := []struct {
			name  string
			value []byte
			want  []byte
		}{
			{"text", []byte("bonjour"), []byte("bonjour")},
			{"binary", []byte{0, 1, 2, 0xff, 0}, []byte{0, 1, 2, 0xff, 0}},
			{"empty", []byte{}, []byte{}},
			{"nil is empty", nil, []byte{}},
			{"large", bytes.Repeat([]byte("0123456789abcdef"), 1<<16), bytes.Repeat([]byte("0123456789abcdef"), 1<<16)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				must(t, b.store.CachePut(ctx, tt.name, tt.value, time.Minute))
				got, ok := get(ctx, t, b, tt.name)
				if !ok || got == nil || !bytes.Equal(got, tt.want) {
					t.Errorf("CacheGet = %.20q (nil: %t), %t; want %.20q, true", got, got == nil, ok, tt.want)
				}
			})
		}
	})

	t.Run("ReturnedValueIsACopy", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		in := []byte("abc")
		must(t, b.store.CachePut(ctx, "k", in, time.Minute))
		in[0] = 'X'
		v, _ := get(ctx, t, b, "k")
		v[1] = 'Y'
		if v, _ := get(ctx, t, b, "k"); string(v) != "abc" {
			t.Errorf("CacheGet = %q after the caller changed its slices, want %q", v, "abc")
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.CachePut(ctx, "k", []byte("v1"), time.Minute))
		b.clock.Advance(time.Minute - time.Microsecond)
		if _, ok := get(ctx, t, b, "k"); !ok {
			t.Fatal("entry missed before its ttl ended")
		}
		b.clock.Advance(time.Microsecond)
		if v, ok := get(ctx, t, b, "k"); ok || v != nil {
			t.Fatalf("entry hit (%q) once its ttl ended", v)
		}
		// Putting again revives the key with the new value and ttl.
		must(t, b.store.CachePut(ctx, "k", []byte("v2"), time.Hour))
		b.clock.Advance(30 * time.Minute)
		if v, ok := get(ctx, t, b, "k"); !ok || string(v) != "v2" {
			t.Fatalf("CacheGet after re-put = %q, %t; want v2, true", v, ok)
		}
	})

	t.Run("OverwriteReplacesTTL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.CachePut(ctx, "k", []byte("long"), time.Hour))
		must(t, b.store.CachePut(ctx, "k", []byte("short"), time.Minute))
		b.clock.Advance(time.Minute)
		if v, ok := get(ctx, t, b, "k"); ok {
			t.Errorf("CacheGet = %q, want a miss: the second put's shorter ttl applies", v)
		}
	})

	t.Run("Purge", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.CachePut(ctx, "a", []byte("a"), time.Minute))
		must(t, b.store.CachePut(ctx, "b", []byte("b"), time.Minute))
		must(t, b.store.CachePut(ctx, "c", []byte("c"), time.Hour))
		n, err := b.store.PurgeCache(ctx)
		if err != nil || n != 0 {
			t.Fatalf("PurgeCache before anything expired = %d, %v; want 0, nil", n, err)
		}
		b.clock.Advance(time.Minute)
		n, err = b.store.PurgeCache(ctx)
		if err != nil || n != 2 {
			t.Fatalf("PurgeCache = %d, %v; want 2, nil", n, err)
		}
		if _, ok := get(ctx, t, b, "c"); !ok {
			t.Error("PurgeCache deleted a live entry")
		}
		must(t, b.store.CachePut(ctx, "a", []byte("again"), time.Minute))
		if v, ok := get(ctx, t, b, "a"); !ok || string(v) != "again" {
			t.Errorf("CacheGet after purge and put = %q, %t; want again, true", v, ok)
		}
	})
}

func exerciseSettings(t *testing.T, setup func(*testing.T) *testBundle) {
	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const key = "user:U123:language"
		check := func(want string, wantOK bool) {
			t.Helper()
			v, ok, err := b.store.Setting(ctx, key)
			if err != nil || ok != wantOK || v != want {
				t.Fatalf("Setting = %q, %t, %v; want %q, %t, nil", v, ok, err, want, wantOK)
			}
		}
		check("", false)
		must(t, b.store.SetSetting(ctx, key, "fr"))
		check("fr", true)
		must(t, b.store.SetSetting(ctx, key, "de"))
		check("de", true)
		must(t, b.store.SetSetting(ctx, key, ""))
		check("", true) // set to empty is not the same as missing
		must(t, b.store.DeleteSetting(ctx, key))
		check("", false)
		must(t, b.store.DeleteSetting(ctx, key)) // deleting a missing key is fine
	})

	t.Run("KeysAreSeparate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.SetSetting(ctx, "a", "1"))
		must(t, b.store.SetSetting(ctx, "A", "2"))
		must(t, b.store.DeleteSetting(ctx, "b"))
		for key, want := range map[string]string{"a": "1", "A": "2"} {
			if v, ok, err := b.store.Setting(ctx, key); err != nil || !ok || v != want {
				t.Errorf("Setting(%q) = %q, %t, %v; want %q (keys are case-sensitive)", key, v, ok, err, want)
			}
		}
	})
}
