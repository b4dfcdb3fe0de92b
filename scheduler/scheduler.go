package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	// defaultCatchUp is Options.CatchUp's default.
	defaultCatchUp = 24 * time.Hour
	// defaultLease is Options.Lease's default.
	defaultLease = 10 * time.Minute
	// retryInterval is how soon a job is looked at again after the store
	// failed.
	retryInterval = 30 * time.Second
	// heldInterval is how soon a job is looked at again while another
	// process holds its lock or its occurrence: soon, because that
	// process may have died, and a store that records owners hands a dead
	// one's claims over after its heartbeat timeout (store.WithOwner), so
	// a reminder it was posting goes out seconds after that, not 30 s.
	// Looking costs one read while the lock is held.
	heldInterval = 5 * time.Second
	// maxSleep bounds the loop's sleep, so that a wall clock that jumps (a
	// suspended host, an NTP step) delays an occurrence by at most this much.
	maxSleep = time.Minute
	// storeTimeout bounds the store calls that record a finished run; they
	// run even after Stop cancelled the run.
	storeTimeout = 10 * time.Second
)

var (
	// ErrRunning is returned by RunNow for a job that is already running.
	ErrRunning = errors.New("job is already running")
	// ErrStopped is returned by Start, Add and RunNow once Stop was called.
	ErrStopped = errors.New("scheduler is stopped")
)

// Options are a scheduler's optional dependencies and settings. The zero
// value is ready to use.
type Options struct {
	// Logger receives the scheduler's logs, with a "job" attribute; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock every computation uses; nil means time.Now. The loop
	// sleeps in real time until the clock reads the next occurrence.
	Now func() time.Time
	// Registerer receives townhall_job_runs_total{job,outcome} and
	// townhall_job_duration_seconds{job}; nil registers nothing.
	Registerer prometheus.Registerer
	// CatchUp is how far back occurrences missed during downtime are still
	// run (once, coalesced); older ones are skipped. Zero means 24h.
	CatchUp time.Duration
	// Lease is how long a claim lasts: a crashed process's occurrence runs
	// again at most this long after the crash. It must exceed the longest
	// run of any job. Zero means 10m.
	Lease time.Duration
}

// JobStatus is a job's state for `/townhall status`. Run history (LastRun,
// Runs, …) covers this process only.
type JobStatus struct {
	Name    string
	Spec    string
	Running bool // a run is in progress now
	// LastRun is when the last run in this process started (zero if none),
	// LastDuration how long it took.
	LastRun      time.Time
	LastDuration time.Duration
	// LastError is the most recent run's error, kept after later successful
	// runs (compare LastErrorAt with LastRun); empty if no run failed.
	LastError   string
	LastErrorAt time.Time
	// FailingSince is when the run that began the current streak of
	// failures ended; zero when the last run succeeded or none ran.
	FailingSince time.Time
	// NextRun is when the scheduler next looks at the job: its next
	// occurrence, or, while an occurrence is waiting (the job is running,
	// the store failed, another process holds it), a time already past or
	// a retry shortly after now.
	NextRun time.Time
	// Runs counts runs in this process, Failures those that returned an
	// error or panicked.
	Runs, Failures int
}

// Scheduler runs jobs on their schedules; see the package doc for the rules.
// Build one with New, Add its jobs, Start it, and Stop it at shutdown. Its
// methods are safe for concurrent use.
type Scheduler struct {
	state   State
	loc     *time.Location
	log     *slog.Logger
	now     func() time.Time
	catchUp time.Duration
	lease   time.Duration
	metrics *metrics

	runCtx     context.Context // parent of every run's context; cancelled by Stop
	cancelRuns context.CancelFunc
	wake       chan struct{} // (buffered, 1) a run ended or a job was added: look again

	mu       sync.Mutex
	jobs     []*entry // in Add order
	byName   map[string]*entry
	started  bool
	stopping bool
	active   int           // runs in progress (scheduled and RunNow)
	idle     chan struct{} // made by Stop while runs are active; closed by the last
	stopLoop context.CancelFunc
	loopDone chan struct{} // closed when the loop returns
}

