package slackapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Journal is the shared record of envelopes acknowledged and not yet
// handled, so that what a replica acknowledged and did not answer before
// it died is replayed by another (Slack never redelivers an acknowledged
// envelope). It is the store's journal (store.Journal, adapted by
// cmd/townhall with this replica's ID and its idea of a dead replica),
// used only with a shared Deduper: a replay is claimed under the same keys
// as the first delivery, so it never repeats an answer already given.
//
// Record durably records entries owned by this replica, in one write,
// and in the same write claims each entry's Claim keys in the Deduper for
// this replica for lease, reporting for each entry whether it got them
// all: a request is recorded and claimed in one round-trip before its
// ack. Finish marks envelopes handled (they are never replayed) and
// confirms, in the same write, the Deduper keys their handlers claimed (so
// the Journal and the Deduper must be one store; keys are as the runtime
// claims them, prefix and all). TakeOver makes this replica the owner of
// at most limit unfinished entries whose owner has died and returns them,
// each to one replica only. Holding reports whether this replica still
// holds every one of keys as Record claimed them (unconfirmed, under a
// live lease, not taken over by another replica that thought it dead).
// All honour ctx; an error means the store could not be asked.
//
// A handler that starts within half a replay interval of its Record's
// return runs on the claim Record took, without asking again; one that
// waited longer asks Holding first. So a Journal must never let another
// replica take a claim from this one sooner than that after Record
// returned. cmd/townhall's takes a claim once its owner's last heartbeat
// is TOWNHALL_REPLICA_TIMEOUT (three replay intervals) old; the owner beat
// at most an interval before the claim, and Record returns within
// journalWriteTimeout (1 s, at most a replay interval), so at least one
// interval is left. (A replica whose heartbeats fail while its journal
// writes succeed is outside this: the store trusts heartbeats.)
type Journal interface {
	Record(ctx context.Context, entries []JournalEntry, lease time.Duration) (claimed []bool, err error)
	Finish(ctx context.Context, envelopeIDs, confirmKeys []string) error
	TakeOver(ctx context.Context, limit int) ([]JournalEntry, error)
	Holding(ctx context.Context, keys []string) (bool, error)
}

// JournalEntry is one acknowledged envelope.
type JournalEntry struct {
	EnvelopeID string
	// Envelope is the Socket Mode envelope as received (its JSON, payload
	// untouched): enough to rebuild the Request and route it again.
	Envelope   []byte
	ReceivedAt time.Time
	// Owner is, from TakeOver, the replica that held the entry before; it
	// is ignored by Record, which records this replica.
	Owner string
	// Claim are the Deduper keys Record claims with the entry; TakeOver
	// returns none.
	Claim []string
}

const (
	// journalWriteTimeout bounds one group write (a finish's too); an
	// ack's wait for its entry is bounded by journalAckWait.
	journalWriteTimeout = time.Second
	// journalAckWait is the longest an ack waits for its entry's write,
	// from the envelope's reading: an ack must leave within Slack's 3 s
	// whatever the store does (a write may wait for a writer's slot, then
	// take journalWriteTimeout).
	journalAckWait = 1500 * time.Millisecond
	// journalRetryAfter is how long the runtime acknowledges without
	// journaling after a failed write, so a lost database costs each ack
	// nothing rather than journalWriteTimeout.
	journalRetryAfter = 5 * time.Second
	// journalWriters is how many writes of new entries, and how many of
	// finished ones, may be in flight at once (the store's journal pool
	// has a connection for each).
	journalWriters = 2
	// journalBatchMax bounds the rows of one INSERT.
	journalBatchMax = 500
	// replayBatch is how many entries one TakeOver asks for.
	replayBatch = 100
	// replayMaxAge is how long a response_url stays useful (30 minutes,
	// https://api.slack.com/interactivity/handling#message_responses): an
	// entry older than that is dropped, not replayed.
	replayMaxAge = 30 * time.Minute
	// defaultReplayInterval is how often the runtime looks for the
	// entries of dead replicas.
	defaultReplayInterval = 5 * time.Second
)

