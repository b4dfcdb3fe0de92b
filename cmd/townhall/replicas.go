package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

const (
	// heartbeatInterval is how often a replica rewrites its heartbeat row
	// (and at once whenever its Slack connection changes); with
	// PostgreSQL, every third of TOWNHALL_REPLICA_TIMEOUT when that is
	// shorter (see beatEvery).
	heartbeatInterval = 15 * time.Second
	// replicaWindow is how recent a heartbeat must be for status to list
	// its replica: a few missed beats, so one slow write does not hide it.
	replicaWindow = 2 * time.Minute
	// replicaRetention is how long the row of a replica that died without
	// leaving is kept before the daily purge deletes it.
	replicaRetention = 24 * time.Hour
)

// heartbeat keeps this process's row in the store's replicas table.
type heartbeat struct {
	st    store.Replicas
	rt    *slackapp.Runtime
	log   *slog.Logger
	self  store.Replica // ID, Host, Version and StartedAt; the rest per beat
	every time.Duration
	// journal, when replicas share the database, has the entries too old
	// to replay purged after every beat.
	journal store.Journal
	now     func() time.Time
}

// newSelf describes this process: its host name, a replica ID unique to
// the process (host, pid and a random suffix, so a restarted container
// with the same pid is a new replica) and the build's version.
func newSelf(now time.Time) store.Replica {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 3)
	rand.Read(b)
	return store.Replica{
		ID:        fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b)),
		Host:      host,
		Version:   buildVersion(),
		StartedAt: now,
	}
}

// buildVersion is the module version the binary was built at, or its VCS
// revision (with "+dirty" for uncommitted changes), or "(devel)".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "(devel)"
	}
	return rev[:min(len(rev), 12)] + dirty
}

// run beats at once, then every interval and at every change of the Slack
// connection, until ctx is done; then it deletes the row (a replica that
// stopped cleanly is not listed). A failed beat is logged and retried at
// the next one: the database may be away for a while.
func (h *heartbeat) run(ctx context.Context) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	failing := false
	for {
		changed := h.rt.ConnectionChanged()
		if err := h.beat(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				h.log.Warn("replica heartbeat not written; retrying", "error", err)
			}
			failing = true
		} else if failing && err == nil {
			h.log.Info("replica heartbeat written again")
			failing = false
		}
		if h.journal != nil && !failing {
			now := h.now()
			if _, err := h.journal.PurgeJournal(ctx, now.Add(-journalRetention)); err != nil && ctx.Err() == nil {
				h.log.Warn("journal not purged; retrying at the next heartbeat", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			leaveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := h.st.Leave(leaveCtx, h.self.ID); err != nil {
				h.log.Warn("replica heartbeat not deleted; status lists it until it ages out", "error", err)
			}
			return
		case <-t.C:
		case <-changed:
		}
	}
}

func (h *heartbeat) beat(ctx context.Context) error {
	cs := h.rt.ConnectionState()
	r := h.self
	r.ConnectedSince, r.State = cs.Since, cs.String()
	return h.st.Beat(ctx, r)
}

// replicaLines are status's lines about the replicas that beat within
// replicaWindow: host, version, connected since, last heartbeat.
func replicaLines(ctx context.Context, st store.Replicas, selfID string, when func(time.Time) string) []string {
	rs, err := st.ListReplicas(ctx, replicaWindow)
	if err != nil {
		return []string{"⚠️ replicas unknown: the database is unavailable"}
	}
	if len(rs) == 0 {
		return []string{"no heartbeat in the last " + replicaWindow.String() + " (the database may be unavailable)"}
	}
	lines := make([]string, 0, len(rs))
	for _, r := range rs {
		var b strings.Builder
		mark := "🟢"
		if r.ConnectedSince.IsZero() {
			mark = "🟠"
		}
		fmt.Fprintf(&b, "%s `%s` %s", mark, slackapp.Escape(r.Host), slackapp.Escape(r.Version))
		if r.ID == selfID {
			b.WriteString(" (this one)")
		}
		if r.ConnectedSince.IsZero() {
			fmt.Fprintf(&b, " — %s", slackapp.Escape(r.State))
		} else {
			fmt.Fprintf(&b, " — connected since %s", when(r.ConnectedSince))
		}
		fmt.Fprintf(&b, ", last heartbeat %s", when(r.LastBeat))
		lines = append(lines, b.String())
	}
	return lines
}
