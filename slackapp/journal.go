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
// Record durably records entries owned by this replica, in one write.
// Finish marks envelopes handled (they are never replayed). TakeOver makes
// this replica the owner of at most limit unfinished entries whose owner
// has died and returns them, each to one replica only. All honour ctx; an
// error means the store could not be asked.
type Journal interface {
	Record(ctx context.Context, entries []JournalEntry) error
	Finish(ctx context.Context, envelopeIDs []string) error
	TakeOver(ctx context.Context, limit int) ([]JournalEntry, error)
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
}

const (
	// journalWriteTimeout bounds one group write. An ack waits for its
	// entry's write at most this long, well within Slack's 3 s deadline.
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
	// journalRecordWriters is how many writes of new entries may be in
	// flight at once (the store's journal pool has one more connection,
	// for finished entries).
	journalRecordWriters = 2
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
// closed once the write was tried; ok then says whether it succeeded.
type journalRecord struct {
	entry   JournalEntry
	written chan struct{}
	ok      bool
}

// journalWriter group-commits the journal: whatever entries (and
// finishes) arrive while a write is in flight go into the next single
// write, so at any rate an ack waits for about one round-trip.
type journalWriter struct {
	j   Journal
	log *slog.Logger
	m   *metrics

	mu       sync.Mutex
	records  []*journalRecord
	finished []string
	wake     chan struct{} // capacity 1: there are records
	wakeDone chan struct{} // capacity 1: there are finished entries

	downUntil atomic.Int64 // unix nanoseconds; journaling is skipped until then
	failing   atomic.Bool
}

func newJournalWriter(j Journal, log *slog.Logger, m *metrics) *journalWriter {
	return &journalWriter{j: j, log: log, m: m, wake: make(chan struct{}, 1), wakeDone: make(chan struct{}, 1)}
}

// record queues env for the journal and returns its record, or nil when
// the journal is skipped (the store failed a moment ago, or env does not
// encode).
func (w *journalWriter) record(env *socketmode.Request, received time.Time) *journalRecord {
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
	r := &journalRecord{entry: JournalEntry{EnvelopeID: env.EnvelopeID, Envelope: b, ReceivedAt: received}, written: make(chan struct{})}
	w.mu.Lock()
	w.records = append(w.records, r)
	w.mu.Unlock()
	signal(w.wake)
	return r
}

// finish queues r's envelope as handled, once its write has been tried.
func (w *journalWriter) finish(r *journalRecord) {
	if r == nil {
		return
	}
	<-r.written // closed within journalWriteTimeout
	if !r.ok {
		return
	}
	w.mu.Lock()
	w.finished = append(w.finished, r.entry.EnvelopeID)
	w.mu.Unlock()
	signal(w.wakeDone)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// run writes until ctx is done, then writes what is left and returns.
// Writes never take ctx's cancellation (each has its own timeout): ctx
// only says when to stop. New entries are written by up to
// journalRecordWriters writes at once, each taking everything queued
// when it starts, so an ack waits for about one round-trip even while
// another write is in flight; finished entries by one more, so an ack
// never waits behind them.
func (w *journalWriter) run(ctx context.Context) {
	wctx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		slots := make(chan struct{}, journalRecordWriters)
		var flights sync.WaitGroup
		defer func() {
			flights.Wait()
			w.flushRecords(wctx, w.takeRecords())
		}()
		for {
			select {
			case <-w.wake:
			case <-ctx.Done():
				return
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			records := w.takeRecords()
			if len(records) == 0 {
				<-slots
				continue
			}
			flights.Go(func() {
				defer func() { <-slots }()
				w.flushRecords(wctx, records)
			})
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-w.wakeDone:
				w.flushFinished(wctx)
			case <-ctx.Done():
				w.flushFinished(wctx)
				return
			}
		}
	})
	wg.Wait()
}

func (w *journalWriter) takeRecords() []*journalRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	records := w.records
	w.records = nil
	return records
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
		err := w.j.Record(wctx, entries)
		cancel()
		for _, r := range batch {
			r.ok = err == nil
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

// flushFinished marks the queued finished entries done.
func (w *journalWriter) flushFinished(ctx context.Context) {
	w.mu.Lock()
	finished := w.finished
	w.finished = nil
	w.mu.Unlock()
	for len(finished) > 0 {
		batch := finished[:min(len(finished), journalBatchMax)]
		finished = finished[len(batch):]
		fctx, cancel := context.WithTimeout(ctx, journalWriteTimeout)
		err := w.j.Finish(fctx, batch)
		cancel()
		if err != nil {
			// The entries stay open: they are replayed, and deduped, only
			// if this replica dies.
			w.log.Warn("journal: finished entries not marked", "entries", len(batch), "error", err)
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

// replayLoop takes over the entries of dead replicas at once and then
// every interval until ctx is done, and starts their handlers.
func (rt *Runtime) replayLoop(ctx, handlerCtx context.Context) {
	every := rt.opts.ReplayInterval
	if every <= 0 {
		every = defaultReplayInterval
	}
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
		rt.journal.finish(rec)
		return
	}
	env, data, err := parseEnvelope(e.Envelope)
	if err != nil {
		rt.m.replays.WithLabelValues("invalid").Inc()
		log.Error("journal: request of a dead replica dropped: its envelope does not parse", "error", err)
		rt.journal.finish(rec)
		return
	}
	req, route, h := rt.routeRequest(env, data)
	if req == nil {
		rt.journal.finish(rec)
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
// lease may still hold them it tries again every replay interval; once the
// lease must have ended, a refused claim means the request was answered
// (confirmed) and the entry is finished. It reports whether to run the
// handler; false when the runtime stops first leaves the entry open for
// another replica.
func (rt *Runtime) awaitReplayClaim(ctx context.Context, t *task, keys []string) (run bool, claimed []string) {
	every := rt.opts.ReplayInterval
	if every <= 0 {
		every = defaultReplayInterval
	}
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
			rt.journal.finish(t.rec)
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