// journalRecord is one envelope on its way into the journal. written is
// closed once the write was tried; ok then says whether it succeeded, and
// claimed whether it won its entry's Claim keys.
type journalRecord struct {
	entry   JournalEntry
	written chan struct{}
	ok      bool
	claimed bool
	at      time.Time // when the write returned
}

// journalWriter group-commits the journal: whatever entries (and
// finishes) arrive while a write is in flight go into the next single
// write, so at any rate an ack waits for about one round-trip.
type journalWriter struct {
	j     Journal
	log   *slog.Logger
	m     *metrics
	lease time.Duration // of the claims Record takes

	// confirm confirms keys in the Deduper when a Finish that should
	// have failed: the handlers ran, their claims must not lapse.
	confirm func(ctx context.Context, keys []string)

	mu       sync.Mutex
	records  []*journalRecord
	finished []finished
	wake     chan struct{} // capacity 1: there are records
	wakeDone chan struct{} // capacity 1: there are finished entries

	downUntil atomic.Int64 // unix nanoseconds; journaling is skipped until then
	failing   atomic.Bool
}

// finished is an envelope whose handler is done, and the keys it claimed.
type finished struct {
	id   string
	keys []string
}

func newJournalWriter(j Journal, log *slog.Logger, m *metrics, lease time.Duration, confirm func(context.Context, []string)) *journalWriter {
	return &journalWriter{j: j, log: log, m: m, lease: lease, confirm: confirm, wake: make(chan struct{}, 1), wakeDone: make(chan struct{}, 1)}
}

// record queues env for the journal, with the Deduper keys to claim with
// it, and returns its record, or nil when the journal is skipped (the
// store failed a moment ago, or env does not encode).
func (w *journalWriter) record(env *socketmode.Request, received time.Time, claim []string) *journalRecord {
	if time.Now().UnixNano() < w.downUntil.Load() {
		w.m.journalErrors.Inc()
		return nil
	}
	b, err := json.Marshal(env)
	if err != nil {
		w.m.journalErrors.Inc()
		w.log.Warn("journal: envelope not recorded", "envelope_id", env.EnvelopeID, "error", err)
		return nil
	}
	r := &journalRecord{entry: JournalEntry{EnvelopeID: env.EnvelopeID, Envelope: b, ReceivedAt: received, Claim: claim}, written: make(chan struct{})}
	w.mu.Lock()
	w.records = append(w.records, r)
	w.mu.Unlock()
	signal(w.wake)
	return r
}

// finish queues r's envelope as handled, with the claimed keys to
// confirm, once its write has been tried. It reports whether it did: if
// not (no record, or its write failed), the caller confirms keys itself.
func (w *journalWriter) finish(r *journalRecord, keys []string) bool {
	if r == nil {
		return false
	}
	<-r.written // closed within journalWriteTimeout
	if !r.ok {
		return false
	}
	w.mu.Lock()
	w.finished = append(w.finished, finished{id: r.entry.EnvelopeID, keys: keys})
	w.mu.Unlock()
	signal(w.wakeDone)
	return true
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// run writes until ctx is done, then writes what is left and returns.
// Writes never take ctx's cancellation (each has its own timeout): ctx
// only says when to stop. New entries and finished ones are written
// apart, so an ack never waits behind finishes; each kind by up to
// journalWriters writes at once.
func (w *journalWriter) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { groupWrites(ctx, w.wake, w.takeRecords, w.flushRecords) })
	wg.Go(func() { groupWrites(ctx, w.wakeDone, w.takeFinished, w.flushFinished) })
	wg.Wait()
}

// groupWrites is a group commit: at each wake it takes everything queued
// and writes it, in up to journalWriters writes at once; what is queued
// while they are all in flight goes into the next. So a write waits for
// about one round-trip however many arrive, and the writes grow with the
// load instead of the queue. When ctx is done it waits for the writes in
// flight, writes what is left and returns.
func groupWrites[T any](ctx context.Context, wake <-chan struct{}, take func() []T, write func(context.Context, []T)) {
	wctx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, journalWriters)
	var flights sync.WaitGroup
	defer func() {
		flights.Wait()
		if rest := take(); len(rest) > 0 {
			write(wctx, rest)
		}
	}()
	for {
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		batch := take()
		if len(batch) == 0 {
			<-slots
			continue
		}
		flights.Go(func() {
			defer func() { <-slots }()
			write(wctx, batch)
		})
	}
}

