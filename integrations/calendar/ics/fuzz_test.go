package ics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar/ics"
)

// FuzzParse feeds arbitrary text to Parse and Expand: neither may panic or
// return instances outside the window.
func FuzzParse(f *testing.F) {
	f.Add(feed("BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Europe/Paris:20260310T090000\nRRULE:FREQ=WEEKLY;COUNT=3\nEXDATE:20260317T080000Z\nEND:VEVENT"))
	f.Add(feed("BEGIN:VEVENT\nUID:a\nRECURRENCE-ID:20260310T090000Z\nDTSTART;VALUE=DATE:20260310\nDURATION:P1DT2H\nEND:VEVENT"))
	f.Add(feed("BEGIN:VTIMEZONE\nTZID:X\nBEGIN:STANDARD\nTZOFFSETTO:+0530\nEND:STANDARD\nEND:VTIMEZONE\nBEGIN:VEVENT\nUID:b\nDTSTART;TZID=X:20260310T090000\nRDATE:20260311T090000Z,20260312T090000Z/PT1H\nEND:VEVENT"))
	f.Add("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 60)
	f.Fuzz(func(t *testing.T, body string) {
		cal, err := ics.Parse(strings.NewReader(body), time.UTC)
		if err != nil {
			return
		}
		for _, e := range cal.Expand(from, to) {
			if !e.Start.Before(to) || e.End.Before(e.Start) {
				t.Fatalf("instance %+v outside [%v, %v)", e, from, to)
			}
		}
	})
}
