package scheduler

import (
	"testing"
	"time"
)

// BenchmarkNext measures finding a spec's next occurrence in Europe/Paris,
// daylight saving adjustments included.
func BenchmarkNext(b *testing.B) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range []string{"* * * * *", "30 2 * * *", "0 7 * * MON", "0 0 29 2 *", "@every 5m"} {
		sc, err := parseSpec(spec, paris, t0)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(spec, func(b *testing.B) {
			for b.Loop() {
				sc.next(t0)
			}
		})
	}
}

// BenchmarkDueAfterAYear measures the worst pass: an every-minute job whose
// cursor is a year old, with the default 24h catch-up window.
func BenchmarkDueAfterAYear(b *testing.B) {
	sc, err := parseSpec("* * * * *", time.UTC, t0)
	if err != nil {
		b.Fatal(err)
	}
	from := t0.Add(-365 * 24 * time.Hour)
	for b.Loop() {
		sc.due(from, t0, t0.Add(-defaultCatchUp))
	}
}