func (w *journalWriter) takeRecords() []*journalRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	records := w.records
	w.records = nil
	return records
}

func (w *journalWriter) takeFinished() []finished {
	w.mu.Lock()
	defer w.mu.Unlock()
	done := w.finished
	w.finished = nil
	return done
}

// flushRecords writes records and releases their acks.
func (w *journalWriter) flushRecords(ctx context.Context, records []*journalRecord) {
	for len(records) > 0 {
		batch := records[:min(len(records), journalBatchMax)]
		records = records[len(batch):]
		entries := make([]JournalEntry, len(batch))
		for i, r := range batch {
			entries[i] = r.entry
		}
		wctx, cancel := context.WithTimeout(ctx, journalWriteTimeout)
		claimed, err := w.j.Record(wctx, entries, w.lease)
		cancel()
		if err == nil && len(claimed) != len(batch) {
			err = fmt.Errorf("journal: %d claim results for %d entries", len(claimed), len(batch))
		}
		now := time.Now()
		for i, r := range batch {
			r.ok, r.at = err == nil, now
			r.claimed = r.ok && claimed[i]
			close(r.written)
		}
		w.m.journalBatch.Observe(float64(len(batch)))
		if err != nil {
			w.m.journalErrors.Add(float64(len(batch)))
			w.downUntil.Store(time.Now().Add(journalRetryAfter).UnixNano())
			if !w.failing.Swap(true) {
				w.log.Warn("journal unavailable; acknowledging without it (a replica that dies now loses what it holds)",
					"retry_in", journalRetryAfter, "error", err)
			}
			continue
		}
		if w.failing.Swap(false) {
			w.log.Info("journal written again")
		}
	}
}

// flushFinished removes finished entries and confirms their keys, in one
// write per batch.
func (w *journalWriter) flushFinished(ctx context.Context, done []finished) {
	for len(done) > 0 {
		batch := done[:min(len(done), journalBatchMax)]
		done = done[len(batch):]
		ids := make([]string, 0, len(batch))
		var keys []string
		for _, f := range batch {
			ids = append(ids, f.id)
			keys = append(keys, f.keys...)
		}
		fctx, cancel := context.WithTimeout(ctx, journalWriteTimeout)
		err := w.j.Finish(fctx, ids, keys)
		cancel()
		if err != nil {
			// The entries stay open: they are replayed, and deduped, only
			// if this replica dies. The claims are confirmed on their own.
			w.log.Warn("journal: finished entries not removed", "entries", len(batch), "error", err)
			if len(keys) > 0 {
				w.confirm(ctx, keys)
			}
		}
	}
}

// preWritten is the record of an entry already in the journal (taken
// over for replay).
func preWritten(e JournalEntry) *journalRecord {
	r := &journalRecord{entry: e, written: make(chan struct{}), ok: true}
	close(r.written)
	return r
}

// replayInterval is Options.ReplayInterval, or its default.
func (rt *Runtime) replayInterval() time.Duration {
	if rt.opts.ReplayInterval > 0 {
		return rt.opts.ReplayInterval
	}
	return defaultReplayInterval
}

