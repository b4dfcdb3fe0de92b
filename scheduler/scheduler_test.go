package scheduler

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// t0 is a Monday morning; tests start their clocks here.
var t0 = time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)

func at(h, m int) time.Time { return time.Date(2024, 6, 3, h, m, 0, 0, time.UTC) }

func TestAdd(t *testing.T) {
	t.Parallel()
	run := func(context.Context, time.Time) error { return nil }
	tests := []struct {
		name string
		job  Job
		want []string // substrings of the error; none: no error
	}{
		{"five fields", Job{Name: "a", Spec: "*/5 * * * *", Run: run}, nil},
		{"descriptor", Job{Name: "a", Spec: "@daily", Run: run}, nil},
		{"interval", Job{Name: "a", Spec: "@every 90s", Run: run}, nil},
		{"own zone", Job{Name: "a", Spec: "TZ=Asia/Tokyo 0 9 * * *", Run: run}, nil},
		{"empty name", Job{Spec: "@daily", Run: run}, []string{"empty name"}},
		{"nil Run", Job{Name: "a", Spec: "@daily"}, []string{`"a"`, "Run is nil"}},
		{"duplicate", Job{Name: "taken", Spec: "@daily", Run: run}, []string{`"taken"`, "already added"}},
		{"empty spec", Job{Name: "a", Spec: "", Run: run}, []string{`job "a"`, `bad spec ""`}},
		{"six fields", Job{Name: "feeds.poll", Spec: "0 */5 * * * *", Run: run}, []string{`job "feeds.poll"`, `"0 */5 * * * *"`}},
		{"out of range", Job{Name: "a", Spec: "61 * * * *", Run: run}, []string{`job "a"`, `"61 * * * *"`}},
		{"unknown descriptor", Job{Name: "a", Spec: "@fortnightly", Run: run}, []string{`"@fortnightly"`}},
		{"unknown zone", Job{Name: "a", Spec: "TZ=Mars/Olympus 0 9 * * *", Run: run}, []string{"Mars/Olympus"}},
		{"zone alone", Job{Name: "a", Spec: "TZ=UTC", Run: run}, []string{`"TZ=UTC"`, "malformed"}},
		{"sub-second interval", Job{Name: "a", Spec: "@every 500ms", Run: run}, []string{"at least 1s"}},
		{"negative interval", Job{Name: "a", Spec: "@every -5m", Run: run}, []string{"at least 1s"}},
		{"never fires", Job{Name: "a", Spec: "0 0 30 2 *", Run: run}, []string{"never fires"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, t0)
			s := b.newScheduler(t, "UTC", Options{})
			mustAdd(t, s, Job{Name: "taken", Spec: "@hourly", Run: run})
			err := s.Add(tt.job)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Add succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Add error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Timezone: "Mars/Olympus"}, nil, Options{CatchUp: -time.Hour, Lease: -time.Minute})
	if err == nil {
		t.Fatal("New succeeded")
	}
	for _, w := range []string{"TOWNHALL_TIMEZONE", "no state", "catch-up", "lease"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("New error %q does not mention %q", err, w)
		}
	}
}

// A job that never ran starts from when it was added: nothing older runs,
// and the start is stored, so a restart before the first run keeps it.
func TestFirstRunStartsWhenAdded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, at(10, 20))
		rec := &recorder{}
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, rec.job("hourly", "0 * * * *"))

		if next := s.tick(t.Context(), at(10, 20)); !next.Equal(at(11, 0)) {
			t.Errorf("tick returned next pass %v, want 11:00", next)
		}
		synctest.Wait()
		if got := rec.take(); len(got) != 0 {
			t.Fatalf("ran %v on the first pass, want nothing older than Add", got)
		}
		if got := b.state.cursor(t, "hourly"); !got.Equal(at(10, 20)) {
			t.Errorf("cursor = %v, want the Add time 10:20", got)
		}

		// Restart at 11:30: the 11:00 occurrence, due while down, runs.
		stop(t, s)
		b.clock.Set(at(11, 30))
		s2 := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s2, rec.job("hourly", "0 * * * *"))
		b.tickAt(t, s2, at(11, 30))
		if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
			t.Errorf("after restart ran %v, want [11:00]", got)
		}
		if got := b.state.cursor(t, "hourly"); !got.Equal(at(11, 0)) {
			t.Errorf("cursor = %v, want 11:00", got)
		}
		if c, ok := b.state.claim(occurrenceKey("hourly", at(11, 0))); !ok || !c.confirmed {
			t.Errorf("claim on 11:00 = %+v, %v; want confirmed", c, ok)
		}
		if _, ok := b.state.claim(lockKey("hourly")); ok {
			t.Error("job lock still held after the run")
		}
		stop(t, s2)
	})
}