// entry is a job and its bookkeeping.
type entry struct {
	job    Job
	sched  schedule
	anchor time.Time // when the job was added: where a job that never ran starts

	// Guarded by Scheduler.mu. busy is set while a pass plans the job or a
	// run is in progress; whoever set it owns the job until clearing it.
	busy, running bool
	next          time.Time // when the job needs looking at next; zero: at once
	lastRun       time.Time
	lastDuration  time.Duration
	lastError     string
	lastErrorAt   time.Time
	failingSince  time.Time
	runs          int
	failures      int

	// Owned by whoever holds busy: an occurrence that could not be claimed
	// and since when; since when another process has held the job's lock,
	// and whether that was logged.
	waitAt, waitSince time.Time
	lockedSince       time.Time
	lockedLogged      bool
}

// lockedTooLong is how long another process may hold a job's lock before
// the scheduler says so: longer than a run takes, short of a lease.
const lockedTooLong = 2 * time.Minute

// New returns a scheduler that evaluates specs in cfg's time zone and keeps
// its claims and cursors in state.
func New(cfg Config, state State, opts Options) (*Scheduler, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if state == nil {
		errs = append(errs, errors.New("no state"))
	}
	if opts.CatchUp < 0 {
		errs = append(errs, fmt.Errorf("catch-up window must not be negative, got %s", opts.CatchUp))
	}
	if opts.Lease < 0 {
		errs = append(errs, fmt.Errorf("lease must not be negative, got %s", opts.Lease))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s := &Scheduler{
		state:   state,
		loc:     cfg.Location(),
		log:     opts.Logger,
		now:     opts.Now,
		catchUp: opts.CatchUp,
		lease:   opts.Lease,
		metrics: m,
		wake:    make(chan struct{}, 1),
		byName:  make(map[string]*entry),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.catchUp == 0 {
		s.catchUp = defaultCatchUp
	}
	if s.lease == 0 {
		s.lease = defaultLease
	}
	s.runCtx, s.cancelRuns = context.WithCancel(context.Background())
	return s, nil
}

// Add schedules job. Its name must be non-empty and unique, its spec valid
// and its Run set. A job that has never run (has no cursor in the store)
// starts from now: nothing older is caught up. Jobs may be added after
// Start.
func (s *Scheduler) Add(job Job) error {
	if job.Name == "" {
		return errors.New("scheduler: add job: empty name")
	}
	if job.Run == nil {
		return fmt.Errorf("scheduler: add job %q: Run is nil", job.Name)
	}
	now := s.now()
	sc, err := parseSpec(job.Spec, s.loc, now)
	if err != nil {
		return fmt.Errorf("scheduler: add job %q: bad spec %q: %w", job.Name, job.Spec, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return fmt.Errorf("scheduler: add job %q: %w", job.Name, ErrStopped)
	}
	if _, dup := s.byName[job.Name]; dup {
		return fmt.Errorf("scheduler: add job %q: a job with that name was already added", job.Name)
	}
	e := &entry{job: job, sched: sc, anchor: now}
	s.jobs = append(s.jobs, e)
	s.byName[job.Name] = e
	s.metrics.addJob(job.Name)
	s.poke()
	return nil
}

// Jobs returns the names of the jobs added, in Add order.
func (s *Scheduler) Jobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, len(s.jobs))
	for i, e := range s.jobs {
		names[i] = e.job.Name
	}
	return names
}

// Status returns each job's state, in Add order.
func (s *Scheduler) Status() []JobStatus {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobStatus, len(s.jobs))
	for i, e := range s.jobs {
		next := e.next
		if next.IsZero() { // not looked at yet
			next = e.sched.next(now)
		}
		out[i] = JobStatus{
			Name:         e.job.Name,
			Spec:         e.job.Spec,
			Running:      e.running,
			LastRun:      e.lastRun,
			LastDuration: e.lastDuration,
			LastError:    e.lastError,
			LastErrorAt:  e.lastErrorAt,
			FailingSince: e.failingSince,
			NextRun:      next,
			Runs:         e.runs,
			Failures:     e.failures,
		}
	}
	return out
}

// Start starts the loop that runs jobs as they fall due, in a goroutine
// that Stop waits for. Cancelling ctx stops the loop (no new runs start)
// but leaves running jobs alone; call Stop to cancel and wait for them.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopping:
		return fmt.Errorf("scheduler: start: %w", ErrStopped)
	case s.started:
		return errors.New("scheduler: start: already started")
	}
	s.started = true
	ctx, s.stopLoop = context.WithCancel(ctx)
	s.loopDone = make(chan struct{})
	go s.loop(ctx)
	return nil
}

