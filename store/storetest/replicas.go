package storetest

import (
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

func exerciseReplicas(t *testing.T, setup func(*testing.T) *testBundle) {
	t.Run("BeatListLeave", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		if rs, err := b.store.ListReplicas(ctx, time.Minute); err != nil || len(rs) != 0 {
			t.Fatalf("ListReplicas of an empty store = %v, %v; want none", rs, err)
		}
		started := epoch.Add(-time.Hour + 123*time.Microsecond)
		a := store.Replica{ID: "host-a-1-x", Host: "host-a", Version: "v1.2.3", StartedAt: started, State: "connecting"}
		must(t, b.store.Beat(ctx, a))
		b.clock.Advance(time.Second)
		connected := epoch.Add(500 * time.Millisecond)
		z := store.Replica{ID: "host-0-9-y", Host: "host-0", Version: "ünï ✓", StartedAt: started,
			ConnectedSince: connected, State: "connected"}
		must(t, b.store.Beat(ctx, z))

		rs, err := b.store.ListReplicas(ctx, time.Minute)
		must(t, err)
		if len(rs) != 2 {
			t.Fatalf("ListReplicas = %d replicas, want 2: %+v", len(rs), rs)
		}
		// Ordered by host.
		if rs[0].ID != z.ID || rs[1].ID != a.ID {
			t.Fatalf("ListReplicas order = %s, %s; want %s, %s", rs[0].ID, rs[1].ID, z.ID, a.ID)
		}
		got := rs[0]
		if got.Host != z.Host || got.Version != z.Version || got.State != z.State ||
			!got.StartedAt.Equal(started) || !got.ConnectedSince.Equal(connected) || !got.LastBeat.Equal(epoch.Add(time.Second)) {
			t.Errorf("replica = %+v; want %+v with LastBeat %v", got, z, epoch.Add(time.Second))
		}
		if !rs[1].ConnectedSince.IsZero() {
			t.Errorf("replica never connected: ConnectedSince = %v, want zero", rs[1].ConnectedSince)
		}
		if !rs[1].LastBeat.Equal(epoch) {
			t.Errorf("LastBeat = %v, want %v", rs[1].LastBeat, epoch)
		}

		// A beat replaces the row: connected now, and later.
		b.clock.Advance(time.Second)
		a.ConnectedSince, a.State = epoch.Add(2*time.Second), "connected"
		must(t, b.store.Beat(ctx, a))
		rs, err = b.store.ListReplicas(ctx, time.Minute)
		must(t, err)
		if len(rs) != 2 || rs[1].State != "connected" || !rs[1].ConnectedSince.Equal(epoch.Add(2*time.Second)) {
			t.Fatalf("after a second beat: %+v", rs)
		}

		// The window leaves out replicas that stopped beating.
		b.clock.Advance(90 * time.Second)
		must(t, b.store.Beat(ctx, z))
		rs, err = b.store.ListReplicas(ctx, time.Minute)
		must(t, err)
		if len(rs) != 1 || rs[0].ID != z.ID {
			t.Fatalf("ListReplicas(1m) after a's silence = %+v; want only %s", rs, z.ID)
		}

		must(t, b.store.Leave(ctx, z.ID))
		must(t, b.store.Leave(ctx, "never-was"))
		rs, err = b.store.ListReplicas(ctx, time.Hour)
		must(t, err)
		if len(rs) != 1 || rs[0].ID != a.ID {
			t.Fatalf("ListReplicas(1h) after z left = %+v; want only %s", rs, a.ID)
		}
	})

	t.Run("Purge", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		must(t, b.store.Beat(ctx, store.Replica{ID: "old", Host: "h", StartedAt: epoch}))
		b.clock.Advance(time.Hour)
		must(t, b.store.Beat(ctx, store.Replica{ID: "new", Host: "h", StartedAt: epoch}))
		n, err := b.store.PurgeReplicas(ctx, epoch.Add(time.Minute))
		must(t, err)
		if n != 1 {
			t.Errorf("PurgeReplicas = %d, want 1", n)
		}
		rs, err := b.store.ListReplicas(ctx, 24*time.Hour)
		must(t, err)
		if len(rs) != 1 || rs[0].ID != "new" {
			t.Errorf("after purge: %+v; want only new", rs)
		}
	})

	t.Run("EmptyIDRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.store.Beat(t.Context(), store.Replica{Host: "h"}); err == nil {
			t.Error("Beat with no ID succeeded")
		}
	})
}