// After downtime, the occurrences missed within the catch-up window are
// coalesced into one run of the latest; older ones are skipped.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		spec      string
		cursor    time.Time
		catchUp   time.Duration
		want      []time.Time // occurrences run
		logs      [][]string  // lines expected in the log
		wantAfter time.Time   // cursor afterwards
	}{{
		name:      "hourly, down four hours",
		spec:      "0 * * * *",
		cursor:    at(6, 0),
		want:      []time.Time{at(10, 0)},
		logs:      [][]string{{"coalesced", "coalesced=3"}},
		wantAfter: at(10, 0),
	}, {
		name:      "daily, down three days",
		spec:      "0 9 * * *",
		cursor:    at(10, 0).Add(-3 * day),
		want:      []time.Time{at(9, 0)},
		logs:      [][]string{{"skipped occurrences", "skipped=2"}},
		wantAfter: at(9, 0),
	}, {
		name:      "everything older than a short window",
		spec:      "0 9 * * *",
		cursor:    at(10, 0).Add(-3 * day),
		catchUp:   30 * time.Minute,
		want:      nil,
		logs:      [][]string{{"skipped occurrences", "skipped=3"}},
		wantAfter: at(9, 0),
	}, {
		name:      "nothing missed",
		spec:      "0 9 * * *",
		cursor:    at(9, 0),
		want:      nil,
		wantAfter: at(9, 0),
	}, {
		name:      "a year of minutes",
		spec:      "* * * * *",
		cursor:    at(10, 0).Add(-365 * day),
		want:      []time.Time{at(10, 20)},
		logs:      [][]string{{"skipped occurrences", "skipped=10000", "more_uncounted=true"}, {"coalesced=1440"}},
		wantAfter: at(10, 20),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := setup(t, at(10, 20))
				b.state.setCursor("job", tt.cursor)
				rec := &recorder{}
				s := b.newScheduler(t, "UTC", Options{CatchUp: tt.catchUp})
				mustAdd(t, s, rec.job("job", tt.spec))
				b.tickAt(t, s, at(10, 20))
				if got := rec.take(); !sameTimes(got, tt.want) {
					t.Errorf("ran %v, want %v", got, tt.want)
				}
				for _, parts := range tt.logs {
					if !logged(b.logs.String(), parts...) {
						t.Errorf("no log line with %q", parts)
					}
				}
				if got := b.state.cursor(t, "job"); !got.Equal(tt.wantAfter) {
					t.Errorf("cursor = %v, want %v", got, tt.wantAfter)
				}
				// A second pass at the same time finds nothing to do.
				b.tickAt(t, s, at(10, 20))
				if got := rec.take(); len(got) != 0 {
					t.Errorf("second pass ran %v", got)
				}
				stop(t, s)
			})
		})
	}
}

// A job still running when its next occurrences fall due is not started
// again; once it ends, the latest of them runs.
func TestNoOverlap(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		var running, most atomic.Int32
		release := make(chan struct{})
		rec := &recorder{}
		job := Job{Name: "slow", Spec: "*/5 * * * *", Run: func(_ context.Context, at time.Time) error {
			n := running.Add(1)
			defer running.Add(-1)
			if n > most.Load() {
				most.Store(n)
			}
			rec.record(at)
			if at.Equal(t0.Add(5 * time.Minute)) {
				<-release
			}
			return nil
		}}
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, job)

		b.tickAt(t, s, at(10, 5))
		for _, now := range []time.Time{at(10, 10), at(10, 15)} {
			b.tickAt(t, s, now)
			if st := s.Status()[0]; !st.Running {
				t.Errorf("at %v status not running", now.Format("15:04"))
			}
		}
		if got := rec.take(); !sameTimes(got, []time.Time{at(10, 5)}) {
			t.Fatalf("ran %v while the first run was in progress, want [10:05]", got)
		}
		if err := s.RunNow(t.Context(), "slow"); !errors.Is(err, ErrRunning) {
			t.Errorf("RunNow during a run = %v, want ErrRunning", err)
		}

		close(release)
		synctest.Wait()
		b.tickAt(t, s, at(10, 16))
		if got := rec.take(); !sameTimes(got, []time.Time{at(10, 15)}) {
			t.Errorf("after the slow run ended ran %v, want [10:15] (10:10 coalesced)", got)
		}
		if most.Load() != 1 {
			t.Errorf("%d runs at once, want 1", most.Load())
		}
		stop(t, s)
	})
}

