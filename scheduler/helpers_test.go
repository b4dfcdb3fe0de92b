package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // Europe/Paris and friends without a zone database installed

	"github.com/prometheus/client_golang/prometheus"
)

// memState is an in-memory State with the store's semantics, on the test's
// clock. Setting fail makes every call fail.
type memState struct {
	now func() time.Time

	mu      sync.Mutex
	claims  map[string]memClaim
	cursors map[string]string
	fail    error
}

type memClaim struct {
	confirmed bool
	expires   time.Time
}

func newMemState(now func() time.Time) *memState {
	return &memState{now: now, claims: make(map[string]memClaim), cursors: make(map[string]string)}
}

func (m *memState) Claim(ctx context.Context, key string, lease time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return false, err
	}
	if c, ok := m.claims[key]; ok && (c.confirmed || m.now().Before(c.expires)) {
		return false, nil
	}
	m.claims[key] = memClaim{expires: m.now().Add(lease)}
	return true, nil
}

func (m *memState) Confirm(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if _, ok := m.claims[key]; !ok {
		return fmt.Errorf("confirm %s: not claimed", key)
	}
	m.claims[key] = memClaim{confirmed: true}
	return nil
}

func (m *memState) Release(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if c, ok := m.claims[key]; ok && !c.confirmed {
		delete(m.claims, key)
	}
	return nil
}

func (m *memState) Cursor(ctx context.Context, name string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return "", false, err
	}
	v, ok := m.cursors[name]
	return v, ok, nil
}

func (m *memState) SetCursor(ctx context.Context, name, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	m.cursors[name] = value
	return nil
}

func (m *memState) check(ctx context.Context) error {
	if m.fail != nil {
		return m.fail
	}
	return ctx.Err()
}

func (m *memState) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// claim returns key's claim and whether there is one.
func (m *memState) claim(key string) (memClaim, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.claims[key]
	return c, ok
}

// cursor returns a job's cursor as a time, zero if none.
func (m *memState) cursor(t *testing.T, job string) time.Time {
	t.Helper()
	m.mu.Lock()
	v, ok := m.cursors[cursorKey(job)]
	m.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	c, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("cursor of %s: %v", job, err)
	}
	return c
}

func (m *memState) setCursor(job string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[cursorKey(job)] = at.UTC().Format(time.RFC3339Nano)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer safe for the log lines of several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testBundle is what one test works with: a clock, a state on it, the logs
// and the metrics of the schedulers it builds.
type testBundle struct {
	clock *clock
	state *memState
	logs  *syncBuffer
	reg   *prometheus.Registry
}

func setup(t *testing.T, now time.Time) *testBundle {
	t.Helper()
	c := &clock{t: now}
	return &testBundle{clock: c, state: newMemState(c.Now), logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
}

// newScheduler builds a scheduler on the bundle's clock and state, in zone
// tz, logging to the test and to b.logs. Only the first scheduler of a
// bundle registers metrics. Stop is left to the test.
func (b *testBundle) newScheduler(t *testing.T, tz string, opts Options) *Scheduler {
	t.Helper()
	opts.Now = b.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), b.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if b.reg != nil {
		opts.Registerer, b.reg = b.reg, nil
	}
	s, err := New(Config{Timezone: tz}, b.state, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// tickAt sets the clock to now, runs a pass of s and waits until the runs
// it started have finished or are blocked. Call it in a synctest bubble.
func (b *testBundle) tickAt(t *testing.T, s *Scheduler, now time.Time) time.Time {
	t.Helper()
	b.clock.Set(now)
	next := s.tick(t.Context(), now)
	synctest.Wait()
	return next
}

// recorder records the occurrences its jobs run, in order.
type recorder struct {
	mu  sync.Mutex
	ats []time.Time
}

func (r *recorder) record(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ats = append(r.ats, at)
}

// take returns the occurrences run since the last take.
func (r *recorder) take() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	ats := r.ats
	r.ats = nil
	return ats
}

// job returns a job that records each run.
func (r *recorder) job(name, spec string) Job {
	return Job{Name: name, Spec: spec, Run: func(_ context.Context, at time.Time) error {
		r.record(at)
		return nil
	}}
}

// mustAdd adds jobs to s.
func mustAdd(t *testing.T, s *Scheduler, jobs ...Job) {
	t.Helper()
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatalf("Add(%s): %v", j.Name, err)
		}
	}
}

// stop stops s, failing the test if it does not stop cleanly.
func stop(t *testing.T, s *Scheduler) {
	t.Helper()
	if err := s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// sameTimes reports whether got and want are the same instants.
func sameTimes(got, want []time.Time) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			return false
		}
	}
	return true
}

// metricValue returns the value of a counter or the sample count of a
// histogram with the given labels, and whether it exists.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue metrics
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount()), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// logged reports whether logs has a line with every one of parts.
func logged(logs string, parts ...string) bool {
lines:
	for line := range strings.Lines(logs) {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue lines
			}
		}
		return true
	}
	return false
}

var errStoreDown = errors.New("store down")
