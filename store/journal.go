package store

import (
	"context"
	"fmt"
	"time"
)

// Journal is the shared record of the Slack requests that replicas have
// acknowledged and not yet finished handling, so that when a replica dies
// another one replays them. Slack never redelivers an acknowledged
// envelope: without the journal, a replica killed between its ack and its
// handler's answer loses the request.
//
// A replica appends each envelope, as received, before it acknowledges it,
// and removes it when its handler has finished: the journal holds only
// the requests in flight. Every few seconds each replica takes over the
// entries whose owner has died (its heartbeat, see Replicas, is older than
// a window, or gone) and replays them.
type Journal interface {
	// JournalAppend records entries (their IDs unique) in one write. An ID
	// already recorded is left as it is. Entries arrive with Owner,
	// Envelope and ReceivedAt set. In the same write it claims each
	// entry's Claim keys for its Owner for lease, as Claims.Claim would
	// (a Store's WithOwner rule included), and reports for each entry
	// whether it now holds all of them (true for an entry with none; a
	// key repeated in a later entry of the batch is that entry's loss), so
	// that a request is recorded and claimed in one round-trip.
	JournalAppend(ctx context.Context, entries []JournalEntry, lease time.Duration) (claimed []bool, err error)
	// JournalDone removes the entries with ids, whose handlers have
	// finished (they are never taken over; unknown IDs are ignored), and
	// confirms the claims confirm, as Claims.Confirm does, in the same
	// write: a request's entry never outlives its confirmation, nor the
	// other way round.
	JournalDone(ctx context.Context, ids, confirm []string) error
	// JournalTakeOver makes owner the owner of at most limit entries
	// whose owner is not a live replica (no heartbeat
	// within deadAfter of now), oldest first, and returns them with the
	// owner they had. Of any number of concurrent callers, in any number
	// of processes, each entry goes to one. owner should itself be
	// beating, or another replica may take the entries from it in turn.
	JournalTakeOver(ctx context.Context, owner string, deadAfter time.Duration, limit int) ([]JournalEntry, error)
	// PurgeJournal deletes the entries received before olderThan, too old
	// to replay, and returns how many it deleted.
	PurgeJournal(ctx context.Context, olderThan time.Time) (int, error)
}

var _ Journal = (*Store)(nil)

// JournalEntry is one acknowledged Slack envelope in the Journal.
type JournalEntry struct {
	ID         string    // the envelope ID
	Owner      string    // the replica handling it (a Replica's ID)
	Envelope   []byte    // the envelope as received, enough to route it again
	ReceivedAt time.Time // when the owner read it
	// Claim are keys JournalAppend claims for Owner with the entry (not
	// stored with it: JournalTakeOver returns none).
	Claim []string
}

// JournalDriver is the part of a Driver that keeps the journal.
type JournalDriver interface {
	// JournalInsert inserts p.Entries in one statement, skipping IDs that
	// exist, and in the same transaction acquires each of p.Claims as
	// ClaimAcquire would with p.Now, p.Until and p.OwnerDeadBefore,
	// returning the keys it acquired. p.Entries is not empty; p.Claims'
	// keys are unique.
	JournalInsert(ctx context.Context, p JournalInsertParams) (acquired []string, err error)
	// JournalDelete deletes the rows p.IDs (missing ones are ignored) and
	// confirms the claims p.Confirm at p.Now as ClaimConfirm does, in one
	// transaction.
	JournalDelete(ctx context.Context, p JournalDeleteParams) error
	// JournalTakeOver atomically sets the owner of at most p.Limit rows
	// whose owner is neither p.Owner nor a replica
	// whose LastBeat is at or after p.SeenSince, oldest ReceivedAt first,
	// and returns them with their previous owner. A row goes to at most
	// one of any number of concurrent callers.
	JournalTakeOver(ctx context.Context, p JournalTakeOverParams) ([]JournalEntry, error)
	// JournalPurge deletes the rows received before p.ReceivedBefore and
	// returns how many.
	JournalPurge(ctx context.Context, p JournalPurgeParams) (int, error)
}

// JournalInsertParams are the arguments of Driver.JournalInsert.
type JournalInsertParams struct {
	Entries []JournalEntry // times at Precision
	Claims  []JournalClaim
	// Now, Until and OwnerDeadBefore are as in ClaimAcquireParams, for
	// every claim.
	Now, Until, OwnerDeadBefore time.Time
}