// A panic is recovered, logged with its stack, counted, shown in status as
// the run's error, and the occurrence is still done.
func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		reg := b.reg
		calls := 0
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, Job{Name: "fragile", Spec: "@hourly", Run: func(context.Context, time.Time) error {
			calls++
			if calls == 1 {
				var m map[string]int
				m["boom"]++ // a nil map write: a runtime panic
			}
			return nil
		}})

		b.tickAt(t, s, at(11, 0))
		st := s.Status()[0]
		if st.Runs != 1 || st.Failures != 1 || !strings.Contains(st.LastError, "panic: assignment to entry in nil map") {
			t.Errorf("status after panic = %+v", st)
		}
		if !st.LastErrorAt.Equal(at(11, 0)) || st.Running {
			t.Errorf("status after panic = %+v", st)
		}
		if !logged(b.logs.String(), "job panicked", "job=fragile", "goroutine", "scheduler_test.go") {
			t.Errorf("no log line with the panic and its stack in:\n%s", b.logs)
		}
		if v, _ := metricValue(t, reg, "townhall_job_runs_total", map[string]string{"job": "fragile", "outcome": "panic"}); v != 1 {
			t.Errorf("runs_total{outcome=panic} = %v, want 1", v)
		}
		if c, ok := b.state.claim(occurrenceKey("fragile", at(11, 0))); !ok || !c.confirmed {
			t.Errorf("occurrence after panic: %+v, %v; want confirmed", c, ok)
		}

		// The scheduler carries on.
		b.tickAt(t, s, at(12, 0))
		if st := s.Status()[0]; st.Runs != 2 || st.Failures != 1 || st.LastError == "" {
			t.Errorf("status after a good run = %+v; want the earlier error kept", st)
		}
		if v, _ := metricValue(t, reg, "townhall_job_runs_total", map[string]string{"job": "fragile", "outcome": "ok"}); v != 1 {
			t.Errorf("runs_total{outcome=ok} = %v, want 1", v)
		}
		stop(t, s)
	})
}

// A process killed mid-run leaves its claims to expire; a process started on
// the same state then runs that occurrence again, once.
func TestLeaseExpiresAfterCrash(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		rec := &recorder{}
		crashed := Job{Name: "digest", Spec: "0 * * * *", Run: func(ctx context.Context, at time.Time) error {
			rec.record(at)
			<-ctx.Done() // never finishes: the process "dies" here
			return ctx.Err()
		}}
		first := b.newScheduler(t, "UTC", Options{Lease: 10 * time.Minute})
		mustAdd(t, first, crashed)
		b.tickAt(t, first, at(11, 0))

		second := b.newScheduler(t, "UTC", Options{Lease: 10 * time.Minute})
		mustAdd(t, second, rec.job("digest", "0 * * * *"))
		for _, now := range []time.Time{at(11, 1), at(11, 9)} {
			b.tickAt(t, second, now)
		}
		if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
			t.Fatalf("runs within the lease: %v, want only the crashed [11:00]", got)
		}
		if got := b.state.cursor(t, "digest"); !got.Before(at(11, 0)) {
			t.Fatalf("cursor moved to %v while the occurrence was leased", got)
		}

		b.tickAt(t, second, at(11, 10))
		if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
			t.Fatalf("after the lease expired ran %v, want [11:00] again", got)
		}
		b.tickAt(t, second, at(11, 30))
		if got := rec.take(); len(got) != 0 {
			t.Errorf("ran %v again after the repeat", got)
		}
		if c, _ := b.state.claim(occurrenceKey("digest", at(11, 0))); !c.confirmed {
			t.Error("occurrence not confirmed after the repeat")
		}

		stop(t, second)
		stop(t, first) // the zombie's run returns; its claim stays confirmed
		if c, _ := b.state.claim(occurrenceKey("digest", at(11, 0))); !c.confirmed {
			t.Error("occurrence unconfirmed by the zombie's release")
		}
	})
}

