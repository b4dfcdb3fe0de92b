package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// appendJournal appends es with no claims, failing t on an error.
func appendJournal(ctx context.Context, t *testing.T, s *store.Store, es []store.JournalEntry) {
	t.Helper()
	if _, err := s.JournalAppend(ctx, es, 0); err != nil {
		t.Fatal(err)
	}
}

func exerciseJournal(t *testing.T, setup func(*testing.T) *testBundle) {
	entry := func(id, owner string, at time.Time) store.JournalEntry {
		return store.JournalEntry{ID: id, Owner: owner, Envelope: []byte(`{"envelope_id":"` + id + `","payload":{"x":"ünï ✓"}}`), ReceivedAt: at}
	}
	ids := func(es []store.JournalEntry) []string {
		out := make([]string, 0, len(es))
		for _, e := range es {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return out
	}
	const deadAfter = 30 * time.Second

	t.Run("AppendDoneTakeOver", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.Beat(ctx, store.Replica{ID: "alive", Host: "h", StartedAt: epoch}))
		must(t, b.store.Beat(ctx, store.Replica{ID: "dead", Host: "h", StartedAt: epoch}))
		must(t, b.store.Beat(ctx, store.Replica{ID: "taker", Host: "h", StartedAt: epoch}))
		at := epoch.Add(123 * time.Microsecond)
		appendJournal(ctx, t, b.store, []store.JournalEntry{
			entry("e1", "dead", at), entry("e2", "dead", at.Add(time.Millisecond)), entry("e3", "alive", at),
			entry("e4", "gone", at.Add(2*time.Millisecond)), entry("e5", "dead", at),
		})
		// Appending an ID again changes nothing.
		again := entry("e1", "alive", at)
		again.Envelope = []byte("other")
		appendJournal(ctx, t, b.store, []store.JournalEntry{again})
		must(t, b.store.JournalDone(ctx, []string{"e5", "never-was"}, nil))

		// Everyone is alive except "gone", which never beat.
		got, err := b.store.JournalTakeOver(ctx, "taker", deadAfter, 10)
		must(t, err)
		if !slices.Equal(ids(got), []string{"e4"}) {
			t.Fatalf("TakeOver with only gone dead = %v; want [e4]", ids(got))
		}
		if got[0].Owner != "gone" || !got[0].ReceivedAt.Equal(at.Add(2*time.Millisecond)) {
			t.Errorf("taken entry = %+v; want owner gone, received %v", got[0], at.Add(2*time.Millisecond))
		}

		// "dead" stops beating; the others go on.
		b.clock.Advance(deadAfter + time.Second)
		must(t, b.store.Beat(ctx, store.Replica{ID: "alive", Host: "h", StartedAt: epoch}))
		must(t, b.store.Beat(ctx, store.Replica{ID: "taker", Host: "h", StartedAt: epoch}))
		got, err = b.store.JournalTakeOver(ctx, "taker", deadAfter, 1)
		must(t, err)
		if !slices.Equal(ids(got), []string{"e1"}) {
			t.Fatalf("TakeOver limit 1 = %v; want the oldest, [e1]", ids(got))
		}
		if got[0].Owner != "dead" || !bytes.Equal(got[0].Envelope, entry("e1", "", at).Envelope) {
			t.Errorf("taken entry = %+v (%s); want owner dead and the first envelope", got[0], got[0].Envelope)
		}
		got, err = b.store.JournalTakeOver(ctx, "taker", deadAfter, 10)
		must(t, err)
		if !slices.Equal(ids(got), []string{"e2"}) {
			t.Fatalf("TakeOver = %v; want [e2] (e3's owner is alive, e5 is done, e1 and e4 taken)", ids(got))
		}
		// The taker owns them now; nothing is left to take while it beats.
		got, err = b.store.JournalTakeOver(ctx, "alive", deadAfter, 10)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("TakeOver by another = %v; want none (their owner is alive)", ids(got))
		}
		// A taker never takes its own entries back.
		b.clock.Advance(deadAfter + time.Second)
		must(t, b.store.Beat(ctx, store.Replica{ID: "alive", Host: "h", StartedAt: epoch}))
		got, err = b.store.JournalTakeOver(ctx, "taker", deadAfter, 10)
		must(t, err)
		if !slices.Equal(ids(got), []string{}) {
			t.Fatalf("TakeOver of its own = %v; want none", ids(got))
		}
		// When the taker dies in turn, what it took and did not finish
		// goes on to the next.
		must(t, b.store.JournalDone(ctx, []string{"e2"}, nil))
		got, err = b.store.JournalTakeOver(ctx, "alive", deadAfter, 10)
		must(t, err)
		if !slices.Equal(ids(got), []string{"e1", "e4"}) || got[0].Owner != "taker" {
			t.Fatalf("TakeOver from the dead taker = %+v; want e1 and e4 from taker", got)
		}
	})

	t.Run("AppendClaims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		withClaims := func(e store.JournalEntry, keys ...string) store.JournalEntry {
			e.Claim = keys
			return e
		}
		b.mustClaim(ctx, t, "held", time.Hour, true)
		must(t, b.store.Confirm(ctx, "done"))
		got, err := b.store.JournalAppend(ctx, []store.JournalEntry{
			withClaims(entry("e1", "r", epoch), "k1"),
			withClaims(entry("e2", "r", epoch), "k2", "held"),
			withClaims(entry("e3", "r", epoch), "done"),
			withClaims(entry("e4", "r", epoch), "k1"), // k1 is e1's
			entry("e5", "r", epoch),                   // nothing to claim
			withClaims(entry("e6", "r", epoch), "k6a", "k6b"),
		}, time.Minute)
		must(t, err)
		if want := []bool{true, false, false, false, true, true}; !slices.Equal(got, want) {
			t.Fatalf("JournalAppend claimed %v, want %v", got, want)
		}
		// What was won is held for the lease, like any claim; what was
		// lost was left alone; every entry was recorded.
		b.mustClaim(ctx, t, "k1", time.Minute, false)
		b.mustClaim(ctx, t, "k6b", time.Minute, false)
		b.mustClaim(ctx, t, "k2", time.Minute, false) // won, though e2 lost "held"
		b.clock.Advance(time.Minute)
		b.mustClaim(ctx, t, "k1", time.Minute, true)
		b.mustClaim(ctx, t, "held", time.Minute, false)
		b.mustClaim(ctx, t, "done", time.Minute, false)
		taken, err := b.store.JournalTakeOver(ctx, "t", deadAfter, 10)
		must(t, err)
		if !slices.Equal(ids(taken), []string{"e1", "e2", "e3", "e4", "e5", "e6"}) {
			t.Fatalf("recorded %v, want e1…e6", ids(taken))
		}
		for _, e := range taken {
			if len(e.Claim) != 0 {
				t.Errorf("taken %s with claims %v; want none", e.ID, e.Claim)
			}
		}

		// The claims are the entries' owner's: once it is dead, another
		// replica's append takes them, before their lease ends.
		if _, err := b.store.JournalAppend(ctx, []store.JournalEntry{withClaims(entry("e7", "dying", b.clock.Now()), "k7")}, time.Hour); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(deadAfter + time.Microsecond)
		got, err = b.as("heir", deadAfter).JournalAppend(ctx, []store.JournalEntry{withClaims(entry("e8", "heir", b.clock.Now()), "k7")}, time.Minute)
		must(t, err)
		if !slices.Equal(got, []bool{true}) {
			t.Errorf("append claiming a dead owner's key = %v, want [true]", got)
		}
		if _, err := b.store.JournalAppend(ctx, []store.JournalEntry{withClaims(entry("e9", "r", epoch), "k9")}, 0); err == nil {
			t.Error("JournalAppend claiming with no lease succeeded")
		}
	})

	t.Run("AppendClaimsRaceClaims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const racers = 16
		for round := range 3 {
			key := fmt.Sprintf("k%d", round)
			n := wins(t, racers, func(i int) (bool, error) {
				if i%2 == 0 {
					return b.store.Claim(ctx, key, time.Minute)
				}
				e := entry(fmt.Sprintf("e%d-%d", round, i), "r", epoch)
				e.Claim = []string{key}
				got, err := b.store.JournalAppend(ctx, []store.JournalEntry{e}, time.Minute)
				return err == nil && got[0], err
			})
			if n != 1 {
				t.Fatalf("round %d: %d racers (half appending, half claiming) won %q %d times; want once", round, racers, key, n)
			}
		}
	})

	t.Run("AppendClaimsOverlappingBatches", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		// Replicas' batches that share keys in different orders (each
		// got a redelivery of the others' requests) neither fail nor
		// deadlock, and each key goes to one of them.
		const racers, keys = 8, 6
		for round := range 5 {
			var mu sync.Mutex
			won := map[string]int{}
			wins(t, racers, func(i int) (bool, error) {
				var es []store.JournalEntry
				for j := range keys {
					k := fmt.Sprintf("r%d-k%d", round, (i+j)%keys)
					if i%2 == 1 {
						k = fmt.Sprintf("r%d-k%d", round, (keys - 1 - (i+j)%keys))
					}
					e := entry(fmt.Sprintf("r%d-e%d-%d", round, i, j), "r", epoch)
					e.Claim = []string{k}
					es = append(es, e)
				}
				got, err := b.store.JournalAppend(ctx, es, time.Minute)
				mu.Lock()
				defer mu.Unlock()
				for j, ok := range got {
					if ok {
						won[es[j].Claim[0]]++
					}
				}
				return err == nil, err
			})
			for j := range keys {
				if k := fmt.Sprintf("r%d-k%d", round, j); won[k] != 1 {
					t.Fatalf("round %d: %s won %d times, want once", round, k, won[k])
				}
			}
		}
	})

	t.Run("TakeOverOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const n, takers = 200, 8
		var es []store.JournalEntry
		for i := range n {
			es = append(es, entry(fmt.Sprintf("env-%03d", i), "dead", epoch.Add(time.Duration(i)*time.Microsecond)))
		}
		appendJournal(ctx, t, b.store, es)
		for i := range takers {
			must(t, b.store.Beat(ctx, store.Replica{ID: fmt.Sprintf("taker-%d", i), Host: "h", StartedAt: epoch}))
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			taken = map[string]string{}
			errs  []error
		)
		for i := range takers {
			wg.Go(func() {
				me := fmt.Sprintf("taker-%d", i)
				for {
					got, err := b.store.JournalTakeOver(ctx, me, deadAfter, 7)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, e := range got {
						if prev, dup := taken[e.ID]; dup {
							errs = append(errs, fmt.Errorf("%s taken by %s and %s", e.ID, prev, me))
						}
						taken[e.ID] = me
					}
					mu.Unlock()
					if err != nil || len(got) == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if len(taken) != n {
			t.Errorf("%d of %d entries taken over", len(taken), n)
		}
	})

	t.Run("Purge", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		appendJournal(ctx, t, b.store, []store.JournalEntry{
			entry("old-done", "r", epoch), entry("old-open", "r", epoch), entry("new-open", "r", epoch.Add(time.Hour)),
		})
		must(t, b.store.JournalDone(ctx, []string{"old-done"}, nil))
		n, err := b.store.PurgeJournal(ctx, epoch.Add(time.Minute))
		must(t, err)
		if n != 1 {
			t.Errorf("PurgeJournal = %d, want 1 (old-open; old-done is gone already)", n)
		}
		got, err := b.store.JournalTakeOver(ctx, "t", deadAfter, 10)
		must(t, err)
		if !slices.Equal(ids(got), []string{"new-open"}) {
			t.Errorf("after purge, open entries = %v; want [new-open]", ids(got))
		}
	})

	t.Run("EmptyRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		if _, err := b.store.JournalAppend(ctx, []store.JournalEntry{{Owner: "r"}}, 0); err == nil {
			t.Error("JournalAppend of an entry with no ID succeeded")
		}
		if _, err := b.store.JournalTakeOver(ctx, "", deadAfter, 1); err == nil {
			t.Error("JournalTakeOver with no owner succeeded")
		}
		appendJournal(ctx, t, b.store, nil)
		must(t, b.store.JournalDone(ctx, nil, nil))
		if err := b.store.JournalDone(ctx, []string{"x"}, []string{""}); err == nil {
			t.Error("JournalDone confirming an empty key succeeded")
		}
	})

	t.Run("DoneConfirms", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		appendJournal(ctx, t, b.store, []store.JournalEntry{entry("env", "dead", epoch)})
		b.mustClaim(ctx, t, "held", time.Minute, true)
		// The entry goes and its claims are confirmed, held or not.
		must(t, b.store.JournalDone(ctx, []string{"env"}, []string{"held", "never-claimed"}))
		b.clock.Advance(time.Hour)
		b.mustClaim(ctx, t, "held", time.Minute, false)
		b.mustClaim(ctx, t, "never-claimed", time.Minute, false)
		got, err := b.store.JournalTakeOver(ctx, "t", deadAfter, 10)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("after JournalDone, TakeOver = %v; want none", ids(got))
		}
		// Confirmations alone, with no entry to remove.
		must(t, b.store.JournalDone(ctx, nil, []string{"alone"}))
		b.mustClaim(ctx, t, "alone", time.Minute, false)
	})
}
