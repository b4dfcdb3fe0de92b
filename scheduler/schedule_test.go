package scheduler

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec string
		tz   string
		from string // RFC 3339
		want []string
	}{{
		name: "interval on the grid, not from the start",
		spec: "@every 5m", tz: "UTC", from: "2024-06-03T10:02:17.5Z",
		want: []string{"2024-06-03T10:05:00Z", "2024-06-03T10:10:00Z"},
	}, {
		name: "hourly interval on the hour",
		spec: "@every 1h", tz: "Asia/Kolkata", from: "2024-06-03T10:59:59Z",
		want: []string{"2024-06-03T16:30:00+05:30", "2024-06-03T17:30:00+05:30"},
	}, {
		name: "Paris spring jump, a year past the zone database's explicit rules",
		spec: "30 2 * * *", tz: "Europe/Paris", from: "2030-03-30T00:00:00+01:00",
		want: []string{"2030-03-30T02:30:00+01:00", "2030-03-31T03:00:00+02:00", "2030-04-01T02:30:00+02:00"},
	}, {
		name: "Paris autumn, 2030",
		spec: "30 2 * * *", tz: "Europe/Paris", from: "2030-10-26T12:00:00+02:00",
		want: []string{"2030-10-27T02:30:00+02:00", "2030-10-28T02:30:00+01:00"},
	}, {
		name: "job at the very start of the gap",
		spec: "0 2 * * *", tz: "Europe/Paris", from: "2024-03-30T12:00:00+01:00",
		want: []string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"},
	}, {
		name: "a job at the jump and in the gap runs once",
		spec: "0 2,3 * * *", tz: "Europe/Paris", from: "2024-03-30T12:00:00+01:00",
		want: []string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"},
	}, {
		name: "every minute of a fixed hour, autumn: the repeated hour is skipped",
		spec: "*/20 2 * * *", tz: "Europe/Paris", from: "2024-10-27T01:30:00+02:00",
		want: []string{"2024-10-27T02:00:00+02:00", "2024-10-27T02:20:00+02:00", "2024-10-27T02:40:00+02:00", "2024-10-28T02:00:00+01:00"},
	}, {
		name: "starting inside the repeated hour",
		spec: "30 2 * * *", tz: "Europe/Paris", from: "2024-10-27T02:10:00+01:00",
		want: []string{"2024-10-28T02:30:00+01:00"},
	}, {
		name: "New York spring",
		spec: "30 2 * * *", tz: "America/New_York", from: "2024-03-09T12:00:00-05:00",
		want: []string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"},
	}, {
		name: "midnight that does not exist (Chile)",
		spec: "@daily", tz: "America/Santiago", from: "2024-09-06T12:00:00-04:00",
		want: []string{"2024-09-07T00:00:00-04:00", "2024-09-08T01:00:00-03:00", "2024-09-09T00:00:00-03:00"},
	}, {
		name: "weekly in its own zone",
		spec: "TZ=Asia/Tokyo 0 9 * * MON", tz: "Europe/Paris", from: "2024-06-03T10:00:00Z",
		want: []string{"2024-06-10T09:00:00+09:00"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tt.tz)
			if err != nil {
				t.Fatal(err)
			}
			from := mustTime(t, tt.from)
			sc, err := parseSpec(tt.spec, loc, from)
			if err != nil {
				t.Fatalf("parseSpec: %v", err)
			}
			n := from
			for i, w := range tt.want {
				n = sc.next(n)
				if !n.Equal(mustTime(t, w)) || n.Format(time.RFC3339) != w {
					t.Fatalf("occurrence %d = %s, want %s", i, n.Format(time.RFC3339), w)
				}
			}
		})
	}
}

// Processes started at different times agree on interval occurrences.
func TestIntervalGridIsShared(t *testing.T) {
	t.Parallel()
	sc, err := parseSpec("@every 90m", time.UTC, t0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sc.next(t0.Add(time.Minute)), sc.next(t0.Add(80*time.Minute))
	if a.Equal(b) {
		return
	}
	if !sc.next(a).Equal(b) && !sc.next(b).Equal(a) {
		t.Errorf("starts a minute and 80 minutes past t0 give %v and %v: not on one grid", a, b)
	}
	if sc.next(a).Sub(a) != 90*time.Minute {
		t.Errorf("interval between occurrences %v, want 90m", sc.next(a).Sub(a))
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"*/5 * * * *", "0 9 * * MON-FRI", "30 2 * * *", "@daily", "@every 1h30m",
		"TZ=Europe/Paris 0 7 * * *", "CRON_TZ=UTC @hourly", "TZ=UTC", "0 0 30 2 *", "@every 0s", "",
	} {
		f.Add(s)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		sc, err := parseSpec(spec, paris, t0)
		if err != nil {
			return
		}
		prev := t0
		for range 3 {
			n := sc.next(prev)
			if n.IsZero() {
				return
			}
			if !n.After(prev) {
				t.Fatalf("spec %q: next(%v) = %v, not after it", spec, prev, n)
			}
			prev = n
		}
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
