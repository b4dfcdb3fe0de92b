package digest

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCount ranks a busy week: 20,000 messages in 2,000 threads by
// 300 people.
func BenchmarkCount(b *testing.B) {
	since := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	before := since.AddDate(0, 0, 7)
	var ms []Message
	for n := range 20000 {
		ts := formatTS(since.Add(time.Duration(n) * 30 * time.Second))
		m := Message{TS: ts, User: fmt.Sprintf("U%03d", n%300), Text: "hello", Reactions: n % 4}
		if n%10 != 0 {
			m.ThreadTS = ms[n-n%10].TS
		}
		ms = append(ms, m)
	}
	b.ReportAllocs()
	for b.Loop() {
		if t := count(ms, since, before, 5, "U0BOT"); t.messages != 20000 || len(t.threads) != 5 {
			b.Fatalf("%d messages, %d threads", t.messages, len(t.threads))
		}
	}
}
