package ics_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar/ics"
	"github.com/townhall/townhall/integrations/calendar/icstest"
)

// realisticFeed is a community calendar of n events over a year: two
// thirds single events, a third recurring (weekly, daily, monthly by day,
// monthly by date) in several zones, every fifth series with EXDATEs and
// every seventh with an overridden and a cancelled instance.
func realisticFeed(n int) string {
	zones := []string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "America/Los_Angeles"}
	rules := []string{"FREQ=WEEKLY;BYDAY=TU", "FREQ=DAILY;COUNT=90", "FREQ=MONTHLY;BYDAY=1TH", "FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20261231T000000Z", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"}
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := range n {
		zone := zones[i%len(zones)]
		start := base.Add(time.Duration(i*13) * time.Hour).Format("20060102T150405")
		end := base.Add(time.Duration(i*13)*time.Hour + time.Hour).Format("20060102T150405")
		fmt.Fprintf(&b, "BEGIN:VEVENT\nUID:event-%d@example.org\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=%s:%s\nDTEND;TZID=%s:%s\n", i, zone, start, zone, end)
		fmt.Fprintf(&b, "SUMMARY:Working group %d\nDESCRIPTION:Agenda: https://example.org/agenda/%d\\nJoin: https://zoom.us/j/%d\nLOCATION:Online\n", i, i, 1000+i)
		if i%3 == 0 {
			fmt.Fprintf(&b, "RRULE:%s\n", rules[(i/3)%len(rules)])
			if i%5 == 0 {
				fmt.Fprintf(&b, "EXDATE;TZID=%s:%s\n", zone, base.Add(time.Duration(i*13)*time.Hour+7*24*time.Hour).Format("20060102T150405"))
			}
		}
		b.WriteString("END:VEVENT\n")
		if i%3 == 0 && i%7 == 0 {
			orig := base.Add(time.Duration(i*13)*time.Hour + 14*24*time.Hour)
			fmt.Fprintf(&b, "BEGIN:VEVENT\nUID:event-%d@example.org\nRECURRENCE-ID;TZID=%s:%s\nDTSTART;TZID=%s:%s\nDTEND;TZID=%s:%s\nSUMMARY:Working group %d (moved)\nEND:VEVENT\n",
				i, zone, orig.Format("20060102T150405"), zone, orig.Add(2*time.Hour).Format("20060102T150405"), zone, orig.Add(3*time.Hour).Format("20060102T150405"), i)
		}
	}
	return feed(b.String())
}

// BenchmarkExpand parses a 2,000-event feed and expands it for 60 days,
// which is what a changed feed costs. Target: under 50 ms.
func BenchmarkExpand(b *testing.B) {
	body := realisticFeed(2000)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 60)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	var instances int
	for b.Loop() {
		cal, err := ics.Parse(strings.NewReader(body), time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		instances = len(cal.Expand(from, to))
	}
	b.ReportMetric(float64(instances), "instances")
}

// BenchmarkExpandOnly expands an already parsed feed for 60 days, which is
// what every reminder run costs while the feed is unchanged.
func BenchmarkExpandOnly(b *testing.B) {
	cal, err := ics.Parse(strings.NewReader(realisticFeed(2000)), time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		cal.Expand(from, from.AddDate(0, 0, 60))
	}
}

// BenchmarkPollUnchanged polls an unchanged 2,000-event feed: each poll is
// one conditional GET answered 304, and nothing is parsed.
func BenchmarkPollUnchanged(b *testing.B) {
	srv := icstest.New(b, realisticFeed(2000))
	c, err := ics.NewClient(srv.URL(), nil, time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.Fetch(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	reparsed := 0
	for b.Loop() {
		_, changed, err := c.Fetch(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if changed {
			reparsed++
		}
	}
	st := srv.Stats()
	b.ReportMetric(float64(reparsed), "reparses")
	b.ReportMetric(float64(st.Full), "full-downloads")
}

func TestRealisticFeed(t *testing.T) {
	t.Parallel()
	cal, err := ics.Parse(strings.NewReader(realisticFeed(2000)), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Warnings) != 0 {
		t.Fatalf("warnings: %v", cal.Warnings[:min(3, len(cal.Warnings))])
	}
	if n := cal.Events(); n < 2000 {
		t.Errorf("Events() = %d", n)
	}
}