// Two schedulers on one state never run an occurrence twice, whether one
// runs while the other looks or both look at once.
// slowPair returns two schedulers over b's state, as two processes, each
// with the hourly job "poll" that runs run.
func slowPair(t *testing.T, b *testBundle, run func(context.Context, time.Time) error) (a, c *Scheduler) {
	t.Helper()
	a, c = b.newScheduler(t, "UTC", Options{}), b.newScheduler(t, "UTC", Options{})
	slow := Job{Name: "poll", Spec: "0 * * * *", Run: run}
	mustAdd(t, a, slow)
	mustAdd(t, c, slow)
	return a, c
}

func TestSecondInstance(t *testing.T) {
	t.Parallel()
	t.Run("while the other runs", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			b := setup(t, t0)
			rec := &recorder{}
			release := make(chan struct{})
			a, c := slowPair(t, b, func(_ context.Context, at time.Time) error {
				rec.record(at)
				<-release
				return nil
			})
			b.tickAt(t, a, at(11, 0))
			// c looks again soon: a may have died holding the lock.
			if next, want := b.tickAt(t, c, at(11, 0)), at(11, 0).Add(heldInterval); !next.Equal(want) {
				t.Errorf("second instance looks again at %v, want %v", next, want)
			}
			close(release)
			synctest.Wait()
			b.tickAt(t, c, at(11, 1))
			if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
				t.Errorf("ran %v, want [11:00] once", got)
			}
			stop(t, a)
			stop(t, c)
		})
	})
	t.Run("locked for long is logged", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			b := setup(t, t0)
			release := make(chan struct{})
			a, c := slowPair(t, b, func(context.Context, time.Time) error {
				<-release
				return nil
			})
			b.tickAt(t, a, at(11, 0))
			for _, m := range []int{0, 1, 2} {
				b.tickAt(t, c, at(11, m))
			}
			if logged(b.logs.String(), "locked by another process for long") {
				t.Fatalf("logged after 2 minutes, want only past lockedTooLong:\n%s", b.logs)
			}
			b.tickAt(t, c, at(11, 2).Add(heldInterval))
			if !logged(b.logs.String(), "locked by another process for long") {
				t.Errorf("a lock held past lockedTooLong not logged:\n%s", b.logs)
			}
			close(release)
			synctest.Wait()
			b.tickAt(t, c, at(12, 0))
			if !logged(b.logs.String(), "job lock taken again") {
				t.Errorf("the lock's return not logged:\n%s", b.logs)
			}
			stop(t, a)
			stop(t, c)
		})
	})
	t.Run("both at once", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			b := setup(t, t0)
			rec := &recorder{}
			var ss []*Scheduler
			for range 4 {
				s := b.newScheduler(t, "UTC", Options{})
				mustAdd(t, s, rec.job("poll", "0 * * * *"))
				ss = append(ss, s)
			}
			b.clock.Set(at(11, 0))
			for _, s := range ss {
				go s.tick(t.Context(), at(11, 0))
			}
			synctest.Wait()
			b.clock.Set(at(11, 1))
			for _, s := range ss {
				s.tick(t.Context(), at(11, 1))
			}
			synctest.Wait()
			if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
				t.Errorf("ran %v, want [11:00] once", got)
			}
			for _, s := range ss {
				stop(t, s)
			}
		})
	})
}

