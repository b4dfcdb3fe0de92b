package calendar_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar/ics"
)

// TestExampleFeed keeps examples/community.ics, the sample calendar for
// `townhall shell`, readable and busy in any week of any year.
func TestExampleFeed(t *testing.T) {
	t.Parallel()
	f, err := os.Open("examples/community.ics") // also embedded as examples.CommunityICS
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cal, err := ics.Parse(f, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Warnings) > 0 {
		t.Errorf("warnings: %v", cal.Warnings)
	}
	for _, from := range []time.Time{time.Now(), time.Date(2027, 7, 5, 0, 0, 0, 0, time.UTC), time.Date(2030, 12, 23, 0, 0, 0, 0, time.UTC)} {
		got := cal.Expand(from, from.AddDate(0, 0, 7))
		titles := map[string]bool{}
		for _, e := range got {
			titles[e.Summary] = true
		}
		if len(got) < 7 || !titles["Docs working group"] || !titles["APAC office hours"] {
			var names []string
			for n := range titles {
				names = append(names, n)
			}
			t.Errorf("week of %s: %d events (%s)", from.Format(time.DateOnly), len(got), strings.Join(names, ", "))
		}
	}
}
