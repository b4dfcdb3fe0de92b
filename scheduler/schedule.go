package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// allHours is a cron.SpecSchedule Hour field with every hour of the day set.
const allHours = 1<<24 - 1

// maxSkipped bounds how many skipped occurrences are counted one by one; past
// it the count is a lower bound and the rest are skipped in one step.
const maxSkipped = 10_000

// schedule computes a job's occurrences: either a cron spec, adjusted for
// daylight saving time as the package doc describes, or an interval on a
// fixed grid.
type schedule struct {
	spec  *cron.SpecSchedule // nil for an interval
	every time.Duration      // the interval, when spec is nil
	wall  bool               // spec has fixed hours: DST gaps and repeats are adjusted
	loc   *time.Location     // the zone occurrences are computed and returned in
}

// parseSpec parses a job spec (five fields, or a descriptor such as "@daily"
// or "@every 5m", optionally prefixed "TZ=Area/City ") to be evaluated in loc
// unless it names its own zone. It rejects specs that never fire after now.
func parseSpec(spec string, loc *time.Location, now time.Time) (sc schedule, err error) {
	defer func() {
		// cron v3.0.1 panics on some malformed input ("TZ=UTC" with no
		// schedule after it slices with index -1).
		if r := recover(); r != nil {
			sc, err = schedule{}, fmt.Errorf("malformed spec: %v", r)
		}
	}()
	parsed, err := cron.ParseStandard(spec)
	if err != nil {
		return schedule{}, err
	}
	switch p := parsed.(type) {
	case *cron.SpecSchedule:
		cp := *p
		if cp.Location == time.Local { // no TZ= prefix: ours, never the host's
			cp.Location = loc
		}
		sc = schedule{spec: &cp, wall: cp.Hour&allHours != allHours, loc: cp.Location}
	case cron.ConstantDelaySchedule:
		// cron.Every silently turns anything under a second, negative
		// included, into one second; refuse it instead.
		_, after, _ := strings.Cut(spec, "@every ")
		if d, err := time.ParseDuration(strings.TrimSpace(after)); err != nil || d < time.Second {
			return schedule{}, fmt.Errorf("interval %q: must be at least 1s", after)
		}
		sc = schedule{every: p.Delay, loc: loc}
	default:
		return schedule{}, fmt.Errorf("unsupported schedule type %T", parsed)
	}
	if sc.next(now).IsZero() {
		return schedule{}, errors.New("never fires")
	}
	return sc, nil
}

// next returns the first occurrence after t, in the schedule's zone, or the
// zero time if there is none within five years.
func (sc schedule) next(t time.Time) time.Time {
	t = t.In(sc.loc)
	if sc.spec == nil {
		return t.Truncate(sc.every).Add(sc.every)
	}
	n := sc.spec.Next(t)
	if !sc.wall || n.IsZero() {
		return n
	}
	for !n.IsZero() && repeatedWallClock(n) {
		n = sc.spec.Next(n)
	}
	if jump, ok := sc.skippedByJump(t, n); ok {
		return jump
	}
	return n
}

// skippedByJump reports the first moment in (t, n] at which clocks jumped
// forward over a wall-clock time the spec matches: cron(8) runs a fixed-hour
// job at the jump instead of not at all that day.
func (sc schedule) skippedByJump(t, n time.Time) (time.Time, bool) {
	for z := t; ; {
		_, end := z.ZoneBounds()
		if end.IsZero() || (!n.IsZero() && end.After(n)) || end.Year() > t.Year()+5 {
			return time.Time{}, false
		}
		_, before := end.Add(-time.Nanosecond).Zone()
		_, after := end.Zone()
		if after > before {
			// The wall-clock times in [end, end+gap) read in the old offset
			// never happened; does the spec match one of them?
			fixed := *sc.spec
			fixed.Location = time.FixedZone("", before)
			m := fixed.Next(end.Add(-time.Second))
			if !m.IsZero() && m.Before(end.Add(time.Duration(after-before)*time.Second)) {
				return end, true
			}
		}
		z = end
	}
}

// repeatedWallClock reports whether t's wall-clock time already happened
// earlier, before clocks were turned back.
func repeatedWallClock(t time.Time) bool {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, before := start.Add(-time.Nanosecond).Zone()
	_, after := t.Zone()
	return before > after && t.Sub(start) < time.Duration(before-after)*time.Second
}

// occurrences summarises a schedule's occurrences in (from, now].
type occurrences struct {
	latest      time.Time // the latest not before the cutoff: the one to run; zero if none
	coalesced   int       // earlier occurrences not before the cutoff, folded into latest
	skipped     int       // occurrences before the cutoff, counted up to maxSkipped
	uncounted   bool      // more than maxSkipped were skipped
	lastSkipped time.Time // the latest skipped one, or just before the cutoff
}

// due returns what is due in (from, now]: occurrences before cutoff are
// skipped, and of the rest only the latest is run.
func (sc schedule) due(from, now, cutoff time.Time) occurrences {
	var o occurrences
	for t := sc.next(from); !t.IsZero() && !t.After(now); t = sc.next(t) {
		switch {
		case !t.Before(cutoff):
			if !o.latest.IsZero() {
				o.coalesced++
			}
			o.latest = t
		case o.skipped == maxSkipped:
			// Too many to count: skip straight to the cutoff.
			o.uncounted = true
			o.lastSkipped = cutoff.Add(-time.Nanosecond)
			t = o.lastSkipped
		default:
			o.skipped++
			o.lastSkipped = t
		}
	}
	return o
}