// An occurrence refused by the store while the job's lock is free is
// waited for: it is either leased by a process that died (the lock's lease
// ran out a moment before the occurrence's) and runs once the lease expires,
// or it was confirmed by a run whose cursor write failed, and the cursor
// moves past it once it has been refused for longer than a lease.
func TestRefusedOccurrence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		claim      memClaim
		want       []time.Time // runs by 11:11
		wantCursor time.Time   // at 11:11
		wantLog    string
	}{{
		name:       "leased by a dead process",
		claim:      memClaim{expires: at(11, 10)},
		want:       []time.Time{at(11, 0)},
		wantCursor: at(11, 0),
		wantLog:    "waiting for it to finish or for its lease to expire",
	}, {
		name:       "confirmed behind the cursor",
		claim:      memClaim{confirmed: true},
		want:       nil,
		wantCursor: at(11, 0),
		wantLog:    "taking it as done",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := setup(t, t0)
				b.state.setCursor("poll", at(10, 0))
				b.state.claims[occurrenceKey("poll", at(11, 0))] = tt.claim
				rec := &recorder{}
				s := b.newScheduler(t, "UTC", Options{Lease: 10 * time.Minute})
				mustAdd(t, s, rec.job("poll", "0 * * * *"))

				for _, now := range []time.Time{at(11, 0), at(11, 5)} {
					b.tickAt(t, s, now)
					if got := b.state.cursor(t, "poll"); !got.Equal(at(10, 0)) {
						t.Fatalf("at %s the cursor moved to %v within the lease", now.Format("15:04"), got)
					}
				}
				b.tickAt(t, s, at(11, 11))
				if got := rec.take(); !sameTimes(got, tt.want) {
					t.Errorf("ran %v, want %v", got, tt.want)
				}
				if got := b.state.cursor(t, "poll"); !got.Equal(tt.wantCursor) {
					t.Errorf("cursor = %v, want %v", got, tt.wantCursor)
				}
				if !logged(b.logs.String(), tt.wantLog) {
					t.Errorf("no log line with %q", tt.wantLog)
				}
				b.tickAt(t, s, at(12, 0))
				if got := rec.take(); !sameTimes(got, []time.Time{at(12, 0)}) {
					t.Errorf("ran %v, want [12:00]", got)
				}
				stop(t, s)
			})
		})
	}
}

// A store failure runs nothing, is logged, and is retried shortly.
func TestStoreFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		rec := &recorder{}
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, rec.job("poll", "0 * * * *"))
		b.state.setFail(errStoreDown)
		b.clock.Set(at(11, 0))
		next := s.tick(t.Context(), at(11, 0))
		synctest.Wait()
		if want := at(11, 0).Add(retryInterval); !next.Equal(want) {
			t.Errorf("next pass at %v, want a retry at %v", next, want)
		}
		if got := rec.take(); len(got) != 0 {
			t.Errorf("ran %v with the store down", got)
		}
		if !logged(b.logs.String(), "store failed", "store down") {
			t.Errorf("failure not logged:\n%s", b.logs)
		}
		b.state.setFail(nil)
		b.tickAt(t, s, next)
		if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
			t.Errorf("after recovery ran %v, want [11:00]", got)
		}
		stop(t, s)
	})
}

// Specs are evaluated in the configured zone, or the spec's own, and jobs
// receive 'at' in that zone.
func TestTimeZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tz, spec string
		want     time.Time // first occurrence after t0, 10:00 UTC
		zone     string
	}{
		{"UTC", "0 9 * * *", time.Date(2024, 6, 4, 9, 0, 0, 0, time.UTC), "UTC"},
		{"America/New_York", "0 9 * * *", time.Date(2024, 6, 3, 13, 0, 0, 0, time.UTC), "America/New_York"},
		{"Europe/Paris", "0 9 * * MON", time.Date(2024, 6, 10, 7, 0, 0, 0, time.UTC), "Europe/Paris"},
		{"Europe/Paris", "TZ=Asia/Tokyo 0 9 * * *", time.Date(2024, 6, 4, 0, 0, 0, 0, time.UTC), "Asia/Tokyo"},
		{"Asia/Kolkata", "@every 1h", time.Date(2024, 6, 3, 11, 0, 0, 0, time.UTC), "Asia/Kolkata"},
	}
	for _, tt := range tests {
		t.Run(tt.tz+" "+tt.spec, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := setup(t, t0)
				rec := &recorder{}
				s := b.newScheduler(t, tt.tz, Options{})
				mustAdd(t, s, rec.job("job", tt.spec))
				if next := s.tick(t.Context(), t0); !next.Equal(tt.want) {
					t.Errorf("next pass %v, want %v", next, tt.want)
				}
				if st := s.Status()[0]; !st.NextRun.Equal(tt.want) {
					t.Errorf("status NextRun %v, want %v", st.NextRun, tt.want)
				}
				b.tickAt(t, s, tt.want)
				got := rec.take()
				if !sameTimes(got, []time.Time{tt.want}) {
					t.Fatalf("ran %v, want [%v]", got, tt.want)
				}
				if z := got[0].Location().String(); z != tt.zone {
					t.Errorf("at is in %s, want %s", z, tt.zone)
				}
				stop(t, s)
			})
		})
	}
}

