// Package slackapp is townhall's Slack runtime: it holds the Socket Mode
// connection, acknowledges every envelope at once, routes requests to
// handlers by command name, shortcut callback ID, event type and action ID,
// and sends everything the app says through one rate-aware Poster.
//
// With replicas (a shared Deduper and a Journal), "at once" means after one
// group-committed write: a request is recorded in the shared journal
// before its ack, so that if this process dies before answering, another
// replica replays it (Slack never redelivers what was acknowledged). A
// journal that cannot be written never holds an ack back for long.
//
// It knows nothing about any integration and must never import
// townhall/integrations, townhall/scheduler or townhall/store.
package slackapp

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Options are the runtime's dependencies; every field may be left zero.
type Options struct {
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: no metrics exported
	HTTPClient *http.Client          // nil: a client with a 30 s timeout
	Poster     PosterOptions
	// PingInterval is how long the client waits for a WebSocket ping from
	// Slack before it drops the connection and reconnects (default 30 s).
	PingInterval time.Duration
	// Unrouted answers requests no handler is registered for (a command of
	// a disabled integration, say). nil: an ephemeral "not available".
	Unrouted Handler
	// Deduper, when the store is shared by several replicas, drops a
	// redelivery that reaches another replica than the first delivery
	// (the store's claims). nil: in-memory dedup only (one process).
	Deduper Deduper
	// Journal, with a Deduper, records each envelope before it is
	// acknowledged and replays those of replicas that died before
	// answering (see Journal). nil: an acknowledged request dies with its
	// process, and nothing is written before an ack.
	Journal Journal
	// ReplayInterval is how often the runtime looks for the journal
	// entries of dead replicas (default 5 s).
	ReplayInterval time.Duration
	// RefusedBackoff and RefusedBackoffMax bound the wait after Slack
	// refuses a connection (too_many_websockets): it starts at the first
	// and doubles up to the second (defaults 2 s and 5 min).
	RefusedBackoff, RefusedBackoffMax time.Duration
}

// Runtime is a Slack app connected by Socket Mode. Build it with New,
// Register handlers, then Run it.
type Runtime struct {
	cfg      Config
	log      *slog.Logger
	m        *metrics
	api      *slack.Client
	http     *http.Client
	poster   *Poster
	staff    *staffChecker
	channels *channelDirectory
	opts     Options

	routes   routes
	dedup    *dedup
	journal  *journalWriter // nil without Options.Journal
	sem      chan struct{}
	acking   sync.WaitGroup // goroutines queueing acks
	inflight sync.WaitGroup
	busy     atomic.Int64
	idle     chan struct{} // closed and replaced when busy drops to 0; guarded by idleMu
	idleMu   sync.Mutex

	errMu  sync.Mutex
	errors []HandlerError // newest last, at most maxRecentErrors

	connected atomic.Bool
	connMu    sync.Mutex
	connGen   uint64        // connections opened so far; guarded by connMu
	connEdge  chan struct{} // closed and replaced at every change of ConnectionState
	connSince time.Time     // when the open connection said hello; guarded by connMu
	refusals  int           // connections refused in a row; guarded by connMu
	refusal   string        // why the last was refused; guarded by connMu
	retryAt   time.Time     // when the next attempt after a refusal is due; guarded by connMu
	backoff   time.Duration // the wait before retryAt, without jitter; guarded by connMu
	botUserID atomic.Value  // string
}

// New builds a Runtime from a validated Config.
func New(cfg Config, opts Options) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Journal != nil && opts.Deduper == nil {
		return nil, fmt.Errorf("slackapp: a Journal needs a Deduper: replays are claimed under the first delivery's keys")
	}
	m := newMetrics(opts.Registerer)
	api := slack.New(cfg.BotToken.Reveal(),
		slack.OptionAPIURL(cfg.apiURL()),
		slack.OptionAppLevelToken(cfg.AppToken.Reveal()),
		slack.OptionHTTPClient(hc),
	)
	rt := &Runtime{
		cfg: cfg, log: logger, m: m, api: api, http: hc, opts: opts,
		poster:   newPoster(api, logger, m, opts.Poster),
		staff:    newStaffChecker(api, cfg.StaffUsers),
		channels: newChannelDirectory(api, logger),
		routes:   newRoutes(),
		dedup:    newDedup(10 * time.Minute),
		sem:      make(chan struct{}, cfg.MaxConcurrentHandlers),
		idle:     make(chan struct{}),
		connEdge: make(chan struct{}),
	}
	if opts.Journal != nil {
		rt.journal = newJournalWriter(opts.Journal, logger, m, rt.claimLease(), rt.confirmShared)
	}
	rt.botUserID.Store("")
	return rt, nil
}