// JournalClaim is a claim JournalInsert acquires: Key for Owner.
type JournalClaim struct {
	Key, Owner string
}

// JournalDeleteParams are the arguments of Driver.JournalDelete.
type JournalDeleteParams struct {
	IDs     []string
	Confirm []string  // claim keys, non-empty
	Now     time.Time // the confirmations' time
}

// JournalTakeOverParams are the arguments of Driver.JournalTakeOver.
type JournalTakeOverParams struct {
	Owner     string    // the new owner
	SeenSince time.Time // an owner that beat at or after this is alive
	Now       time.Time // recorded as the takeover time, for operators
	Limit     int       // at least 1
}

// JournalPurgeParams are the arguments of Driver.JournalPurge.
type JournalPurgeParams struct {
	ReceivedBefore time.Time
}

// JournalAppend implements Journal.
func (s *Store) JournalAppend(ctx context.Context, entries []JournalEntry, lease time.Duration) ([]bool, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	es := make([]JournalEntry, len(entries))
	var claims []JournalClaim
	first := make(map[string]int) // key → the entry that claims it
	for i, e := range entries {
		if e.ID == "" || e.Owner == "" {
			return nil, fmt.Errorf("store: journal append: entry %d: %w", i, ErrEmptyKey)
		}
		if e.Envelope == nil {
			e.Envelope = []byte{}
		}
		e.ReceivedAt = e.ReceivedAt.UTC().Truncate(Precision)
		for _, k := range e.Claim {
			if k == "" {
				return nil, fmt.Errorf("store: journal append: entry %d: claim: %w", i, ErrEmptyKey)
			}
			if _, dup := first[k]; !dup {
				first[k] = i
				claims = append(claims, JournalClaim{Key: k, Owner: e.Owner})
			}
		}
		es[i] = e
	}
	now := s.clock()
	p := JournalInsertParams{Entries: es, Claims: claims, Now: now}
	if len(claims) > 0 {
		if lease < Precision {
			return nil, fmt.Errorf("store: journal append: lease must be at least %v, got %v", Precision, lease)
		}
		p.Until = now.Add(lease).Truncate(Precision)
		if s.deadAfter > 0 {
			p.OwnerDeadBefore = now.Add(-s.deadAfter).Truncate(Precision)
		}
	}
	acquired, err := s.d.JournalInsert(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("store: journal append %d entries: %w", len(es), err)
	}
	won := make(map[string]bool, len(acquired))
	for _, k := range acquired {
		won[k] = true
	}
	claimed := make([]bool, len(es))
	for i, e := range es {
		claimed[i] = true
		for _, k := range e.Claim {
			if !won[k] || first[k] != i {
				claimed[i] = false
			}
		}
	}
	return claimed, nil
}

// JournalDone implements Journal.
func (s *Store) JournalDone(ctx context.Context, ids, confirm []string) error {
	if len(ids) == 0 && len(confirm) == 0 {
		return nil
	}
	for _, k := range confirm {
		if k == "" {
			return fmt.Errorf("store: journal done: confirm: %w", ErrEmptyKey)
		}
	}
	if err := s.d.JournalDelete(ctx, JournalDeleteParams{IDs: ids, Confirm: confirm, Now: s.clock()}); err != nil {
		return fmt.Errorf("store: journal done %d entries: %w", len(ids), err)
	}
	return nil
}

// JournalTakeOver implements Journal.
func (s *Store) JournalTakeOver(ctx context.Context, owner string, deadAfter time.Duration, limit int) ([]JournalEntry, error) {
	if owner == "" {
		return nil, fmt.Errorf("store: journal take over: %w", ErrEmptyKey)
	}
	if deadAfter <= 0 || limit < 1 {
		return nil, fmt.Errorf("store: journal take over: want a positive window and limit, got %v and %d", deadAfter, limit)
	}
	now := s.clock()
	es, err := s.d.JournalTakeOver(ctx, JournalTakeOverParams{
		Owner: owner, SeenSince: now.Add(-deadAfter), Now: now, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("store: journal take over for %q: %w", owner, err)
	}
	return es, nil
}

// PurgeJournal implements Journal.
func (s *Store) PurgeJournal(ctx context.Context, olderThan time.Time) (int, error) {
	n, err := s.d.JournalPurge(ctx, JournalPurgeParams{ReceivedBefore: olderThan.Truncate(Precision)})
	if err != nil {
		return 0, fmt.Errorf("store: purge journal: %w", err)
	}
	return n, nil
}