// Across daylight saving changes in Europe/Paris, a fixed-hour job runs once
// a day: at the jump when its time does not exist (spring), at the first of
// the two when it happens twice (autumn). A job that runs every hour follows
// real time.
func TestDaylightSavingTime(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	d := func(mo time.Month, day, h, m int, zone string) time.Time {
		t := time.Date(2024, mo, day, h, m, 0, 0, paris)
		if name, _ := t.Zone(); name != zone {
			// time.Date picks one of an ambiguous pair; take the other.
			t = t.Add(map[string]time.Duration{"CET": time.Hour, "CEST": -time.Hour}[zone])
		}
		return t
	}
	tests := []struct {
		name      string
		spec      string
		from, to  time.Time
		want      []time.Time
		wantZones []string
	}{{
		name: "spring: 02:30 runs at the jump",
		spec: "30 2 * * *",
		from: d(3, 30, 0, 0, "CET"), to: d(4, 1, 12, 0, "CEST"),
		want:      []time.Time{d(3, 30, 2, 30, "CET"), d(3, 31, 3, 0, "CEST"), d(4, 1, 2, 30, "CEST")},
		wantZones: []string{"CET", "CEST", "CEST"},
	}, {
		name: "autumn: 02:30 runs once",
		spec: "30 2 * * *",
		from: d(10, 26, 0, 0, "CEST"), to: d(10, 28, 12, 0, "CET"),
		want:      []time.Time{d(10, 26, 2, 30, "CEST"), d(10, 27, 2, 30, "CEST"), d(10, 28, 2, 30, "CET")},
		wantZones: []string{"CEST", "CEST", "CET"},
	}, {
		name: "spring: every 30 minutes follows real time",
		spec: "*/30 * * * *",
		from: d(3, 31, 1, 0, "CET"), to: d(3, 31, 3, 30, "CEST"),
		want: []time.Time{d(3, 31, 1, 30, "CET"), d(3, 31, 3, 0, "CEST"), d(3, 31, 3, 30, "CEST")},
	}, {
		name: "autumn: every 30 minutes follows real time",
		spec: "*/30 * * * *",
		from: d(10, 27, 1, 45, "CEST"), to: d(10, 27, 3, 0, "CET"),
		want: []time.Time{
			d(10, 27, 2, 0, "CEST"), d(10, 27, 2, 30, "CEST"),
			d(10, 27, 2, 0, "CET"), d(10, 27, 2, 30, "CET"), d(10, 27, 3, 0, "CET"),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := setup(t, tt.from)
				rec := &recorder{}
				s := b.newScheduler(t, "Europe/Paris", Options{})
				mustAdd(t, s, rec.job("job", tt.spec))
				for now := tt.from; !now.After(tt.to); now = now.Add(15 * time.Minute) {
					b.tickAt(t, s, now)
				}
				got := rec.take()
				if !sameTimes(got, tt.want) {
					t.Fatalf("ran %v,\nwant %v", got, tt.want)
				}
				for i, z := range tt.wantZones {
					if name, _ := got[i].Zone(); name != z {
						t.Errorf("run %d at %v, want zone %s", i, got[i], z)
					}
				}
				stop(t, s)
			})
		})
	}
}