// replayLoop takes over the entries of dead replicas at once and then
// every interval until ctx is done, and starts their handlers.
func (rt *Runtime) replayLoop(ctx, handlerCtx context.Context) {
	every := rt.replayInterval()
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		err := rt.replayDead(ctx, handlerCtx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			rt.log.Warn("journal: cannot look for the requests of dead replicas; retrying", "error", err)
			failing = true
		case err == nil && failing:
			rt.log.Info("journal: looking for the requests of dead replicas again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// replayDead takes over dead replicas' entries, a batch at a time, and
// replays each.
func (rt *Runtime) replayDead(ctx, handlerCtx context.Context) error {
	for ctx.Err() == nil {
		tctx, cancel := context.WithTimeout(ctx, dedupStoreTimeout)
		es, err := rt.opts.Journal.TakeOver(tctx, replayBatch)
		cancel()
		if err != nil {
			return err
		}
		for _, e := range es {
			rt.replay(ctx, handlerCtx, e)
		}
		if len(es) < replayBatch {
			return nil
		}
	}
	return nil
}

// replay routes a taken-over entry again, as a live request, except for
// the in-memory dedup (this process may have seen a redelivery of it that
// another replica's claim turned away).
func (rt *Runtime) replay(ctx, handlerCtx context.Context, e JournalEntry) {
	rec := preWritten(e)
	log := rt.log.With("envelope_id", e.EnvelopeID, "owner", e.Owner)
	if age := time.Since(e.ReceivedAt); age > replayMaxAge {
		rt.m.replays.WithLabelValues("expired").Inc()
		log.Warn("journal: request of a dead replica dropped: older than a response_url lives", "age", age.Round(time.Second))
		rt.journal.finish(rec, nil)
		return
	}
	env, data, err := parseEnvelope(e.Envelope)
	if err != nil {
		rt.m.replays.WithLabelValues("invalid").Inc()
		log.Error("journal: request of a dead replica dropped: its envelope does not parse", "error", err)
		rt.journal.finish(rec, nil)
		return
	}
	req, route, h := rt.routeRequest(env, data)
	if req == nil {
		rt.journal.finish(rec, nil)
		return
	}
	if h == nil {
		h = rt.unrouted()
	}
	log.Info("journal: replaying a request of a dead replica", "kind", string(req.Kind), "route", route,
		"age", time.Since(e.ReceivedAt).Round(time.Millisecond))
	rt.begin()
	rt.start(handlerCtx, req, route, h, dedupKeys(env, req), &task{rec: rec, replayed: time.Now(), stopping: ctx.Done()})
}

// awaitReplayClaim claims a replayed request's keys. While the dead owner's
// claim may still hold them (until the store counts its owner dead, as
// cmd/townhall's does after TOWNHALL_REPLICA_TIMEOUT, or at the latest
// until its lease ends) it tries again every replay interval; once the
// lease must have ended, a refused claim means the request was answered
// (confirmed) and the entry is finished. It reports whether to run the
// handler; false when the runtime stops first leaves the entry open for
// another replica.
func (rt *Runtime) awaitReplayClaim(ctx context.Context, t *task, keys []string) (run bool, claimed []string) {
	every := rt.replayInterval()
	// The owner claimed at most a heartbeat before it was seen dead; its
	// lease (see claimShared) runs HandlerTimeout + ackDeadline from there.
	until := t.replayed.Add(rt.cfg.HandlerTimeout + ackDeadline + 2*every)
	for {
		run, claimed = rt.claimShared(ctx, keys)
		if run {
			return true, claimed
		}
		if time.Now().After(until) {
			rt.m.replays.WithLabelValues("duplicate").Inc()
			rt.log.Info("journal: replayed request already answered", "envelope_id", t.rec.entry.EnvelopeID)
			rt.journal.finish(t.rec, nil)
			return false, nil
		}
		timer := time.NewTimer(every)
		select {
		case <-timer.C:
		case <-t.stopping:
			timer.Stop()
			return false, nil
		case <-ctx.Done():
			timer.Stop()
			return false, nil
		}
	}
}

// parseEnvelope decodes a journaled envelope as socketmode does one read
// from the WebSocket, into the Request and the typed data it carries.
func parseEnvelope(b []byte) (*socketmode.Request, any, error) {
	env := &socketmode.Request{}
	if err := json.Unmarshal(b, env); err != nil {
		return nil, nil, err
	}
	switch env.Type {
	case socketmode.RequestTypeEventsAPI:
		ev, err := slackevents.ParseEvent(env.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			return nil, nil, fmt.Errorf("events api payload: %w", err)
		}
		return env, ev, nil
	case socketmode.RequestTypeSlashCommands:
		var cmd slack.SlashCommand
		if err := json.Unmarshal(env.Payload, &cmd); err != nil {
			return nil, nil, fmt.Errorf("slash command payload: %w", err)
		}
		return env, cmd, nil
	case socketmode.RequestTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(env.Payload, &cb); err != nil {
			return nil, nil, fmt.Errorf("interaction payload: %w", err)
		}
		return env, cb, nil
	}
	return nil, nil, fmt.Errorf("envelope type %q is not a request", env.Type)
}
