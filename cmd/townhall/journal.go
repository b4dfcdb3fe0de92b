package main

import (
	"context"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// journalRetention is how long an unfinished journal entry is kept: past
// a response_url's 30 minutes it can no longer be replayed usefully (the
// runtime drops such entries itself when it takes them over).
const journalRetention = time.Hour

// replicaJournal is the store's journal as the Slack runtime uses it: the
// entries it records are this replica's, and a replica is dead once its
// heartbeat is older than deadAfter (TOWNHALL_REPLICA_TIMEOUT).
// Its Finish confirms the runtime's claims: the store must be the
// runtime's Deduper too.
type replicaJournal struct {
	st        journalStore
	self      string
	deadAfter time.Duration
}

// journalStore is what replicaJournal needs of the store.
type journalStore interface {
	store.Journal
	ClaimsHeld(ctx context.Context, owner string, keys []string) (bool, error)
}

var _ slackapp.Journal = replicaJournal{}

// Record implements slackapp.Journal.
func (j replicaJournal) Record(ctx context.Context, entries []slackapp.JournalEntry, lease time.Duration) ([]bool, error) {
	es := make([]store.JournalEntry, len(entries))
	for i, e := range entries {
		es[i] = store.JournalEntry{ID: e.EnvelopeID, Owner: j.self, Envelope: e.Envelope, ReceivedAt: e.ReceivedAt, Claim: e.Claim}
	}
	return j.st.JournalAppend(ctx, es, lease)
}

// Holding implements slackapp.Journal.
func (j replicaJournal) Holding(ctx context.Context, keys []string) (bool, error) {
	return j.st.ClaimsHeld(ctx, j.self, keys)
}

// Finish implements slackapp.Journal.
func (j replicaJournal) Finish(ctx context.Context, envelopeIDs, confirmKeys []string) error {
	return j.st.JournalDone(ctx, envelopeIDs, confirmKeys)
}

// TakeOver implements slackapp.Journal.
func (j replicaJournal) TakeOver(ctx context.Context, limit int) ([]slackapp.JournalEntry, error) {
	es, err := j.st.JournalTakeOver(ctx, j.self, j.deadAfter, limit)
	if err != nil {
		return nil, err
	}
	out := make([]slackapp.JournalEntry, len(es))
	for i, e := range es {
		out[i] = slackapp.JournalEntry{EnvelopeID: e.ID, Envelope: e.Envelope, ReceivedAt: e.ReceivedAt, Owner: e.Owner}
	}
	return out, nil
}

// beatEvery is how often a replica beats (and looks for dead replicas'
// journal entries) when replicas count as dead after deadAfter: a third
// of it, so two missed beats do not kill a live replica, and at most
// heartbeatInterval.
func beatEvery(deadAfter time.Duration) time.Duration {
	return min(heartbeatInterval, deadAfter/3)
}