// Stop cancels the context of runs in progress and waits for them; a run
// cut short gives its occurrence back, and the next start runs it.
func TestStopCancelsAndWaits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		started := make(chan struct{})
		var sawCancel atomic.Bool
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, Job{Name: "digest", Spec: "0 * * * *", Run: func(ctx context.Context, _ time.Time) error {
			close(started)
			<-ctx.Done()
			sawCancel.Store(true)
			return ctx.Err()
		}})
		b.clock.Set(at(11, 0))
		s.tick(t.Context(), at(11, 0))
		<-started
		if err := s.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !sawCancel.Load() {
			t.Fatal("Stop returned before the run saw its context cancelled and returned")
		}
		if _, ok := b.state.claim(occurrenceKey("digest", at(11, 0))); ok {
			t.Error("interrupted occurrence still claimed")
		}
		if got := b.state.cursor(t, "digest"); !got.Before(at(11, 0)) {
			t.Errorf("cursor moved to %v past an interrupted run", got)
		}
		if err := s.RunNow(t.Context(), "digest"); !errors.Is(err, ErrStopped) {
			t.Errorf("RunNow after Stop = %v, want ErrStopped", err)
		}
		if err := s.Start(t.Context()); !errors.Is(err, ErrStopped) {
			t.Errorf("Start after Stop = %v, want ErrStopped", err)
		}

		rec := &recorder{}
		b.clock.Set(at(11, 1))
		next := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, next, rec.job("digest", "0 * * * *"))
		b.tickAt(t, next, at(11, 1))
		if got := rec.take(); !sameTimes(got, []time.Time{at(11, 0)}) {
			t.Errorf("next start ran %v, want the interrupted [11:00]", got)
		}
		stop(t, next)
	})
}

// Stop gives up waiting when its context ends, and can be called again.
func TestStopBoundedByContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		release := make(chan struct{})
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, Job{Name: "stubborn", Spec: "0 * * * *", Run: func(context.Context, time.Time) error {
			<-release // ignores its context
			return nil
		}})
		b.tickAt(t, s, at(11, 0))

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		err := s.Stop(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 runs still in progress") {
			t.Fatalf("Stop = %v, want a deadline error counting the run", err)
		}
		close(release)
		stop(t, s)
		// It finished normally after the cancellation: recorded as done.
		if c, _ := b.state.claim(occurrenceKey("stubborn", at(11, 0))); !c.confirmed {
			t.Error("run that finished was not confirmed")
		}
	})
}

