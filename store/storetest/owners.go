package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// exerciseDeadOwner holds drivers to store.WithOwner's rule: an unconfirmed
// claim whose owner's heartbeat is older than the dead-after window can be
// taken before its lease ends, by exactly one other owner; a live owner's,
// a confirmed, the caller's own and an ownerless claim cannot.
func exerciseDeadOwner(t *testing.T, setup func(*testing.T) *testBundle) {
	const (
		lease     = 10 * time.Minute
		deadAfter = 30 * time.Second
	)
	claim := func(ctx context.Context, t *testing.T, b *testBundle, s *store.Store, who, key string, want bool) {
		t.Helper()
		got, err := s.Claim(ctx, key, lease)
		if err != nil {
			t.Fatalf("%s: Claim(%q) at %v: %v", who, key, b.clock.Since(), err)
		}
		if got != want {
			t.Fatalf("%s: Claim(%q) at %v = %t, want %t", who, key, b.clock.Since(), got, want)
		}
	}
	beat := func(ctx context.Context, t *testing.T, s *store.Store, id string) {
		t.Helper()
		must(t, s.Beat(ctx, store.Replica{ID: id, Host: "host", Version: "test", StartedAt: epoch, State: "connected"}))
	}
	// pair returns the stores of two live replicas, a and b.
	pair := func(ctx context.Context, t *testing.T, b *testBundle) (a, c *store.Store) {
		t.Helper()
		a, c = b.as("replica-a", deadAfter), b.as("replica-b", deadAfter)
		beat(ctx, t, a, "replica-a")
		beat(ctx, t, c, "replica-b")
		return a, c
	}

	t.Run("TakenOnceItsHeartbeatIsOld", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		a, c := pair(ctx, t, b)
		claim(ctx, t, b, a, "a", "job", true)
		// a keeps beating: its claim is held for the whole lease.
		for range 4 {
			b.clock.Advance(deadAfter / 2)
			beat(ctx, t, a, "replica-a")
			beat(ctx, t, c, "replica-b")
			claim(ctx, t, b, c, "b", "job", false)
		}
		// a dies: its last beat is at 1m. At 1m30s it is not yet dead
		// (the window is inclusive), a microsecond later it is.
		b.clock.Advance(deadAfter)
		claim(ctx, t, b, c, "b", "job", false)
		b.clock.Advance(time.Microsecond)
		claim(ctx, t, b, c, "b", "job", true)
		// Now b holds it, alive, for a lease of its own: nobody else may
		// take it, not even the store with no owner.
		beat(ctx, t, c, "replica-b")
		b.clock.Advance(deadAfter / 2)
		claim(ctx, t, b, b.as("replica-c", deadAfter), "c", "job", false)
		b.mustClaim(ctx, t, "job", lease, false)
	})

	t.Run("AllFreeAtOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		// A job's lock and the claims its run took just before the
		// replica died are free together: the heartbeat says when it
		// died, not each claim's age.
		a, c := pair(ctx, t, b)
		claim(ctx, t, b, a, "a", "lock", true)
		b.clock.Advance(deadAfter / 3)
		claim(ctx, t, b, a, "a", "reminder", true) // after a's last beat
		b.clock.Advance(deadAfter - deadAfter/3 + time.Microsecond)
		beat(ctx, t, c, "replica-b")
		claim(ctx, t, b, c, "b", "lock", true)
		claim(ctx, t, b, c, "b", "reminder", true)
	})

	t.Run("WithoutAHeartbeat", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		// A process that never beat (or whose row was purged) is dead
		// once its claim is deadAfter old.
		claim(ctx, t, b, b.as("replica-a", deadAfter), "a", "job", true)
		c := b.as("replica-b", deadAfter)
		b.clock.Advance(deadAfter)
		claim(ctx, t, b, c, "b", "job", false)
		b.clock.Advance(time.Microsecond)
		claim(ctx, t, b, c, "b", "job", true)
	})

	t.Run("NeverItsOwn", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		a := b.as("replica-a", deadAfter)
		claim(ctx, t, b, a, "a", "lock", true)
		// a's heartbeat failing does not let a into its own lock twice.
		b.clock.Advance(2 * deadAfter)
		claim(ctx, t, b, a, "a", "lock", false)
		// Its lease still ends.
		b.clock.Advance(lease)
		claim(ctx, t, b, a, "a", "lock", true)
	})

	t.Run("ConfirmedAndOwnerless", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		a, c := b.as("replica-a", deadAfter), b.as("replica-b", deadAfter)
		claim(ctx, t, b, a, "a", "done", true)
		must(t, a.Confirm(ctx, "done"))
		b.mustClaim(ctx, t, "ownerless", lease, true)
		b.clock.Advance(2 * deadAfter)
		claim(ctx, t, b, c, "b", "done", false)
		claim(ctx, t, b, c, "b", "ownerless", false)
		// A store without an owner takes nothing early either.
		claim(ctx, t, b, a, "a", "other", true)
		b.clock.Advance(2 * deadAfter)
		b.mustClaim(ctx, t, "other", lease, false)
		// Released claims go at once, as ever.
		must(t, a.Release(ctx, "other"))
		claim(ctx, t, b, c, "b", "other", true)
	})

	t.Run("ClaimsHeld", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		a, c := b.as("replica-a", deadAfter), b.as("replica-b", deadAfter)
		held := func(owner string, want bool, keys ...string) {
			t.Helper()
			got, err := b.store.ClaimsHeld(ctx, owner, keys)
			if err != nil || got != want {
				t.Fatalf("ClaimsHeld(%s, %v) at %v = %t, %v; want %t", owner, keys, b.clock.Since(), got, err, want)
			}
		}
		claim(ctx, t, b, a, "a", "k1", true)
		claim(ctx, t, b, a, "a", "k2", true)
		held("replica-a", true, "k1", "k2", "k1")
		held("replica-a", true)
		held("replica-b", false, "k1")
		held("replica-a", false, "k1", "never")
		// Taken over from a dead a: no longer a's.
		b.clock.Advance(deadAfter + time.Microsecond)
		claim(ctx, t, b, c, "b", "k1", true)
		held("replica-a", false, "k1")
		held("replica-a", true, "k2")
		held("replica-b", true, "k1")
		// Confirmed, or past its lease: held by no one.
		must(t, c.Confirm(ctx, "k1"))
		held("replica-b", false, "k1")
		b.clock.Advance(lease)
		held("replica-a", false, "k2")
		if _, err := b.store.ClaimsHeld(ctx, "", []string{"k"}); err == nil {
			t.Error("ClaimsHeld with no owner succeeded")
		}
	})

	t.Run("ConcurrentTakersOneWinner", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const takers = 16
		claim(ctx, t, b, b.as("dead", deadAfter), "dead", "job", true)
		b.clock.Advance(2 * deadAfter)
		stores := make([]*store.Store, takers)
		for i := range stores {
			id := fmt.Sprintf("replica-%d", i)
			stores[i] = b.as(id, deadAfter)
			beat(ctx, t, stores[i], id)
		}
		n := wins(t, takers, func(i int) (bool, error) { return stores[i].Claim(ctx, "job", lease) })
		if n != 1 {
			t.Fatalf("%d replicas took a dead owner's claim, %d won; want exactly 1", takers, n)
		}
	})
}
