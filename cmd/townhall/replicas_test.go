package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// fakeReplicas answers ListReplicas with fixed rows, or an error.
type fakeReplicas struct {
	store.Replicas
	rows []store.Replica
	err  error
}

func (f fakeReplicas) ListReplicas(context.Context, time.Duration) ([]store.Replica, error) {
	return f.rows, f.err
}

func TestReplicaLines(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	when := func(t time.Time) string { return t.Format("15:04:05") }
	rows := []store.Replica{
		{ID: "a-1", Host: "a", Version: "v1", ConnectedSince: at, State: "connected", LastBeat: at.Add(time.Minute)},
		{ID: "b-2", Host: "b<script>", Version: "v2", State: "refused by Slack (too_many_websockets) 3 times; retrying at 03:10:00 UTC", LastBeat: at},
	}
	got := replicaLines(t.Context(), fakeReplicas{rows: rows}, "a-1", when)
	want := []string{
		"🟢 `a` v1 (this one) — connected since 03:04:05, last heartbeat 03:05:05",
		"🟠 `b&lt;script&gt;` v2 — refused by Slack (too_many_websockets) 3 times; retrying at 03:10:00 UTC, last heartbeat 03:04:05",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("replicaLines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := replicaLines(t.Context(), fakeReplicas{err: errors.New("boom")}, "a-1", when); len(got) != 1 || !strings.Contains(got[0], "database is unavailable") {
		t.Errorf("with the database away: %q", got)
	}
}