// The loop, started for real, runs jobs as the clock reaches them and stops
// cleanly. (In the synctest bubble time.Now starts at 2000-01-01 00:00 UTC
// and moves only while every goroutine is blocked.)
func TestStartRunsOnTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		state := newMemState(time.Now)
		s, err := New(Config{Timezone: "UTC"}, state, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runs := make(chan time.Time)
		mustAdd(t, s, Job{Name: "tick", Spec: "*/5 * * * *", Run: func(_ context.Context, at time.Time) error {
			runs <- at
			return nil
		}})
		mustAdd(t, s, Job{Name: "daily", Spec: "@daily", Run: func(context.Context, time.Time) error { return nil }})
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err == nil {
			t.Error("second Start succeeded")
		}
		begin := time.Now()
		for i := 1; i <= 3; i++ {
			at := <-runs
			if want := begin.Add(time.Duration(i) * 5 * time.Minute); !at.Equal(want) {
				t.Errorf("run %d at %v, want %v", i, at, want)
			}
			if !time.Now().Equal(at) {
				t.Errorf("run %d for %v started at %v", i, at, time.Now())
			}
		}
		// A job added while running is picked up.
		added := make(chan time.Time)
		mustAdd(t, s, Job{Name: "late", Spec: "@every 1m", Run: func(_ context.Context, at time.Time) error {
			added <- at
			return nil
		}})
		go func() {
			for range runs { // keep "tick" flowing
			}
		}()
		if at := <-added; at.Sub(begin) != 16*time.Minute {
			t.Errorf("late job ran at %v, want 16m after start", at.Sub(begin))
		}
		stop(t, s)
		close(runs)
	})
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		reg := b.reg
		rec := &recorder{}
		s := b.newScheduler(t, "Europe/Paris", Options{})
		mustAdd(t, s, rec.job("calendar.reminders", "*/5 * * * *"))
		mustAdd(t, s, Job{Name: "feeds.poll", Spec: "@every 5m", Run: func(ctx context.Context, _ time.Time) error {
			b.clock.Advance(3 * time.Second)
			return errors.New("feed unreachable")
		}})
		b.clock.Set(at(10, 2))

		if err := s.RunNow(t.Context(), "calendar.reminders"); err != nil {
			t.Fatalf("RunNow: %v", err)
		}
		got := rec.take()
		if !sameTimes(got, []time.Time{at(10, 2)}) || got[0].Location().String() != "Europe/Paris" {
			t.Errorf("RunNow ran %v, want now (10:02 UTC) in Europe/Paris", got)
		}
		if len(b.state.claims) != 0 || len(b.state.cursors) != 0 {
			t.Errorf("RunNow touched the store: claims %v, cursors %v", b.state.claims, b.state.cursors)
		}

		err := s.RunNow(t.Context(), "feeds.poll")
		if err == nil || !strings.Contains(err.Error(), "feed unreachable") {
			t.Errorf("RunNow of a failing job = %v", err)
		}
		err = s.RunNow(t.Context(), "nope")
		if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "calendar.reminders, feeds.poll") {
			t.Errorf("RunNow of an unknown job = %v, want it to list the jobs", err)
		}

		st := s.Status()
		if len(st) != 2 || st[0].Name != "calendar.reminders" || st[1].Name != "feeds.poll" {
			t.Fatalf("Status = %+v, want both jobs in Add order", st)
		}
		if st[0].Runs != 1 || st[0].Failures != 0 || !st[0].LastRun.Equal(at(10, 2)) || st[0].LastError != "" {
			t.Errorf("status of the good job = %+v", st[0])
		}
		if st[1].Runs != 1 || st[1].Failures != 1 || st[1].LastDuration != 3*time.Second ||
			st[1].LastError != "feed unreachable" || !st[1].LastErrorAt.Equal(at(10, 2).Add(3*time.Second)) {
			t.Errorf("status of the failing job = %+v", st[1])
		}
		if !st[0].NextRun.Equal(at(10, 5)) || !st[1].NextRun.Equal(at(10, 5)) {
			t.Errorf("next runs %v, %v; want 10:05", st[0].NextRun, st[1].NextRun)
		}
		if v, _ := metricValue(t, reg, "townhall_job_runs_total", map[string]string{"job": "feeds.poll", "outcome": "error"}); v != 1 {
			t.Errorf("runs_total{feeds.poll,error} = %v, want 1", v)
		}
		if v, _ := metricValue(t, reg, "townhall_job_duration_seconds", map[string]string{"job": "feeds.poll"}); v != 1 {
			t.Errorf("duration_seconds{feeds.poll} count = %v, want 1", v)
		}
		if v, ok := metricValue(t, reg, "townhall_job_runs_total", map[string]string{"job": "calendar.reminders", "outcome": "panic"}); !ok || v != 0 {
			t.Errorf("runs_total{calendar.reminders,panic} = %v, %v; want present at 0", v, ok)
		}
		if got := s.Jobs(); strings.Join(got, ",") != "calendar.reminders,feeds.poll" {
			t.Errorf("Jobs() = %v", got)
		}
		stop(t, s)
	})
}

// RunNow's context is cancelled by Stop, and Stop waits for it.
func TestRunNowCancelledByStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, t0)
		started := make(chan struct{})
		s := b.newScheduler(t, "UTC", Options{})
		mustAdd(t, s, Job{Name: "long", Spec: "@daily", Run: func(ctx context.Context, _ time.Time) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}})
		errc := make(chan error, 1)
		go func() { errc <- s.RunNow(t.Context(), "long") }()
		<-started
		stop(t, s)
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("RunNow = %v, want cancelled", err)
		}
	})
}

func TestMetricsRegistration(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	state := newMemState(time.Now)
	if _, err := New(Config{Timezone: "UTC"}, state, Options{Registerer: reg}); err != nil {
		t.Fatalf("New on a fresh registry: %v", err)
	}
	_, err := New(Config{Timezone: "UTC"}, state, Options{Registerer: reg})
	if err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Errorf("New registering the same metrics twice = %v, want an error", err)
	}
}