// Register adds an integration's handlers. A name registered twice is an
// error naming it. Register before Run.
func (rt *Runtime) Register(h Handlers) error { return rt.routes.add(h) }

// Commands lists every registered slash command, sorted by name, for help.
func (rt *Runtime) Commands() []Command { return rt.routes.commandList() }

// Shortcuts lists every registered shortcut, for help.
func (rt *Runtime) Shortcuts() []Shortcut { return rt.routes.shortcutList() }

// Poster returns the poster every channel message goes through.
func (rt *Runtime) Poster() *Poster { return rt.poster }

// API returns the Web API client (bot token) for calls the Poster does not
// cover, such as conversations.history.
func (rt *Runtime) API() *slack.Client { return rt.api }

// Connected reports whether a Socket Mode connection is open (for /readyz).
func (rt *Runtime) Connected() bool { return rt.connected.Load() }

// BotUserID is the bot's own user ID, known once Run has called auth.test.
func (rt *Runtime) BotUserID() string { return rt.botUserID.Load().(string) }

// IsStaff reports whether user is staff: listed in TOWNHALL_STAFF_USERS, or a
// workspace admin or owner according to users.info (cached for a few
// minutes).
func (rt *Runtime) IsStaff(ctx context.Context, user string) (bool, error) {
	return rt.staff.isStaff(ctx, user)
}