// Stop stops starting runs, cancels the context of the runs in progress and
// waits for them to return, or for ctx to be done. A run that returns an
// error after its context was cancelled is not recorded as done: the next
// start runs its occurrence again. Stop may be called again to keep waiting.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	stopLoop, loopDone := s.stopLoop, s.loopDone
	if s.active > 0 && s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle, active := s.idle, s.active
	s.mu.Unlock()

	s.cancelRuns()
	if stopLoop != nil {
		stopLoop()
		select {
		case <-loopDone:
		case <-ctx.Done():
			return fmt.Errorf("scheduler: stop: waiting for the loop: %w", ctx.Err())
		}
	}
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scheduler: stop: %d runs still in progress: %w", active, ctx.Err())
	}
}

// RunNow runs the named job at once and waits for it, with at set to now.
// It neither claims the occurrence nor moves the job's cursor, so the
// schedule is unaffected, and it refuses (ErrRunning) while the job is
// running in this process. The run's context is ctx, also cancelled by Stop.
// The run's error, a panic included, is returned.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	e, ok := s.byName[name]
	switch {
	case !ok:
		names := make([]string, len(s.jobs))
		for i, e := range s.jobs {
			names[i] = e.job.Name
		}
		s.mu.Unlock()
		return fmt.Errorf("scheduler: run %q: no such job (jobs: %s)", name, strings.Join(names, ", "))
	case s.stopping:
		s.mu.Unlock()
		return fmt.Errorf("scheduler: run %s: %w", name, ErrStopped)
	case e.busy:
		s.mu.Unlock()
		return fmt.Errorf("scheduler: run %s: %w", name, ErrRunning)
	}
	e.busy = true
	s.active++
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.runCtx, cancel)()
	err := s.execute(ctx, e, s.now().In(e.sched.loc), "manual")
	s.finish(e)
	if err != nil {
		return fmt.Errorf("scheduler: run %s: %w", name, err)
	}
	return nil
}

// loop runs a pass whenever the earliest job may be due, a run ends or a
// job is added, until ctx is done.
func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.loopDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
		now := s.now()
		sleep := maxSleep
		if next := s.tick(ctx, now); !next.IsZero() {
			sleep = min(max(next.Sub(now), 0), maxSleep)
		}
		timer.Reset(sleep)
	}
}

