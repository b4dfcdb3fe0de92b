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
	// Envelope and ReceivedAt set.
	JournalAppend(ctx context.Context, entries []JournalEntry) error
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
}

// JournalDriver is the part of a Driver that keeps the journal.
type JournalDriver interface {
	// JournalInsert inserts p.Entries in one statement, skipping IDs that
	// exist. p.Entries is not empty.
	JournalInsert(ctx context.Context, p JournalInsertParams) error
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
func (s *Store) JournalAppend(ctx context.Context, entries []JournalEntry) error {
	if len(entries) == 0 {
		return nil
	}
	es := make([]JournalEntry, len(entries))
	for i, e := range entries {
		if e.ID == "" || e.Owner == "" {
			return fmt.Errorf("store: journal append: entry %d: %w", i, ErrEmptyKey)
		}
		if e.Envelope == nil {
			e.Envelope = []byte{}
		}
		e.ReceivedAt = e.ReceivedAt.UTC().Truncate(Precision)
		es[i] = e
	}
	if err := s.d.JournalInsert(ctx, JournalInsertParams{Entries: es}); err != nil {
		return fmt.Errorf("store: journal append %d entries: %w", len(es), err)
	}
	return nil
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
