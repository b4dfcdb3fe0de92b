package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

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
		must(t, b.store.JournalAppend(ctx, []store.JournalEntry{
			entry("e1", "dead", at), entry("e2", "dead", at.Add(time.Millisecond)), entry("e3", "alive", at),
			entry("e4", "gone", at.Add(2*time.Millisecond)), entry("e5", "dead", at),
		}))
		// Appending an ID again changes nothing.
		again := entry("e1", "alive", at)
		again.Envelope = []byte("other")
		must(t, b.store.JournalAppend(ctx, []store.JournalEntry{again}))
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

	t.Run("TakeOverOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		const n, takers = 200, 8
		var es []store.JournalEntry
		for i := range n {
			es = append(es, entry(fmt.Sprintf("env-%03d", i), "dead", epoch.Add(time.Duration(i)*time.Microsecond)))
		}
		must(t, b.store.JournalAppend(ctx, es))
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
		must(t, b.store.JournalAppend(ctx, []store.JournalEntry{
			entry("old-done", "r", epoch), entry("old-open", "r", epoch), entry("new-open", "r", epoch.Add(time.Hour)),
		}))
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
		if err := b.store.JournalAppend(ctx, []store.JournalEntry{{Owner: "r"}}); err == nil {
			t.Error("JournalAppend of an entry with no ID succeeded")
		}
		if _, err := b.store.JournalTakeOver(ctx, "", deadAfter, 1); err == nil {
			t.Error("JournalTakeOver with no owner succeeded")
		}
		must(t, b.store.JournalAppend(ctx, nil))
		must(t, b.store.JournalDone(ctx, nil, nil))
		if err := b.store.JournalDone(ctx, []string{"x"}, []string{""}); err == nil {
			t.Error("JournalDone confirming an empty key succeeded")
		}
	})

	t.Run("DoneConfirms", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.JournalAppend(ctx, []store.JournalEntry{entry("env", "dead", epoch)}))
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