// poke asks the loop for a pass, without blocking.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// tick is one pass at now: every job that is not busy and may be due is
// planned, which may start its run in a goroutine. It returns when the next
// pass is needed: the earliest time a job not now running needs looking at,
// or the zero time if there is none.
func (s *Scheduler) tick(ctx context.Context, now time.Time) time.Time {
	s.mu.Lock()
	var todo []*entry
	for _, e := range s.jobs {
		if s.stopping || e.busy || now.Before(e.next) {
			continue
		}
		e.busy = true
		todo = append(todo, e)
	}
	s.mu.Unlock()

	for _, e := range todo {
		s.plan(ctx, e, now)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	if s.stopping {
		return next
	}
	for _, e := range s.jobs {
		if e.busy {
			continue
		}
		n := e.next
		if n.IsZero() { // added during the pass
			n = now
		}
		if next.IsZero() || n.Before(next) {
			next = n
		}
	}
	return next
}

// plan works out what is due for e at now and starts the run of the latest
// occurrence if it can claim it. The caller has set e.busy; plan clears it
// unless it started a run.
func (s *Scheduler) plan(ctx context.Context, e *entry, now time.Time) {
	name := e.job.Name
	log := s.log.With("job", name)
	next := now.Add(retryInterval) // unless the pass gets further
	started := false
	defer func() {
		if !started {
			s.mu.Lock()
			e.busy, e.next = false, next
			s.mu.Unlock()
		}
	}()

	// The lock serialises passes and runs of this job across processes, so
	// the cursor read under it is current.
	lock := lockKey(name)
	held, err := s.state.Claim(ctx, lock, s.lease)
	if err != nil {
		s.storeFailed(ctx, log, "claim job lock", err)
		return
	}
	if !held {
		log.Debug("job is locked by another process; looking again later")
		if e.lockedSince.IsZero() {
			e.lockedSince = now
		} else if d := now.Sub(e.lockedSince); d > lockedTooLong && !e.lockedLogged {
			e.lockedLogged = true
			log.Warn("job has been locked by another process for long: waiting for it, for its holder to be counted dead, or for its lease to end",
				"locked_for", d.Round(time.Second), "lease", s.lease)
		}
		next = now.Add(heldInterval)
		return
	}
	if e.lockedLogged {
		log.Info("job lock taken again", "locked_for", now.Sub(e.lockedSince).Round(time.Second))
	}
	e.lockedSince, e.lockedLogged = time.Time{}, false
	defer func() {
		if !started {
			s.release(ctx, log, lock)
		}
	}()

	from, err := s.cursor(ctx, log, e)
	if err != nil {
		s.storeFailed(ctx, log, "read cursor", err)
		return
	}
	occ := e.sched.due(from, now, now.Add(-s.catchUp))
	if occ.skipped > 0 {
		log.Warn("skipped occurrences older than the catch-up window",
			"skipped", occ.skipped, "more_uncounted", occ.uncounted, "since", from, "catch_up", s.catchUp)
	}
	if occ.latest.IsZero() {
		if occ.skipped > 0 {
			if err := s.setCursor(ctx, name, occ.lastSkipped); err != nil {
				s.storeFailed(ctx, log, "move cursor past skipped occurrences", err)
				return
			}
			from = occ.lastSkipped
		}
		next = e.sched.next(from)
		return
	}
	at := occ.latest
	if occ.coalesced > 0 {
		log.Info("coalesced overdue occurrences into one run", "coalesced", occ.coalesced, "at", at)
	}

	key := occurrenceKey(name, at)
	claimed, err := s.state.Claim(ctx, key, s.lease)
	if err != nil {
		s.storeFailed(ctx, log, "claim occurrence", err)
		return
	}
	if !claimed {
		// Confirmed by a run whose cursor update failed, or leased by a
		// process that died: a lease outlives no one by more than its
		// length, so an occurrence still refused after that is done.
		if e.waitAt.Equal(at) && now.Sub(e.waitSince) > s.lease {
			log.Warn("occurrence refused for longer than a lease: taking it as done", "at", at)
			if err := s.setCursor(ctx, name, at); err != nil {
				s.storeFailed(ctx, log, "move cursor past a done occurrence", err)
				return
			}
			e.waitAt = time.Time{}
			next = e.sched.next(at)
			return
		}
		if !e.waitAt.Equal(at) {
			e.waitAt, e.waitSince = at, now
			log.Info("occurrence is claimed elsewhere; waiting for it to finish or for its lease to expire",
				"at", at, "lease", s.lease)
		}
		next = now.Add(heldInterval)
		if n := e.sched.next(at); n.Before(next) {
			next = n
		}
		return
	}

	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		s.release(ctx, log, key)
		return
	}
	started = true
	e.next = e.sched.next(at)
	e.waitAt = time.Time{}
	s.active++
	s.mu.Unlock()
	go s.runClaimed(e, at, key, lock)
}

// runClaimed runs the claimed occurrence at of e and records it: the cursor
// moves to at, the claim is confirmed (or, for a run cut short by Stop,
// released to run again) and the job's lock is released.
func (s *Scheduler) runClaimed(e *entry, at time.Time, key, lock string) {
	defer s.finish(e)
	err := s.execute(s.runCtx, e, at, "scheduled")

	log := s.log.With("job", e.job.Name)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.runCtx), storeTimeout)
	defer cancel()
	if err != nil && s.runCtx.Err() != nil {
		log.Warn("run cut short by shutdown; it runs again at the next start", "at", at)
		s.release(ctx, log, key)
	} else {
		// The cursor moves first: a crash between the two leaves an
		// unconfirmed claim behind the cursor, which nothing runs again.
		if err := s.setCursor(ctx, e.job.Name, at); err != nil {
			log.Error("run done but not recorded; it may run again after its lease", "at", at, "op", "move cursor", "error", err)
		}
		if err := s.state.Confirm(ctx, key); err != nil {
			log.Error("run done but not confirmed", "at", at, "op", "confirm occurrence", "error", err)
		}
	}
	s.release(ctx, log, lock)
}