// WaitIdle blocks until no handler is running or queued, or ctx is done.
// The shell uses it to print what a command produced before reading the
// next line.
func (rt *Runtime) WaitIdle(ctx context.Context) error {
	for {
		rt.idleMu.Lock()
		if rt.busy.Load() == 0 {
			rt.idleMu.Unlock()
			return nil
		}
		ch := rt.idle
		rt.idleMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run checks the bot token with auth.test, connects by Socket Mode and
// serves requests until ctx is cancelled, replaying meanwhile (with a
// Journal) what dead replicas acknowledged and did not answer. It then
// stops taking envelopes, waits up to ShutdownTimeout for in-flight
// handlers, cancels the rest and returns nil; requests whose handlers
// never started stay in the journal for the other replicas. It returns an
// error at once if Slack refuses the tokens.
//
// When Slack refuses a connection (too_many_websockets: an app may hold 10
// Socket Mode connections, https://api.slack.com/apis/socket-mode), Run
// waits, RefusedBackoff at first and twice as long after each refusal in a
// row up to RefusedBackoffMax, and tries again; ConnectionState says so
// meanwhile. socketmode would reconnect at once, forever.
func (rt *Runtime) Run(ctx context.Context) error {
	auth, err := rt.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test with SLACK_BOT_TOKEN: %w", err)
	}
	rt.botUserID.Store(auth.UserID)
	rt.log.Info("slack bot authenticated", "team", auth.Team, "bot_user", auth.UserID)

	smOpts := []socketmode.Option{socketmode.OptionLog(log.New(slogWriter{rt.log}, "", 0))}
	if rt.opts.PingInterval > 0 {
		smOpts = append(smOpts, socketmode.OptionPingInterval(rt.opts.PingInterval))
	}

	// Handlers outlive ctx by up to ShutdownTimeout so in-flight work can
	// finish; handlerCtx is cancelled when that grace ends.
	handlerCtx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()

	// The journal's writer outlives every ack and handler; the replay
	// loop stops with ctx, before the handlers are drained.
	var journalWG, replayWG sync.WaitGroup
	if rt.journal != nil {
		writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
		journalWG.Go(func() { rt.journal.run(writerCtx) })
		defer func() { stopWriter(); journalWG.Wait() }()
		replayWG.Go(func() { rt.replayLoop(ctx, handlerCtx) })
	}

	var runErr error
	for step := 0; ; {
		sm := socketmode.New(rt.api, smOpts...)
		smCtx, stopSM := context.WithCancel(ctx)
		smErr := make(chan error, 1)
		go func() { smErr <- sm.RunContext(smCtx) }()

		res := rt.loop(ctx, handlerCtx, sm, smErr)
		stopSM()
		if !res.smDone {
			<-smErr // socketmode exits promptly once smCtx is cancelled
		}
		runErr = res.err
		if !res.refused {
			break
		}
		if res.stable {
			step = 0
		}
		step++
		if !rt.waitRefused(ctx, step) {
			break
		}
	}
	rt.acking.Wait() // each gives up by Slack's ack deadline at the latest
	rt.setConnected(false)
	replayWG.Wait()
	rt.drain(cancelHandlers)
	return runErr
}

// refusalReason is what Slack's refusal of a WebSocket most likely means:
// its disconnect message, which names the reason, is consumed inside
// socketmode before the runtime can see it.
const refusalReason = "too_many_websockets: closed at once; Slack allows 10 connections per app"

// waitRefused records the step'th refusal in a row and waits out its
// backoff; it reports false if ctx ended first.
func (rt *Runtime) waitRefused(ctx context.Context, step int) bool {
	base, ceiling := rt.opts.RefusedBackoff, rt.opts.RefusedBackoffMax
	if base <= 0 {
		base = 2 * time.Second
	}
	if ceiling <= 0 {
		ceiling = 5 * time.Minute
	}
	wait := base
	for i := 1; i < step && wait < ceiling; i++ {
		wait *= 2
	}
	wait = min(wait, ceiling)
	// Up to a tenth more, so replicas refused together spread out.
	jittered := wait + rand.N(wait/10+1)
	rt.m.connects.WithLabelValues("refused").Inc()
	rt.connMu.Lock()
	rt.refusals++
	rt.refusal, rt.retryAt, rt.backoff = refusalReason, time.Now().Add(jittered), wait
	n := rt.refusals
	rt.edgeLocked()
	rt.connMu.Unlock()
	rt.log.Warn("slack refused the socket mode connection; backing off", "reason", refusalReason,
		"refusals", n, "retry_in", jittered)
	t := time.NewTimer(jittered)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loopResult is how a socketmode client's session ended.
type loopResult struct {
	err     error
	smDone  bool // socketmode's exit was received from smErr
	refused bool // Slack closed a connection before its hello
	stable  bool // a connection said hello before the refusal: backoff restarts
}

// loop reads socketmode's events until ctx is done, the client gives up,
// or Slack refuses a connection. smDone reports whether it received
// socketmode's exit from smErr: when ctx is cancelled, socketmode's
// context is too, so both may be ready at once and either may be chosen.
func (rt *Runtime) loop(ctx, handlerCtx context.Context, sm *socketmode.Client, smErr <-chan error) loopResult {
	var (
		opened bool // a WebSocket is open (socketmode's connected)
		hello  bool // it said hello
		stable bool // some connection of this session said hello
	)
	for {
		select {
		case <-ctx.Done():
			return loopResult{}
		case err := <-smErr:
			if ctx.Err() != nil {
				return loopResult{smDone: true}
			}
			return loopResult{err: fmt.Errorf("slack socket mode with SLACK_APP_TOKEN: %w", err), smDone: true}
		case evt := <-sm.Events:
			switch evt.Type {
			case socketmode.EventTypeConnected:
				opened, hello = true, false
			case socketmode.EventTypeHello:
				hello = true
			case socketmode.EventTypeConnecting:
				if opened {
					opened = false
					if !hello {
						rt.setConnected(false)
						return loopResult{refused: true, stable: stable}
					}
					stable = true
				}
			case socketmode.EventTypeConnectionError:
				if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok && ce.ErrorObj != nil &&
					strings.Contains(ce.ErrorObj.Error(), "too_many_websockets") {
					// apps.connections.open said so; socketmode backs
					// off itself (up to 5 minutes).
					rt.noteRefusal("too_many_websockets", ce.Backoff)
				}
			}
			rt.event(ctx, handlerCtx, sm, evt)
		}
	}
}

// noteRefusal records a refusal that socketmode itself backs off from.
func (rt *Runtime) noteRefusal(reason string, wait time.Duration) {
	rt.m.connects.WithLabelValues("refused").Inc()
	rt.connMu.Lock()
	defer rt.connMu.Unlock()
	rt.refusals++
	rt.refusal, rt.retryAt, rt.backoff = reason, time.Now().Add(wait), wait
	rt.edgeLocked()
}

// drain waits for in-flight handlers up to ShutdownTimeout, then cancels them.
func (rt *Runtime) drain(cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() { rt.inflight.Wait(); close(done) }()
	t := time.NewTimer(rt.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
		rt.log.Warn("shutdown: handlers still running after grace period; cancelling them",
			"running", rt.busy.Load(), "grace", rt.cfg.ShutdownTimeout)
		cancel()
		<-done
	}
}

// event handles one socketmode event: connection state changes, and
// requests, which are acknowledged before anything else happens.
// ctx ends when the runtime stops taking envelopes; handlerCtx when
// in-flight handlers must stop.
func (rt *Runtime) event(ctx, handlerCtx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		rt.setConnected(false)
		rt.log.Debug("slack socket mode connecting")
	case socketmode.EventTypeConnected:
		rt.m.connects.WithLabelValues("ok").Inc()
	case socketmode.EventTypeHello:
		rt.setConnected(true)
	case socketmode.EventTypeConnectionError:
		rt.setConnected(false)
		rt.m.connects.WithLabelValues("error").Inc()
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			rt.log.Warn("slack socket mode connection failed; retrying", "attempt", ce.Attempt,
				"retry_in", ce.Backoff, "error", ce.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		rt.log.Error("slack refused SLACK_APP_TOKEN (invalid_auth); check the app-level token")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		rt.log.Warn("slack socket mode error", "type", string(evt.Type), "error", eventError(evt.Data))
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		rt.request(ctx, handlerCtx, sm, evt)
	}
}

func (rt *Runtime) setConnected(up bool) {
	rt.connMu.Lock()
	defer rt.connMu.Unlock()
	if rt.connected.Swap(up) == up {
		return
	}
	rt.edgeLocked()
	if up {
		rt.connGen++
		rt.connSince = time.Now()
		rt.refusals, rt.refusal, rt.retryAt, rt.backoff = 0, "", time.Time{}, 0
		rt.m.connected.Set(1)
		rt.log.Info("slack socket mode connected")
	} else {
		rt.m.connected.Set(0)
	}
}

// WaitConnected blocks until a Socket Mode connection is open (Slack's
// hello has been read), or ctx is done.
func (rt *Runtime) WaitConnected(ctx context.Context) error {
	_, err := rt.waitConn(ctx, func(up bool, _ uint64) bool { return up })
	return err
}

// WaitConnection blocks until a connection later than the seen'th is open
// and returns its number (connections are numbered from 1). Work that must
// follow every (re)connection, such as the archive's catch-up, loops on
// n, err = WaitConnection(ctx, n) and misses none, however quick the
// reconnect.
func (rt *Runtime) WaitConnection(ctx context.Context, seen uint64) (uint64, error) {
	return rt.waitConn(ctx, func(up bool, gen uint64) bool { return up && gen > seen })
}

func (rt *Runtime) waitConn(ctx context.Context, done func(up bool, gen uint64) bool) (uint64, error) {
	for {
		rt.connMu.Lock()
		gen, up, edge := rt.connGen, rt.connected.Load(), rt.connEdge
		rt.connMu.Unlock()
		if done(up, gen) {
			return gen, nil
		}
		select {
		case <-edge:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func eventError(data any) any {
	switch d := data.(type) {
	case *slack.IncomingEventError:
		return d.ErrorObj
	case *socketmode.ErrorBadMessage:
		return d.Cause
	case *socketmode.ErrorWriteFailed:
		return d.Cause
	}
	return data
}

// request acks a request envelope at once, drops redeliveries, and starts
// its handler in a goroutine owned by rt.inflight. The work is counted as
// busy before the ack leaves, so whoever sees the ack and then calls
// WaitIdle also waits for the handler.
//
// With a Journal, a request to be handled is recorded first and its ack
// waits for that write (one group-committed round-trip, at most
// journalAckWait); routing happens before, on this loop, so what
// needs no handler (our own messages, events nobody routes, in-memory
// duplicates) is acknowledged without a write.
func (rt *Runtime) request(ctx, handlerCtx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	start := time.Now()
	env := evt.Request
	if env == nil {
		return
	}
	rt.begin()
	started := false
	defer func() {
		if !started {
			rt.done()
		}
	}()
	rt.m.envelopes.WithLabelValues(env.Type).Inc()

	req, route, h := rt.routeRequest(env, evt.Data)
	if req == nil {
		rt.ack(ctx, sm, env.EnvelopeID, start, nil)
		return
	}
	keys := dedupKeys(env, req)
	if !rt.dedup.first(keys, start) {
		rt.ack(ctx, sm, env.EnvelopeID, start, nil)
		rt.m.duplicates.Inc()
		rt.log.Info("slack redelivery dropped: already handled", "envelope_id", env.EnvelopeID,
			"retry_attempt", env.RetryAttempt, "retry_reason", env.RetryReason)
		return
	}
	var rec *journalRecord
	if rt.journal != nil {
		rec = rt.journal.record(env, start, prefixed(sharedKeys(keys)))
	}
	rt.ack(ctx, sm, env.EnvelopeID, start, rec)
	if h == nil {
		h = rt.unrouted()
	}
	started = true
	rt.start(handlerCtx, req, route, h, keys, &task{rec: rec})
}

// ackDeadline is Slack's: an envelope not acknowledged within three
// seconds is retried (https://api.slack.com/apis/socket-mode#acknowledge),
// so an ack that could not be queued by then is worthless.
const ackDeadline = 3 * time.Second

// ack queues the acknowledgement of an envelope without ever blocking the
// event loop. socketmode queues acks in a small buffer that only a live
// connection drains, and its reconnect waits for this loop to read its
// events: an ack that blocked here after a drop would wedge both. So the
// ack is queued from its own goroutine (owned by rt.acking), which gives up
// at Slack's deadline; Slack then redelivers and the redelivery is deduped.
// With a journal record, the goroutine first waits for its write to be
// tried, up to journalAckWait after the envelope was read (acking anyway
// if it failed or is late).
func (rt *Runtime) ack(ctx context.Context, sm *socketmode.Client, envelopeID string, received time.Time, rec *journalRecord) {
	rt.acking.Go(func() {
		actx, cancel := context.WithDeadline(ctx, received.Add(ackDeadline))
		defer cancel()
		if rec != nil {
			wait := time.NewTimer(time.Until(received.Add(journalAckWait)))
			select {
			case <-rec.written:
			case <-wait.C: // ack anyway, in time
			case <-actx.Done():
			}
			wait.Stop()
		}
		if err := sm.AckCtx(actx, envelopeID, nil); err != nil {
			rt.m.acks.WithLabelValues("error").Inc()
			rt.log.Warn("slack ack not sent; Slack will redeliver", "envelope_id", envelopeID, "error", err)
			return
		}
		rt.m.acks.WithLabelValues("ok").Inc()
		rt.m.ackLatency.Observe(time.Since(received).Seconds())
	})
}

// task is what start needs besides the request: its journal record (nil
// without a journal, or when it could not be written) and, for a replay
// of a dead replica's entry, when it was taken over.
type task struct {
	rec      *journalRecord
	replayed time.Time // zero for a live request
	// stopping, for a replay, is closed when the runtime stops taking
	// envelopes: a replay still waiting for its claim then gives up.
	stopping <-chan struct{}
}

// start runs h for req in its own goroutine, bounded by the concurrency
// semaphore and the handler timeout, with panics recovered. The caller has
// counted the work with begin; the goroutine ends it with done. Once the
// handler has returned (or the request proved a duplicate), its journal
// entry is finished; a process that dies, or stops before the handler
// could start, leaves it for another replica to replay.
func (rt *Runtime) start(ctx context.Context, req *Request, route string, h Handler, keys []string, t *task) {
	rt.inflight.Add(1)
	go func() {
		defer rt.inflight.Done()
		defer rt.done()
		var (
			run     bool
			claimed []string
		)
		replay := !t.replayed.IsZero()
		if replay {
			// Claimed before a handler slot is taken: waiting out a dead
			// owner's lease must not hold one.
			if run, claimed = rt.awaitReplayClaim(ctx, t, keys); !run {
				return
			}
		}
		select {
		case rt.sem <- struct{}{}:
			defer func() { <-rt.sem }()
		case <-ctx.Done():
			return
		}
		if !replay {
			if run, claimed = rt.recordedClaim(ctx, t, keys); !run {
				rt.m.duplicates.Inc()
				rt.log.Info("slack redelivery dropped: another replica has it", "envelope_id", req.EnvelopeID)
				rt.finishJournal(t, nil)
				return
			}
		}
		// The claims are confirmed with the entry's removal, in one write,
		// or on their own without a journal entry.
		defer func() {
			if !rt.finishJournal(t, claimed) && claimed != nil {
				rt.confirmShared(ctx, claimed)
			}
		}()
		if replay {
			rt.m.replays.WithLabelValues("handled").Inc()
		}
		hctx, cancel := context.WithTimeout(ctx, rt.cfg.HandlerTimeout)
		defer cancel()
		start := time.Now()
		err := safeHandle(hctx, h, req)
		rt.m.handlerTime.WithLabelValues(string(req.Kind), route).Observe(time.Since(start).Seconds())
		if err != nil {
			rt.recordError(HandlerError{Kind: req.Kind, Route: route, Err: firstLine(err.Error()), At: time.Now()})
			rt.m.handlerErrs.WithLabelValues(string(req.Kind), route).Inc()
			rt.log.Error("handler failed", "kind", string(req.Kind), "route", route,
				"user", req.UserID, "channel", req.ChannelID, "error", err)
		}
	}()
}

// finishJournal queues t's journal entry for removal with the claimed
// keys to confirm, if it has one, and reports whether it did.
func (rt *Runtime) finishJournal(t *task, claimed []string) bool {
	return rt.journal != nil && rt.journal.finish(t.rec, claimed)
}

// maxRecentErrors bounds the handler failures kept for status.
const maxRecentErrors = 50

// HandlerError is a recent handler failure, kept for /townhall status.
type HandlerError struct {
	Kind  Kind
	Route string // command name, callback ID, event type or action ID
	Err   string // the error's first line
	At    time.Time
}

func (rt *Runtime) recordError(e HandlerError) {
	rt.errMu.Lock()
	defer rt.errMu.Unlock()
	rt.errors = append(rt.errors, e)
	if len(rt.errors) > maxRecentErrors {
		rt.errors = slices.Delete(rt.errors, 0, len(rt.errors)-maxRecentErrors)
	}
}

// RecentErrors returns the most recent handler failures, newest first.
func (rt *Runtime) RecentErrors() []HandlerError {
	rt.errMu.Lock()
	defer rt.errMu.Unlock()
	out := slices.Clone(rt.errors)
	slices.Reverse(out)
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (rt *Runtime) begin() {
	rt.idleMu.Lock()
	rt.busy.Add(1)
	rt.idleMu.Unlock()
}

func (rt *Runtime) done() {
	rt.idleMu.Lock()
	defer rt.idleMu.Unlock()
	if rt.busy.Add(-1) == 0 {
		close(rt.idle)
		rt.idle = make(chan struct{})
	}
}

func safeHandle(ctx context.Context, h Handler, r *Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h.Handle(ctx, r)
}

// unrouted answers a request nobody handles.
func (rt *Runtime) unrouted() Handler {
	if rt.opts.Unrouted != nil {
		return rt.opts.Unrouted
	}
	return HandlerFunc(func(ctx context.Context, r *Request) error {
		if r.Kind == KindEvent {
			return nil
		}
		return r.Ephemeral(ctx, Message{Text: "Sorry, that is not available in this workspace."})
	})
}

// routeRequest turns an envelope into a Request with the right Responder and
// finds its handler (nil: unrouted). A nil Request means there is nothing to
// do (an event type we do not subscribe to, or our own message).
func (rt *Runtime) routeRequest(env *socketmode.Request, data any) (*Request, string, Handler) {
	req := &Request{EnvelopeID: env.EnvelopeID}
	switch d := data.(type) {
	case slack.SlashCommand:
		req.Kind = KindCommand
		req.Command = &d
		req.UserID, req.ChannelID = d.UserID, d.ChannelID
		req.Responder = &urlResponder{client: rt.http, url: d.ResponseURL, poster: rt.poster}
		return req, d.Command, rt.routes.command(d.Command)
	case slack.InteractionCallback:
		req.Kind = KindInteractive
		req.Interaction = &d
		req.UserID, req.ChannelID = d.User.ID, d.Channel.ID
		req.ThreadTS = d.Message.ThreadTimestamp
		req.Responder = &urlResponder{client: rt.http, url: d.ResponseURL, poster: rt.poster}
		switch d.Type {
		case slack.InteractionTypeMessageAction, slack.InteractionTypeShortcut:
			return req, d.CallbackID, rt.routes.shortcut(d.CallbackID)
		case slack.InteractionTypeBlockActions:
			for _, a := range d.ActionCallback.BlockActions {
				if h := rt.routes.action(a.ActionID); h != nil {
					req.Action = a
					return req, a.ActionID, h
				}
			}
			// A link button (url set, no handler) also sends block_actions;
			// Slack only needs the ack.
			return nil, "", nil
		}
		return nil, "", nil
	case slackevents.EventsAPIEvent:
		if d.Type != slackevents.CallbackEvent {
			return nil, "", nil
		}
		req.Kind = KindEvent
		req.Event = &d
		req.UserID, req.ChannelID, req.ThreadTS = eventWhere(d.InnerEvent.Data)
		if req.UserID != "" && req.UserID == rt.BotUserID() {
			return nil, "", nil // never answer ourselves
		}
		req.Responder = &eventResponder{poster: rt.poster, channel: req.ChannelID, user: req.UserID, thread: req.ThreadTS}
		h := rt.routes.event(d.InnerEvent.Type)
		if h == nil {
			return nil, "", nil // subscribed for someone else's benefit; nothing to say
		}
		return req, d.InnerEvent.Type, h
	}
	return nil, "", nil
}

// eventWhere extracts who and where from the inner events we route.
func eventWhere(inner any) (user, channel, thread string) {
	switch e := inner.(type) {
	case *slackevents.AppMentionEvent:
		thread = e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		return e.User, e.Channel, thread
	case *slackevents.ReactionAddedEvent:
		return e.User, e.Item.Channel, e.Item.Timestamp
	case *slackevents.MessageEvent:
		thread = e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		return e.User, e.Channel, thread
	}
	return "", "", ""
}

// dedupKeys are the identities under which a request counts as already
// handled: its envelope; for events the event_id that Slack keeps across
// redeliveries (https://api.slack.com/apis/events-api#retries); for
// commands and interactions the trigger_id, unique to one invocation, which
// a redelivered payload carries unchanged under a new envelope ID.
func dedupKeys(env *socketmode.Request, req *Request) []string {
	keys := []string{"env:" + env.EnvelopeID}
	switch {
	case req.Event != nil:
		if cb, ok := req.Event.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" {
			keys = append(keys, "event:"+cb.EventID)
		}
	case req.Command != nil && req.Command.TriggerID != "":
		keys = append(keys, "trigger:"+req.Command.TriggerID)
	case req.Interaction != nil && req.Interaction.TriggerID != "":
		keys = append(keys, "trigger:"+req.Interaction.TriggerID)
	}
	return keys
}

// slogWriter adapts socketmode's *log.Logger output to slog at debug level.
// socketmode redacts ticket URLs itself; it never sees our tokens' values
// in its messages.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug("socketmode: " + string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