// execute runs one occurrence of e, recovering a panic, and records the
// outcome in e, the metrics and the log. The caller has set e.busy.
func (s *Scheduler) execute(ctx context.Context, e *entry, at time.Time, trigger string) error {
	start := s.now()
	s.mu.Lock()
	e.running, e.lastRun = true, start
	s.mu.Unlock()

	err := call(ctx, e.job, at)
	end := s.now()
	took := end.Sub(start)

	log := s.log.With("job", e.job.Name)
	outcome := outcomeOK
	var p *panicError
	switch {
	case errors.As(err, &p):
		outcome = outcomePanic
		log.Error("job panicked", "at", at, "trigger", trigger, "panic", fmt.Sprint(p.value), "stack", string(p.stack))
	case err != nil:
		outcome = outcomeError
		log.Error("job failed", "at", at, "trigger", trigger, "duration", took, "error", err)
	default:
		log.Debug("job ran", "at", at, "trigger", trigger, "duration", took)
	}
	if trigger == "scheduled" && took > s.lease {
		log.Warn("run outlasted its lease: another process may have run the job meanwhile; raise the lease",
			"duration", took, "lease", s.lease)
	}
	s.metrics.observe(e.job.Name, outcome, took.Seconds())

	s.mu.Lock()
	defer s.mu.Unlock()
	e.running = false
	e.lastDuration = took
	e.runs++
	if err != nil {
		e.failures++
		e.lastError, e.lastErrorAt = err.Error(), end
		if e.failingSince.IsZero() {
			e.failingSince = end
		}
	} else {
		e.failingSince = time.Time{}
	}
	return err
}

// finish ends a run that execute recorded: e is free again, Stop learns of
// the last run ending and the loop looks at e again.
func (s *Scheduler) finish(e *entry) {
	s.mu.Lock()
	e.busy = false
	s.active--
	if s.active == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
	s.mu.Unlock()
	s.poke()
}

// cursor returns where e's occurrences are counted from: its cursor, or,
// for a job that has never run, when it was added, which is then stored so
// that a restart before its first run neither skips that run nor runs
// anything older.
func (s *Scheduler) cursor(ctx context.Context, log *slog.Logger, e *entry) (time.Time, error) {
	v, ok, err := s.state.Cursor(ctx, cursorKey(e.job.Name))
	if err != nil {
		return time.Time{}, err
	}
	if ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err == nil {
			return t, nil
		}
		log.Error("unreadable cursor; counting from when the job was added", "cursor", v, "error", err)
	}
	if err := s.setCursor(ctx, e.job.Name, e.anchor); err != nil {
		return time.Time{}, err
	}
	return e.anchor, nil
}

func (s *Scheduler) setCursor(ctx context.Context, job string, t time.Time) error {
	return s.state.SetCursor(ctx, cursorKey(job), t.UTC().Format(time.RFC3339Nano))
}

// release gives up a claim, logging a failure: the claim then lapses with
// its lease.
func (s *Scheduler) release(ctx context.Context, log *slog.Logger, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := s.state.Release(ctx, key); err != nil {
		log.Error("release claim; it lapses with its lease", "key", key, "lease", s.lease, "error", err)
	}
}

// storeFailed logs a store failure during a pass, unless the pass was
// cancelled; the job is looked at again after retryInterval.
func (s *Scheduler) storeFailed(ctx context.Context, log *slog.Logger, op string, err error) {
	if ctx.Err() != nil {
		return
	}
	log.Error("store failed; retrying", "op", op, "retry_in", retryInterval, "error", err)
}

// call runs job at at, turning a panic into a *panicError.
func call(ctx context.Context, job Job, at time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return job.Run(ctx, at)
}

// panicError is the error of a run that panicked.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// Unwrap returns the panic's value if it is an error.
func (p *panicError) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

func cursorKey(job string) string { return "scheduler/" + job + "/last" }

func lockKey(job string) string { return "scheduler/" + job + "/lock" }

func occurrenceKey(job string, at time.Time) string {
	return "scheduler/" + job + "/" + at.UTC().Format(time.RFC3339)
}
